"""Assemble a :class:`ReportData` from a node: its incident registry and its hotline logs.

:func:`collect_report_data` opens the node directory, attaches hotline messages not yet attached
(the registry's ``sync``, as every reading command does), and reads the incidents whose closest
approach lies in ``[since, until)``; the pure functions below turn the registry's records into the
report's sections, so they can be tested without a node.
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from parley.errors import InputError
from parley.hotline import records
from parley.hotline.checkpoint import (
    Checkpoint,
    NoteVerifier,
    joint_checkpoint_body,
    open_note,
    parse_checkpoint,
    sign_note,
    split_note,
)
from parley.hotline.joint import latest_joint
from parley.hotline.node import Node
from parley.incidents.model import Account, IncidentDetail, IncidentMessage
from parley.incidents.registry import IncidentRegistry
from parley.incidents.report_data import (
    Exchange,
    IncidentSection,
    JointRecord,
    LogHead,
    MapPoint,
    PartyAccount,
    ReportData,
    TrackLine,
)
from parley.store.engine import read

#: The field of each template that summarises a message in the timeline.
SUMMARY_FIELDS = {
    "incident-notification": "summary",
    "request-for-clarification": "question",
    "clarification-reply": "answer",
    "free-text": "text",
    "reassurance": "text",
}
SUMMARY_MAX_CHARS = 300
#: How the timeline names a message, by the role the registry gave it.
ROLE_KINDS = {
    "notification": "incident notification",
    "account": "account",
    "acknowledgement": "acknowledgement",
    "request": "request for clarification",
    "reply": "clarification reply",
}


def collect_report_data(
    node_dir: Path,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    now: datetime | None = None,
) -> ReportData:
    """The report of the node in ``node_dir``: incidents with CPA in ``[since, until)``."""
    if since is not None and until is not None and since >= until:
        raise InputError(f"--from {since:%Y-%m-%d %H:%M} is not before --to {until:%Y-%m-%d %H:%M}")
    with IncidentRegistry.open(Path(node_dir)) as registry:
        registry.sync()
        details = [registry.detail(i.id) for i in registry.list(since=since, until=until)]
        own_party = registry.party
        peer_party = registry.peer_party or "the other party"
        joint = joint_record(registry.node)
        generated_at = now if now is not None else registry.now()
    return ReportData(
        own_party=own_party,
        peer_party=peer_party,
        generated_at=generated_at,
        since=since,
        until=until,
        incidents=tuple(section_from_detail(d, own_party, peer_party) for d in details),
        joint=joint,
    )


def section_from_detail(detail: IncidentDetail, own_party: str, peer_party: str) -> IncidentSection:
    """One incident of the registry as the report shows it."""
    incident = detail.incident
    return IncidentSection(
        id=incident.id,
        state=incident.state,
        severity=incident.severity,
        kind=incident.kind,
        our_track=incident.our_track,
        their_track=incident.their_track,
        start=incident.start,
        end=incident.end,
        cpa_time=incident.cpa_time,
        lat=incident.lat,
        lon=incident.lon,
        min_slant_m=incident.min_slant_m,
        summary=incident.summary,
        ours=_party_account(detail.accounts.ours),
        theirs=_party_account(detail.accounts.theirs),
        tracks=_track_lines(detail),
        exchanges=exchanges_from_messages(
            detail.messages, incident.cpa_time, own_party, peer_party
        ),
        evidence_sha256=detail.evidence.sha256,
    )


def _party_account(account: Account | None) -> PartyAccount | None:
    if account is None:
        return None
    return PartyAccount(
        party=account.party,
        side=account.side,
        classification=account.classification,
        nature=account.nature,
        text=account.text,
        recorded_at=account.recorded_at,
        msg_id=account.msg_id,
    )


def _track_lines(detail: IncidentDetail) -> tuple[TrackLine, ...]:
    incident = detail.incident
    lines = []
    for track, side in ((incident.our_track, "ours"), (incident.their_track, "theirs")):
        positions = detail.evidence.positions.get(track, [])
        points = tuple(MapPoint(p.time, p.lat, p.lon) for p in positions)
        if points:
            lines.append(TrackLine(track, "ours" if side == "ours" else "theirs", points))
    return tuple(lines)


def exchanges_from_messages(
    messages: Sequence[IncidentMessage], cpa_time: datetime, own_party: str, peer_party: str
) -> tuple[Exchange, ...]:
    """The timeline: each message with the delay since the message it answers; the first
    notification's delay runs from the closest approach."""
    ordered = sorted(messages, key=lambda m: (m.time, m.msg_id))
    by_id = {message.msg_id: message for message in ordered}
    exchanges = []
    notified = False
    for message in ordered:
        answered = by_id.get(message.in_reply_to or "")
        delay_s: float | None = None
        delay_from = ""
        if answered is not None:
            delay_s = (message.time - answered.time).total_seconds()
            delay_from = _kind(answered)
        elif message.role == "notification" and not notified:
            delay_s = (message.time - cpa_time).total_seconds()
            delay_from = "CPA"
        notified = notified or message.role == "notification"
        exchanges.append(
            Exchange(
                time=message.time,
                direction=message.direction,
                sender=own_party if message.direction == "sent" else peer_party,
                kind=_kind(message),
                msg_id=message.msg_id,
                in_reply_to=message.in_reply_to,
                summary=_summary(message),
                delay_s=delay_s,
                delay_from=delay_from,
            )
        )
    return tuple(exchanges)


