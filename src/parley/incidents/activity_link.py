"""Where activities meet the hotline and the encounters.

* An activity travels as the hotline's activity notification (template 4, ``planned-activity``):
  :func:`notification_fields` fills the template from an activity, :func:`notify_activity` sends
  it and records when; :func:`activity_from_notification` reads a received one back.
* :func:`sync_activities` makes the ``activities`` table agree with both logs: our notifications
  mark our activities notified, the peer's become the peer's activities (a later notification of
  the same id replaces the earlier: an amendment, though ``notified_at`` stays the time of the
  first). The log is the truth; syncing again changes nothing.
* :func:`mark_notified_activities` gives an encounter whose closest approach lies inside a
  notified activity's area and time window the reason ``notified-activity``.

Template 4 carries the notice (planned or snap) but no name: a received activity is named by
its id.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from parley.activities.area import AreaError, area_from_line, area_to_line
from parley.activities.correlate import Point, activities_containing
from parley.activities.files import read_activity_file
from parley.activities.model import (
    Activity,
    ActivityError,
    Forces,
    Notice,
    Origin,
    iso_utc,
    parse_time,
)
from parley.activities.policy import ActivityPolicy, load_activity_policy
from parley.activities.storage import (
    find_activity,
    get_activity,
    list_activities,
    require_activity,
    save_activity,
    set_notified,
    set_observed,
)
from parley.encounters.detector import Detection
from parley.errors import InputError
from parley.hotline.msgid import parse_utc_ms
from parley.hotline.node import Node, load_node
from parley.hotline.templates import template
from parley.hotline.views import MessageView
from parley.store.engine import read, write

ACTIVITY_TEMPLATE = 4
#: A node directory's own thresholds, when it holds this file.
ACTIVITY_POLICY_FILE = "activity-policy.toml"
NOTIFIED_ACTIVITY = "notified-activity"
#: Template field -> activity force.
FORCE_FIELDS = {
    "troops": "troops",
    "tanks": "battle_tanks",
    "armoured_vehicles": "armoured_combat_vehicles",
    "artillery": "artillery_pieces",
    "sorties": "aircraft_sorties",
    "ships": "ships",
}


@dataclass(frozen=True, slots=True)
class SyncSummary:
    """What a sync changed: peer activities stored or amended, own ones marked notified, and the
    peer's notifications that could not be read (msg_id: reason)."""

    stored: tuple[str, ...] = ()
    marked: tuple[str, ...] = ()
    unreadable: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "stored": list(self.stored),
            "marked": list(self.marked),
            "unreadable": dict(self.unreadable),
        }


def notification_fields(activity: Activity) -> dict[str, str]:
    """The template 4 fields of an activity; :class:`ActivityError` when it cannot travel."""
    spec = template(ACTIVITY_TEMPLATE)
    area = area_to_line(activity.area)
    area_spec = spec.field("area")
    limit = area_spec.max_length if area_spec is not None else len(area)
    if len(area) > limit:
        raise ActivityError(
            f"activity {activity.id}: its area is {len(area)} characters on the hotline, the "
            f"notification carries at most {limit}: give the polygon fewer vertices"
        )
    fields = {
        "activity_id": activity.id,
        "kind": activity.kind,
        "area": area,
        "start": iso_utc(activity.start),
        "end": iso_utc(activity.end),
    }
    for name, force in FORCE_FIELDS.items():
        figure = activity.declared.figure(force)
        if figure is not None:
            fields[name] = str(figure)
    fields["notice"] = activity.notice
    return fields


def activity_from_notification(view: MessageView, party: str) -> Activity:
    """The peer's activity of a received activity notification."""
    values = view.fields
    where = f"notification {view.msg_id}"
    try:
        notice: Notice = "snap" if values.get("notice") == "snap" else "planned"
        figures = {FORCE_FIELDS[n]: int(v) for n, v in values.items() if n in FORCE_FIELDS}
        return Activity(
            id=values["activity_id"],
            party=party,
            origin="peer",
            kind="flight" if values["kind"] == "flight" else "exercise",
            notice=notice,
            area=area_from_line(values["area"], f"{where}: area"),
            start=parse_time(values["start"], f"{where}: start"),
            end=parse_time(values["end"], f"{where}: end"),
            declared=Forces(**figures),
            notified_at=parse_utc_ms(view.time),
            msg_id=view.msg_id,
        )
    except (KeyError, ValueError) as exc:
        raise ActivityError(f"{where}: cannot be read ({exc})") from None


