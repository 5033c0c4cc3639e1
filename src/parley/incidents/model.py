"""What the incident registry holds, as read: plain frozen dataclasses with a ``to_json`` twin.

The reports and the web pages read incidents through :class:`parley.incidents.registry.
IncidentRegistry`, which returns these. Times are tz-aware UTC datetimes; distances in metres.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

#: The states of an incident, in the order a normal incident goes through them.
STATES: tuple[str, ...] = ("detected", "notified", "acknowledged", "clarified", "closed")
#: The classes of the rules (``rules.md``), lowest first; ``routine`` is "near-routine".
CLASSES: tuple[str, ...] = ("routine", "serious", "high-risk")

IncidentState = Literal["detected", "notified", "acknowledged", "clarified", "closed"]
#: How an incident came to be: from detected encounters, by hand, or from the peer's notification.
Origin = Literal["detected", "hand", "peer"]
#: Whose account: this node's party (``ours``) or the other party (``theirs``).
AccountSide = Literal["ours", "theirs"]
#: Of a hotline message linked to an incident: ``sent`` (our log) or ``received`` (the peer's).
Direction = Literal["sent", "received"]


def iso_z(moment: datetime) -> str:
    """ISO 8601 UTC with milliseconds and ``Z``, as the rest of Parley prints times."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _iso_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else iso_z(moment)


@dataclass(frozen=True, slots=True)
class Incident:
    """One incident: a pair of tracks, when and where, its state and the class the rules gave."""

    id: str
    state: IncidentState
    origin: Origin
    #: the most severe class among its encounters (or given by hand, or by the notifying peer)
    severity: str
    kind: str  # air-air | air-sea | sea-sea | "" when unknown (opened by hand)
    track_a: str
    track_b: str
    #: the track of this node's party, and the other party's (a/b when no side matches)
    our_track: str
    their_track: str
    start: datetime
    end: datetime
    cpa_time: datetime
    #: the position of the closest approach (midpoint of both tracks), degrees WGS84
    lat: float | None
    lon: float | None
    min_slant_m: float | None
    opened_at: datetime
    opened_by: str
    updated_at: datetime
    #: the party whose notification started the hotline exchange, once one did
    notified_by: str | None = None
    #: the msg_id of that incident notification (ours or the peer's)
    notification_msg_id: str | None = None
    #: the id the other party's registry gives this incident, when it differs from ours
    peer_incident_id: str | None = None
    summary: str = ""
    encounter_ids: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "origin": self.origin,
            "severity": self.severity,
            "kind": self.kind,
            "track_a": self.track_a,
            "track_b": self.track_b,
            "our_track": self.our_track,
            "their_track": self.their_track,
            "start": iso_z(self.start),
            "end": iso_z(self.end),
            "cpa_time": iso_z(self.cpa_time),
            "lat": self.lat,
            "lon": self.lon,
            "min_slant_m": self.min_slant_m,
            "opened_at": iso_z(self.opened_at),
            "opened_by": self.opened_by,
            "updated_at": iso_z(self.updated_at),
            "notified_by": self.notified_by,
            "notification_msg_id": self.notification_msg_id,
            "peer_incident_id": self.peer_incident_id,
            "summary": self.summary,
            "encounter_ids": list(self.encounter_ids),
        }


@dataclass(frozen=True, slots=True)
class Account:
    """One party's account of an incident: its own class and its own words.

    ``classification`` is a class of the rules (``routine``, ``serious``, ``high-risk``) or None
    when the account gives none; ``nature`` is the hotline catalogue's classification of the event
    (``unintentional``, ``routine-activity``, ``technical-failure``, ``facts-disputed``,
    ``under-investigation``) when a clarification reply gave one. Nothing forces the two parties'
    accounts to agree.
    """

    incident_id: str
    side: AccountSide
    party: str
    classification: str | None
    nature: str | None
    text: str
    recorded_at: datetime
    recorded_by: str
    #: the hotline message that carried it (None: recorded on this desk only, not sent)
    msg_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "incident_id": self.incident_id,
            "side": self.side,
            "party": self.party,
            "classification": self.classification,
            "nature": self.nature,
            "text": self.text,
            "recorded_at": iso_z(self.recorded_at),
            "recorded_by": self.recorded_by,
            "msg_id": self.msg_id,
        }


