"""Two nodes in process, each a running app whose replication reaches the other's app: the event
stream shows a send → deliver → acknowledge exchange on both sides, resumes after Last-Event-ID,
tells a client from before a restart to reload, and both nodes end with one joint checkpoint; and
the two apps stop even while one's replication is in the middle of a request to the other."""

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from parley.cli.main import run
from parley.hotline.joint import latest_joint
from parley.hotline.node import Node, init_node
from parley.hotline.peer_sync import PushAnswer, answer_push
from parley.hotline.replication import ReplicationSettings
from parley.web import create_app, events
from parley.web import peer as peer_routes
from parley.web.state import NodeState
from parley.web.timers import TimerSettings

FAST_REPLICATION = ReplicationSettings(
    initial_backoff_s=0.01, max_backoff_s=0.05, pull_interval_s=1.0, poll_interval_s=0.02
)
FAST_TIMERS = TimerSettings(
    escalation_interval_s=0.05, events_interval_s=0.02, joint_interval_s=0.05, hourly_test=False
)
SignIn = Callable[..., str]


class Link:
    """The network from one app to the other: requests go to the other app's test client."""

    def __init__(self) -> None:
        self.client: TestClient | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        client = self.client
        if client is None:
            raise httpx.ConnectError("connection refused", request=request)
        try:
            answer = client.request(
                request.method,
                request.url.raw_path.decode("ascii"),
                content=request.read(),
                headers={
                    k: v for k, v in request.headers.items() if k.lower().startswith("parley-")
                },
            )
        except RuntimeError as exc:  # the other app has stopped meanwhile
            raise httpx.ConnectError(str(exc), request=request) from None
        return httpx.Response(answer.status_code, content=answer.content, headers=answer.headers)


@contextmanager
def linked_apps(root: Path) -> Iterator[tuple[TestClient, TestClient]]:
    """nato's and russia's running apps, each replicating to the other through its test client."""
    nato, russia = init_node(root / "nato", "nato"), init_node(root / "russia", "russia")
    nato.trust(russia.identity_json(), "http://russia.test")
    russia.trust(nato.identity_json(), "http://nato.test")
    nato.close()
    russia.close()
    to_russia, to_nato = Link(), Link()
    apps = [
        create_app(
            root / name,
            FAST_REPLICATION,
            transport=httpx.MockTransport(link),
            timers=FAST_TIMERS,
        )
        for name, link in (("nato", to_russia), ("russia", to_nato))
    ]
    with TestClient(apps[0]) as nato_client, TestClient(apps[1]) as russia_client:
        to_russia.client, to_nato.client = russia_client, nato_client
        try:
            yield nato_client, russia_client
        finally:
            # Every thread that calls the other app stops (its request answered) while both apps
            # still serve. The test client streams each response body from the app's event loop:
            # a request cut off by the other app's shutdown after its answer began would leave
            # that app's loop waiting forever for the rest of the body to be read, and its
            # TestClient's exit with it.
            for client in (nato_client, russia_client):
                stop_background_threads(client)
            to_russia.client = to_nato.client = None


def stop_background_threads(client: TestClient) -> None:
    """Stop an app's replication and timers now (its lifespan's end finds them stopped)."""
    client.app.state.timers.stop()  # type: ignore[attr-defined]
    replicator = _state(client).replicator
    if replicator is not None:
        replicator.stop()


@pytest.fixture
def two_nodes(tmp_path: Path, sign_in: SignIn) -> Iterator[tuple[TestClient, TestClient]]:
    """nato's and russia's running apps, linked, each with a duty officer signed in."""
    with linked_apps(tmp_path) as (nato_client, russia_client):
        sign_in(nato_client)
        sign_in(russia_client)
        yield nato_client, russia_client


def _state(client: TestClient) -> NodeState:
    state = client.app.state.parley  # type: ignore[attr-defined]
    assert isinstance(state, NodeState)
    return state


def _node(client: TestClient) -> Node:
    return _state(client).node


def _parse(text: str) -> list[dict[str, Any]]:
    found = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            found.append(
                {"id": fields["id"], "event": fields["event"], **json.loads(fields["data"])}
            )
    return found


