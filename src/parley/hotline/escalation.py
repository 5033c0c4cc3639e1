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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, insert, select, update

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
from parley.store.engine import write

if TYPE_CHECKING:
    from parley.hotline.node import Node

#: The level of the acknowledgement track's final step: write the ``unacknowledged`` entry.
FINAL_LEVEL = "unacknowledged"
#: Tracks that start from the receipt rather than from the message's creation.
_FROM_RECEIPT = ("acknowledgement", "answer")


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
    tracks = tracks_for(signed)
    if not tracks:
        return 0
    created = parse_utc_ms(signed.entry.time)
    connection.execute(
        insert(schema.escalation_policies).values(
            msg_id=signed.msg_id,
            log_id=signed.entry.log_id,
            seq=signed.seq,
            created_at=created,
            policy=json.dumps(policy.to_json(), sort_keys=True),
        )
    )
    rows = []
    for track in tracks:
        start = None if track in _FROM_RECEIPT else created
        final = track == "acknowledgement"
        rows += _ladder_rows(signed.msg_id, track, policy.track(track), policy.levels, start, final)
    connection.execute(insert(schema.escalation_steps), rows)
    return len(rows)


def schedule_inbound(
    connection: Connection, peer_log_id: str, own_log_id: str, policy: EscalationPolicy
) -> int:
    """Give each newly received peer message that takes an acknowledgement an ``inbound``
    ladder, from when we stored it (our clock); how many messages got one."""
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
    scheduled = 0
    for msg_id, seq, template_id, received_at in new:
        received = _aware(received_at)
        connection.execute(
            insert(policies).values(
                msg_id=msg_id,
                log_id=peer_log_id,
                seq=seq,
                created_at=received,
                policy=json.dumps(policy.to_json(), sort_keys=True),
            )
        )
        if template_id is None or not template(int(template_id)).requires_ack:
            continue
        if "acknowledgement" in _stopped_tracks(connection, own_log_id, msg_id):
            continue
        rows = _ladder_rows(msg_id, INBOUND, policy.inbound, policy.levels, received, False)
        connection.execute(insert(schema.escalation_steps), rows)
        scheduled += 1
    return scheduled


def _ladder_rows(
    msg_id: str,
    track: str,
    policy: TrackPolicy,
    levels: tuple[str, ...],
    start: datetime | None,
    final: bool,
) -> list[dict[str, Any]]:
    """One row per notice, level by level; with ``final``, the ladder's end step too."""
    offsets = policy.offsets(len(levels))
    if not final:
        offsets = offsets[:-1]
    rows = []
    for index, offset in enumerate(offsets):
        last = final and index == len(offsets) - 1
        rows.append(
            {
                "msg_id": msg_id,
                "track": track,
                "level": FINAL_LEVEL if last else levels[index // policy.notices_per_level],
                "attempt": 0 if last else index % policy.notices_per_level,
                "offset_s": offset,
                "due_at": None if start is None else _db_time(start + timedelta(seconds=offset)),
            }
        )
    return rows


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
    with write(node.engine) as connection:
        policy = load_policy(node.directory)
        schedule_inbound(connection, node.peer_log_id, node.log_id, policy)
        stop_and_arm(connection, node.log_id, node.peer_log_id, now)
        while (step := _next_due(connection, now)) is not None:
            notification = _fire(connection, node, step, now, roster)
            if notification is not None:
                notifications.append(notification)
    return notifications


def stop_and_arm(connection: Connection, own_log_id: str, peer_log_id: str, now: datetime) -> None:
    """Cancel the steps made pointless by acks, answers and receipts; arm receipt tracks."""
    steps = schema.escalation_steps
    policies = schema.escalation_policies
    pending = connection.execute(
        select(policies.c.msg_id, policies.c.seq, policies.c.log_id)
        .where(
            policies.c.msg_id.in_(
                select(steps.c.msg_id).where(_pending()).distinct().scalar_subquery()
            )
        )
        .order_by(policies.c.seq)
    ).all()
    for msg_id, seq, log_id in pending:
        if log_id != own_log_id:  # a peer's message: our own ACK stops its inbound ladder
            if "acknowledgement" in _stopped_tracks(connection, own_log_id, msg_id):
                _stop(connection, msg_id, {INBOUND}, now)
            continue
        stopped = _stopped_tracks(connection, peer_log_id, msg_id)
        received = _receipt_time(connection, own_log_id, int(seq))
        if received is not None:
            stopped.add("delivery")
        if stopped:
            _stop(connection, msg_id, stopped, now)
        if received is not None:
            _arm(connection, msg_id, received)


def _stop(connection: Connection, msg_id: str, tracks: set[str], now: datetime) -> None:
    steps = schema.escalation_steps
    connection.execute(
        update(steps)
        .where(steps.c.msg_id == msg_id, steps.c.track.in_(sorted(tracks)), _pending())
        .values(cancelled_at=_db_time(now), outcome="stopped")
    )


def _stopped_tracks(connection: Connection, replies_log_id: str, msg_id: str) -> set[str]:
    """The tracks of ``msg_id`` that the entries of ``replies_log_id`` answer (ACK, reply)."""
    entries = schema.entries
    types = connection.execute(
        select(entries.c.type)
        .where(entries.c.log_id == replies_log_id, entries.c.in_reply_to == msg_id)
        .distinct()
    ).scalars()
    stopped: set[str] = set()
    for entry_type in types:
        if entry_type == "ack":
            stopped |= {"delivery", "acknowledgement"}
        elif entry_type == "message":
            stopped.add("answer")
    return stopped


def _receipt_time(connection: Connection, own_log_id: str, seq: int) -> datetime | None:
    """When we stored the first receipt (the peer's cosignature) covering ``seq``: our clock."""
    table = schema.cosignatures
    found = connection.execute(
        select(func.min(table.c.stored_at)).where(table.c.log_id == own_log_id, table.c.size > seq)
    ).scalar_one_or_none()
    return None if found is None else _aware(found)


def _arm(connection: Connection, msg_id: str, start: datetime) -> None:
    steps = schema.escalation_steps
    unarmed = connection.execute(
        select(steps.c.id, steps.c.offset_s).where(
            steps.c.msg_id == msg_id, steps.c.due_at.is_(None), _pending()
        )
    ).all()
    for step_id, offset in unarmed:
        connection.execute(
            update(steps)
            .where(steps.c.id == step_id)
            .values(due_at=_db_time(start + timedelta(seconds=int(offset))))
        )


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
    "TrackPolicy",
    "load_policy",
    "pending_steps",
    "run_due",
    "schedule",
    "stop_and_arm",
    "tracks_for",
]
