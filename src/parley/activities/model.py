"""An activity: an exercise or a flight activity, its area, time window and forces.

The forces declared by the notifying party and the figures observed by ours are kept side by side
(``declared`` and ``observed``); a figure not given is ``None``, never 0.
"""

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from parley.activities.area import Area, area_from_geojson
from parley.errors import InputError

Kind = Literal["exercise", "flight"]
Notice = Literal["planned", "snap"]
Origin = Literal["own", "peer"]
KINDS: tuple[str, ...] = get_args(Kind)
NOTICES: tuple[str, ...] = get_args(Notice)
ORIGINS: tuple[str, ...] = get_args(Origin)

FORCE_NAMES = (
    "troops",
    "battle_tanks",
    "armoured_combat_vehicles",
    "artillery_pieces",
    "aircraft_sorties",
    "ships",
)
#: The largest figure accepted (what the hotline template carries).
MAX_FIGURE = 10_000_000
MAX_ID_LENGTH = 64
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


class ActivityError(InputError):
    """An activity that cannot be used (a missing or invalid field, an unknown activity)."""


class UnknownActivityError(ActivityError):
    """No stored activity has this id (of this origin)."""


@dataclass(frozen=True, slots=True)
class Forces:
    """Figures of one account of an activity; ``None`` where not given."""

    troops: int | None = None
    battle_tanks: int | None = None
    armoured_combat_vehicles: int | None = None
    artillery_pieces: int | None = None
    aircraft_sorties: int | None = None
    ships: int | None = None

    def figure(self, name: str) -> int | None:
        value: int | None = getattr(self, name)
        return value

    def to_json(self) -> dict[str, int | None]:
        return {name: self.figure(name) for name in FORCE_NAMES}

    def is_empty(self) -> bool:
        return all(self.figure(name) is None for name in FORCE_NAMES)

    def merged(self, newer: "Forces") -> "Forces":
        """These figures with every figure ``newer`` gives replacing ours."""
        given = {n: newer.figure(n) for n in FORCE_NAMES if newer.figure(n) is not None}
        return replace(self, **given)


@dataclass(frozen=True, slots=True)
class Activity:
    """One notified (or to be notified) military activity of a party."""

    id: str
    party: str
    origin: Origin
    kind: Kind
    notice: Notice
    area: Area
    start: datetime
    end: datetime
    declared: Forces
    observed: Forces = field(default_factory=Forces)
    name: str = ""
    #: When the notification was made (for ours: the hotline entry's time); None: not yet.
    notified_at: datetime | None = None
    #: The hotline message that carried the notification.
    msg_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "party": self.party,
            "origin": self.origin,
            "name": self.name,
            "kind": self.kind,
            "notice": self.notice,
            "start": iso_utc(self.start),
            "end": iso_utc(self.end),
            "area": self.area.to_geojson(),
            "declared": self.declared.to_json(),
            "observed": self.observed.to_json(),
            "notified_at": None if self.notified_at is None else iso_utc(self.notified_at),
            "msg_id": self.msg_id,
        }


def iso_utc(moment: datetime) -> str:
    """ISO 8601 UTC ending in ``Z``: to the second, or the millisecond or microsecond it has."""
    utc = moment.astimezone(UTC).replace(tzinfo=None)
    if utc.microsecond == 0:
        return utc.isoformat(timespec="seconds") + "Z"
    if utc.microsecond % 1000 == 0:
        return utc.isoformat(timespec="milliseconds") + "Z"
    return utc.isoformat(timespec="microseconds") + "Z"


