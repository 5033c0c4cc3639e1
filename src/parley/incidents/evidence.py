"""Evidence of an incident: encounter records, both tracks' positions, the point of closest
approach, and the incident notification's fields filled from them."""

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from parley.encounters.detector import Detection
from parley.encounters.output import encounter_records, evidence_window
from parley.errors import InputError
from parley.incidents.model import CLASSES, Evidence, Incident, Position, iso_z
from parley.incidents.rows import canonical_json

#: Longest ``summary`` and ``evidence_sources`` the notification template takes.
SUMMARY_MAX = 4000
SOURCES_MAX = 200


def parse_time(text: str, where: str = "time") -> datetime:
    """An ISO 8601 time (``Z`` or an offset) as tz-aware UTC; :class:`InputError` otherwise."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        raise InputError(f"{where}: not an ISO 8601 time: {text!r}") from None
    if moment.tzinfo is None:
        raise InputError(f"{where}: {text!r} has no time zone (end it with Z for UTC)")
    return moment.astimezone(UTC)


def class_rank(severity: str) -> int:
    return CLASSES.index(severity) if severity in CLASSES else -1


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def record_positions(record: Mapping[str, Any]) -> list[Position]:
    """The positions an encounter record carries as ``evidence`` (``parley detect --evidence``)."""
    evidence = record.get("evidence")
    if not isinstance(evidence, Mapping):
        return []
    found: list[Position] = []
    for side in ("a", "b"):
        track = str(record[side])
        for point in evidence.get(side) or []:
            found.append(
                Position(
                    track=track,
                    time=parse_time(str(point["time"]), f"encounter {record['id']} evidence"),
                    lat=float(point["lat"]),
                    lon=float(point["lon"]),
                    alt_m=_float(point.get("alt_m")),
                    speed_mps=_float(point.get("speed_mps")),
                    course_deg=_float(point.get("course_deg")),
                )
            )
    return found


def _episode_positions(
    table: pl.DataFrame, track: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    rows = table.filter((pl.col("track") == track) & pl.col("time").is_between(start, end))
    return [
        {
            "time": iso_z(row["time"]),
            "lat": row["lat"],
            "lon": row["lon"],
            "alt_m": row["alt_m"],
            "speed_mps": row["speed_mps"],
            "course_deg": row["course_deg"],
        }
        for row in rows.select("time", "lat", "lon", "alt_m", "speed_mps", "course_deg").iter_rows(
            named=True
        )
    ]


def records_with_episode_evidence(
    detection: Detection, table: pl.DataFrame
) -> list[dict[str, Any]]:
    """The encounter records (JSON contract v1), each with both tracks' positions over the whole
    episode widened by the evidence window (±60 s with an aircraft, ±10 min for ships): what the
    map of the incident needs, more than ``--evidence`` keeps (±window around the CPA only)."""
    found = []
    for record in encounter_records(detection):
        window = evidence_window(str(record["kind"]))
        start = parse_time(record["start"]) - window
        end = parse_time(record["end"]) + window
        record["evidence"] = {
            "window_s": window.total_seconds(),
            "a": _episode_positions(table, record["a"], start, end),
            "b": _episode_positions(table, record["b"], start, end),
        }
        found.append(record)
    return found


def _at(points: Sequence[Position], moment: datetime) -> tuple[float, float, float | None] | None:
    """A track's position at ``moment``, linear between the reports around it (nearest outside)."""
    if not points:
        return None
    before = [p for p in points if p.time <= moment]
    after = [p for p in points if p.time >= moment]
    if not before or not after:
        nearest = min(points, key=lambda p: abs((p.time - moment).total_seconds()))
        return nearest.lat, nearest.lon, nearest.alt_m
    first, second = before[-1], after[0]
    span = (second.time - first.time).total_seconds()
    share = 0.0 if span == 0 else (moment - first.time).total_seconds() / span
    alt = None
    if first.alt_m is not None and second.alt_m is not None:
        alt = first.alt_m + share * (second.alt_m - first.alt_m)
    return (
        first.lat + share * (second.lat - first.lat),
        first.lon + share * (second.lon - first.lon),
        alt,
    )