def notify_activity(node: Node, activity_id: str) -> Activity:
    """Send our activity's notification to the peer; the activity, marked notified."""
    with read(node.engine) as connection:
        activity = require_activity(connection, activity_id, "own")
    if activity.notified_at is not None:
        raise ActivityError(
            f"activity {activity_id} was already notified at {iso_utc(activity.notified_at)} "
            f"(message {activity.msg_id})"
        )
    fields = notification_fields(activity)
    msg_id = node.send(ACTIVITY_TEMPLATE, fields)
    sent = next(view for view in reversed(node.log().own) if view.msg_id == msg_id)
    with write(node.engine) as connection:
        set_notified(connection, activity_id, "own", parse_utc_ms(sent.time), msg_id, node.clock())
        return require_activity(connection, activity_id, "own")


def sync_activities(node: Node) -> SyncSummary:
    """Bring the ``activities`` table in line with the activity notifications of both logs."""
    logs = node.log()
    ours = _notifications_per_activity(logs.own)
    theirs = _notifications_per_activity(logs.peer)
    party = node.peer.identity.party if node.config.peer is not None else "peer"
    stored: list[str] = []
    marked: list[str] = []
    unreadable: dict[str, str] = {}
    now = node.clock()
    with write(node.engine) as connection:
        for activity_id, (first, latest) in ours.items():
            own = get_activity(connection, activity_id, "own")
            if own is not None and own.msg_id != latest.msg_id:
                first_time = parse_utc_ms(first.time)
                set_notified(connection, activity_id, "own", first_time, latest.msg_id, now)
                marked.append(activity_id)
        for activity_id, (first, latest) in theirs.items():
            held = get_activity(connection, activity_id, "peer")
            if held is not None and held.msg_id == latest.msg_id:
                continue
            try:
                activity = activity_from_notification(latest, party)
            except (ActivityError, AreaError) as exc:
                unreadable[latest.msg_id] = str(exc)
                continue
            # an amendment does not make the activity late: it was notified by the first message
            save_activity(connection, replace(activity, notified_at=parse_utc_ms(first.time)), now)
            stored.append(activity_id)
    return SyncSummary(tuple(stored), tuple(marked), unreadable)


def add_activities(node: Node, activities: Sequence[Activity]) -> list[bool]:
    """Store our activities (all in one transaction); for each, whether it was new. An activity
    already notified cannot be replaced: notify an amendment under its id instead."""
    now = node.clock()
    with write(node.engine) as connection:
        for activity in activities:
            held = get_activity(connection, activity.id, "own")
            if held is not None and held.notified_at is not None:
                raise ActivityError(
                    f"activity {activity.id} was notified at {iso_utc(held.notified_at)}: "
                    "give the changed activity a new id"
                )
        return [
            save_activity(connection, replace(a, party=node.config.party, origin="own"), now)
            for a in activities
        ]


def stored_activities(node: Node, origin: Origin | None = None) -> list[Activity]:
    """Both parties' activities (the peer's notifications synced first)."""
    sync_activities(node)
    with read(node.engine) as connection:
        return list_activities(connection, origin)


def stored_activity(node: Node, activity_id: str, origin: Origin | None = None) -> Activity:
    sync_activities(node)
    with read(node.engine) as connection:
        return find_activity(connection, activity_id, origin)


def observe_activity(
    node: Node, activity_id: str, observed: Forces, origin: Origin | None = None
) -> Activity:
    """Record our observed figures of an activity (each given figure replaces the held one)."""
    if observed.is_empty():
        raise ActivityError("give at least one observed figure")
    sync_activities(node)
    with write(node.engine) as connection:
        found = find_activity(connection, activity_id, origin)
        return set_observed(connection, found.id, found.origin, observed, node.clock())


def notified_activities(node: Node) -> list[Activity]:
    """Every activity notified so far: ours once sent, and all of the peer's (synced first)."""
    sync_activities(node)
    with read(node.engine) as connection:
        return [a for a in list_activities(connection) if a.notified_at is not None]


