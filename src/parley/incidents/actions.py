"""Incidents through the hotline, the actions: notify, send our account, ask a question; and the
views that join an incident with its messages.

Nothing here is sent behind a person's back: each action records a message in our log (signed, as
``parley hotline send`` would) and attaches it to the incident at once (:func:`.exchange.sync`).
How an account travels is told in :mod:`parley.incidents.exchange` and ``docs/incidents.md``.
"""

from collections.abc import Iterable
from typing import TYPE_CHECKING

from parley.incidents import rows
from parley.incidents.checks import IncidentError, check_class, check_nature
from parley.incidents.evidence import notification_fields, parse_time
from parley.incidents.exchange import NOTIFICATION, REPLY, REQUEST, logged_messages, sync
from parley.incidents.model import Incident, IncidentDetail, IncidentMessage, SideBySide
from parley.store.engine import read

if TYPE_CHECKING:
    from parley.incidents.registry import IncidentRegistry


def notify(
    registry: "IncidentRegistry",
    incident_id: str,
    actor: str,
    severity: str | None = None,
    summary: str | None = None,
) -> str:
    """Send the incident notification (template 1) to the other party; its msg_id."""
    sync(registry)
    incident = registry.get(incident_id)
    if incident.notification_msg_id is not None:
        raise IncidentError(
            f"incident {incident.id} was already notified by {incident.notified_by} "
            f"({incident.notification_msg_id}); send an account instead"
        )
    if incident.state == "closed":
        raise IncidentError(f"incident {incident.id} is closed; reopen it first")
    ours = registry.side_by_side(incident.id).ours
    chosen = severity or (ours.classification if ours and ours.classification else None)
    chosen = check_class(chosen or incident.severity)
    text = summary or (ours.text if ours else "") or incident.summary
    fields = notification_fields(incident, registry.evidence(incident.id), chosen, text)
    msg_id = registry.node.send(NOTIFICATION, fields)
    sync(registry, {msg_id: actor})
    return msg_id


def _peer_notification_fields(registry: "IncidentRegistry", msg_id: str) -> dict[str, str]:
    for view in registry.node.log().peer:
        if view.msg_id == msg_id:
            return dict(view.fields)
    raise IncidentError(f"the notification {msg_id} is not in the peer's log")


def _account_fields(
    registry: "IncidentRegistry", incident: Incident, severity: str, text: str
) -> dict[str, str]:
    """Template 1 fields for our account: our own figures when we hold evidence, else the
    figures of the notification we answer (tracks seen from our side)."""
    if incident.lat is not None and incident.lon is not None and incident.encounter_ids:
        fields = notification_fields(incident, registry.evidence(incident.id), severity, text)
    else:
        assert incident.notification_msg_id is not None
        theirs = _peer_notification_fields(registry, incident.notification_msg_id)
        fields = {**theirs, "severity": severity, "summary": text}
        fields["our_track"], fields["your_track"] = theirs["your_track"], theirs["our_track"]
    fields["incident_id"] = incident.peer_incident_id or incident.id
    return fields


def _latest_received(registry: "IncidentRegistry", incident_id: str, roles: Iterable[str]) -> str:
    wanted = set(roles)
    found = [m for m in messages(registry, incident_id) if m.direction == "received"]
    chosen = [m for m in found if m.role in wanted]
    if not chosen:
        raise IncidentError(
            f"incident {incident_id}: no message of the other party to reply to (give --reply-to)"
        )
    return chosen[-1].msg_id


def send_account(
    registry: "IncidentRegistry",
    incident_id: str,
    actor: str,
    classification: str,
    text: str,
    nature: str | None = None,
    reply_to: str | None = None,
) -> list[str]:
    """Make our account travel; the msg_ids sent.

    Not yet notified: the account goes as our incident notification. Otherwise a template 1 in
    reply to the incident's notification carries our class and words; with ``nature``, a
    clarification reply (template 3) follows, in reply to ``reply_to`` (default: the other
    party's latest request for clarification, else its notification or account).
    """
    check_class(classification)
    check_nature(nature)
    if not text.strip():
        raise IncidentError("an account needs a text")
    sync(registry)
    incident = registry.get(incident_id)
    if incident.notification_msg_id is None:
        if nature is not None:
            raise IncidentError("a nature travels in a clarification reply: notify first")
        return [notify(registry, incident.id, actor, classification, text)]
    fields = _account_fields(registry, incident, classification, text)
    sent = [registry.node.send(NOTIFICATION, fields, reply_to=incident.notification_msg_id)]
    if nature is not None:
        target = reply_to or _latest_received(
            registry, incident.id, ("request", "notification", "account", "reply")
        )
        reply = {"reference": target, "answer": text, "classification": nature}
        sent.append(registry.node.send(REPLY, reply, reply_to=target))
    sync(registry, dict.fromkeys(sent, actor))
    return sent


def request_clarification(
    registry: "IncidentRegistry",
    incident_id: str,
    actor: str,
    question: str,
    reply_to: str | None = None,
) -> str:
    """Ask the other party a question (template 2) about its latest message on the incident."""
    sync(registry)
    incident = registry.get(incident_id)
    target = reply_to or _latest_received(
        registry, incident.id, ("notification", "account", "reply")
    )
    msg_id = registry.node.send(REQUEST, {"reference": target, "question": question}, target)
    sync(registry, {msg_id: actor})
    return msg_id


def messages(registry: "IncidentRegistry", incident_id: str) -> list[IncidentMessage]:
    """The hotline messages attached to the incident, in the order of their times."""
    with read(registry.engine) as connection:
        incident = registry.get_in(connection, incident_id)
        roles = rows.incident_message_ids(connection, incident.id)
    found = [
        IncidentMessage(
            incident_id=incident.id,
            msg_id=view.msg_id,
            direction="sent" if direction == "sent" else "received",
            time=parse_time(view.time),
            template=view.template,
            template_key=view.template_key,
            role=roles[view.msg_id],
            in_reply_to=view.in_reply_to,
            fields=dict(view.fields),
        )
        for view, direction in logged_messages(registry)
        if view.msg_id in roles
    ]
    return sorted(found, key=lambda m: (m.time, m.msg_id))


def detail(registry: "IncidentRegistry", incident_id: str) -> IncidentDetail:
    """Everything about one incident."""
    incident = registry.get(incident_id)
    accounts = registry.accounts(incident.id)
    ours = [a for a in accounts if a.side == "ours"]
    theirs = [a for a in accounts if a.side == "theirs"]
    return IncidentDetail(
        incident=incident,
        accounts=SideBySide(ours[-1] if ours else None, theirs[-1] if theirs else None),
        all_accounts=accounts,
        history=registry.history(incident.id),
        messages=messages(registry, incident.id),
        evidence=registry.evidence(incident.id),
    )


__all__ = ["detail", "messages", "notify", "request_clarification", "send_account"]
