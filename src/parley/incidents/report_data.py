"""What a report for the political level shows, as plain typed data.

:class:`ReportData` is built from a node (``report_collect.collect_report_data``) or by hand (tests,
examples); the renderers (:mod:`.report`, :mod:`.report_plots`, :mod:`.report_map`) read only this.
Times are tz-aware UTC datetimes; distances in metres.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from parley.encounters.classify import SEVERITIES

Side = Literal["ours", "theirs"]
Direction = Literal["sent", "received"]


@dataclass(frozen=True, slots=True)
class MapPoint:
    time: datetime
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class TrackLine:
    """One track's positions over the incident, drawn on its map."""

    track: str
    side: Side
    points: tuple[MapPoint, ...]


@dataclass(frozen=True, slots=True)
class PartyAccount:
    """One party's account: its own class (of the rules), its own nature of the event, its words."""

    party: str
    side: Side
    classification: str | None
    nature: str | None
    text: str
    recorded_at: datetime | None = None
    msg_id: str | None = None


@dataclass(frozen=True, slots=True)
class Exchange:
    """One hotline message of an incident's exchange, with the delay since what it answers."""

    time: datetime
    direction: Direction
    sender: str
    kind: str
    msg_id: str
    in_reply_to: str | None = None
    summary: str = ""
    #: seconds since the message it answers (or, for the first notification, since the CPA)
    delay_s: float | None = None
    #: what the delay is measured from ("CPA", or the kind of the message answered)
    delay_from: str = ""


@dataclass(frozen=True, slots=True)
class IncidentSection:
    """One incident as the report shows it."""

    id: str
    state: str
    severity: str
    kind: str
    our_track: str
    their_track: str
    start: datetime
    end: datetime
    cpa_time: datetime
    lat: float | None
    lon: float | None
    min_slant_m: float | None
    summary: str = ""
    ours: PartyAccount | None = None
    theirs: PartyAccount | None = None
    tracks: tuple[TrackLine, ...] = ()
    exchanges: tuple[Exchange, ...] = ()
    evidence_sha256: str = ""

    @property
    def area(self) -> str:
        return area_name(self.lat, self.lon)

    @property
    def month(self) -> str:
        return self.cpa_time.strftime("%Y-%m")

    @property
    def agree(self) -> bool | None:
        """Whether both parties gave the same class; None until both gave one."""
        if self.ours is None or self.theirs is None:
            return None
        if self.ours.classification is None or self.theirs.classification is None:
            return None
        return self.ours.classification == self.theirs.classification


@dataclass(frozen=True, slots=True)
class LogHead:
    """The head of one log: whose, its size (entries) and Merkle root (base64)."""

    party: str
    origin: str
    size: int
    root_b64: str


@dataclass(frozen=True, slots=True)
class JointRecord:
    """The joint checkpoint over both logs' heads, with who signed it (both parties, once they
    exchanged it; else this node alone over the current heads), and the peer's latest delivery
    receipt (its cosignature over our log)."""

    body: str
    note: str
    own: LogHead
    peer: LogHead
    signers: tuple[str, ...]
    receipt_size: int | None = None
    receipt_time: datetime | None = None
    #: entries of both logs recorded after these heads (not yet covered by a joint checkpoint)
    entries_after: int = 0

    @property
    def signed_by_both(self) -> bool:
        return self.own.party in self.signers and self.peer.party in self.signers


@dataclass(frozen=True, slots=True)
class ReportData:
    own_party: str
    peer_party: str
    generated_at: datetime
    since: datetime | None
    until: datetime | None
    incidents: tuple[IncidentSection, ...]
    joint: JointRecord | None = None
    notes: tuple[str, ...] = field(default=())

    def counts_by_class(self) -> dict[str, int]:
        """Incidents per class, every class of the rules listed (in order), others after."""
        counted = Counter(incident.severity for incident in self.incidents)
        ordered = {severity: counted.pop(severity, 0) for severity in SEVERITIES}
        return ordered | dict(sorted(counted.items()))

    def counts_by_month(self) -> dict[str, dict[str, int]]:
        """Per month (``YYYY-MM``, in order, gaps filled), incidents per class."""
        months = _month_range([incident.month for incident in self.incidents])
        table = {month: dict.fromkeys(self.counts_by_class(), 0) for month in months}
        for incident in self.incidents:
            table[incident.month][incident.severity] += 1
        return table

    def counts_by_area(self) -> dict[str, int]:
        """Incidents per sea area, most first (ties by name)."""
        counted = Counter(incident.area for incident in self.incidents)
        return dict(sorted(counted.items(), key=lambda item: (-item[1], item[0])))


def _month_range(months: list[str]) -> list[str]:
    if not months:
        return []
    first, last = min(months), max(months)
    year, month = int(first[:4]), int(first[5:])
    result = []
    while f"{year:04d}-{month:02d}" <= last:
        result.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return result


#: Named sea areas as lon/lat boxes (west, south, east, north); the first that holds a point wins,
#: so enclosed seas come before the larger areas around them.
SEA_AREAS: tuple[tuple[str, tuple[float, float, float, float]], ...] = (
    ("Sea of Azov", (34.8, 45.2, 39.5, 47.5)),
    ("Black Sea", (27.0, 40.5, 42.0, 47.5)),
    ("Baltic Sea", (9.5, 53.0, 30.5, 66.0)),
    ("North Sea", (-4.5, 50.5, 9.5, 61.0)),
    ("Barents Sea", (16.0, 68.0, 60.0, 82.0)),
    ("Norwegian Sea", (-5.0, 61.0, 16.0, 72.0)),
    ("Mediterranean Sea", (-6.0, 30.0, 36.5, 46.0)),
    ("Sea of Japan", (127.0, 33.0, 142.0, 52.0)),
)


def area_name(lat: float | None, lon: float | None) -> str:
    """The named sea area of a position, else its 5° cell (``55–60°N 20–25°E``)."""
    if lat is None or lon is None:
        return "unknown"
    lon = (lon + 180.0) % 360.0 - 180.0
    for name, (west, south, east, north) in SEA_AREAS:
        if west <= lon <= east and south <= lat <= north:
            return name
    lat_cell, lon_cell = int(lat // 5) * 5, int(lon // 5) * 5
    lats = f"{_lat_text(lat_cell)}–{_lat_text(lat_cell + 5)}"
    return f"{lats} {_lon_text(lon_cell)}–{_lon_text(lon_cell + 5)}"


def _lat_text(value: int) -> str:
    return f"{abs(value)}°{'N' if value >= 0 else 'S'}"


def _lon_text(value: int) -> str:
    return f"{abs(value)}°{'E' if value >= 0 else 'W'}"


__all__ = [
    "SEA_AREAS",
    "Direction",
    "Exchange",
    "IncidentSection",
    "JointRecord",
    "LogHead",
    "MapPoint",
    "PartyAccount",
    "ReportData",
    "Side",
    "TrackLine",
    "area_name",
]
