"""A brute-force reference for the rules of ``reference/rules.md``, independent of the detector.

Tracks are interpolated linearly in time at every 0.01 s, never across a gap longer than 60 s for
an aircraft or 10 min for a ship; each examined pair is measured in the plane of
``parley.tracks.geo`` tangent at one track's current position; episodes, features and classes
follow rules.md by brute force. Slow and simple on purpose: it writes the expectations of the
encounter cases (``make_cases.py``) and checks the April 2016 cases in the tests. It shares no
code with ``parley.encounters``.
"""

import csv
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from parley.tracks.geo import local_offsets
from parley.tracks.units import feet_to_m, nm_to_m

Array = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]
GRID_STEP_S = 0.01

# --- the numbers of rules.md ---------------------------------------------------------------------
VOLUME_HORIZONTAL_M = nm_to_m(5)
VOLUME_VERTICAL_M = feet_to_m(1000)
AIR_SEA_CEILING_M = feet_to_m(3000)
SEA_SEA_HORIZONTAL_M = nm_to_m(2)
MAX_GAP_S = {"air": 60.0, "sea": 600.0}
MERGE_GAP_S = {"air-air": 60.0, "air-sea": 60.0, "sea-sea": 600.0}
PASS_RADIUS_M = {"air-air": 305.0, "air-sea": 914.0, "sea-sea": 926.0}
ORBIT_RANGE_M = 1000.0
CLOSE_SLANT_M = 150.0
FAST_CLOSURE_MPS = 25.0
STEADY_CLOSURE_MPS = 5.0
CIVIL_SLANT_M = 300.0
CIVIL_HORIZONTAL_M = 1852.0
LOW_ALT_M = 305.0
PASS_INSIDE_M = 914.0


# --- tracks, from a canonical CSV (read with the standard library) or a frame ---------------------


@dataclass
class Track:
    name: str
    side: str
    domain: str
    transponder: str
    t: Array  # seconds since the case epoch
    lat: Array
    lon: Array
    alt: Array


def _parse_row(row: dict[str, str]) -> tuple[datetime, dict[str, float]] | str:
    """The row's time and numbers, or the reason it must be rejected."""
    try:
        moment = datetime.fromisoformat(row["time"])
    except ValueError:
        return f"time: cannot parse {row['time']!r}"
    numbers: dict[str, float] = {}
    for name in ("lat", "lon", "alt_m", "speed_mps", "course_deg", "vrate_mps"):
        text = row[name].strip()
        if not text:
            continue
        try:
            numbers[name] = float(text)
        except ValueError:
            return f"{name}: cannot parse {text!r}"
    if abs(numbers.get("lat", 0.0)) > 90 or abs(numbers.get("lon", 0.0)) > 180:
        return f"position out of range: lat={row['lat']}, lon={row['lon']}"
    return moment, numbers