def mark_notified_activities(
    detection: Detection, table: pl.DataFrame, activities: Sequence[Activity]
) -> Detection:
    """The detection with ``notified-activity`` added to the reasons of each encounter whose
    closest-approach point (midway between both tracks at the CPA time) and time lie inside one
    of ``activities``."""
    encounters = detection.encounters
    if encounters.is_empty() or not activities:
        return detection
    points = encounter_points(encounters, table)
    hits = activities_containing(points, activities)
    reasons = [
        [*row, NOTIFIED_ACTIVITY] if found and NOTIFIED_ACTIVITY not in row else list(row)
        for row, found in zip(encounters["reasons"].to_list(), hits, strict=True)
    ]
    marked = encounters.with_columns(pl.Series("reasons", reasons, dtype=pl.List(pl.String())))
    return replace(detection, encounters=marked)


def encounter_points(encounters: pl.DataFrame, table: pl.DataFrame) -> list[Point]:
    """Each encounter's CPA time and the point midway between both tracks at that time."""
    wanted = set(encounters["a"].to_list()) | set(encounters["b"].to_list())
    tracks = {
        str(key[0]): frame.sort("time")
        for key, frame in table.filter(pl.col("track").is_in(list(wanted)))
        .select("track", "time", "lat", "lon")
        .partition_by("track", as_dict=True)
        .items()
    }
    points: list[Point] = []
    for a, b, cpa_time in encounters.select("a", "b", "cpa_time").iter_rows():
        lat_a, lon_a = _position_at(tracks[a], cpa_time.timestamp())
        lat_b, lon_b = _position_at(tracks[b], cpa_time.timestamp())
        lon_b = lon_a + ((lon_b - lon_a + 180.0) % 360.0 - 180.0)  # the short way round
        lon = ((lon_a + lon_b) / 2 + 180.0) % 360.0 - 180.0
        points.append((cpa_time, (lat_a + lat_b) / 2, lon))
    return points


def read_activities_source(source: Path, party: str = "") -> list[Activity]:
    """Activities for ``parley detect --activities``: a node directory (its notified
    activities) or an activity file (all of its activities)."""
    path = Path(source)
    if path.is_dir():
        with load_node(path) as node:
            return notified_activities(node)
    if not path.exists():
        raise InputError(f"{path}: no such activity file or node directory")
    return read_activity_file(path, party=party or "file")


def node_activity_policy(directory: Path, override: Path | None = None) -> ActivityPolicy:
    """The thresholds in force: ``override``, else the node's ``activity-policy.toml`` when it
    has one, else the Vienna Document defaults."""
    if override is not None:
        return load_activity_policy(override)
    own = Path(directory) / ACTIVITY_POLICY_FILE
    return load_activity_policy(own if own.exists() else None)


def _position_at(track: pl.DataFrame, at_s: float) -> tuple[float, float]:
    times = track["time"].dt.epoch("us").to_numpy() / 1e6
    lons = np.unwrap(track["lon"].to_numpy(), period=360.0)
    lat = float(np.interp(at_s, times, track["lat"].to_numpy()))
    return lat, float(np.interp(at_s, times, lons))


def _notifications_per_activity(
    views: Sequence[MessageView],
) -> dict[str, tuple[MessageView, MessageView]]:
    """Each activity id's first and latest notification (log order: a later one amends)."""
    found: dict[str, tuple[MessageView, MessageView]] = {}
    for view in views:
        activity_id = view.fields.get("activity_id")
        if view.template == ACTIVITY_TEMPLATE and activity_id:
            first = found[activity_id][0] if activity_id in found else view
            found[activity_id] = (first, view)
    return found


__all__ = [
    "ACTIVITY_POLICY_FILE",
    "ACTIVITY_TEMPLATE",
    "FORCE_FIELDS",
    "NOTIFIED_ACTIVITY",
    "SyncSummary",
    "activity_from_notification",
    "add_activities",
    "encounter_points",
    "mark_notified_activities",
    "node_activity_policy",
    "notification_fields",
    "notified_activities",
    "notify_activity",
    "observe_activity",
    "read_activities_source",
    "stored_activities",
    "stored_activity",
    "sync_activities",
]
