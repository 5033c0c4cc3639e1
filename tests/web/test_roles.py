"""Every officers' route × every role: 401 without a session, 403 exactly where the table says."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from parley.hotline import records
from parley.hotline.node import init_node
from parley.hotline.users import Role, may
from parley.store.engine import read
from parley.web import create_app
from parley.web.api import ROUTE_ACTIONS
from parley.web.state import NodeState

SignIn = Callable[..., str]
PUBLIC = {("POST", "/api/v1/session")}  # signing in needs no session
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/messages"): {"template": 6, "fields": {"sequence": "1"}},
}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    nato, russia = init_node(tmp_path / "nato", "nato"), init_node(tmp_path / "russia", "russia")
    russia.trust(nato.identity_json(), "http://nato.invalid")
    nato.close()
    russia.close()
    with TestClient(create_app(tmp_path / "russia", replicate=False)) as test_client:
        yield test_client


def _state(client: TestClient) -> NodeState:
    state = client.app.state.parley  # type: ignore[attr-defined]
    assert isinstance(state, NodeState)
    return state


def officers_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) of the officers' API, read from the app's own OpenAPI document."""
    paths: dict[str, dict[str, Any]] = app.openapi()["paths"]
    found = {
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/api/v1")
        for method in operations
    }
    # signing out ends the session the walk uses: last
    return sorted(found - PUBLIC, key=lambda item: (item[0] == "DELETE", item))


def _call(client: TestClient, method: str, path: str) -> int:
    url = path.replace("{msg_id}", "01HXNOSUCHMESSAGE000000000")
    if path == "/api/v1/events":
        url += "?follow=false"  # the stream would not end
    return client.request(method, url, json=BODIES.get((method, path))).status_code


def _audit(client: TestClient) -> list[tuple[str, str, str]]:
    with read(_state(client).node.engine) as connection:
        return list(records.audit_rows(connection))


def test_every_route_names_its_action(client: TestClient) -> None:
    routes = officers_routes(client.app)  # type: ignore[arg-type]
    assert len(routes) == len(ROUTE_ACTIONS)  # no stale entry either
    assert [route for route in routes if route not in ROUTE_ACTIONS] == []


def test_no_session_is_401_on_every_route(client: TestClient) -> None:
    for method, path in officers_routes(client.app):  # type: ignore[arg-type]
        assert _call(client, method, path) == 401, (method, path)
    client.headers["Authorization"] = "Bearer not-a-token"
    assert _call(client, "GET", "/api/v1/inbox") == 401


def test_the_whole_route_by_role_matrix(client: TestClient, sign_in: SignIn) -> None:
    routes = officers_routes(client.app)  # type: ignore[arg-type]
    refusals = 0
    for role in Role:
        sign_in(client, role.value, role)
        for method, path in routes:
            status = _call(client, method, path)
            allowed = may(role, ROUTE_ACTIONS[(method, path)])
            if allowed:
                assert status not in (401, 403), (role, method, path, status)
            else:
                refusals += 1
                assert status == 403, (role, method, path, status)
    assert refusals == sum(not may(role, ROUTE_ACTIONS[route]) for role in Role for route in routes)
    audit = _audit(client)
    assert sum(action == "refused" for _, action, _ in audit) == refusals
    assert ("administrator", "refused", "POST /api/v1/messages as administrator") in audit
    assert {actor for actor, action, _ in audit if action == "sign-in"} == {r.value for r in Role}
    assert ("duty-officer", "send", "POST /api/v1/messages") in audit


def test_what_each_role_gets(client: TestClient, sign_in: SignIn) -> None:
    sign_in(client, "admin", Role.ADMINISTRATOR)
    users = client.get("/api/v1/users").json()
    assert [(u["name"], u["role"]) for u in users] == [("admin", "administrator")]
    refused = client.post("/api/v1/messages", json=BODIES[("POST", "/api/v1/messages")])
    assert refused.status_code == 403
    assert refused.json()["detail"] == "a administrator may not send"
    sign_in(client, "officer", Role.DUTY_OFFICER)
    sent = client.post("/api/v1/messages", json=BODIES[("POST", "/api/v1/messages")])
    assert sent.status_code == 200
    assert sent.json()["state"] == "recorded"
    sign_in(client, "auditor", Role.AUDITOR)
    assert client.get("/api/v1/verify").json()["ok"] is True
    rows = client.get("/api/v1/audit").json()
    assert any(row["actor"] == "officer" and row["action"] == "send" for row in rows)


def test_sign_in_sets_an_http_only_cookie_and_sign_out_ends_it(client: TestClient) -> None:
    _state(client).users.add_user("ivanova", Role.DUTY_OFFICER, "correct horse battery")
    wrong = client.post("/api/v1/session", json={"name": "ivanova", "password": "wrong password"})
    assert wrong.status_code == 401
    answer = client.post(
        "/api/v1/session", json={"name": "ivanova", "password": "correct horse battery"}
    )
    assert answer.status_code == 200
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("parley_session=")
    assert "HttpOnly" in cookie
    assert answer.json()["token"] in cookie
    assert client.get("/api/v1/inbox").status_code == 200  # the cookie alone
    assert client.delete("/api/v1/session").json() == {"signed_out": "ivanova"}
    client.cookies.set("parley_session", answer.json()["token"], path="/api/v1")
    assert client.get("/api/v1/inbox").status_code == 401
    audit = _audit(client)
    assert ("ivanova", "sign-in refused", "wrong password") in audit
    assert ("ivanova", "sign-out", "session closed") in audit


def test_an_idle_session_is_refused_by_the_api(client: TestClient, sign_in: SignIn) -> None:
    now = [datetime(2024, 5, 1, 12, 0, tzinfo=UTC)]
    _state(client).users.clock = lambda: now[0]
    sign_in(client)
    assert client.get("/api/v1/inbox").status_code == 200
    now[0] += timedelta(minutes=31)
    refused = client.get("/api/v1/inbox")
    assert refused.status_code == 401
    assert refused.json()["detail"] == "session expired: sign in again"


def test_the_peer_routes_ignore_sessions(client: TestClient, sign_in: SignIn) -> None:
    sign_in(client)
    refused = client.get("/peer/v1/checkpoint")  # a session is no peer signature
    assert refused.status_code == 401
    assert "session" not in refused.json()["detail"]
