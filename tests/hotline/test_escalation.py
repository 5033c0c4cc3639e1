"""Escalation: ladders level by level, exactly once, stopped by acks, and the hourly test."""

import json
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from parley.errors import ConfigError
from parley.hotline import escalation
from parley.hotline.entry import parse_signed_entry
from parley.hotline.escalation import Notification, load_policy, pending_steps, run_due
from parley.hotline.hourly_test import due_test_message, hour_number, hourly_sender
from parley.hotline.node import Node, init_node, load_node
from parley.hotline.roster import read_roster
from parley.store import schema

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

POLICY = """
[delivery]
deadline_s = 60
renotify_s = 60
notices_per_level = 1

[acknowledgement]
deadline_s = 300
renotify_s = 120
notices_per_level = 2

[answer]
deadline_s = 600
renotify_s = 300
notices_per_level = 1
"""


INCIDENT = {
    "incident_id": "I-2024-17",
    "time": "2024-05-01T11:55:00Z",
    "lat": "55.12",
    "lon": "20.3",
    "our_track": "mmsi:273318000",
    "your_track": "icao:4ca7b5",
    "closest_approach_m": "320",
    "altitude_m": "150",
    "severity": "serious",
    "summary": "Close pass at low altitude.",
}


class SettableClock:
    """One clock for both nodes, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def at(self, seconds: float) -> datetime:
        self.now = T0 + timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(T0)


@pytest.fixture
def pair(tmp_path: Path, clock: SettableClock) -> Iterator[tuple[Node, Node]]:
    nato = init_node(tmp_path / "nato", "nato", clock=clock)
    russia = init_node(tmp_path / "russia", "russia", clock=clock)
    nato.trust(russia.identity_json(), "https://russia.example")
    russia.trust(nato.identity_json(), "https://nato.example")
    (tmp_path / "nato" / escalation.POLICY_FILE).write_text(POLICY)
    yield nato, russia
    nato.close()
    russia.close()


def _carry(sender: Node, receiver: Node, path: Path) -> None:
    sender.export_bundle(path)
    receiver.import_bundle(path)


def _deliver(nato: Node, russia: Node, tmp_path: Path, clock: SettableClock, at: float) -> None:
    """Russia receives nato's log, and its receipt reaches nato at ``at`` seconds."""
    _carry(nato, russia, tmp_path / f"out-{at}.bundle")
    clock.at(at)
    _carry(russia, nato, tmp_path / f"back-{at}.bundle")


def _fired(node: Node, clock: SettableClock, seconds: float) -> list[tuple[str, str, str, int]]:
    return [(n.kind, n.track, n.level, n.attempt) for n in run_due(node, clock.at(seconds))]


def test_the_policy_file_sets_the_numbers(pair: tuple[Node, Node]) -> None:
    nato, _ = pair
    policy = load_policy(nato.directory)
    assert policy.acknowledgement.offsets(3) == [300, 420, 540, 660, 780, 900, 1020]
    assert policy.delivery.notices_per_level == 1


def test_an_unacknowledged_message_escalates_level_by_level_and_is_recorded(
    pair: tuple[Node, Node], tmp_path: Path, clock: SettableClock
) -> None:
    nato, russia = pair
    msg_id = nato.send(6, {"sequence": "1"})
    assert [(s.track, s.level) for s in pending_steps_of(nato, msg_id)][:2] == [
        ("delivery", "duty-officer"),
        ("delivery", "senior-officer"),
    ]
    assert _fired(nato, clock, 59) == []
    assert _fired(nato, clock, 60) == [("escalation", "delivery", "duty-officer", 0)]
    _deliver(nato, russia, tmp_path, clock, at=100)  # receipt stored at T0+100 on our clock
    # the delivery track stopped; the acknowledgement track counts from the receipt: +300, +420…
    assert _fired(nato, clock, 399) == []
    assert _fired(nato, clock, 400) == [("escalation", "acknowledgement", "duty-officer", 0)]
    assert _fired(nato, clock, 520) == [("escalation", "acknowledgement", "duty-officer", 1)]
    assert _fired(nato, clock, 700) == [("escalation", "acknowledgement", "senior-officer", 0)]
    late = run_due(nato, clock.at(1200))  # a node that was down catches up in due order
    assert [(n.kind, n.level, n.attempt) for n in late] == [
        ("escalation", "senior-officer", 1),
        ("escalation", "political-liaison", 0),
        ("escalation", "political-liaison", 1),
        ("unacknowledged", "unacknowledged", 0),
    ]
    assert [n.due_at for n in late] == [T0 + timedelta(seconds=s) for s in (760, 880, 1000, 1120)]
    assert pending_steps_of(nato, msg_id) == []
    final = nato.log().own[-1]
    assert (final.type, final.in_reply_to, final.msg_id) == (
        "unacknowledged",
        msg_id,
        late[-1].entry_msg_id,
    )
    assert final.fields == {
        "deadline": "2024-05-01T12:18:40Z",
        "reference": msg_id,
        "sent": "2024-05-01T12:00:00Z",
        "track": "acknowledgement",
    }
    shown = next(v for v in nato.log().own if v.msg_id == msg_id)
    assert shown.state == "unacknowledged"
    assert shown.states == ("recorded", "delivered", "unacknowledged")
    assert nato.verify().ok, nato.verify().problems
    _carry(nato, russia, tmp_path / "proof.bundle")  # the proof verifies at the peer too
    assert russia.log().peer[-1].type == "unacknowledged"
    assert russia.verify().ok, russia.verify().problems
    assert run_due(nato, clock.at(5000)) == []


