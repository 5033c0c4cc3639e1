"""The scripted run of issue 5, through two in-process nodes and their officers' APIs: detect the
April 2016 encounters -> incidents opened with the right classes -> a notification sent to the
peer -> the peer acknowledges and answers with its own account and class -> both accounts side by
side on both nodes. The logs travel between the nodes on signed bundles."""

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from parley.cli.main import run
from parley.hotline.node import Node, init_node
from parley.hotline.users import Role
from parley.incidents.registry import IncidentRegistry
from parley.web import create_app

RUSSIAN_ACCOUNT = (
    "Scheduled training flight over neutral waters; on sighting the destroyer the pilots "
    "turned away, observing all safety measures."
)


Carry = Callable[[Path, Path], None]
SignIn = Callable[[TestClient, str, Role], str]


@pytest.fixture
def desks(tmp_path: Path, sign_in: SignIn) -> Iterator[tuple[TestClient, TestClient, Path]]:
    """nato's and russia's apps (no network: bundles carry the logs), an officer signed in on
    each, and the folder the bundles go through."""
    nato, russia = init_node(tmp_path / "nato", "nato"), init_node(tmp_path / "russia", "russia")
    nato.trust(russia.identity_json(), "http://russia.invalid")
    russia.trust(nato.identity_json(), "http://nato.invalid")
    nato.close()
    russia.close()
    with (
        TestClient(create_app(tmp_path / "nato", replicate=False)) as nato_desk,
        TestClient(create_app(tmp_path / "russia", replicate=False)) as russia_desk,
    ):
        sign_in(nato_desk, "ivanova", Role.DUTY_OFFICER)
        sign_in(russia_desk, "petrov", Role.DUTY_OFFICER)
        yield nato_desk, russia_desk, tmp_path


