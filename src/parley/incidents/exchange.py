"""Incidents through the hotline: the notification, acknowledgements, requests, replies, accounts.

:func:`sync` reads both logs and attaches every message not yet attached, whoever wrote it and
however it came (network or bundle): that is how the peer's notification, acknowledgement,
requests and account reach the incident, and how a message sent with ``parley hotline send
--reply-to`` joins one. Each message is applied once (table ``incident_messages``). The actions
that send (notify, accounts, questions) are in :mod:`parley.incidents.actions`.

How an account travels (see ``docs/incidents.md``): an incident notification (template 1) carries
its sender's account: ``severity`` is the sender's class, ``summary`` its words. The other party
answers with its own template 1 *in reply to* that notification (same ``incident_id``, its own
``severity`` and ``summary``, its own figures when it has evidence, else the figures it was sent),
and may add a clarification reply (template 3) whose ``classification`` states the event's nature.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from parley.hotline import records
from parley.hotline.entry import parse_signed_entry
from parley.hotline.errors import MalformedError
from parley.hotline.records import StoredEntry
from parley.hotline.templates import TemplateError, template
from parley.incidents import rows
from parley.incidents.evidence import parse_time
from parley.incidents.model import (
    STATES,
    AccountSide,
    Incident,
)
from parley.store.engine import read, write

if TYPE_CHECKING:
    from parley.incidents.registry import IncidentRegistry

NOTIFICATION, REQUEST, REPLY, ACK = 1, 2, 3, 5
#: Linked message -> (incident id, role).
Linked = dict[str, tuple[str, str]]


@dataclass(frozen=True, slots=True)
class LoggedMessage:
    """What the registry needs of a log entry (no rendering: sync runs on every request)."""

    msg_id: str
    time: str
    template: int
    template_key: str | None
    in_reply_to: str | None
    fields: dict[str, str]


def _logged(stored: StoredEntry) -> LoggedMessage | None:
    if stored.template is None:
        return None
    try:
        entry = parse_signed_entry(stored.raw).entry
        key: str | None = template(stored.template).key
    except MalformedError:
        return None  # parley hotline verify reports it; the registry skips it
    except TemplateError:
        key = None
    return LoggedMessage(
        entry.msg_id, entry.time, stored.template, key, entry.in_reply_to, dict(entry.fields)
    )


def logged_messages(registry: "IncidentRegistry") -> list[tuple[LoggedMessage, str]]:
    """The messages of both logs (ours ``sent``, the peer's ``received``), in log order."""
    node = registry.node
    with read(node.engine) as connection:
        own = records.stored_entries(connection, node.log_id)
        peer = records.stored_entries(connection, node.peer_log_id) if node.config.peer else []
    found: list[tuple[LoggedMessage, str]] = []
    for entries, direction in ((own, "sent"), (peer, "received")):
        for stored in entries:
            message = _logged(stored)
            if message is not None:
                found.append((message, direction))
    return found


def _may_link(connection: Connection, view: LoggedMessage, direction: str, known: set[str]) -> bool:
    if view.template == NOTIFICATION:
        if direction == "received":
            return True
        held = rows.incident(connection, view.fields.get("incident_id", ""))
        return held is not None or view.in_reply_to in known
    return view.in_reply_to is not None and view.in_reply_to in known


def _pending(
    connection: Connection, views: list[tuple[LoggedMessage, str]], linked: Linked
) -> list[tuple[LoggedMessage, str]]:
    """The messages that would attach to an incident now (a fixpoint over reply chains)."""
    known = set(linked)
    chosen: list[tuple[LoggedMessage, str]] = []
    rest = [item for item in views if item[0].msg_id not in linked]
    progress = True
    while progress:
        progress = False
        for item in list(rest):
            if _may_link(connection, item[0], item[1], known):
                chosen.append(item)
                known.add(item[0].msg_id)
                rest.remove(item)
                progress = True
    return chosen


def sync(registry: "IncidentRegistry", actors: Mapping[str, str] | None = None) -> int:
    """Attach every message of both logs not yet attached; how many were. ``actors`` names who
    sent our own messages (by msg_id); others are credited to their party."""
    views = logged_messages(registry)
    with read(registry.engine) as connection:
        pending = _pending(connection, views, rows.linked_messages(connection))
    if not pending:
        return 0
    changed: dict[str, None] = {}
    with write(registry.engine) as connection:
        linked = rows.linked_messages(connection)
        for view, direction in _pending(connection, views, linked):
            actor = (actors or {}).get(view.msg_id) or _party(registry, direction)
            result = _apply(registry, connection, view, direction, linked, actor)
            if result is not None:
                linked[view.msg_id] = result
                changed[result[0]] = None
    for incident_id in changed:
        registry.announce("incident.changed", registry.get(incident_id))
    return len(changed)


def _party(registry: "IncidentRegistry", direction: str) -> str:
    return registry.party if direction == "sent" else (registry.peer_party or "peer")


def _side(direction: str) -> AccountSide:
    return "ours" if direction == "sent" else "theirs"


def _advance(
    registry: "IncidentRegistry",
    connection: Connection,
    incident: Incident,
    state: str,
    actor: str,
    action: str,
    detail: str,
    msg_id: str,
) -> Incident:
    """Move forward to ``state`` (never back, never out of closed); the history records the
    message either way."""
    if incident.state != "closed" and STATES.index(state) > STATES.index(incident.state):
        return registry.change_state(connection, incident, state, actor, action, detail, msg_id)
    return registry.change_state(
        connection, incident, incident.state, actor, action, detail, msg_id
    )


def _apply(
    registry: "IncidentRegistry",
    connection: Connection,
    view: LoggedMessage,
    direction: str,
    linked: Linked,
    actor: str,
) -> tuple[str, str] | None:
    if view.template == NOTIFICATION:
        return _apply_notification(registry, connection, view, direction, linked, actor)
    parent = linked.get(view.in_reply_to or "")
    if parent is None:
        return None
    incident = rows.incident(connection, parent[0])
    if incident is None:
        return None
    party = _party(registry, direction)
    if view.template == ACK:
        role = "acknowledgement"
        if parent[1] == "notification":
            _advance(
                registry,
                connection,
                incident,
                "acknowledged",
                actor,
                "acknowledged",
                f"{party} acknowledged the notification",
                view.msg_id,
            )
        else:
            _advance(
                registry,
                connection,
                incident,
                incident.state,
                actor,
                "acknowledged",
                f"{party} acknowledged {view.in_reply_to}",
                view.msg_id,
            )
    elif view.template == REQUEST:
        role = "request"
        question = view.fields.get("question", "")
        _advance(
            registry,
            connection,
            incident,
            incident.state,
            actor,
            "clarification-requested",
            f"{party}: {question}",
            view.msg_id,
        )
    elif view.template == REPLY:
        role = "reply"
        side = _side(direction)
        previous = [a for a in rows.accounts(connection, incident.id) if a.side == side]
        carried = previous[-1].classification if previous else None
        registry.add_account(
            connection,
            incident,
            side,
            carried,
            view.fields.get("classification"),
            view.fields.get("answer", ""),
            actor,
            view.msg_id,
        )
        _advance(
            registry,
            connection,
            incident,
            "clarified",
            actor,
            "clarified",
            f"{party} replied to {view.in_reply_to}",
            view.msg_id,
        )
    else:
        role = "message"
        _advance(
            registry,
            connection,
            incident,
            incident.state,
            actor,
            "message",
            f"{party}: {view.template_key} {view.msg_id}",
            view.msg_id,
        )
    rows.link_message(connection, view.msg_id, incident.id, direction, role, registry.now())
    return incident.id, role


def _match_pair(
    registry: "IncidentRegistry", connection: Connection, fields: Mapping[str, str]
) -> Incident | None:
    a, b = sorted((fields.get("our_track", ""), fields.get("your_track", "")))
    moment = parse_time(fields.get("time", ""), "incident notification time")
    window = registry.policy.merge_window_s
    for incident in rows.pair_incidents(connection, a, b):
        if incident.state == "closed" or incident.notified_by is not None:
            continue
        if (incident.start - moment).total_seconds() <= window and (
            moment - incident.end
        ).total_seconds() <= window:
            return incident
    return None


def _incident_from_notification(
    registry: "IncidentRegistry", connection: Connection, view: LoggedMessage, actor: str
) -> Incident:
    fields = view.fields
    moment = parse_time(fields["time"], "incident notification time")
    ours, theirs = fields["your_track"], fields["our_track"]
    a, b = sorted((ours, theirs))
    now = registry.now()
    incident = Incident(
        id=fields["incident_id"],
        state="detected",
        origin="peer",
        severity=fields["severity"],
        kind="",
        track_a=a,
        track_b=b,
        our_track=ours,
        their_track=theirs,
        start=moment,
        end=moment,
        cpa_time=moment,
        lat=float(fields["lat"]),
        lon=float(fields["lon"]),
        min_slant_m=float(fields["closest_approach_m"]),
        opened_at=now,
        opened_by=actor,
        updated_at=now,
        summary=fields["summary"],
    )
    rows.insert_incident(connection, incident)
    registry.record_history(
        connection, incident, None, actor, "opened", f"from {actor}'s notification", view.msg_id
    )
    return incident


def _apply_notification(
    registry: "IncidentRegistry",
    connection: Connection,
    view: LoggedMessage,
    direction: str,
    linked: Linked,
    actor: str,
) -> tuple[str, str] | None:
    fields = view.fields
    incident = rows.incident(connection, fields.get("incident_id", ""))
    if incident is None and view.in_reply_to in linked:
        incident = rows.incident(connection, linked[view.in_reply_to or ""][0])
    if incident is None and direction == "received":
        incident = _match_pair(registry, connection, fields)
    if incident is None:
        if direction == "sent":
            return None
        incident = _incident_from_notification(registry, connection, view, actor)
    renamed = direction == "received" and incident.id != fields["incident_id"]
    if renamed and incident.peer_incident_id is None:
        rows.update_incident(connection, incident.id, peer_incident_id=fields["incident_id"])
    party = _party(registry, direction)
    if incident.notification_msg_id is None:
        role = "notification"
        rows.update_incident(
            connection, incident.id, notified_by=party, notification_msg_id=view.msg_id
        )
        action = "notified" if direction == "sent" else "notification-received"
        incident = _advance(
            registry,
            connection,
            incident,
            "notified",
            actor,
            action,
            f"incident notification by {party}",
            view.msg_id,
        )
    else:
        role = "account"
        state = "clarified" if party != incident.notified_by else incident.state
        incident = _advance(
            registry,
            connection,
            incident,
            state,
            actor,
            "answered",
            f"{party} gave its account",
            view.msg_id,
        )
    registry.add_account(
        connection,
        incident,
        _side(direction),
        fields.get("severity"),
        None,
        fields.get("summary", ""),
        actor,
        view.msg_id,
    )
    rows.link_message(connection, view.msg_id, incident.id, direction, role, registry.now())
    return incident.id, role


__all__ = ["LoggedMessage", "logged_messages", "sync"]