def pending_steps_of(node: Node, msg_id: str) -> list[escalation.Step]:
    with node.engine.connect() as connection:
        return pending_steps(connection, msg_id)


def test_each_step_fires_once_across_a_restart(
    pair: tuple[Node, Node], tmp_path: Path, clock: SettableClock
) -> None:
    nato, _russia = pair
    nato.send(6, {"sequence": "1"})
    assert len(run_due(nato, clock.at(60))) == 1
    nato.close()
    with load_node(tmp_path / "nato", clock=clock) as restarted:
        assert run_due(restarted, clock.at(60)) == []
        assert _fired(restarted, clock, 120) == [("escalation", "delivery", "senior-officer", 0)]
    with load_node(tmp_path / "nato", clock=clock) as again:
        assert _fired(again, clock, 200) == [("escalation", "delivery", "political-liaison", 0)]
        with again.engine.connect() as connection:
            fired = connection.execute(
                select(schema.escalation_steps.c.fired_at).where(
                    schema.escalation_steps.c.fired_at.is_not(None)
                )
            ).all()
        assert len(fired) == 3


def test_two_concurrent_runs_fire_each_step_once(
    pair: tuple[Node, Node], tmp_path: Path, clock: SettableClock
) -> None:
    nato, russia = pair
    for n in range(5):
        nato.send(6, {"sequence": str(n)})
    _deliver(nato, russia, tmp_path, clock, at=10)
    now = T0 + timedelta(seconds=2000)  # every step of every ladder is due
    results: list[list[Notification]] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        with load_node(tmp_path / "nato", clock=clock) as node:
            barrier.wait()
            results.append(run_due(node, now))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    fired = [n for result in results for n in result]
    keys = [(n.msg_id, n.track, n.level, n.attempt) for n in fired]
    assert len(keys) == len(set(keys)) == 5 * 7  # 6 notices and the final step, per message
    unacknowledged = [v for v in nato.log().own if v.type == "unacknowledged"]
    assert len(unacknowledged) == 5
    assert nato.verify().ok, nato.verify().problems


def test_an_acknowledgement_stops_the_pending_steps(
    pair: tuple[Node, Node], tmp_path: Path, clock: SettableClock
) -> None:
    nato, russia = pair
    msg_id = nato.send(1, INCIDENT)
    assert {s.track for s in pending_steps_of(nato, msg_id)} == {
        "delivery",
        "acknowledgement",
        "answer",
    }
    _deliver(nato, russia, tmp_path, clock, at=30)
    assert _fired(nato, clock, 400) == [("escalation", "acknowledgement", "duty-officer", 0)]
    russia.ack(msg_id)
    _carry(russia, nato, tmp_path / "ack.bundle")
    assert _fired(nato, clock, 5000) == [
        ("escalation", "answer", level, 0)
        for level in ("duty-officer", "senior-officer", "political-liaison")
    ]
    assert pending_steps_of(nato, msg_id) == []
    assert not [v for v in nato.log().own if v.type == "unacknowledged"]
    with nato.engine.connect() as connection:
        outcomes = connection.execute(
            select(schema.escalation_steps.c.track, schema.escalation_steps.c.outcome).where(
                schema.escalation_steps.c.outcome == "stopped"
            )
        ).all()
    # the receipt stopped the delivery track; the ack the acknowledgement track's 5 notices + end
    assert Counter(track for track, _ in outcomes) == {"delivery": 3, "acknowledgement": 6}