def read_case(path: Path, epoch: datetime) -> tuple[dict[str, Track], list[dict[str, Any]]]:
    """The tracks of a canonical CSV, and the rows rejected (1-based file line, reason)."""
    samples: dict[str, list[tuple[float, float, float, float]]] = {}
    meta: dict[str, tuple[str, str, str]] = {}
    rejected: list[dict[str, Any]] = []
    with path.open(newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            parsed = _parse_row(row)
            if isinstance(parsed, str):
                # a reader rejects what it cannot parse; range checks belong to hygiene
                stage = "hygiene" if parsed.startswith("position out of range") else "reader"
                rejected.append({"line": line, "stage": stage, "reason": parsed})
                continue
            moment, numbers = parsed
            seconds = (moment - epoch).total_seconds()
            sample = (seconds, numbers["lat"], numbers["lon"], numbers.get("alt_m", 0.0))
            samples.setdefault(row["track"], []).append(sample)
            meta[row["track"]] = (row["side"], row["domain"], row["transponder"])
    tracks = {}
    for name, rows in samples.items():
        t, lat, lon, alt = (np.array(column) for column in zip(*sorted(rows), strict=True))
        tracks[name] = Track(name, *meta[name], t, lat, lon, alt)
    return tracks, rejected


def tracks_from_frame(frame: pl.DataFrame, epoch: datetime) -> dict[str, Track]:
    """The tracks of a canonical frame (to check a frame without writing it)."""
    tracks = {}
    for (name,), rows in frame.sort("time").group_by(["track"], maintain_order=True):
        first = rows.row(0, named=True)
        seconds = (rows["time"] - epoch).dt.total_microseconds().to_numpy() / 1e6
        tracks[str(name)] = Track(
            str(name),
            first["side"],
            first["domain"],
            first["transponder"],
            seconds,
            rows["lat"].to_numpy(),
            rows["lon"].to_numpy(),
            rows["alt_m"].fill_null(0.0).to_numpy(),
        )
    return tracks


# --- pairs and geometry --------------------------------------------------------------------------


def examined_as(a: Track, b: Track) -> str | None:
    """'parties', 'civil-safety', or None when rules.md never looks at the pair."""
    if a.side == b.side:
        return None
    if "civil" in (a.side, b.side):
        party, civil = (b, a) if a.side == "civil" else (a, b)
        dark_aircraft = party.domain == "air" and party.transponder == "off"
        return "civil-safety" if dark_aircraft and civil.domain == "air" else None
    return "parties"


def kind_of(a: Track, b: Track) -> str:
    return "-".join(sorted((a.domain, b.domain)))


@dataclass
class Sampled:
    lat: Array
    lon: Array
    alt: Array
    speed: Array
    valid: Mask


def interpolate(track: Track, grid: Array) -> Sampled:
    """Linear interpolation on ``grid``; invalid outside the track and across a too-long gap.

    Linear in latitude/longitude is linear in any equirectangular plane (the map is affine).
    """
    nan = np.full(grid.shape, np.nan)
    if track.t.size < 2:
        return Sampled(nan, nan, nan, nan, np.zeros(grid.shape, dtype=bool))
    i = np.clip(np.searchsorted(track.t, grid, side="right") - 1, 0, track.t.size - 2)
    t0, t1 = track.t[i], track.t[i + 1]
    valid = (grid >= track.t[0]) & (grid <= track.t[-1]) & (t1 - t0 <= MAX_GAP_S[track.domain])
    frac = (grid - t0) / (t1 - t0)

    def at(values: Array) -> Array:
        return np.where(valid, values[i] + frac * (values[i + 1] - values[i]), np.nan)

    east, north = local_offsets(track.lat[i + 1], track.lon[i + 1], track.lat[i], track.lon[i])
    speed = np.where(valid, np.hypot(east, north) / (t1 - t0), np.nan)
    return Sampled(at(track.lat), at(track.lon), at(track.alt), speed, valid)


def count_passes(horizontal: Array, radius: float) -> int:
    """Dips below ``radius``, each separated from the next by a rise above 1.5 × ``radius``."""
    state = np.where(horizontal < radius, 1, np.where(horizontal > 1.5 * radius, 2, 0))
    events = state[state > 0]
    if events.size == 0:
        return 0
    changes = np.concatenate(([events[0]], events[1:][events[1:] != events[:-1]]))
    return int(np.sum(changes == 1))


def count_orbits(d_east: Array, d_north: Array, counted: Mask) -> int:
    """Full turns of the bearing while ``counted`` (within 1,000 m, below 305 m)."""
    step = np.angle(np.exp(1j * np.diff(np.arctan2(d_east, d_north))))
    turned = np.nansum(step[counted[1:] & counted[:-1]])
    return math.floor(abs(float(turned)) / (2 * math.pi) + 1e-9)


def _episodes(inside: Mask, grid: Array, merge_gap_s: float) -> list[tuple[int, int]]:
    """Index spans of the stays inside the volume, merged when apart by less than the gap."""
    edges = np.diff(np.concatenate(([0], inside.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    spans: list[tuple[int, int]] = []
    for first, last in zip(starts.tolist(), ends.tolist(), strict=True):
        if spans and grid[first] - grid[spans[-1][1]] < merge_gap_s:
            spans[-1] = (spans[-1][0], last)
        else:
            spans.append((first, last))
    return spans


def _cpa_instant(times: Array, slant: Array) -> float | None:
    """The moment of the closest approach, or None when it is held (within 0.1 m over 2 s)."""
    closest = times[slant <= slant.min() + 0.1]
    return None if closest[-1] - closest[0] > 2.0 else float(times[int(np.argmin(slant))])


@dataclass
class Measured:
    start_s: float
    end_s: float
    cpa_s: float | None
    min_slant_m: float
    min_horizontal_m: float
    vertical_m: float
    max_closure_mps: float
    passes: int
    orbits: int | None
    overflight: bool | None
    low_fast_pass: bool | None
    pass_inside_low: bool | None


@dataclass
class PairSeries:
    """One pair on the grid; for air-sea, ``aircraft`` is the aircraft and d_* point at it."""

    grid: Array
    d_east: Array
    d_north: Array
    horizontal: Array
    vertical: Array
    slant: Array
    closure: Array
    aircraft: Sampled
    valid: Mask


def pair_series(a: Track, b: Track, kind: str) -> PairSeries | None:
    lo, hi = max(a.t[0], b.t[0]), min(a.t[-1], b.t[-1])
    if hi <= lo:
        return None
    grid = lo + np.arange(math.floor((hi - lo) / GRID_STEP_S + 1e-9) + 1) * GRID_STEP_S
    pa, pb = interpolate(a, grid), interpolate(b, grid)
    if kind == "air-sea" and a.domain == "sea":
        pa, pb = pb, pa
    d_east, d_north = local_offsets(pa.lat, pa.lon, pb.lat, pb.lon)  # in pb's tangent plane
    horizontal = np.hypot(d_east, d_north)
    vertical = np.abs(pa.alt - pb.alt)
    slant = np.hypot(horizontal, vertical)
    closure = -np.gradient(slant, GRID_STEP_S)
    valid = pa.valid & pb.valid
    return PairSeries(grid, d_east, d_north, horizontal, vertical, slant, closure, pa, valid)


def inside_volume(kind: str, s: PairSeries) -> Mask:
    if kind == "air-air":
        inside = (s.horizontal < VOLUME_HORIZONTAL_M) & (s.vertical < VOLUME_VERTICAL_M)
    elif kind == "air-sea":
        inside = (s.horizontal < VOLUME_HORIZONTAL_M) & (s.aircraft.alt < AIR_SEA_CEILING_M)
    else:
        inside = s.horizontal < SEA_SEA_HORIZONTAL_M
    return np.asarray(inside & s.valid)


def measure_episode(kind: str, s: PairSeries, inside: Mask, first: int, last: int) -> Measured:
    """Features over the moments of the episode inside the volume (a merged gap adds none)."""
    span = slice(first, last + 1)
    ok = inside[span]
    h, v, slant = s.horizontal[span][ok], s.vertical[span][ok], s.slant[span][ok]
    closure, times = s.closure[span][ok], s.grid[span][ok]
    alt, speed = s.aircraft.alt[span][ok], s.aircraft.speed[span][ok]
    cpa = int(np.argmin(slant))
    close = slant < CLOSE_SLANT_M
    air_sea = kind == "air-sea"
    low_near = (h < ORBIT_RANGE_M) & (alt < LOW_ALT_M)
    return Measured(
        start_s=float(s.grid[first]),
        end_s=float(s.grid[last]),
        cpa_s=_cpa_instant(times, slant),
        min_slant_m=float(slant[cpa]),
        min_horizontal_m=float(h.min()),
        vertical_m=float(v[cpa]),
        max_closure_mps=float(np.nanmax(closure[close] if close.any() else closure)),
        passes=count_passes(h, PASS_RADIUS_M[kind]),
        orbits=count_orbits(s.d_east[span][ok], s.d_north[span][ok], low_near) if air_sea else None,
        overflight=bool(np.any((h < 30) & (v < 150) & (v > h))) if kind == "air-air" else None,
        low_fast_pass=bool(np.any((h < 100) & (alt < 150) & (speed > 50))) if air_sea else None,
        pass_inside_low=bool(np.any((h < PASS_INSIDE_M) & (alt < LOW_ALT_M))) if air_sea else None,
    )


def measure_pair(a: Track, b: Track, kind: str) -> list[Measured]:
    series = pair_series(a, b, kind)
    if series is None:
        return []
    inside = inside_volume(kind, series)
    spans = _episodes(inside, series.grid, MERGE_GAP_S[kind])
    return [measure_episode(kind, series, inside, first, last) for first, last in spans]


# --- classes -------------------------------------------------------------------------------------

Rule = tuple[str, str, bool, str]  # severity, name, fired, the rule in words


def _air_air_rules(m: Measured, civil_safety: bool) -> list[Rule]:
    close = m.min_slant_m < CLOSE_SLANT_M
    near_civil = m.min_horizontal_m < CIVIL_HORIZONTAL_M
    return [
        ("high-risk", "fast-close-approach", close and m.max_closure_mps > FAST_CLOSURE_MPS,
         "min slant < 150 m with closure > 25 m/s"),
        ("high-risk", "overflight", bool(m.overflight),
         "one aircraft directly above the other (h < 30 m, v < 150 m, v > h)"),
        ("high-risk", "endangered-civil-aircraft", civil_safety and m.min_slant_m < CIVIL_SLANT_M,
         "a dark party aircraft within 300 m slant of a civil aircraft"),
        ("routine", "escort", close and m.max_closure_mps <= STEADY_CLOSURE_MPS,
         "min slant < 150 m but closure <= 5 m/s: a steady formation after a slow join"),
        ("serious", "close-approach", close, "min slant < 150 m"),
        ("serious", "repeated-passes", m.passes >= 3, "3 or more passes inside 305 m"),
        ("serious", "civil-aircraft-proximity", civil_safety and near_civil,
         "a dark party aircraft within 1 NM of a civil aircraft"),
    ]  # fmt: skip


def _air_sea_rules(m: Measured) -> list[Rule]:
    return [
        ("high-risk", "low-fast-pass", bool(m.low_fast_pass),
         "horizontal < 100 m with the aircraft below 150 m and faster than 50 m/s"),
        ("serious", "low-close-pass", bool(m.pass_inside_low),
         "a pass within 914 m with the aircraft below 305 m"),
        ("serious", "low-orbits", (m.orbits or 0) >= 2, "2 or more orbits below 305 m"),
    ]  # fmt: skip


def _sea_sea_rules(m: Measured) -> list[Rule]:
    return [
        (
            "high-risk",
            "close-quarters-collision-risk",
            m.min_horizontal_m < 100,
            "min horizontal < 100 m",
        ),
        ("serious", "close-quarters", m.min_horizontal_m < 926, "min horizontal < 926 m"),
    ]


def classify(kind: str, m: Measured, civil_safety: bool) -> tuple[str, list[str], str]:
    """Severity, the rules that fired in the deciding class, and why (rules.md, top first)."""
    if kind == "air-air":
        rules = _air_air_rules(m, civil_safety)
    elif kind == "air-sea":
        rules = _air_sea_rules(m)
    else:
        rules = _sea_sea_rules(m)
    for severity in ("high-risk", "routine", "serious"):  # only the escort rule is "routine"
        fired = [(name, text) for sev, name, hit, text in rules if sev == severity and hit]
        if fired:
            why = "; ".join(text for _, text in fired)
            return severity, [name for name, _ in fired], f"{why} -> {severity} ({_numbers(m)})"
    why = "inside the monitoring volume, no other rule fires -> routine"
    return "routine", ["inside-volume"], f"{why} ({_numbers(m)})"


def _numbers(m: Measured) -> str:
    facts = [
        f"min slant {m.min_slant_m:.1f} m",
        f"min horizontal {m.min_horizontal_m:.1f} m",
        f"closure {m.max_closure_mps:.1f} m/s",
        f"{m.passes} pass(es)",
    ]
    if m.orbits is not None:
        facts.append(f"{m.orbits} orbit(s)")
    return ", ".join(facts)


# --- the expected encounters ---------------------------------------------------------------------


def iso(moment: datetime) -> str:
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    millis = moment.microsecond // 1000
    return f"{text}.{millis:03d}Z" if millis else f"{text}Z"


def expected_encounters(tracks: dict[str, Track], epoch: datetime) -> list[dict[str, Any]]:
    found = []
    names = sorted(tracks)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            a, b = tracks[first], tracks[second]
            examined = examined_as(a, b)
            if examined is None:
                continue
            kind = kind_of(a, b)
            civil_safety = examined == "civil-safety"
            for m in measure_pair(a, b, kind):
                found.append(_encounter(a, b, kind, m, civil_safety, epoch))
    return sorted(found, key=lambda e: (e["episode_start"], e["pair"]))


def _encounter(
    a: Track, b: Track, kind: str, m: Measured, civil_safety: bool, epoch: datetime
) -> dict[str, Any]:
    def at(seconds: float | None) -> str | None:
        return None if seconds is None else iso(epoch + timedelta(seconds=round(seconds, 2)))

    severity, rules, why = classify(kind, m, civil_safety)
    return {
        "pair": [a.name, b.name],
        "kind": kind,
        "severity": severity,
        "rules": rules,
        "civil_safety": civil_safety,
        "transponder_off": "off" in (a.transponder, b.transponder),
        "episode_start": at(m.start_s),
        "episode_end": at(m.end_s),
        "cpa_time": at(m.cpa_s),
        "min_slant_m": round(m.min_slant_m, 2),
        "min_horizontal_m": round(m.min_horizontal_m, 2),
        "vertical_m": round(m.vertical_m, 2),
        "max_closure_mps": round(m.max_closure_mps, 2) + 0.0,
        "passes": m.passes,
        "orbits": m.orbits,
        "overflight": m.overflight,
        "low_fast_pass": m.low_fast_pass,
        "why": why,
    }


def reference_encounters(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """What the reference finds in a canonical frame."""
    epoch = frame["time"].min()
    assert isinstance(epoch, datetime)
    return expected_encounters(tracks_from_frame(frame, epoch), epoch)