def _held(client: TestClient, after: str) -> list[dict[str, Any]]:
    answer = client.get(
        "/api/v1/events", params={"follow": "false"}, headers={"Last-Event-ID": after}
    )
    assert answer.status_code == 200, answer.text
    return _parse(answer.text)


def _wait_for(check: Callable[[], Any], what: str, bound_s: float = 20.0) -> Any:
    deadline = time.monotonic() + bound_s
    while not (found := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)
    return found


def _stream_until(
    client: TestClient,
    after: str,
    wanted: Callable[[list[dict[str, Any]]], bool],
    bound_s: float = 20.0,
) -> list[dict[str, Any]]:
    """Follow the live stream from after ``after`` until ``wanted`` holds for the events read."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + bound_s
    block: list[str] = []
    with client.stream("GET", "/api/v1/events", headers={"Last-Event-ID": after}) as answer:
        assert answer.headers["content-type"].startswith("text/event-stream")
        for line in answer.iter_lines():
            assert time.monotonic() < deadline, f"the stream never showed it: {seen}"
            if line:
                block.append(line)
                continue
            seen += _parse("\n".join(block) + "\n\n")
            block = []
            if wanted(seen):
                return seen
    raise AssertionError("the stream ended")


def test_send_deliver_acknowledge_as_both_consoles_see_it(
    two_nodes: tuple[TestClient, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "HEARTBEAT_S", 0.1)
    nato, russia = two_nodes
    _wait_for(lambda: nato.get("/api/v1/status").json()["replication"]["resynced"], "resync")
    start = {
        name: f"{c.app.state.events.epoch}-{c.app.state.events.last_number}"  # type: ignore[attr-defined]
        for name, c in (("nato", nato), ("russia", russia))
    }
    sent = nato.post(
        "/api/v1/messages", json={"template": 9, "fields": {"language": "en", "text": "Why?"}}
    )
    assert sent.status_code == 200, sent.text
    msg_id = sent.json()["msg_id"]

    def received(seen: list[dict[str, Any]]) -> bool:
        return any(e["event"] == "message.received" for e in seen)

    inbound = _stream_until(russia, start["russia"], received)  # the live stream
    got = next(e for e in inbound if e["event"] == "message.received")
    assert (got["payload"]["msg_id"], got["payload"]["party"]) == (msg_id, "nato")
    assert got["payload"]["fields"] == {"language": "en", "text": "Why?"}
    acked = russia.post(f"/api/v1/inbox/{msg_id}/ack")
    assert acked.status_code == 200, acked.text

    def nato_saw_everything() -> list[dict[str, Any]]:
        seen = _held(nato, start["nato"])
        types = [e["event"] for e in seen]
        done = {"message.recorded", "message.delivered", "message.acknowledged"} <= set(types)
        return seen if done else []

    seen = _wait_for(nato_saw_everything, "nato's events")
    by_type = {e["event"]: e["payload"] for e in seen}
    assert by_type["message.recorded"]["msg_id"] == msg_id
    assert msg_id in by_type["message.delivered"]["msg_ids"]
    assert by_type["message.acknowledged"]["in_reply_to"] == msg_id
    assert by_type["message.acknowledged"]["party"] == "russia"
    order = [e["event"] for e in seen if e["event"].startswith("message.")]
    assert order.index("message.recorded") < order.index("message.delivered")
    assert order.index("message.delivered") < order.index("message.acknowledged")
    russia_seen = _held(russia, start["russia"])
    own_ack = [e for e in russia_seen if e["event"] == "message.acknowledged"]
    assert [(e["payload"]["party"], e["payload"]["in_reply_to"]) for e in own_ack] == [
        ("russia", msg_id)
    ]
    ids = [int(e["id"].split("-")[1]) for e in seen]
    assert ids == sorted(ids)
    assert len(ids) == len(set(ids))


def test_last_event_id_resumes_and_an_old_id_asks_for_a_reload(
    two_nodes: tuple[TestClient, TestClient],
) -> None:
    nato, _ = two_nodes
    bus = nato.app.state.events  # type: ignore[attr-defined]
    first = bus.publish("probe.first", {"n": 1})
    second = bus.publish("probe.second", {"n": 2})
    after_first = _held(nato, bus.event_id(first))
    assert [e["id"] for e in after_first if e["event"].startswith("probe.")] == [
        bus.event_id(second)
    ]
    assert all(int(e["id"].split("-")[1]) > first.number for e in after_first)
    from_query = nato.get(
        "/api/v1/events", params={"follow": "false", "last_event_id": bus.event_id(first)}
    )
    assert _parse(from_query.text) == after_first
    stale = _held(nato, "0badc0de-41")  # an id from before a restart
    assert stale[0]["event"] == events.RESET_EVENT
    assert stale[0]["id"] == f"{bus.epoch}-{bus.last_number}"


def test_both_nodes_agree_on_one_joint_checkpoint_that_verify_accepts(
    two_nodes: tuple[TestClient, TestClient], capsys: pytest.CaptureFixture[str]
) -> None:
    nato, russia = two_nodes
    sent = nato.post("/api/v1/messages", json={"template": 6, "fields": {"sequence": "5"}})
    msg_id = sent.json()["msg_id"]
    _wait_for(
        lambda: any(m["msg_id"] == msg_id for m in russia.get("/api/v1/inbox").json()), "inbox"
    )
    russia.post(f"/api/v1/inbox/{msg_id}/ack")
    nato_node, russia_node = _node(nato), _node(russia)

    def agreed() -> bool:
        ours, theirs = latest_joint(nato_node), latest_joint(russia_node)
        if ours is None or theirs is None or ours.note != theirs.note:
            return False
        sizes = {head.origin: head.size for head in (ours.first, ours.second)}
        return sizes == {nato_node.log_id: 2, russia_node.log_id: 2}

    _wait_for(agreed, "one joint checkpoint over both final heads")
    assert nato.get("/api/v1/verify").json()["ok"] is True
    assert russia.get("/api/v1/verify").json()["ok"] is True
    capsys.readouterr()
    assert run(["hotline", "checkpoint", str(nato_node.directory), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    joint = latest_joint(russia_node)
    assert joint is not None
    assert shown["note"] == joint.note
    assert {log["size"] for log in shown["logs"]} == {2}
    assert run(["hotline", "log", str(russia_node.directory), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["joint_checkpoint"]["note"] == joint.note
    seen = _held(nato, f"{nato.app.state.events.epoch}-0")  # type: ignore[attr-defined]
    assert any(e["event"] == "joint-checkpoint.agreed" for e in seen)
    links = [e["payload"]["status"] for e in seen if e["event"] == "link.status"]
    assert links[-1] == "up"  # resyncing at start, then up


def test_both_apps_stop_while_a_push_between_them_is_being_answered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The teardown that once hung: nato's replication is waiting for russia's answer to a push
    when the apps stop. Run in a thread so that a hang fails the test instead of the run."""
    answering, slow_s = threading.Event(), 2.0

    def slow_answer_push(node: Node, body: bytes, source: str) -> PushAnswer:
        answering.set()
        time.sleep(slow_s)  # the answer comes after russia's shutdown has begun
        return answer_push(node, body, source)

    monkeypatch.setattr(peer_routes, "answer_push", slow_answer_push)
    outcome: list[BaseException | str] = []

    def run_and_stop() -> None:
        try:
            with linked_apps(tmp_path) as (nato, _):
                # resync done, the first push (nato owes russia a receipt) is being answered
                assert answering.wait(60), "nato never pushed to russia"
                assert _state(nato).replicator is not None
            outcome.append("stopped")
        except BaseException as exc:  # reported below, in the test's own thread
            outcome.append(exc)

    runner = threading.Thread(target=run_and_stop, name="linked-apps", daemon=True)
    started = time.monotonic()
    runner.start()
    runner.join(90)
    assert not runner.is_alive(), "the two apps did not stop within 90 s (a teardown hang)"
    assert outcome == ["stopped"], outcome
    assert time.monotonic() - started >= slow_s  # the push in flight was waited for