def test_an_answer_stops_the_answer_track(
    pair: tuple[Node, Node], tmp_path: Path, clock: SettableClock
) -> None:
    nato, russia = pair
    msg_id = nato.send(1, INCIDENT)
    _deliver(nato, russia, tmp_path, clock, at=30)
    russia.ack(msg_id)
    reply = russia.send(
        3, {"answer": "A routine flight.", "classification": "routine-activity"}, reply_to=msg_id
    )
    _carry(russia, nato, tmp_path / "answer.bundle")
    fired = run_due(nato, clock.at(10_000))
    assert pending_steps_of(nato, msg_id) == []
    # only the reply, which takes our acknowledgement, still escalates (to our own officers)
    assert {(n.msg_id, n.track) for n in fired} == {(reply, "inbound")}


ROSTER_WITHOUT_SENIOR = """
[[shift]]
name = "day"
daily = "08:00"
[[shift.officer]]
name = "Lt Smith"
role = "duty-officer"
languages = ["en", "ru"]
[[shift.officer]]
name = "Mr Brown"
role = "political-liaison"
languages = ["en"]
"""


def test_a_level_with_no_one_on_duty_is_skipped_at_once(
    pair: tuple[Node, Node], tmp_path: Path, clock: SettableClock
) -> None:
    nato, _ = pair
    roster_path = tmp_path / "roster.toml"
    roster_path.write_text(ROSTER_WITHOUT_SENIOR)
    roster = read_roster(roster_path)
    nato.send(6, {"sequence": "1"})
    first = run_due(nato, clock.at(60), roster)
    assert [(n.kind, n.officers) for n in first] == [("escalation", ("Lt Smith",))]
    second = run_due(nato, clock.at(120), roster)
    # senior officer: no one on duty, so the political liaison is told at once, not at +180
    assert [(n.kind, n.level, n.officers) for n in second] == [
        ("no-one-on-duty", "senior-officer", ()),
        ("escalation", "political-liaison", ("Mr Brown",)),
    ]
    assert "no one on duty as senior-officer" in second[0].text
    assert run_due(nato, clock.at(180), roster) == []


def test_only_messages_that_take_an_ack_get_a_ladder(
    pair: tuple[Node, Node], tmp_path: Path
) -> None:
    nato, russia = pair
    msg_id = nato.send(6, {"sequence": "1"})
    tracks = Counter(step.track for step in pending_steps_of(nato, msg_id))
    assert tracks == {"delivery": 3, "acknowledgement": 7}  # 1 notice per level; 6 and the end
    _carry(nato, russia, tmp_path / "b")
    russia.ack(msg_id)  # an ACK takes no acknowledgement: no ladder
    with russia.engine.connect() as connection:
        assert connection.execute(select(schema.escalation_steps)).all() == []
        assert connection.execute(select(schema.escalation_policies)).all() == []


def test_hourly_tests_alternate_between_the_sides(pair: tuple[Node, Node]) -> None:
    nato, russia = pair
    even = datetime(2024, 5, 1, 12, 10, tzinfo=UTC)  # hour 476 316, even
    odd = even + timedelta(hours=1)
    assert hour_number(even) % 2 == 0
    assert hourly_sender(("russia", "nato"), even) == "nato"
    assert hourly_sender(("nato", "russia"), odd) == "russia"
    assert due_test_message(russia, even) is None
    sent = due_test_message(nato, even)
    assert sent is not None
    assert due_test_message(nato, even + timedelta(minutes=40)) is None  # once per hour
    assert due_test_message(nato, odd) is None
    from_russia = due_test_message(russia, odd)
    assert from_russia is not None
    test_entry = parse_signed_entry(_raw(nato, sent)).entry
    assert (test_entry.type, test_entry.template, dict(test_entry.fields)) == (
        "test",
        6,
        {"sequence": str(hour_number(even))},
    )


def _raw(node: Node, msg_id: str) -> bytes:
    with node.engine.connect() as connection:
        raw = connection.execute(
            select(schema.entries.c.raw).where(schema.entries.c.msg_id == msg_id)
        ).scalar_one()
    return bytes(raw)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[delivery]\ndeadline_s = 0\n", r"\[delivery\] deadline_s must be a positive integer"),
        ("[delivery]\nsoon = 3\n", r"\[delivery\] unknown setting 'soon'"),
        ("[panic]\n", r"unknown table \[panic\]"),
        ("[delivery\n", "escalation.toml"),
    ],
)
def test_a_bad_policy_file_names_the_file_and_the_reason(
    tmp_path: Path, text: str, reason: str
) -> None:
    (tmp_path / escalation.POLICY_FILE).write_text(text)
    with pytest.raises(ConfigError, match=reason) as caught:
        load_policy(tmp_path)
    assert str(tmp_path / escalation.POLICY_FILE) in str(caught.value)


