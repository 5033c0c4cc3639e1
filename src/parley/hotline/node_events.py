"""The node's events, read from its database: "what changed since I last looked".

Entries arrive by several roads (the officers' API, the replication thread, ``parley hotline
send`` or ``import`` run beside the server, escalation writing ``UNACKNOWLEDGED``), so the events
are not published by each road but by one watcher that polls the database for rows after the ones
it has seen: entries of either log by seq, receipts, equivocation evidence and joint checkpoints
by row id. Whatever wrote a row, in whatever process, it is published exactly once per watcher.

The watcher starts at the database as it is (it does not replay history); a console loads the
current state through the API, then follows the stream.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select

from parley.hotline import records
from parley.hotline.events import EventBus
from parley.hotline.joint import latest_joint_checkpoint
from parley.hotline.views import message_views
from parley.store import schema
from parley.store.engine import read

if TYPE_CHECKING:
    from parley.hotline.node import Node

#: The event type of each entry type, for our own log and for the peer's.
OWN_ENTRY_EVENTS = {
    "message": "message.recorded",
    "key-rotation": "message.recorded",
    "test": "test.sent",
    "ack": "message.acknowledged",
    "unacknowledged": "message.unacknowledged",
}
PEER_ENTRY_EVENTS = {
    "message": "message.received",
    "key-rotation": "message.received",
    "test": "test.received",
    "ack": "message.acknowledged",
    "unacknowledged": "message.unacknowledged",
}

#: Every type the watcher publishes (the docs test checks each is documented).
WATCHER_EVENT_TYPES = frozenset(
    {
        *OWN_ENTRY_EVENTS.values(),
        *PEER_ENTRY_EVENTS.values(),
        "message.answered",
        "message.delivered",
        "alarm.equivocation",
        "joint-checkpoint.agreed",
    }
)


@dataclass(frozen=True, slots=True)
class Watermarks:
    """How far the watcher has read: log sizes, the receipt's size and the last row ids."""

    own_size: int
    peer_size: int
    delivered_size: int
    equivocation_id: int
    joint_id: int


class NodeWatcher:
    """Publishes on ``bus`` what changed in ``node``'s database since the last :meth:`poll`."""

    def __init__(self, node: "Node", bus: EventBus) -> None:
        self.node = node
        self.bus = bus
        with read(node.engine) as connection:
            self.marks = self._current(connection)

    def poll(self) -> int:
        """Publish every change since the last poll; how many events."""
        with read(self.node.engine) as connection:
            now = self._current(connection)
            if now == self.marks:
                return 0
            events = self._entry_events(connection, self.node.log_id, "own", self.marks.own_size)
            # Before the peer's new entries: a receipt and the peer's ACK of what it covers can
            # arrive in one import, and a console must see "delivered" before "acknowledged".
            events += self._delivery_events(connection, now.delivered_size)
            if self.node.config.peer is not None:
                peer_log = self.node.peer_log_id
                events += self._entry_events(connection, peer_log, "peer", self.marks.peer_size)
            events += self._equivocation_events(connection)
            if now.joint_id > self.marks.joint_id:
                joint = latest_joint_checkpoint(connection)
                if joint is not None:
                    events.append(("joint-checkpoint.agreed", joint.to_json()))
        for event_type, payload in events:
            self.bus.publish(event_type, payload)
        self.marks = now
        return len(events)

    def _current(self, connection: Connection) -> Watermarks:
        peer_size = delivered = 0
        if self.node.config.peer is not None:
            peer_size = records.log_size(connection, self.node.peer_log_id)
            delivered = _max(
                connection,
                schema.cosignatures.c.size,
                schema.cosignatures.c.log_id == self.node.log_id,
            )
        return Watermarks(
            own_size=records.log_size(connection, self.node.log_id),
            peer_size=peer_size,
            delivered_size=delivered,
            equivocation_id=_max(connection, schema.equivocations.c.id),
            joint_id=_max(connection, schema.joint_checkpoints.c.id),
        )

    def _entry_events(
        self, connection: Connection, log_id: str, role: str, after_size: int
    ) -> list[tuple[str, dict[str, Any]]]:
        new = _entries_between(connection, log_id, after_size)
        names = OWN_ENTRY_EVENTS if role == "own" else PEER_ENTRY_EVENTS
        party = self.node.config.party if role == "own" else self.node.peer.identity.party
        events: list[tuple[str, dict[str, Any]]] = []
        for view in message_views(new, [], role, 0):
            event_type = names.get(view.type)
            if event_type is None:
                continue  # the catalogue entry
            payload = view.to_json()
            payload.pop("states", None)
            payload["party"] = party
            events.append((event_type, payload))
            if view.type == "message" and view.in_reply_to is not None:
                events.append(
                    (
                        "message.answered",
                        {"msg_id": view.in_reply_to, "reply": view.msg_id, "party": party},
                    )
                )
        return events

    def _delivery_events(
        self, connection: Connection, delivered_size: int
    ) -> list[tuple[str, dict[str, Any]]]:
        if delivered_size <= self.marks.delivered_size:
            return []
        covered = [
            e
            for e in _entries_between(
                connection, self.node.log_id, self.marks.delivered_size, delivered_size
            )
            if e.type != "catalogue"
        ]
        if not covered:
            return []  # a receipt for the catalogue entry alone: nothing a console shows
        payload = {
            "size": delivered_size,
            "msg_ids": [e.msg_id for e in covered],
            "party": self.node.peer.identity.party,
        }
        return [("message.delivered", payload)]

    def _equivocation_events(self, connection: Connection) -> list[tuple[str, dict[str, Any]]]:
        table = schema.equivocations
        rows = connection.execute(
            select(table.c.log_id, table.c.seq, table.c.kind, table.c.detected_at)
            .where(table.c.id > self.marks.equivocation_id)
            .order_by(table.c.id)
        ).all()
        return [
            (
                "alarm.equivocation",
                {"log_id": log_id, "seq": int(seq), "kind": kind, "frozen": True},
            )
            for log_id, seq, kind, _ in rows
        ]


def _entries_between(
    connection: Connection, log_id: str, first_seq: int, end_seq: int | None = None
) -> list[records.StoredEntry]:
    """The stored entries of ``log_id`` with ``first_seq <= seq < end_seq``, by seq."""
    table = schema.entries
    query = select(
        table.c.log_id,
        table.c.seq,
        table.c.raw,
        table.c.entry_hash,
        table.c.msg_id,
        table.c.type,
        table.c.template,
        table.c.in_reply_to,
    ).where(table.c.log_id == log_id, table.c.seq >= first_seq)
    if end_seq is not None:
        query = query.where(table.c.seq < end_seq)
    rows = connection.execute(query.order_by(table.c.seq)).all()
    return [records.StoredEntry(*row) for row in rows]


def _max(connection: Connection, column: Any, *where: Any) -> int:
    found = connection.execute(select(func.max(column)).where(*where)).scalar_one_or_none()
    return 0 if found is None else int(found)


__all__ = [
    "OWN_ENTRY_EVENTS",
    "PEER_ENTRY_EVENTS",
    "WATCHER_EVENT_TYPES",
    "NodeWatcher",
    "Watermarks",
]
