"""``/api/v1/activities`` on two in-process nodes: nato records and notifies an exercise, the
notification is pushed to russia's node, russia sees it as nato's activity and records what it
observed; roles decide who may read and who may write."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from activity_files import exercise, sign_in
from fastapi.testclient import TestClient

from parley.hotline.msgid import utc_now
from parley.hotline.peer_auth import sign_request
from parley.hotline.peer_sync import push_body
from parley.hotline.users import Role
from parley.web import create_app
from parley.web.state import NodeState


@pytest.fixture
def apps(paired: tuple[Path, Path]) -> Iterator[tuple[TestClient, TestClient]]:
    with (
        TestClient(create_app(paired[0], replicate=False)) as nato,
        TestClient(create_app(paired[1], replicate=False)) as russia,
    ):
        sign_in(nato)
        sign_in(russia)
        yield nato, russia


def _state(client: TestClient) -> NodeState:
    state = client.app.state.parley  # type: ignore[attr-defined]
    assert isinstance(state, NodeState)
    return state


def _push(sender: TestClient, receiver: TestClient) -> None:
    node = _state(sender).node
    body = push_body(node)
    headers = sign_request(node.key, "POST", "/peer/v1/entries", body, utc_now())
    answer = receiver.post("/peer/v1/entries", content=body, headers=headers)
    assert answer.status_code == 200, answer.text


def test_notify_through_the_api_and_see_it_on_the_peer(
    apps: tuple[TestClient, TestClient],
) -> None:
    nato, russia = apps
    added = nato.post("/api/v1/activities", json=exercise())
    assert added.status_code == 200, added.text
    assert added.json()[0]["assessment"]["flags"] == ["notifiable", "not-notified"]
    notified = nato.post("/api/v1/activities/baltops-27/notify")
    assert notified.status_code == 200, notified.text
    msg_id = notified.json()["msg_id"]

    assert russia.get("/api/v1/activities").json() == []
    _push(nato, russia)
    listed = russia.get("/api/v1/activities").json()
    assert [(a["origin"], a["party"], a["id"], a["msg_id"]) for a in listed] == [
        ("peer", "nato", "baltops-27", msg_id)
    ]
    assert listed[0]["declared"]["troops"] == 10_000
    assert listed[0]["area"] == exercise()["area"]
    inbox = russia.get("/api/v1/inbox").json()
    assert [(m["msg_id"], m["template_key"]) for m in inbox] == [(msg_id, "planned-activity")]

    observed = russia.post(
        "/api/v1/activities/baltops-27/observe", json={"troops": 13_500, "battle_tanks": 260}
    )
    assert observed.status_code == 200, observed.text
    assert observed.json()["assessment"]["flags"] == [
        "notifiable",
        "observed-above-observation-threshold",
    ]
    shown = russia.get("/api/v1/activities/baltops-27", params={"origin": "peer"}).json()
    assert shown["observed"]["troops"] == 13_500
    assert shown["observed"]["battle_tanks"] == 260
    geojson = russia.get("/api/v1/activities", params={"geojson": "true"}).json()
    assert geojson["features"][0]["geometry"] == exercise()["area"]


def test_errors_and_roles(apps: tuple[TestClient, TestClient]) -> None:
    nato, _ = apps
    assert nato.get("/api/v1/activities/nope").status_code == 404
    bad = nato.post("/api/v1/activities", json=exercise(kind="parade"))
    assert bad.status_code == 400
    assert "body[0].kind: 'parade' is not one of exercise, flight" in bad.json()["detail"]
    assert nato.post("/api/v1/activities", json=[exercise()]).status_code == 200

    sign_in(nato, "liaison", Role.POLITICAL_LIAISON)
    assert nato.get("/api/v1/activities").status_code == 200
    assert nato.get("/api/v1/activities/baltops-27").status_code == 200
    assert nato.post("/api/v1/activities/baltops-27/notify").status_code == 403
    assert nato.post("/api/v1/activities", json=exercise(id="other")).status_code == 403
    sign_in(nato, "tech", Role.COMMUNICATIONS_TECHNICIAN)
    assert nato.get("/api/v1/activities").status_code == 403
    nato.headers.pop("Authorization")
    assert nato.get("/api/v1/activities").status_code == 401