def test_the_policy_is_copied_onto_the_message(pair: tuple[Node, Node]) -> None:
    nato, _ = pair
    msg_id = nato.send(6, {"sequence": "1"})
    (nato.directory / escalation.POLICY_FILE).unlink()  # later changes touch new messages only
    with nato.engine.connect() as connection:
        stored = connection.execute(
            select(schema.escalation_policies.c.policy).where(
                schema.escalation_policies.c.msg_id == msg_id
            )
        ).scalar_one()
    copied = escalation.EscalationPolicy.from_json(json.loads(stored))
    assert copied != load_policy(nato.directory)  # now the defaults
    assert (copied.acknowledgement.deadline_s, copied.delivery.notices_per_level) == (300, 1)


def test_a_received_message_escalates_to_our_officers_until_we_acknowledge(
    pair: tuple[Node, Node], tmp_path: Path, clock: SettableClock
) -> None:
    nato, russia = pair
    (russia.directory / escalation.POLICY_FILE).write_text(
        "[inbound]\ndeadline_s = 60\nrenotify_s = 30\nnotices_per_level = 1\n"
    )
    msg_id = nato.send(6, {"sequence": "1"})
    clock.at(100)
    _carry(nato, russia, tmp_path / "b")  # russia stores it at T0+100, on its clock
    assert _fired(russia, clock, 159) == []
    assert _fired(russia, clock, 160) == [("escalation", "inbound", "duty-officer", 0)]
    (notice,) = run_due(russia, clock.at(190))
    assert (
        notice.text
        == f"{msg_id}: the peer's message awaits our acknowledgement: notify the senior-officer"
    )
    russia.ack(msg_id)
    assert run_due(russia, clock.at(1000)) == []  # the ACK stopped the rest, and has no ladder
    with russia.engine.connect() as connection:
        rows = connection.execute(
            select(schema.escalation_steps.c.level, schema.escalation_steps.c.outcome)
        ).all()
    assert rows == [
        ("duty-officer", "escalation"),
        ("senior-officer", "escalation"),
        ("political-liaison", "stopped"),
    ]


def _steps_and_policies(node: Node) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    steps, policies = schema.escalation_steps, schema.escalation_policies
    with node.engine.connect() as connection:
        step_rows = connection.execute(
            select(steps.c.msg_id, steps.c.track, steps.c.level, steps.c.attempt)
            .add_columns(steps.c.offset_s, steps.c.due_at)
            .order_by(steps.c.id)
        ).all()
        policy_rows = connection.execute(select(policies).order_by(policies.c.seq)).all()
    return [tuple(row) for row in step_rows], [tuple(row) for row in policy_rows]


def test_a_batch_is_scheduled_in_one_statement_per_table_as_one_by_one(
    pair: tuple[Node, Node], clock: SettableClock
) -> None:
    from sqlalchemy import delete, event

    from parley.hotline import records
    from parley.store.engine import write

    nato, _ = pair
    for number, seconds in enumerate((0, 7, 30)):
        clock.at(seconds)
        nato.send(6 if number != 1 else 1, INCIDENT if number == 1 else {"sequence": str(number)})
    one_by_one = _steps_and_policies(nato)
    assert len(one_by_one[1]) == 3
    assert len(one_by_one[0]) == 10 + 13 + 10  # the incident has an answer track
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement.split("(")[0].strip())

    with write(nato.engine) as connection:
        connection.execute(delete(schema.escalation_steps))
        connection.execute(delete(schema.escalation_policies))
        raws = records.raw_entries(connection, nato.log_id, from_seq=1)
        event.listen(connection, "before_cursor_execute", count)
        stored = escalation.schedule_many(
            connection, [parse_signed_entry(raw) for raw in raws], load_policy(nato.directory)
        )
        event.remove(connection, "before_cursor_execute", count)
    assert stored == 33
    assert statements == [
        "INSERT INTO escalation_policies",
        "INSERT INTO escalation_steps",
    ]
    again = _steps_and_policies(nato)
    assert again[0] == one_by_one[0]
    assert again[1] == one_by_one[1]