def parse_time(value: object, where: str) -> datetime:
    """A tz-aware UTC datetime from ISO 8601 text (a TOML datetime is taken as is)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ActivityError(
                f"{where}: {value!r} is not an ISO 8601 time such as 2026-06-01T00:00:00Z"
            ) from None
    else:
        raise ActivityError(f"{where}: expected an ISO 8601 UTC time")
    if moment.tzinfo is None:
        raise ActivityError(f"{where}: {value!r} has no time zone (write it in UTC, ending in Z)")
    return moment.astimezone(UTC)


def forces_from_mapping(data: object, where: str) -> Forces:
    """Forces from ``{"troops": 8500, ...}``; unknown names and impossible figures refused."""
    if data is None:
        return Forces()
    if not isinstance(data, Mapping):
        raise ActivityError(f"{where}: expected a table of figures ({', '.join(FORCE_NAMES)})")
    values: dict[str, int | None] = {}
    for name, value in data.items():
        if name not in FORCE_NAMES:
            raise ActivityError(f"{where}.{name}: unknown figure (known: {', '.join(FORCE_NAMES)})")
        if value is None:
            values[name] = None
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_FIGURE:
            raise ActivityError(f"{where}.{name}: {value!r} is not a whole number 0..{MAX_FIGURE}")
        values[name] = value
    return Forces(**values)


def activity_from_mapping(
    data: object, where: str, *, party: str, origin: Origin = "own"
) -> Activity:
    """An activity from a file's object (see ``docs/activities.md`` for the fields)."""
    if not isinstance(data, Mapping):
        raise ActivityError(f"{where}: expected an object with the activity's fields")
    known = {f.name for f in fields(Activity)} - {"party", "origin", "msg_id"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ActivityError(
            f"{where}.{unknown[0]}: unknown field (fields: {', '.join(sorted(known))})"
        )
    for required in ("kind", "area", "start", "end"):
        if required not in data:
            raise ActivityError(f"{where}: missing field {required!r}")
    kind = _choice(data["kind"], KINDS, f"{where}.kind")
    notice = _choice(data.get("notice", "planned"), NOTICES, f"{where}.notice")
    start = parse_time(data["start"], f"{where}.start")
    end = parse_time(data["end"], f"{where}.end")
    if end <= start:
        raise ActivityError(f"{where}.end: must be after start")
    name = data.get("name", "")
    if not isinstance(name, str) or "\n" in name or len(name) > 200:
        raise ActivityError(f"{where}.name: expected one line of text (at most 200 characters)")
    notified_at = data.get("notified_at")
    activity = Activity(
        id="",
        party=party,
        origin=origin,
        kind=kind,  # type: ignore[arg-type]  # checked by _choice
        notice=notice,  # type: ignore[arg-type]
        area=area_from_geojson(data["area"], f"{where}.area"),
        start=start,
        end=end,
        declared=forces_from_mapping(data.get("declared"), f"{where}.declared"),
        observed=forces_from_mapping(data.get("observed"), f"{where}.observed"),
        name=name,
        notified_at=None
        if notified_at is None
        else parse_time(notified_at, f"{where}.notified_at"),
    )
    given_id = data.get("id")
    if given_id is None:
        return replace(activity, id=default_id(activity))
    return replace(activity, id=checked_id(given_id, f"{where}.id"))


def checked_id(value: object, where: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise ActivityError(
            f"{where}: {value!r} is not an activity id (1-{MAX_ID_LENGTH} letters, digits, "
            "'.', '_', ':' or '-', starting with a letter or digit)"
        )
    return value


def default_id(activity: Activity) -> str:
    """A stable id from the party, the kind, the window and the area: ``act-`` and 12 hex."""
    basis = json.dumps(
        [
            activity.party,
            activity.kind,
            iso_utc(activity.start),
            iso_utc(activity.end),
            activity.area.to_geojson(),
        ],
        sort_keys=True,
    )
    return "act-" + hashlib.sha256(basis.encode()).hexdigest()[:12]


def _choice(value: object, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:
        raise ActivityError(f"{where}: {value!r} is not one of {', '.join(allowed)}")
    return str(value)


__all__ = [
    "FORCE_NAMES",
    "KINDS",
    "MAX_FIGURE",
    "NOTICES",
    "ORIGINS",
    "Activity",
    "ActivityError",
    "Forces",
    "Kind",
    "Notice",
    "Origin",
    "UnknownActivityError",
    "activity_from_mapping",
    "checked_id",
    "default_id",
    "forces_from_mapping",
    "iso_utc",
    "parse_time",
]
