"""Escalation: who is told, and when, that one of our messages is not delivered, acknowledged or
answered in time.

Each own message that takes an acknowledgement gets three **tracks**: ``delivery`` (until the
peer's cosignature covers it), ``acknowledgement`` (until an ACK entry of the peer refers to it)
and, for templates that expect an answer, ``answer`` (until a message of the peer replies to it).
Each track has a deadline and a ladder of levels, duty officer → senior officer → political
liaison, each level notified ``notices_per_level`` times, ``renotify_s`` apart.

The policy is copied onto the message when :func:`schedule` runs inside the send transaction, with
one row per step in ``escalation_steps``. Deadlines run on our clock: the delivery track from the
message's creation, the acknowledgement and answer tracks from when we stored the first receipt
covering it (their ``due_at`` stays null until then). After the last level of the
acknowledgement track, a final step writes an ``unacknowledged`` entry into our own log: the signed
proof of non-response.

The peer's messages that take an acknowledgement get one ``inbound`` ladder each (on our clock,
from when we stored them), telling our own officers until one of them acknowledges; it is created
by the first :func:`run_due` after the message arrived, whatever brought it (bundle or network).

:func:`run_due` does everything in one write transaction: it stops the steps made pointless (an
ACK stops the delivery and acknowledgement tracks, an answer the answer track, a receipt the
delivery track), arms the tracks whose receipt has arrived, then claims each due step with
``UPDATE … WHERE fired_at IS NULL AND cancelled_at IS NULL``: a step fires exactly once, even
with two callers at once or across a restart. A level with nobody on duty is skipped at once: a
``no-one-on-duty`` notification, and the next level's first step is brought forward to now.
"""

import json
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, insert, select, update

from parley.hotline.entry import SignedEntry
from parley.hotline.escalation_policy import (
    INBOUND,
    LEVELS,
    POLICY_FILE,
    TRACKS,
    EscalationPolicy,
    TrackPolicy,
    load_policy,
)
from parley.hotline.msgid import parse_utc_ms
from parley.hotline.roster import Roster, load_roster, on_duty
from parley.hotline.templates import template
from parley.store import schema
from parley.store.engine import read, write

if TYPE_CHECKING:
    from parley.hotline.node import Node

#: The level of the acknowledgement track's final step: write the ``unacknowledged`` entry.
FINAL_LEVEL = "unacknowledged"
#: Tracks that start from the receipt rather than from the message's creation.
_FROM_RECEIPT = ("acknowledgement", "answer")
# Built once: a statement per send would cost more than the send's own inserts.
_INSERT_POLICY = insert(schema.escalation_policies)
_INSERT_STEPS = insert(schema.escalation_steps)


@dataclass(frozen=True, slots=True)
class Step:
    id: int
    msg_id: str
    track: str
    level: str
    attempt: int
    due_at: datetime | None


@dataclass(frozen=True, slots=True)
class Notification:
    """What a console must show; ``kind`` is ``escalation``, ``no-one-on-duty`` or
    ``unacknowledged``."""

    kind: str
    msg_id: str
    track: str
    level: str
    attempt: int
    due_at: datetime
    fired_at: datetime
    officers: tuple[str, ...] = ()
    entry_msg_id: str | None = None
    text: str = field(default="")

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "msg_id": self.msg_id,
            "track": self.track,
            "level": self.level,
            "attempt": self.attempt,
            "due_at": self.due_at.isoformat(),
            "fired_at": self.fired_at.isoformat(),
            "officers": list(self.officers),
            "entry_msg_id": self.entry_msg_id,
            "text": self.text,
        }


def tracks_for(signed: SignedEntry) -> tuple[str, ...]:
    """The tracks an entry of ours escalates on (none for ACKs, catalogue and the like)."""
    entry = signed.entry
    if entry.type not in ("message", "test") or entry.template is None:
        return ()
    spec = template(entry.template)
    if not spec.requires_ack:
        return ()
    return TRACKS if spec.expects_answer else TRACKS[:2]


def schedule(connection: Connection, signed: SignedEntry, policy: EscalationPolicy) -> int:
    """Store the policy and the steps of a new own message (inside its send transaction).

    Returns how many steps were stored."""
    return schedule_many(connection, [signed], policy)