def test_a_timer_tick_takes_a_few_statements_however_many_messages_wait(
    pair: tuple[Node, Node], tmp_path: Path, clock: SettableClock
) -> None:
    """The tick holds the write lock that sends wait for: three reads, then one ``executemany``
    for the steps to cancel and one for the steps to arm, and nothing more when nothing changed
    (it used to take about five statements per message awaiting an answer)."""
    from sqlalchemy import event

    from parley.store.engine import write

    nato, russia = pair
    sent = [nato.send(6, {"sequence": str(number)}) for number in range(12)]
    _deliver(nato, russia, tmp_path, clock, at=30)
    russia.ack(sent[0])
    _carry(russia, nato, tmp_path / "ack.bundle")
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement.split()[0])

    for _tick in range(2):
        with write(nato.engine) as connection:
            event.listen(connection, "before_cursor_execute", count)
            escalation.stop_and_arm(connection, nato.log_id, nato.peer_log_id, clock.at(40))
            event.remove(connection, "before_cursor_execute", count)
    assert statements == ["SELECT"] * 3 + ["UPDATE"] * 2 + ["SELECT"] * 3
    assert pending_steps_of(nato, sent[0]) == []  # acknowledged: delivery and ack tracks stopped
    for msg_id in sent[1:]:
        waiting = pending_steps_of(nato, msg_id)
        assert {step.track for step in waiting} == {"acknowledgement"}  # delivered: armed
        assert min(step.due_at for step in waiting if step.due_at) == T0 + timedelta(seconds=330)
        assert all(step.due_at is not None for step in waiting)


def test_received_messages_get_their_ladders_in_a_few_statements_however_many(
    pair: tuple[Node, Node], tmp_path: Path, clock: SettableClock
) -> None:
    """A tick after many messages arrived: one read of them, one of our ACKs among them, one
    ``executemany`` per table; the message already acknowledged gets a policy and no ladder,
    every other one the whole inbound ladder from when it was stored; the next tick one read.
    (It used to take three statements per message, all holding the write lock.)"""
    from sqlalchemy import event

    from parley.store.engine import write

    nato, russia = pair
    sent = [nato.send(6, {"sequence": str(number)}) for number in range(12)]
    _carry(nato, russia, tmp_path / "out.bundle")
    russia.ack(sent[3])
    policy = load_policy(russia.directory)
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement.split()[0])

    scheduled = []
    for _tick in range(2):
        with write(russia.engine) as connection:
            event.listen(connection, "before_cursor_execute", count)
            scheduled.append(
                escalation.schedule_inbound(connection, russia.peer_log_id, russia.log_id, policy)
            )
            event.remove(connection, "before_cursor_execute", count)
    assert scheduled == [11, 0]
    assert statements == ["SELECT", "SELECT", "INSERT", "INSERT", "SELECT"]
    assert pending_steps_of(russia, sent[3]) == []
    ladder = pending_steps_of(russia, sent[0])
    assert {step.track for step in ladder} == {"inbound"}
    assert all(step.due_at is not None and step.due_at >= T0 for step in ladder)
    assert all(len(pending_steps_of(russia, m)) == len(ladder) for m in sent if m != sent[3])
    policies = _steps_and_policies(russia)[1]
    assert sorted(str(row[0]) for row in policies if row[1] == russia.peer_log_id) == sorted(sent)


def test_a_tick_reads_what_to_stop_and_arm_without_the_write_lock(
    pair: tuple[Node, Node], tmp_path: Path, clock: SettableClock
) -> None:
    """The reads over every message awaiting an answer run on a snapshot; under the write lock
    only the new ladders, the updates and the due steps: the same outcome as in one transaction."""
    from sqlalchemy import event

    nato, russia = pair
    sent = [nato.send(6, {"sequence": str(number)}) for number in range(5)]
    _deliver(nato, russia, tmp_path, clock, at=30)
    russia.ack(sent[0])
    _carry(russia, nato, tmp_path / "ack.bundle")
    seen: list[tuple[bool, str]] = []

    def record(conn: Any, _cursor: object, statement: str, *_: object) -> None:
        if "escalation_steps" in statement and "JOIN" in statement:
            reading = bool(conn.get_execution_options().get("parley_read_only"))
            seen.append((reading, statement.split()[0]))

    event.listen(nato.engine, "before_cursor_execute", record)
    try:
        run_due(nato, clock.at(40))
    finally:
        event.remove(nato.engine, "before_cursor_execute", record)
    assert (True, "SELECT") in seen  # the pending steps and their policies, on a snapshot
    assert pending_steps_of(nato, sent[0]) == []  # acknowledged: its tracks stopped
    for msg_id in sent[1:]:
        waiting = pending_steps_of(nato, msg_id)
        assert {step.track for step in waiting} == {"acknowledgement"}  # delivered: armed
        assert all(step.due_at is not None for step in waiting)
