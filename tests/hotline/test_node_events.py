"""The database watcher: each change, whoever wrote it, becomes one event, exactly once."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from parley.hotline.events import EventBus
from parley.hotline.node import Node, init_node, load_node
from parley.hotline.node_events import NodeWatcher
from parley.store import schema
from parley.store.engine import write


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    nato, russia = init_node(tmp_path / "nato", "nato"), init_node(tmp_path / "russia", "russia")
    nato.trust(russia.identity_json(), "http://russia.test")
    russia.trust(nato.identity_json(), "http://nato.test")
    yield nato, russia
    nato.close()
    russia.close()


def _carry(sender: Node, receiver: Node, path: Path) -> None:
    sender.export_bundle(path)
    receiver.import_bundle(path)


def _drain(bus: EventBus, after: int) -> list[tuple[str, dict[str, Any]]]:
    return [(e.type, dict(e.payload)) for e in bus.since(after) or []]


def test_send_receipt_ack_and_answer_become_events_once(
    pair: tuple[Node, Node], tmp_path: Path
) -> None:
    nato, russia = pair
    nato_bus, russia_bus = EventBus(), EventBus()
    nato_watch, russia_watch = NodeWatcher(nato, nato_bus), NodeWatcher(russia, russia_bus)
    asked = nato.send(9, {"language": "en", "text": "Which unit?"})
    assert nato_watch.poll() == 1
    assert nato_watch.poll() == 0  # nothing new: nothing twice
    _carry(nato, russia, tmp_path / "1.bundle")
    assert russia_watch.poll() == 1
    ((kind, got),) = _drain(russia_bus, 0)
    assert (kind, got["msg_id"], got["party"], got["template"]) == (
        "message.received",
        asked,
        "nato",
        9,
    )
    acked = russia.ack(asked)
    reply = russia.send(9, {"language": "en", "text": "The 3rd."}, reply_to=asked)
    _carry(russia, nato, tmp_path / "2.bundle")  # russia's log and its receipt for nato's
    mark = nato_bus.last_number
    nato_watch.poll()
    events = _drain(nato_bus, mark)
    kinds = [kind for kind, _ in events]
    # the receipt came in the same import as the ACK: still shown first, as it happened
    assert kinds == [
        "message.delivered",
        "message.acknowledged",
        "message.received",
        "message.answered",
    ]
    payloads = dict(events)
    assert payloads["message.acknowledged"]["msg_id"] == acked
    assert payloads["message.acknowledged"]["in_reply_to"] == asked
    assert payloads["message.answered"] == {"msg_id": asked, "reply": reply, "party": "russia"}
    assert payloads["message.delivered"]["msg_ids"] == [asked]
    assert payloads["message.delivered"]["size"] == 2


def test_another_process_writing_and_an_equivocation_are_seen(
    pair: tuple[Node, Node], tmp_path: Path
) -> None:
    nato, _ = pair
    bus = EventBus()
    watcher = NodeWatcher(nato, bus)
    with load_node(tmp_path / "nato") as beside:  # as `parley hotline send` beside the server
        sent = beside.send(6, {"sequence": "9"})
    with write(nato.engine) as connection:
        connection.execute(
            insert(schema.equivocations).values(
                log_id=nato.peer_log_id,
                seq=3,
                kind="fork",
                held=b"a",
                offered=b"b",
                detected_at=datetime(2024, 5, 1, tzinfo=UTC),
            )
        )
    assert watcher.poll() == 2
    events = _drain(bus, 0)
    assert events[0][0] == "test.sent"
    assert events[0][1]["msg_id"] == sent
    assert events[1] == (
        "alarm.equivocation",
        {"log_id": nato.peer_log_id, "seq": 3, "kind": "fork", "frozen": True},
    )