@dataclass(frozen=True, slots=True)
class SideBySide:
    """The latest account of each party (None where a party has given none yet)."""

    ours: Account | None
    theirs: Account | None

    @property
    def agree(self) -> bool | None:
        """Whether both classes are the same; None until both parties gave a class."""
        if self.ours is None or self.theirs is None:
            return None
        if self.ours.classification is None or self.theirs.classification is None:
            return None
        return self.ours.classification == self.theirs.classification

    def to_json(self) -> dict[str, Any]:
        return {
            "ours": None if self.ours is None else self.ours.to_json(),
            "theirs": None if self.theirs is None else self.theirs.to_json(),
            "agree": self.agree,
        }


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """One recorded change: what happened, who did it and when, the state before and after."""

    incident_id: str
    time: datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str
    detail: str = ""
    msg_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "incident_id": self.incident_id,
            "time": iso_z(self.time),
            "actor": self.actor,
            "action": self.action,
            "from_state": self.from_state,
            "to_state": self.to_state,
            "detail": self.detail,
            "msg_id": self.msg_id,
        }


@dataclass(frozen=True, slots=True)
class IncidentMessage:
    """A hotline message attached to an incident, for the timeline of the exchange."""

    incident_id: str
    msg_id: str
    direction: Direction
    #: the time the sender's log gives the entry (its own clock)
    time: datetime
    template: int | None
    template_key: str | None
    #: notification | acknowledgement | request | reply | account | message
    role: str
    in_reply_to: str | None
    fields: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "incident_id": self.incident_id,
            "msg_id": self.msg_id,
            "direction": self.direction,
            "time": iso_z(self.time),
            "template": self.template,
            "template_key": self.template_key,
            "role": self.role,
            "in_reply_to": self.in_reply_to,
            "fields": dict(self.fields),
        }


@dataclass(frozen=True, slots=True)
class Position:
    """One reported position of a track kept as evidence (enough to draw the map)."""

    track: str
    time: datetime
    lat: float
    lon: float
    alt_m: float | None
    speed_mps: float | None
    course_deg: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "time": iso_z(self.time),
            "lat": self.lat,
            "lon": self.lon,
            "alt_m": self.alt_m,
            "speed_mps": self.speed_mps,
            "course_deg": self.course_deg,
        }


@dataclass(frozen=True, slots=True)
class Evidence:
    """The encounters (JSON contract v1 records, as ``parley detect --json`` prints them) and both
    tracks' positions over the episode, by track id, in time order."""

    incident_id: str
    encounters: list[dict[str, Any]]
    positions: dict[str, list[Position]]
    #: hex SHA-256 of the canonical JSON of :meth:`to_json` minus this field: what the incident
    #: notification states as ``evidence_sha256``, so the other party can check a copy
    sha256: str = ""

    def content_json(self) -> dict[str, Any]:
        return {
            "incident_id": self.incident_id,
            "encounters": self.encounters,
            "positions": {
                track: [p.to_json() for p in points] for track, points in self.positions.items()
            },
        }

    def to_json(self) -> dict[str, Any]:
        return {**self.content_json(), "sha256": self.sha256}


@dataclass(frozen=True, slots=True)
class IncidentDetail:
    """Everything about one incident: what ``parley incident show`` prints."""

    incident: Incident
    accounts: SideBySide
    all_accounts: list[Account]
    history: list[HistoryEvent]
    messages: list[IncidentMessage]
    evidence: Evidence

    def to_json(self) -> dict[str, Any]:
        return {
            "incident": self.incident.to_json(),
            "accounts": self.accounts.to_json(),
            "all_accounts": [a.to_json() for a in self.all_accounts],
            "history": [h.to_json() for h in self.history],
            "messages": [m.to_json() for m in self.messages],
            "evidence": self.evidence.to_json(),
        }


__all__ = [
    "CLASSES",
    "STATES",
    "Account",
    "AccountSide",
    "Direction",
    "Evidence",
    "HistoryEvent",
    "Incident",
    "IncidentDetail",
    "IncidentMessage",
    "IncidentState",
    "Origin",
    "Position",
    "SideBySide",
    "iso_z",
]
