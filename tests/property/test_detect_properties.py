"""Properties of the archive detector on random traffic, and a brute-force oracle to check it.

The oracle below is deliberately naive and independent of the detector: for every pair of opposing
tracks it interpolates both on a dense common grid (every 0.05 s, plus every sample instant of
either track), measures great-circle horizontal distances, and keeps the grid points inside the
monitoring volume. The detector must find the same pairs, cover every inside point with one of its
episodes, and agree on the minimum slant range to within the grid's own resolution.
"""

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parley.encounters import detector
from parley.encounters.detector import detect
from parley.tracks.geo import haversine_m, offset_position
from parley.tracks.schema import conform

T0 = datetime(2021, 6, 18, 10, 0, tzinfo=UTC)
ORIGIN = (54.8, 13.9)
GRID_S = 0.05
SIDES = ("nato", "russia")

# the default policy's numbers, written out here so the oracle does not read the detector's policy
AIR_AIR_RADIUS_M = 9260.0
AIR_AIR_VERTICAL_M = 304.8
AIR_SEA_RADIUS_M = 9260.0
AIR_SEA_CEILING_M = 914.4
SEA_SEA_RADIUS_M = 3704.0
MAX_GAP_S = {"air": 60.0, "sea": 600.0}
MERGE_GAP_S = {"air": 60.0, "sea": 600.0}

PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- random traffic -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Mover:
    """A track: straight or turning at a constant rate, climbing or not, sampled regularly."""

    name: str
    side: str
    domain: str
    east_m: float
    north_m: float
    alt_m: float
    speed_mps: float
    heading_deg: float
    turn_deg_s: float
    climb_mps: float
    first_s: float
    last_s: float
    step_s: float
    hole: tuple[float, float] | None  # seconds in which nothing is received

    def times(self) -> np.ndarray:
        t = np.arange(self.first_s, self.last_s, self.step_s)
        t = np.append(t[t < self.last_s - 1e-3], self.last_s)  # the last instant exactly
        t = np.round(t, 6)  # whole microseconds, as the track table holds them
        if self.hole is not None:
            t = t[(t <= self.hole[0]) | (t >= self.hole[1])]
        return t

    def path(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        h0 = math.radians(self.heading_deg)
        w = math.radians(self.turn_deg_s)
        s = t - self.first_s
        if abs(w) < 1e-9:
            east = self.east_m + self.speed_mps * math.sin(h0) * s
            north = self.north_m + self.speed_mps * math.cos(h0) * s
        else:
            r = self.speed_mps / w
            east = self.east_m + r * (math.cos(h0) - np.cos(h0 + w * s))
            north = self.north_m + r * (np.sin(h0 + w * s) - math.sin(h0))
        alt = np.maximum(self.alt_m + self.climb_mps * s, 20.0) if self.domain == "air" else 0 * s
        return east, north, alt


def utc_times(micros_after_t0: np.ndarray) -> pl.Series:
    t0_us = (T0 - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    series = pl.Series("time", micros_after_t0 + t0_us)
    return pl.from_epoch(series, time_unit="us").dt.replace_time_zone("UTC")


def table_of(fleet: list[Mover], shift_s: float = 0.0) -> pl.DataFrame:
    """The canonical table of the whole fleet, every time moved by ``shift_s``."""
    columns: dict[str, list[Any]] = {k: [] for k in ("t", "track", "side", "domain", "e", "n")}
    columns |= {"alt": [], "speed": []}
    for m in fleet:
        t = m.times()
        east, north, alt = m.path(t)
        for key, value in (("t", t), ("e", east), ("n", north), ("alt", alt)):
            columns[key].append(value)
        for key, value in (("track", m.name), ("side", m.side), ("domain", m.domain)):
            columns[key].append([value] * t.size)
        columns["speed"].append(np.full(t.size, m.speed_mps))
    t = np.concatenate(columns["t"])
    lat, lon = offset_position(
        ORIGIN[0], ORIGIN[1], np.concatenate(columns["e"]), np.concatenate(columns["n"])
    )
    frame = pl.DataFrame(
        {
            "time": utc_times(np.round((t + shift_s) * 1e6).astype(np.int64)),
            "track": [x for chunk in columns["track"] for x in chunk],
            "side": [x for chunk in columns["side"] for x in chunk],
            "domain": [x for chunk in columns["domain"] for x in chunk],
            "lat": lat,
            "lon": lon,
            "alt_m": np.concatenate(columns["alt"]).astype(np.float64),
            "speed_mps": np.concatenate(columns["speed"]),
            "transponder": ["on"] * t.size,
        }
    )
    return conform(frame, keep_line=False)


@st.composite
def movers(draw: st.DrawFn, name: str) -> Mover:
    domain = draw(st.sampled_from(("air", "air", "air", "sea")))
    air = domain == "air"
    first = draw(st.floats(0.0, 60.0))
    duration = draw(st.floats(120.0, 300.0))
    hole = None
    if air and draw(st.booleans()) and draw(st.booleans()):
        start = draw(st.floats(first, first + duration / 2))
        hole = (start, start + draw(st.floats(65.0, 120.0)))
    return Mover(
        name=name,
        side=draw(st.sampled_from(SIDES)),
        domain=domain,
        # anywhere in a 30 km box, or near its middle (more close passes)
        east_m=draw(st.floats(-15_000.0, 15_000.0) | st.floats(-1_500.0, 1_500.0)),
        north_m=draw(st.floats(-15_000.0, 15_000.0) | st.floats(-1_500.0, 1_500.0)),
        alt_m=draw(st.floats(50.0, 1500.0)) if air else 0.0,
        speed_mps=draw(st.floats(80.0, 250.0) if air else st.floats(2.0, 15.0)),
        heading_deg=draw(st.floats(0.0, 360.0, exclude_max=True)),
        turn_deg_s=draw(st.sampled_from((0.0, 0.0)) | st.floats(-1.5, 1.5)),
        climb_mps=draw(st.sampled_from((0.0,)) | st.floats(-8.0, 8.0)) if air else 0.0,
        first_s=first,
        last_s=first + duration,
        step_s=draw(st.floats(1.0, 5.0)),
        hole=hole,
    )


@st.composite
def traffic(draw: st.DrawFn) -> list[Mover]:
    count = draw(st.integers(10, 30))
    names = [f"icao:{k:06x}" for k in range(1, count + 1)]
    return [draw(movers(name)) for name in names]


def detect_movers(fleet: list[Mover], shift_s: float = 0.0) -> pl.DataFrame:
    return detect(table_of(fleet, shift_s)).encounters


# --- the oracle -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OnGrid:
    """One track interpolated linearly on the common grid."""

    domain: str
    lat: np.ndarray
    lon: np.ndarray
    alt: np.ndarray
    covered: np.ndarray  # within the track's time span and not across a gap over the maximum


@dataclass(frozen=True)
class Truth:
    radius_m: float  # the horizontal radius of the pair's volume
    grid: np.ndarray  # the inside instants
    slant: np.ndarray
    horizontal: np.ndarray
    at_boundary: np.ndarray  # first/last inside point of a run cut by the volume's edge
    episodes: list[tuple[float, float]]  # runs of inside instants, merged across short gaps

    def near_edge(self) -> np.ndarray:
        """Inside instants within centimetres of the radius: planar and spherical may disagree."""
        return np.asarray(self.horizontal > self.radius_m - 0.1)


def common_grid(fleet: list[Mover]) -> np.ndarray:
    samples = np.concatenate([m.times() for m in fleet])
    dense = np.arange(samples.min(), samples.max(), GRID_S)
    # rounded to microseconds, or float noise would make near-duplicate instants
    return np.unique(np.round(np.concatenate([dense, samples]), 6))


def on_grid(mover: Mover, grid: np.ndarray) -> OnGrid:
    t = mover.times()
    east, north, alt = mover.path(t)
    lat, lon = offset_position(ORIGIN[0], ORIGIN[1], east, north)
    seg = np.clip(np.searchsorted(t, grid, side="right") - 1, 0, t.size - 2)
    max_gap = MAX_GAP_S[mover.domain]
    covered = (grid >= t[0]) & (grid <= t[-1]) & (t[seg + 1] - t[seg] <= max_gap)
    # a sample that ends a segment (before a gap, or the last one) is covered by that segment
    k = np.searchsorted(t, grid, side="left")
    ends_segment = (k >= 1) & (k < t.size)
    k = np.clip(k, 1, t.size - 1)
    covered |= ends_segment & (t[k] == grid) & (t[k] - t[k - 1] <= max_gap)
    return OnGrid(
        mover.domain,
        np.interp(grid, t, lat),
        np.interp(grid, t, lon),
        np.interp(grid, t, alt),
        covered,
    )


def oracle_pair(grid: np.ndarray, a: OnGrid, b: OnGrid) -> Truth | None:
    both = a.covered & b.covered
    if not both.any():
        return None
    horizontal = haversine_m(a.lat, a.lon, b.lat, b.lon)
    vertical = np.abs(a.alt - b.alt)
    merge_gap = MERGE_GAP_S["air"]
    if a.domain == b.domain == "air":
        radius = AIR_AIR_RADIUS_M
        inside = (horizontal < radius) & (vertical < AIR_AIR_VERTICAL_M)
    elif a.domain == b.domain == "sea":
        radius, merge_gap = SEA_SEA_RADIUS_M, MERGE_GAP_S["sea"]
        inside = horizontal < radius
    else:
        radius = AIR_SEA_RADIUS_M
        inside = (horizontal < radius) & (np.maximum(a.alt, b.alt) < AIR_SEA_CEILING_M)
    inside &= both
    if not inside.any():
        return None
    edges = np.diff(inside.astype(np.int8), prepend=0, append=0)
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1
    episodes = [(grid[starts[0]], grid[ends[0]])]
    for start, end in zip(starts[1:], ends[1:], strict=True):
        if grid[start] - episodes[-1][1] < merge_gap:
            episodes[-1] = (episodes[-1][0], grid[end])
        else:
            episodes.append((grid[start], grid[end]))
    # the ends of each inside run where the volume (not the data) ends it: the grid point there
    # may be up to one step past the true crossing
    at_boundary = np.zeros(grid.size, dtype=bool)
    starts = starts[starts > 0]
    at_boundary[starts[both[starts - 1]]] = True
    ends = ends[ends < grid.size - 1]
    at_boundary[ends[both[ends + 1]]] = True
    slant = np.hypot(horizontal, vertical)
    return Truth(
        radius, grid[inside], slant[inside], horizontal[inside], at_boundary[inside], episodes
    )


def oracle(fleet: list[Mover]) -> dict[tuple[str, str], Truth]:
    """Every opposing pair's inside instants, by brute force over all pairs."""
    grid = common_grid(fleet)
    tracks = {m.name: on_grid(m, grid) for m in fleet}
    sides = {m.name: m.side for m in fleet}
    truths = {}
    names = sorted(tracks)
    for i, x in enumerate(names):
        for y in names[i + 1 :]:
            if sides[x] == sides[y]:
                continue
            truth = oracle_pair(grid, tracks[x], tracks[y])
            if truth is not None:
                truths[(x, y)] = truth
    return truths


def max_relative_speed(fleet: list[Mover]) -> float:
    fastest = sorted((math.hypot(m.speed_mps, m.climb_mps) for m in fleet), reverse=True)
    return fastest[0] + fastest[1]


def seconds(moment: datetime) -> float:
    return (moment - T0).total_seconds()


# --- properties -----------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(traffic())
def test_detector_agrees_with_the_brute_force_oracle(fleet: list[Mover]) -> None:
    found = detect_movers(fleet)
    truths = oracle(fleet)
    episodes: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for e in found.iter_rows(named=True):
        episodes.setdefault((e["a"], e["b"]), []).append(e)

    # the grid can only miss a stay shorter than its step
    unseen = {
        pair: [seconds(e["end"]) - seconds(e["start"]) for e in found_episodes]
        for pair, found_episodes in episodes.items()
        if pair not in truths
    }
    assert all(max(spans) < GRID_S for spans in unseen.values()), unseen
    missing = {pair for pair in set(truths) - set(episodes) if not truths[pair].near_edge().all()}
    assert not missing, f"pairs inside the volume with no encounter: {sorted(missing)}"

    v_rel = max_relative_speed(fleet)
    for pair, found_episodes in episodes.items():
        if pair not in truths:
            continue
        truth = truths[pair]
        fast_min = min(e["min_slant_m"] for e in found_episodes)
        best = int(truth.slant.argmin())
        oracle_min = float(truth.slant[best])
        # exact continuous minimum: never above any inside grid point (planar vs spherical: mm)
        assert fast_min <= oracle_min + 0.05, (pair, fast_min, oracle_min)
        # the grid misses the true minimum by at most its resolution: the sagitta of a pass at
        # v_rel over half a step, or a whole step's travel when the minimum sits on a volume edge
        half_step = v_rel * GRID_S / 2
        resolution = math.hypot(fast_min, half_step) - fast_min
        if truth.at_boundary[best]:
            resolution = v_rel * GRID_S
        assert oracle_min - fast_min <= max(1.0, resolution + 0.05), (pair, fast_min, oracle_min)

        # every inside instant of the oracle lies in one of the detector's episodes
        starts = np.array([seconds(e["start"]) for e in found_episodes])
        ends = np.array([seconds(e["end"]) for e in found_episodes])
        covered = (
            (truth.grid[:, None] >= starts - 1e-3) & (truth.grid[:, None] <= ends + 1e-3)
        ).any(axis=1)
        assert (covered | truth.near_edge()).all(), (pair, truth.grid[~covered][:5], starts, ends)
        # and the stays merge into the same episodes (the grid may miss a stay under one step)
        if not truth.near_edge().any() and (ends - starts).min() > 2 * GRID_S:
            assert len(found_episodes) == len(truth.episodes), (pair, truth.episodes, starts)


def by_pair(encounters: pl.DataFrame) -> dict[frozenset[str], list[dict[str, Any]]]:
    pairs: dict[frozenset[str], list[dict[str, Any]]] = {}
    for e in encounters.sort("start").iter_rows(named=True):
        pairs.setdefault(frozenset((e["a"], e["b"])), []).append(e)
    return pairs


COMPARED = ("min_slant_m", "min_horizontal_m", "vertical_m", "max_closure_mps")
EXACT = ("kind", "passes", "orbits", "overflight", "low_fast_pass", "severity", "reasons")


def assert_same_encounters(
    left: pl.DataFrame, right: pl.DataFrame, shift_s: float = 0.0, tol_m: float = 1e-6
) -> None:
    lhs, rhs = by_pair(left), by_pair(right)
    assert set(lhs) == set(rhs)
    for pair, episodes in lhs.items():
        assert len(episodes) == len(rhs[pair]), pair
        for x, y in zip(episodes, rhs[pair], strict=True):
            for name in COMPARED:
                assert abs(x[name] - y[name]) <= tol_m, (pair, name, x[name], y[name])
            for name in ("start", "end", "cpa_time"):
                moved = (y[name] - x[name]).total_seconds() - shift_s
                assert abs(moved) <= 2e-6, (pair, name, x[name], y[name])
            assert {k: x[k] for k in EXACT} == {k: y[k] for k in EXACT}, pair


def mirrored(fleet: list[Mover]) -> list[Mover]:
    """The same traffic with the track ids' order reversed and the two sides swapped."""
    count = len(fleet)
    swap = {"nato": "russia", "russia": "nato"}
    return [
        replace(m, name=f"icao:{count + 1 - k:06x}", side=swap[m.side])
        for k, m in enumerate(fleet, start=1)
    ]


@PROPERTY_SETTINGS
@given(traffic())
def test_symmetric_in_a_and_b(fleet: list[Mover]) -> None:
    original = detect_movers(fleet)
    swapped = detect_movers(mirrored(fleet))
    rename = {f"icao:{k:06x}": f"icao:{len(fleet) + 1 - k:06x}" for k in range(1, len(fleet) + 1)}
    back = swapped.with_columns(pl.col("a").replace(rename), pl.col("b").replace(rename))
    # each pair's order flips with the ids: what was a is now b
    flipped = {(e["b"], e["a"]) for e in back.iter_rows(named=True)}
    assert flipped == {(e["a"], e["b"]) for e in original.iter_rows(named=True)}
    assert_same_encounters(original, back, tol_m=1e-6)


@PROPERTY_SETTINGS
@given(traffic(), st.integers(-(10**12), 10**12))
def test_invariant_under_a_time_shift(fleet: list[Mover], shift_us: int) -> None:
    shift_s = shift_us / 1e6
    assert_same_encounters(detect_movers(fleet), detect_movers(fleet, shift_s), shift_s, 1e-6)


@settings(PROPERTY_SETTINGS, max_examples=15)
@given(traffic(), st.integers(20, 500))
def test_batching_does_not_change_the_result(fleet: list[Mover], events_per_batch: int) -> None:
    whole = detect_movers(fleet)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(detector, "EVENTS_PER_BATCH", events_per_batch)
        batched = detect_movers(fleet)
    assert batched.equals(whole)


@st.composite
def straight_pairs(draw: st.DrawFn) -> tuple[Mover, Mover]:
    """Two straight tracks closest near t = 0, each as a Mover sampled from -300 s to 300 s."""
    kinds = draw(st.sampled_from((("air", "air"), ("air", "sea"), ("sea", "sea"))))
    speed = {"air": st.floats(60.0, 250.0), "sea": st.floats(2.0, 15.0)}
    alts = {"air": st.floats(50.0, 900.0), "sea": st.just(0.0)}
    pair = []
    for k, domain in enumerate(kinds):
        v = draw(speed[domain])
        heading = draw(st.floats(0.0, 360.0, exclude_max=True))
        # where it is at t = 0, near the origin
        e0, n0 = draw(st.floats(-1500.0, 1500.0)), draw(st.floats(-1500.0, 1500.0))
        h = math.radians(heading)
        pair.append(
            Mover(
                name=f"icao:{k + 1:06x}",
                side=SIDES[k],
                domain=domain,
                east_m=e0 - 300.0 * v * math.sin(h),
                north_m=n0 - 300.0 * v * math.cos(h),
                alt_m=draw(alts[domain]),
                speed_mps=v,
                heading_deg=heading,
                turn_deg_s=0.0,
                climb_mps=0.0,
                first_s=-300.0,
                last_s=300.0,
                step_s=1.0,
                hole=None,
            )
        )
    return pair[0], pair[1]


@PROPERTY_SETTINGS
@given(straight_pairs())
def test_sampling_rate_does_not_change_the_minimum(pair: tuple[Mover, Mover]) -> None:
    results = []
    for step in (1.0, 0.37, 3.0):
        found = detect(table_of([replace(m, step_s=step) for m in pair])).encounters
        results.append(found)
    counts = {r.height for r in results}
    assert len(counts) == 1, counts
    for other in results[1:]:
        for x, y in zip(results[0].iter_rows(named=True), other.iter_rows(named=True), strict=True):
            assert abs(x["min_slant_m"] - y["min_slant_m"]) <= 0.5
            assert abs(x["min_horizontal_m"] - y["min_horizontal_m"]) <= 0.5
            assert abs((x["cpa_time"] - y["cpa_time"]).total_seconds()) <= 0.01 or (
                # a nearly parallel pair has a flat minimum: its instant is poorly defined
                abs(x["max_closure_mps"]) < 1.0
            )