def _ok(answer: Any) -> Any:
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_april_2016_story_on_two_desks(
    desks: tuple[TestClient, TestClient, Path], tmp_path: Path, april_csv: Path, carry: Carry
) -> None:
    nato_desk, russia_desk, folder = desks
    detect_json = tmp_path / "detect.json"
    assert run(["detect", str(april_csv), "--evidence", "--quiet", "-o", str(detect_json)]) == 0
    document = json.loads(detect_json.read_text())

    # detection -> incidents, with the classes the rules give
    opened = _ok(nato_desk.post("/api/v1/incidents/ingest", json=document))
    assert len(opened["opened"]) == 6
    incidents = _ok(nato_desk.get("/api/v1/incidents"))
    assert sorted((i["their_track"], i["severity"]) for i in incidents) == [
        ("sim:ka27", "serious"),
        ("sim:su24-1", "high-risk"),
        ("sim:su24-1", "serious"),
        ("sim:su24-2", "high-risk"),
        ("sim:su24-2", "serious"),
        ("sim:su27", "high-risk"),
    ]
    attack = next(
        i for i in incidents if i["their_track"] == "sim:su24-1" and i["severity"] == "high-risk"
    )
    incident_id = attack["id"]

    # nato notifies; the notification is filled from the encounter
    sent = _ok(nato_desk.post(f"/api/v1/incidents/{incident_id}/notify"))
    assert sent["incident"]["state"] == "notified"
    carry(folder / "nato", folder / "russia")

    # russia's desk has the incident too, with nato's account
    there = _ok(russia_desk.get(f"/api/v1/incidents/{incident_id}"))
    assert there["incident"]["origin"] == "peer"
    assert there["incident"]["state"] == "notified"
    assert there["incident"]["severity"] == "high-risk"
    assert (there["incident"]["our_track"], there["incident"]["their_track"]) == (
        "sim:su24-1",
        "sim:ddg75",
    )
    assert there["incident"]["cpa_time"] == attack["cpa_time"]
    notification = there["messages"][0]
    assert notification["role"] == "notification"
    assert notification["direction"] == "received"
    assert notification["fields"]["closest_approach_m"] == f"{attack['min_slant_m']:.1f}"
    assert there["accounts"]["theirs"]["party"] == "nato"
    assert there["accounts"]["theirs"]["classification"] == "high-risk"
    assert there["accounts"]["ours"] is None

    # russia acknowledges (the hotline's ack) and answers with its own account and class
    _ok(russia_desk.post(f"/api/v1/inbox/{sent['msg_id']}/ack"))
    assert _ok(russia_desk.get(f"/api/v1/incidents/{incident_id}"))["incident"]["state"] == (
        "acknowledged"
    )
    account = {
        "classification": "routine",
        "text": RUSSIAN_ACCOUNT,
        "nature": "routine-activity",
        "send": True,
    }
    answered = _ok(russia_desk.post(f"/api/v1/incidents/{incident_id}/account", json=account))
    assert len(answered["sent"]) == 2  # the account (template 1) and the clarification reply
    carry(folder / "russia", folder / "nato")

    # both accounts side by side on both desks; nothing forces them to agree
    here = _ok(nato_desk.get(f"/api/v1/incidents/{incident_id}"))
    there = _ok(russia_desk.get(f"/api/v1/incidents/{incident_id}"))
    assert here["incident"]["state"] == there["incident"]["state"] == "clarified"
    for detail, ours, theirs in ((here, "nato", "russia"), (there, "russia", "nato")):
        assert detail["accounts"]["ours"]["party"] == ours
        assert detail["accounts"]["theirs"]["party"] == theirs
        assert detail["accounts"]["agree"] is False
    assert here["accounts"]["ours"]["classification"] == "high-risk"
    assert here["accounts"]["theirs"]["classification"] == "routine"
    assert here["accounts"]["theirs"]["nature"] == "routine-activity"
    assert here["accounts"]["theirs"]["text"] == RUSSIAN_ACCOUNT
    assert there["accounts"]["ours"]["text"] == RUSSIAN_ACCOUNT
    assert there["accounts"]["theirs"]["text"] == here["accounts"]["ours"]["text"]

    # who did what, when: the whole exchange is in nato's history
    actions = [(h["actor"], h["action"], h["to_state"]) for h in here["history"]]
    assert ("ivanova", "opened", "detected") in actions
    assert ("ivanova", "notified", "notified") in actions
    assert ("russia", "acknowledged", "acknowledged") in actions
    assert ("russia", "answered", "clarified") in actions
    roles = [(m["direction"], m["role"]) for m in here["messages"]]
    assert roles == [
        ("sent", "notification"),
        ("received", "acknowledgement"),
        ("received", "account"),
        ("received", "reply"),
    ]
    # the evidence for the map stays with the incident on the desk that detected it
    positions = here["evidence"]["positions"]
    assert set(positions) == {"sim:ddg75", "sim:su24-1"}
    assert len(positions["sim:su24-1"]) > 50

    # the changes were published for the event stream
    events = nato_desk.app.state.events.since(0)  # type: ignore[attr-defined]
    types = [event.type for event in events]
    assert types.count("incident.opened") == 6
    assert "incident.changed" in types


def test_an_incident_both_sides_detected_is_one_incident_on_each_desk(
    nodes: tuple[Node, Node],
    april_detection: tuple[dict[str, Any], list[dict[str, Any]]],
    carry: Carry,
) -> None:
    nato, russia = IncidentRegistry(nodes[0]), IncidentRegistry(nodes[1])
    nato.ingest(april_detection[1], "ivanova")
    russia.ingest(april_detection[1], "petrov")
    roll = next(i for i in nato.list() if i.their_track == "sim:su27")
    nato.notify(roll.id, "ivanova")
    carry(nodes[0].directory, nodes[1].directory)
    russia.sync()
    assert len(russia.list()) == 6  # matched, not duplicated
    theirs = russia.get(roll.id)
    assert (theirs.origin, theirs.state, theirs.notified_by) == ("detected", "notified", "nato")
    assert (theirs.our_track, theirs.their_track) == ("sim:su27", "sim:rc135")