def _kind(message: IncidentMessage) -> str:
    if message.role in ROLE_KINDS:
        return ROLE_KINDS[message.role]
    if message.template_key:
        return message.template_key.replace("-", " ")
    return message.role


def _summary(message: IncidentMessage) -> str:
    key = SUMMARY_FIELDS.get(message.template_key or "")
    text = message.fields.get(key, "") if key else ""
    severity = message.fields.get("severity")
    if severity and message.template_key == "incident-notification":
        text = f"class {severity}: {text}" if text else f"class {severity}"
    classification = message.fields.get("classification")
    if classification:
        text = f"{text} (classification: {classification})" if text else classification
    if len(text) > SUMMARY_MAX_CHARS:
        text = text[: SUMMARY_MAX_CHARS - 1] + "…"
    return text


def joint_record(node: Node) -> JointRecord | None:
    """The latest joint checkpoint both parties signed (``parley.hotline.joint``), with how many
    entries of both logs came after it; until one is held, the current heads signed by this node
    alone. None until the node holds a checkpoint of the peer's log."""
    peer = node.config.peer
    if peer is None:
        return None
    with read(node.engine) as connection:
        own_note = records.latest_checkpoint(connection, node.log_id)
        peer_note = records.latest_checkpoint(connection, node.peer_log_id)
        receipt = records.latest_cosignature(connection, node.log_id)
    if own_note is None or peer_note is None:
        return None
    current = {node.log_id: _head(own_note.note), node.peer_log_id: _head(peer_note.note)}
    parties = {node.log_id: node.config.party, node.peer_log_id: peer.identity.party}
    joint = latest_joint(node)
    if joint is not None:
        heads = {joint.first.origin: joint.first, joint.second.origin: joint.second}
        note = joint.note
        signers = _signers(node, note, parties)
    else:
        heads = current
        note = sign_note(joint_checkpoint_body(*current.values()), node.log_id, node.key)
        signers = (node.config.party,)
    return JointRecord(
        body=split_note(note)[0],
        note=note,
        own=_log_head(node.config.party, heads[node.log_id]),
        peer=_log_head(peer.identity.party, heads[node.peer_log_id]),
        signers=signers,
        receipt_size=None if receipt is None else receipt.size,
        receipt_time=None
        if receipt is None or not receipt.cosigned_at
        else datetime.fromtimestamp(receipt.cosigned_at, UTC),
        entries_after=sum(current[log].size - heads[log].size for log in current),
    )


def _signers(node: Node, note: str, parties: dict[str, str]) -> tuple[str, ...]:
    """The parties whose signatures on the note verify, in note order."""
    verifiers = [
        NoteVerifier.signer(node.log_id, node.key.public_key),
        NoteVerifier.signer(node.peer_log_id, node.peer.identity.public_key),
    ]
    return tuple(parties[name] for name in open_note(note, verifiers).signers)


def _head(note: str) -> Checkpoint:
    """A stored checkpoint note's head, without any extension lines (a joint checkpoint
    holds origin, size and root only)."""
    checkpoint = parse_checkpoint(split_note(note)[0])
    return Checkpoint(checkpoint.origin, checkpoint.size, checkpoint.root)


def _log_head(party: str, checkpoint: Checkpoint) -> LogHead:
    root_b64 = checkpoint.body().split("\n")[2]
    return LogHead(party, checkpoint.origin, checkpoint.size, root_b64)


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of ``day``."""
    return datetime.combine(day, time(0, 0), UTC)


def parse_report_time(text: str, option: str, end_of_day: bool = False) -> datetime:
    """``YYYY-MM-DD`` (UTC; with ``end_of_day`` the next midnight, so ``--to`` includes the day)
    or an ISO 8601 time with ``Z`` or an offset."""
    text = text.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return day_start(day + timedelta(days=1) if end_of_day else day)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{option} {text!r}: expected YYYY-MM-DD or an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise InputError(f"{option} {text!r}: give a time zone (end it with Z for UTC)")
    return moment.astimezone(UTC)


__all__ = [
    "ROLE_KINDS",
    "SUMMARY_FIELDS",
    "collect_report_data",
    "day_start",
    "exchanges_from_messages",
    "joint_record",
    "parse_report_time",
    "section_from_detail",
]