def schedule_many(
    connection: Connection, batch: Sequence[SignedEntry], policy: EscalationPolicy
) -> int:
    """:func:`schedule` for a batch of new own messages: one ``executemany`` for their policies
    and one for their steps. Returns how many steps were stored."""
    policy_text = json.dumps(policy.to_json(), sort_keys=True)
    ladders: dict[str, list[dict[str, Any]]] = {}
    policy_rows: list[dict[str, Any]] = []
    step_rows: list[dict[str, Any]] = []
    for signed in batch:
        tracks = tracks_for(signed)
        if not tracks:
            continue
        created = parse_utc_ms(signed.entry.time)
        policy_rows.append(
            {
                "msg_id": signed.msg_id,
                "log_id": signed.entry.log_id,
                "seq": signed.seq,
                "created_at": created,
                "policy": policy_text,
            }
        )
        for track in tracks:
            if track not in ladders:
                final = track == "acknowledgement"
                ladders[track] = _ladder_rows(track, policy.track(track), policy.levels, final)
            start = None if track in _FROM_RECEIPT else created
            step_rows += _steps(ladders[track], signed.msg_id, start)
    if policy_rows:
        connection.execute(_INSERT_POLICY, policy_rows)
        connection.execute(_INSERT_STEPS, step_rows)
    return len(step_rows)


def schedule_inbound(
    connection: Connection, peer_log_id: str, own_log_id: str, policy: EscalationPolicy
) -> int:
    """Give each newly received peer message that takes an acknowledgement an ``inbound``
    ladder, from when we stored it (our clock); how many messages got one.

    Set-based, like :func:`stop_and_arm` (a timer tick holds the write lock): one read of the
    new messages, one of our ACKs among them, then one ``executemany`` for their policies and
    one for their steps, however many messages arrived since the last tick."""
    entries, policies = schema.entries, schema.escalation_policies
    new = connection.execute(
        select(entries.c.msg_id, entries.c.seq, entries.c.template, entries.c.received_at)
        .where(
            entries.c.log_id == peer_log_id,
            entries.c.type.in_(("message", "test")),
            entries.c.msg_id.not_in(select(policies.c.msg_id).scalar_subquery()),
        )
        .order_by(entries.c.seq)
    ).all()
    if not new:
        return 0
    acknowledged = _acknowledged(connection, own_log_id, [str(row[0]) for row in new])
    policy_text = json.dumps(policy.to_json(), sort_keys=True)
    ladder = _ladder_rows(INBOUND, policy.inbound, policy.levels, False)
    policy_rows: list[dict[str, Any]] = []
    step_rows: list[dict[str, Any]] = []
    scheduled = 0
    for msg_id, seq, template_id, received_at in new:
        received = _aware(received_at)
        policy_rows.append(
            {
                "msg_id": msg_id,
                "log_id": peer_log_id,
                "seq": seq,
                "created_at": received,
                "policy": policy_text,
            }
        )
        if template_id is None or not template(int(template_id)).requires_ack:
            continue
        if msg_id in acknowledged:
            continue
        step_rows += _steps(ladder, msg_id, received)
        scheduled += 1
    connection.execute(_INSERT_POLICY, policy_rows)
    if step_rows:
        connection.execute(_INSERT_STEPS, step_rows)
    return scheduled


#: Message ids per ``IN (…)`` list: well under every database's limit on bound parameters.
_IN_CHUNK = 500


def _acknowledged(connection: Connection, own_log_id: str, msg_ids: Sequence[str]) -> set[str]:
    """Those of ``msg_ids`` that an ACK in our log answers."""
    found: set[str] = set()
    for start in range(0, len(msg_ids), _IN_CHUNK):
        rows = connection.execute(
            _ACKS_AMONG, {"log_id": own_log_id, "msg_ids": list(msg_ids[start : start + _IN_CHUNK])}
        ).scalars()
        found.update(str(msg_id) for msg_id in rows)
    return found


_ACKS_AMONG = (
    select(schema.entries.c.in_reply_to)
    .where(
        schema.entries.c.log_id == bindparam("log_id"),
        schema.entries.c.type == "ack",
        schema.entries.c.in_reply_to.in_(bindparam("msg_ids", expanding=True)),
    )
    .distinct()
)


