"""The duty roster of a hotline node: who is on duty, in which role, speaking which languages.

The roster is ``roster.toml`` in the node directory. Times are UTC. Each ``[[shift]]`` is either a
standing shift that repeats every day (``daily = "HH:MM"``) or one dated occurrence
(``start = 2026-11-30T00:00:00Z``); it lasts ``hours`` (default 8) and lists its officers::

    [[shift]]
    name = "night"
    daily = "00:00"
    [[shift.officer]]
    name = "Lt A. Smith"
    role = "duty-officer"          # duty-officer | senior-officer | political-liaison | translator
    languages = ["en", "ru"]

:func:`check` reports gaps (time with no duty officer), overlapping shifts, and shifts without an
officer qualified in both English and Russian. :func:`on_duty` answers who holds a role at a time.
"""

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from parley.errors import InputError

ROSTER_FILE = "roster.toml"
ROLES = ("duty-officer", "senior-officer", "political-liaison", "translator")
SHIFT_HOURS = 8
BILINGUAL = frozenset({"en", "ru"})


class RosterError(InputError):
    """A roster file that cannot be read or holds an invalid setting."""


@dataclass(frozen=True, slots=True)
class Officer:
    name: str
    role: str
    languages: frozenset[str]

    @property
    def bilingual(self) -> bool:
        return self.languages >= BILINGUAL

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "languages": sorted(self.languages)}


@dataclass(frozen=True, slots=True)
class Shift:
    """A shift as written: ``daily`` (a time of day) or ``start`` (one moment), never both."""

    name: str
    officers: tuple[Officer, ...]
    hours: float = SHIFT_HOURS
    daily: time | None = None
    start: datetime | None = None

    def occurrences(self, first_day: date, last_day: date) -> list["ShiftOccurrence"]:
        """Every occurrence starting on a day from ``first_day`` to ``last_day`` inclusive."""
        length = timedelta(hours=self.hours)
        if self.start is not None:
            if first_day <= self.start.date() <= last_day:
                return [ShiftOccurrence(self, self.start, self.start + length)]
            return []
        assert self.daily is not None
        found = []
        day = first_day
        while day <= last_day:
            begin = datetime.combine(day, self.daily, tzinfo=UTC)
            found.append(ShiftOccurrence(self, begin, begin + length))
            day += timedelta(days=1)
        return found


@dataclass(frozen=True, slots=True)
class ShiftOccurrence:
    shift: Shift
    start: datetime
    end: datetime

    def label(self) -> str:
        return f"shift {self.shift.name!r} of {self.start:%Y-%m-%d %H:%M}Z"


@dataclass(frozen=True, slots=True)
class Roster:
    shifts: tuple[Shift, ...]
    source: str = ROSTER_FILE

    def occurrences_between(self, start: datetime, end: datetime) -> list[ShiftOccurrence]:
        """Occurrences that overlap ``[start, end)``, by start time."""
        longest = max((s.hours for s in self.shifts), default=0.0)
        first_day = (start - timedelta(hours=longest)).date()
        found = [
            occurrence
            for shift in self.shifts
            for occurrence in shift.occurrences(first_day, end.date())
            if occurrence.start < end and occurrence.end > start
        ]
        return sorted(found, key=lambda o: (o.start, o.shift.name))


@dataclass(frozen=True, slots=True)
class RosterProblem:
    """``kind`` is ``gap``, ``overlap`` or ``no-bilingual-officer``."""

    kind: str
    start: datetime
    end: datetime
    text: str

    def to_json(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "text": self.text,
        }


def check(roster: Roster, start: datetime, days: int) -> list[RosterProblem]:
    """Every problem of the roster during ``days`` days from ``start``, by time."""
    end = start + timedelta(days=days)
    occurrences = roster.occurrences_between(start, end)
    problems = _gaps(occurrences, start, end) + _overlaps(occurrences)
    problems += [
        RosterProblem(
            "no-bilingual-officer",
            o.start,
            o.end,
            f"{o.label()}: no officer qualified in both English and Russian",
        )
        for o in occurrences
        if not any(officer.bilingual for officer in o.shift.officers)
    ]
    return sorted(problems, key=lambda p: (p.start, p.kind))


def on_duty(roster: Roster, when: datetime, role: str) -> list[Officer]:
    """The officers holding ``role`` at ``when`` (UTC), in roster order."""
    moment = _utc(when)
    occurrences = roster.occurrences_between(moment, moment + timedelta(microseconds=1))
    return [officer for o in occurrences for officer in o.shift.officers if officer.role == role]