def closest_approach_point(
    positions: Mapping[str, Sequence[Position]], track_a: str, track_b: str, moment: datetime
) -> tuple[float, float, float | None] | None:
    """The midpoint of both tracks at ``moment`` and the higher altitude; None without positions."""
    at_a = _at(positions.get(track_a, ()), moment)
    at_b = _at(positions.get(track_b, ()), moment)
    known = [point for point in (at_a, at_b) if point is not None]
    if not known:
        return None
    lat = sum(p[0] for p in known) / len(known)
    lon = sum(p[1] for p in known) / len(known)
    altitudes = [p[2] for p in known if p[2] is not None]
    return lat, lon, max(altitudes) if altitudes else None


def evidence_of(
    incident_id: str, records: list[dict[str, Any]], positions: dict[str, list[Position]]
) -> Evidence:
    """The evidence with its SHA-256 (over the canonical JSON of its content)."""
    unsigned = Evidence(incident_id, records, positions)
    digest = hashlib.sha256(canonical_json(unsigned.content_json()).encode("utf-8")).hexdigest()
    return Evidence(incident_id, records, positions, digest)


def deciding_record(records: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The encounter that stands for the incident: the most severe, then the closest."""
    if not records:
        return None
    return max(
        records,
        key=lambda r: (class_rank(str(r["severity"])), -float(r.get("min_slant_m") or 0.0)),
    )


def describe(records: Sequence[Mapping[str, Any]]) -> str:
    """A one-paragraph summary of the encounters, in the rules' terms."""
    record = deciding_record(records)
    if record is None:
        return ""
    reasons = ", ".join(str(r) for r in record.get("reasons") or [])
    more = f" ({len(records)} encounters of this pair)" if len(records) > 1 else ""
    return (
        f"{record['kind']} encounter of {record['a']} and {record['b']}{more}: closest approach "
        f"{float(record['min_slant_m']):.0f} m slant, {float(record['min_horizontal_m']):.0f} m "
        f"horizontal, {float(record['vertical_m']):.0f} m vertical at {record['cpa_time']}; "
        f"{record['passes']} passes, {record['orbits']} orbits; class {record['severity']} "
        f"({reasons})."
    )


def _decimal(value: float, low: float, high: float) -> str:
    text = f"{min(max(value, low), high):.1f}"
    return "0.0" if text == "-0.0" else text


def notification_fields(
    incident: Incident, evidence: Evidence, severity: str, summary: str
) -> dict[str, str]:
    """The fields of template 1 (incident notification) filled from the incident's evidence.

    ``our_track``/``your_track`` are seen from the sender; the time and figures are those of the
    deciding encounter; the position is the midpoint of both tracks at its closest approach.
    """
    if incident.lat is None or incident.lon is None:
        raise InputError(
            f"incident {incident.id}: no position of the closest approach is known "
            "(open it from detect output made with --evidence, or give --lat/--lon)"
        )
    record = deciding_record(evidence.encounters)
    point = closest_approach_point(
        evidence.positions, incident.track_a, incident.track_b, incident.cpa_time
    )
    altitude = 0.0 if point is None or point[2] is None else point[2]
    fields = {
        "incident_id": incident.id,
        "time": iso_z(incident.cpa_time),
        "lat": _decimal_degrees(incident.lat, 90),
        "lon": _decimal_degrees(incident.lon),
        "our_track": incident.our_track[:64],
        "your_track": incident.their_track[:64],
        "closest_approach_m": _decimal(incident.min_slant_m or 0.0, 0, 1_000_000),
        "altitude_m": _decimal(altitude, -1_000, 100_000),
        "severity": severity,
        "summary": (summary or incident.summary or incident.id)[:SUMMARY_MAX],
    }
    if record is not None:
        fields["vertical_separation_m"] = _decimal(float(record["vertical_m"]), 0, 100_000)
        fields["closing_speed_mps"] = _decimal(float(record["max_closure_mps"]), 0, 10_000)
        ids = ", ".join(str(r["id"]) for r in evidence.encounters)
        fields["evidence_sources"] = f"parley detect: {ids}"[:SOURCES_MAX]
        fields["evidence_sha256"] = evidence.sha256
    return fields


def _decimal_degrees(value: float, bound: float = 180) -> str:
    text = f"{min(max(value, -bound), bound):.6f}"
    return "0.000000" if text == "-0.000000" else text


def time_window(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


__all__ = [
    "class_rank",
    "closest_approach_point",
    "deciding_record",
    "describe",
    "evidence_of",
    "notification_fields",
    "parse_time",
    "record_positions",
    "records_with_episode_evidence",
    "time_window",
]