def _ladder_rows(
    track: str,
    policy: TrackPolicy,
    levels: tuple[str, ...],
    final: bool,
) -> list[dict[str, Any]]:
    """One row per notice, level by level (``due_at`` not set: the caller adds it from the
    track's start and ``offset_s``); with ``final``, the ladder's end step too."""
    offsets = policy.offsets(len(levels))
    if not final:
        offsets = offsets[:-1]
    rows = []
    for index, offset in enumerate(offsets):
        last = final and index == len(offsets) - 1
        rows.append(
            {
                "track": track,
                "level": FINAL_LEVEL if last else levels[index // policy.notices_per_level],
                "attempt": 0 if last else index % policy.notices_per_level,
                "offset_s": offset,
            }
        )
    return rows


def _steps(
    ladder: list[dict[str, Any]], msg_id: str, start: datetime | None
) -> list[dict[str, Any]]:
    """The step rows of one message's track: its ladder with the message and the due times."""
    origin = None if start is None else _db_time(start)
    return [
        {
            **row,
            "msg_id": msg_id,
            "due_at": None if origin is None else origin + timedelta(seconds=row["offset_s"]),
        }
        for row in ladder
    ]


def run_due(node: "Node", now: datetime, roster: Roster | None = None) -> list[Notification]:
    """Fire every step due at ``now`` exactly once; the notifications to show.

    ``roster`` defaults to the node's ``roster.toml``; without one, levels are notified by role
    and never skipped."""
    now = now.astimezone(UTC)
    if roster is None:
        roster = load_roster(node.directory)
    notifications: list[Notification] = []
    if node.config.peer is None:
        return []
    # What to stop and arm is read from a snapshot, without the write lock (with thousands of
    # messages awaiting an answer that read takes long enough to stall sends and imports). The
    # facts it rests on (ACKs, replies, receipts) are never taken back, and each update is
    # guarded by the step's state, so applying the plan a moment later is exact; whatever
    # arrives meanwhile is seen by the next tick.
    with read(node.engine) as connection:
        cancel, arm = plan_stop_and_arm(connection, node.log_id, node.peer_log_id, now)
    with write(node.engine) as connection:
        policy = load_policy(node.directory)
        schedule_inbound(connection, node.peer_log_id, node.log_id, policy)
        apply_stop_and_arm(connection, cancel, arm)
        while (step := _next_due(connection, now)) is not None:
            notification = _fire(connection, node, step, now, roster)
            if notification is not None:
                notifications.append(notification)
    return notifications


def stop_and_arm(connection: Connection, own_log_id: str, peer_log_id: str, now: datetime) -> None:
    """Cancel the steps made pointless by acks, answers and receipts; arm receipt tracks.

    Set-based, so that a timer tick costs a few statements however many messages await an
    answer: one read of the pending steps, one of the replies to their messages, one of the
    receipts that may cover them (:func:`plan_stop_and_arm`, which :func:`run_due` runs on a
    snapshot, outside the write lock that every send waits for), then one ``executemany`` each
    for the steps to cancel and the steps to arm (:func:`apply_stop_and_arm`; none when nothing
    changed).
    """
    apply_stop_and_arm(connection, *plan_stop_and_arm(connection, own_log_id, peer_log_id, now))


#: Rows of the steps to cancel (``step_id``, ``at``) and to arm (``step_id``, ``due``).
StepUpdates = list[dict[str, Any]]


def plan_stop_and_arm(
    connection: Connection, own_log_id: str, peer_log_id: str, now: datetime
) -> tuple[StepUpdates, StepUpdates]:
    """The reads of :func:`stop_and_arm`: which pending steps to cancel and which to arm."""
    pending = _pending_steps_by_message(connection)
    if not pending:
        return [], []
    replies = _reply_types(connection, (own_log_id, peer_log_id))
    own_seqs = [seq for log_id, seq, _ in pending.values() if log_id == own_log_id]
    first_receipt = _receipt_times(connection, own_log_id, min(own_seqs, default=0))
    cancel: list[dict[str, Any]] = []
    arm: list[dict[str, Any]] = []
    for msg_id, (log_id, seq, steps) in pending.items():
        if log_id != own_log_id:  # a peer's message: our own ACK stops its inbound ladder
            stopped = {INBOUND} if "ack" in replies.get((own_log_id, msg_id), ()) else set()
            received = None
        else:
            stopped = _tracks_answered(replies.get((peer_log_id, msg_id), ()))
            received = first_receipt(seq)
            if received is not None:
                stopped.add("delivery")
        for step_id, track, offset_s, armed in steps:
            if track in stopped:
                cancel.append({"step_id": step_id, "at": _db_time(now)})
            elif received is not None and not armed:
                due = _db_time(received + timedelta(seconds=int(offset_s)))
                arm.append({"step_id": step_id, "due": due})
    return cancel, arm


def apply_stop_and_arm(connection: Connection, cancel: StepUpdates, arm: StepUpdates) -> None:
    """The writes of :func:`stop_and_arm`, each guarded by the step's state (a step fired or
    cancelled meanwhile is left alone, one armed meanwhile keeps its due time)."""
    if cancel:
        connection.execute(_CANCEL_STEP, cancel)
    if arm:
        connection.execute(_ARM_STEP, arm)


#: A pending step of a message: (step id, track, offset_s, whether its due time is set).
_PendingStep = tuple[int, str, int, bool]

_CANCEL_STEP = (
    update(schema.escalation_steps)
    .where(
        schema.escalation_steps.c.id == bindparam("step_id"),
        schema.escalation_steps.c.fired_at.is_(None),
    )
    .where(schema.escalation_steps.c.cancelled_at.is_(None))
    .values(cancelled_at=bindparam("at"), outcome="stopped")
)
_ARM_STEP = (
    update(schema.escalation_steps)
    .where(
        schema.escalation_steps.c.id == bindparam("step_id"),
        schema.escalation_steps.c.due_at.is_(None),
    )
    .values(due_at=bindparam("due"))
)


def _pending_steps_by_message(
    connection: Connection,
) -> dict[str, tuple[str, int, list[_PendingStep]]]:
    """Each message with pending steps: its log, its seq and those steps."""
    steps, policies = schema.escalation_steps, schema.escalation_policies
    rows = connection.execute(
        select(
            steps.c.msg_id,
            policies.c.log_id,
            policies.c.seq,
            steps.c.id,
            steps.c.track,
            steps.c.offset_s,
            steps.c.due_at.is_not(None),
        )
        .join(policies, policies.c.msg_id == steps.c.msg_id)
        .where(_pending())
        .order_by(policies.c.seq, steps.c.id)
    ).all()
    found: dict[str, tuple[str, int, list[_PendingStep]]] = {}
    for msg_id, log_id, seq, step_id, track, offset_s, armed in rows:
        held = found.setdefault(msg_id, (log_id, int(seq), []))
        held[2].append((int(step_id), track, int(offset_s), bool(armed)))
    return found


def _reply_types(
    connection: Connection, log_ids: tuple[str, str]
) -> dict[tuple[str, str], set[str]]:
    """The entry types replying to each message that has pending steps, by (replying log, msg)."""
    entries, steps = schema.entries, schema.escalation_steps
    rows = connection.execute(
        select(entries.c.log_id, entries.c.in_reply_to, entries.c.type)
        .where(
            entries.c.log_id.in_(log_ids),
            entries.c.in_reply_to.in_(select(steps.c.msg_id).where(_pending()).scalar_subquery()),
        )
        .distinct()
    ).all()
    found: dict[tuple[str, str], set[str]] = {}
    for log_id, msg_id, entry_type in rows:
        found.setdefault((log_id, msg_id), set()).add(entry_type)
    return found


def _tracks_answered(reply_types: Iterable[str]) -> set[str]:
    """The tracks an ACK (delivery, acknowledgement) and a reply (answer) end."""
    stopped: set[str] = set()
    for entry_type in reply_types:
        if entry_type == "ack":
            stopped |= {"delivery", "acknowledgement"}
        elif entry_type == "message":
            stopped.add("answer")
    return stopped


def _receipt_times(
    connection: Connection, own_log_id: str, from_seq: int
) -> Callable[[int], datetime | None]:
    """When we stored the first receipt (the peer's cosignature) covering each own seq at or
    after ``from_seq``: our clock, the earliest ``stored_at`` of the receipts of larger sizes."""
    table = schema.cosignatures
    rows = connection.execute(
        select(table.c.size, table.c.stored_at)
        .where(table.c.log_id == own_log_id, table.c.size > from_seq)
        .order_by(table.c.size.desc())
    ).all()
    sizes: list[int] = []  # descending
    earliest: list[datetime] = []  # earliest[i]: min stored_at over the sizes >= sizes[i]
    for size, stored_at in rows:
        sizes.append(int(size))
        earliest.append(stored_at if not earliest else min(earliest[-1], stored_at))

    negated = [-size for size in sizes]  # ascending, for bisect

    def first_receipt(seq: int) -> datetime | None:
        # the receipts covering seq are those of size > seq: a prefix of the descending list
        covering = bisect_left(negated, -seq)
        return _aware(earliest[covering - 1]) if covering else None

    return first_receipt


def _next_due(connection: Connection, now: datetime) -> Step | None:
    steps = schema.escalation_steps
    row = connection.execute(
        select(steps.c.id, steps.c.msg_id, steps.c.track, steps.c.level, steps.c.attempt)
        .add_columns(steps.c.due_at)
        .where(_pending(), steps.c.due_at <= _db_time(now))
        .order_by(steps.c.due_at, steps.c.id)
        .limit(1)
    ).first()
    if row is None:
        return None
    step_id, msg_id, track, level, attempt, due_at = row
    return Step(int(step_id), msg_id, track, level, int(attempt), _aware(due_at))


def _fire(
    connection: Connection, node: "Node", step: Step, now: datetime, roster: Roster | None
) -> Notification | None:
    """Claim the step (None if another caller did) and do what it says."""
    assert step.due_at is not None
    officers: tuple[str, ...] = ()
    if step.level == FINAL_LEVEL:
        kind = "unacknowledged"
    elif roster is not None:
        officers = tuple(o.name for o in on_duty(roster, now, step.level))
        kind = "escalation" if officers else "no-one-on-duty"
    else:
        kind = "escalation"
    if not _claim(connection, step.id, now, kind):
        return None
    entry_msg_id = None
    if kind == "unacknowledged":
        entry_msg_id = _write_unacknowledged(connection, node, step, step.due_at).msg_id
    elif kind == "no-one-on-duty":
        _bring_next_level_forward(connection, step, now)
    return Notification(
        kind,
        step.msg_id,
        step.track,
        step.level,
        step.attempt,
        step.due_at,
        now,
        officers,
        entry_msg_id,
        _describe(kind, step, officers),
    )


def _claim(connection: Connection, step_id: int, now: datetime, outcome: str) -> bool:
    steps = schema.escalation_steps
    claimed = connection.execute(
        update(steps)
        .where(steps.c.id == step_id, _pending())
        .values(fired_at=_db_time(now), outcome=outcome)
    )
    return claimed.rowcount == 1


def _bring_next_level_forward(connection: Connection, step: Step, now: datetime) -> None:
    steps = schema.escalation_steps
    later = connection.execute(
        select(steps.c.id, steps.c.level)
        .where(
            steps.c.msg_id == step.msg_id,
            steps.c.track == step.track,
            steps.c.level != step.level,
            steps.c.level != FINAL_LEVEL,
            steps.c.due_at > _db_time(now),
            _pending(),
        )
        .order_by(steps.c.due_at, steps.c.id)
        .limit(1)
    ).first()
    if later is not None:
        connection.execute(update(steps).where(steps.c.id == later[0]).values(due_at=_db_time(now)))


def _write_unacknowledged(
    connection: Connection, node: "Node", step: Step, deadline: datetime
) -> SignedEntry:
    policy_row = connection.execute(
        select(schema.escalation_policies.c.created_at).where(
            schema.escalation_policies.c.msg_id == step.msg_id
        )
    ).scalar_one()
    fields = {
        "reference": step.msg_id,
        "track": step.track,
        "deadline": deadline.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "sent": _aware(policy_row).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    values = {"type": "unacknowledged", "fields": fields, "in_reply_to": step.msg_id}
    return node._append(connection, values, "unacknowledged")


def _describe(kind: str, step: Step, officers: tuple[str, ...]) -> str:
    if kind == "unacknowledged":
        return f"{step.msg_id}: not acknowledged by the end of the ladder; recorded UNACKNOWLEDGED"
    if kind == "no-one-on-duty":
        return f"{step.msg_id}: {step.track} overdue and no one on duty as {step.level}"
    who = ", ".join(officers) if officers else f"the {step.level}"
    if step.track == INBOUND:
        return f"{step.msg_id}: the peer's message awaits our acknowledgement: notify {who}"
    return f"{step.msg_id}: {step.track} overdue: notify {who} (notice {step.attempt + 1})"


def pending_steps(connection: Connection, msg_id: str) -> list[Step]:
    """The steps of a message not yet fired nor stopped, in order."""
    steps = schema.escalation_steps
    rows = connection.execute(
        select(steps.c.id, steps.c.msg_id, steps.c.track, steps.c.level, steps.c.attempt)
        .add_columns(steps.c.due_at)
        .where(steps.c.msg_id == msg_id, _pending())
        .order_by(steps.c.id)
    ).all()
    return [
        Step(int(i), m, t, lv, int(a), None if d is None else _aware(d))
        for i, m, t, lv, a, d in rows
    ]


def _pending() -> Any:
    steps = schema.escalation_steps
    return steps.c.fired_at.is_(None) & steps.c.cancelled_at.is_(None)


def _db_time(moment: datetime) -> datetime:
    # SQLite keeps no zone: store every time in UTC so that comparisons hold.
    return moment.astimezone(UTC)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


__all__ = [
    "FINAL_LEVEL",
    "INBOUND",
    "LEVELS",
    "POLICY_FILE",
    "TRACKS",
    "EscalationPolicy",
    "Notification",
    "Step",
    "StepUpdates",
    "TrackPolicy",
    "apply_stop_and_arm",
    "load_policy",
    "pending_steps",
    "plan_stop_and_arm",
    "run_due",
    "schedule",
    "schedule_inbound",
    "schedule_many",
    "stop_and_arm",
    "tracks_for",
]
