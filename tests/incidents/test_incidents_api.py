"""``/api/v1/incidents``: who may read and change incidents, and what the routes answer."""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from parley.hotline.node import init_node
from parley.hotline.users import Action, Role, may
from parley.web import create_app
from parley.web.api import ROUTE_ACTIONS
from parley.web.incidents_api import INCIDENT_ROUTE_ACTIONS

SignIn = Callable[[TestClient, str, Role], str]
Detection = tuple[dict[str, Any], list[dict[str, Any]]]
BY_HAND = {
    "our_track": "sim:ddg75",
    "their_track": "sim:su24-1",
    "time": "2016-04-11T13:10:43Z",
    "severity": "serious",
    "summary": "passes within 1,000 yards",
    "lat": 55.3,
    "lon": 18.9,
}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    nato, russia = init_node(tmp_path / "nato", "nato"), init_node(tmp_path / "russia", "russia")
    nato.trust(russia.identity_json(), "http://russia.invalid")
    nato.close()
    russia.close()
    with TestClient(create_app(tmp_path / "nato", replicate=False)) as test_client:
        yield test_client


def test_every_incident_route_has_its_action_in_the_one_table(client: TestClient) -> None:
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    routes = {
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/api/v1/incidents")
        for method in operations
    }
    assert routes == set(INCIDENT_ROUTE_ACTIONS)
    assert all(ROUTE_ACTIONS[route] == action for route, action in INCIDENT_ROUTE_ACTIONS.items())


@pytest.mark.parametrize("role", list(Role))
def test_each_role_reads_and_changes_as_the_table_says(
    client: TestClient, sign_in: SignIn, role: Role
) -> None:
    sign_in(client, role.value, role)
    listed = client.get("/api/v1/incidents")
    opened = client.post("/api/v1/incidents", json=BY_HAND)
    if may(role, Action.READ_INCIDENTS):
        assert listed.status_code == 200
    else:
        assert listed.status_code == 403
    if may(role, Action.MANAGE_INCIDENTS):
        assert opened.status_code == 200, opened.text
        assert opened.json()["opened_by"] == role.value
    else:
        assert opened.status_code == 403
        assert opened.json()["detail"] == f"a {role.value} may not manage-incidents"
    readers = {r for r in Role if may(r, Action.READ_INCIDENTS)}
    assert readers == {
        Role.DUTY_OFFICER,
        Role.SENIOR_OFFICER,
        Role.POLITICAL_LIAISON,
        Role.TRANSLATOR,
        Role.AUDITOR,
    }
    assert {r for r in Role if may(r, Action.MANAGE_INCIDENTS)} == {
        Role.DUTY_OFFICER,
        Role.SENIOR_OFFICER,
    }


def test_no_session_is_401(client: TestClient) -> None:
    assert client.get("/api/v1/incidents").status_code == 401
    assert client.post("/api/v1/incidents/inc-x/close").status_code == 401


def test_the_routes(client: TestClient, sign_in: SignIn, april_detection: Detection) -> None:
    sign_in(client, "ivanova", Role.DUTY_OFFICER)
    ingested = client.post("/api/v1/incidents/ingest", json=april_detection[0]).json()
    assert len(ingested["opened"]) == 6
    assert len(client.get("/api/v1/incidents", params={"severity": "serious"}).json()) == 3
    wrong = client.get("/api/v1/incidents", params={"state": "forgotten"})
    assert wrong.status_code == 400
    assert "state 'forgotten'" in wrong.json()["detail"]
    missing = client.get("/api/v1/incidents/inc-nope")
    assert missing.status_code == 404
    incident = client.post("/api/v1/incidents", json=BY_HAND).json()
    assert (incident["origin"], incident["state"]) == ("hand", "detected")
    assert client.post("/api/v1/incidents", json={"summary": "x"}).status_code == 422
    account = client.post(
        f"/api/v1/incidents/{incident['id']}/account",
        json={"classification": "serious", "text": "ten passes below 100 ft"},
    ).json()
    assert account["sent"] == []
    assert account["accounts"]["ours"]["classification"] == "serious"
    notified = client.post(f"/api/v1/incidents/{incident['id']}/notify").json()
    assert notified["incident"]["notified_by"] == "nato"
    again = client.post(f"/api/v1/incidents/{incident['id']}/notify")
    assert again.status_code == 400
    assert "already notified" in again.json()["detail"]
    refused = client.post(
        f"/api/v1/incidents/{incident['id']}/clarification", json={"question": "why?"}
    )
    assert refused.status_code == 400  # nothing of theirs to ask about yet
    closed = client.post(f"/api/v1/incidents/{incident['id']}/close", json={"reason": "done"})
    assert closed.json()["state"] == "closed"
    reopened = client.post(f"/api/v1/incidents/{incident['id']}/reopen")
    assert reopened.json()["state"] == "notified"
    detail = client.get(f"/api/v1/incidents/{incident['id']}").json()
    assert [h["action"] for h in detail["history"]] == [
        "opened",
        "account",
        "notified",
        "account",
        "closed",
        "reopened",
    ]
    assert detail["messages"][0]["fields"]["summary"] == "ten passes below 100 ft"
    assert detail["messages"][0]["fields"]["severity"] == "serious"


def test_a_reply_sent_through_the_messages_route_is_credited_to_its_officer(
    client: TestClient, sign_in: SignIn
) -> None:
    sign_in(client, "petrov", Role.DUTY_OFFICER)
    incident = client.post("/api/v1/incidents", json=BY_HAND).json()
    notified = client.post(f"/api/v1/incidents/{incident['id']}/notify").json()
    reply = client.post(
        "/api/v1/messages",
        json={
            "template": 9,
            "fields": {"text": "our ship keeps its course", "language": "en"},
            "reply_to": notified["msg_id"],
        },
    )
    assert reply.status_code == 200, reply.text
    history = client.get(f"/api/v1/incidents/{incident['id']}").json()["history"]
    credited = {row.get("msg_id"): row for row in history}
    assert credited[reply.json()["msg_id"]]["actor"] == "petrov"