def _gaps(
    occurrences: list[ShiftOccurrence], start: datetime, end: datetime
) -> list[RosterProblem]:
    covered_until = start
    problems = []
    staffed = [o for o in occurrences if any(x.role == "duty-officer" for x in o.shift.officers)]
    for occurrence in staffed:
        if occurrence.start > covered_until:
            problems.append(_gap(covered_until, occurrence.start, occurrences))
        covered_until = max(covered_until, occurrence.end)
    if covered_until < end:
        problems.append(_gap(covered_until, end, occurrences))
    return problems


def _gap(start: datetime, end: datetime, occurrences: list[ShiftOccurrence]) -> RosterProblem:
    unstaffed = [o.label() for o in occurrences if o.start < end and o.end > start]
    during = f" ({', '.join(unstaffed)} has no duty officer)" if unstaffed else ""
    text = f"no duty officer from {start:%Y-%m-%d %H:%M}Z to {end:%Y-%m-%d %H:%M}Z{during}"
    return RosterProblem("gap", start, end, text)


def _overlaps(occurrences: list[ShiftOccurrence]) -> list[RosterProblem]:
    problems = []
    for index, earlier in enumerate(occurrences):
        for later in occurrences[index + 1 :]:
            if later.start >= earlier.end:
                break
            problems.append(
                RosterProblem(
                    "overlap",
                    later.start,
                    min(earlier.end, later.end),
                    f"{earlier.label()} overlaps {later.label()}",
                )
            )
    return problems


def load_roster(directory: Path) -> Roster | None:
    """The node's roster, or None when the directory holds no ``roster.toml``."""
    path = Path(directory) / ROSTER_FILE
    return read_roster(path) if path.exists() else None


def read_roster(path: Path) -> Roster:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RosterError(f"{path}: {exc}") from None
    shifts = data.get("shift", [])
    if not isinstance(shifts, list):
        raise RosterError(f"{path}: 'shift' must be an array of tables ([[shift]])")
    return Roster(tuple(_shift(path, n, item) for n, item in enumerate(shifts, 1)), str(path))


def _shift(path: Path, number: int, data: object) -> Shift:
    where = f"{path}: shift #{number}"
    if not isinstance(data, Mapping):
        raise RosterError(f"{where}: not a table")
    name = str(data.get("name", f"#{number}"))
    where = f"{path}: shift {name!r}"
    hours = data.get("hours", SHIFT_HOURS)
    if isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 < hours <= 24:
        raise RosterError(f"{where}: hours must be a number from 0 to 24, got {hours!r}")
    daily, start = data.get("daily"), data.get("start")
    if (daily is None) == (start is None):
        raise RosterError(f'{where}: give either daily = "HH:MM" or start = <UTC date-time>')
    officers = tuple(_officer(where, item) for item in _list(where, data.get("officer", [])))
    if daily is not None:
        return Shift(name, officers, float(hours), daily=_time_of_day(where, daily))
    if not isinstance(start, datetime) or start.tzinfo is None:
        raise RosterError(f"{where}: start must be a TOML date-time with Z or an offset")
    return Shift(name, officers, float(hours), start=_utc(start))


def _officer(where: str, data: object) -> Officer:
    if not isinstance(data, Mapping) or not isinstance(data.get("name"), str):
        raise RosterError(f"{where}: each [[shift.officer]] needs a name")
    role = data.get("role")
    if role not in ROLES:
        raise RosterError(
            f"{where}: officer {data['name']!r}: role {role!r} (expected {', '.join(ROLES)})"
        )
    languages = _list(where, data.get("languages", []))
    if not all(isinstance(language, str) for language in languages):
        raise RosterError(f"{where}: officer {data['name']!r}: languages must be strings")
    return Officer(str(data["name"]), str(role), frozenset(str(x) for x in languages))


def _list(where: str, value: object) -> list[Any]:
    if not isinstance(value, list):
        raise RosterError(f"{where}: expected a list, got {value!r}")
    return value


def _time_of_day(where: str, value: object) -> time:
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise RosterError(f"{where}: daily must be a time HH:MM, got {value!r}") from None


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("a naive datetime: roster times are UTC and must be tz-aware")
    return moment.astimezone(UTC)


def officers_json(officers: Iterable[Officer]) -> list[dict[str, Any]]:
    return [officer.to_json() for officer in officers]


__all__ = [
    "BILINGUAL",
    "ROLES",
    "ROSTER_FILE",
    "Officer",
    "Roster",
    "RosterError",
    "RosterProblem",
    "Shift",
    "ShiftOccurrence",
    "check",
    "load_roster",
    "officers_json",
    "on_duty",
    "read_roster",
]
