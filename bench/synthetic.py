"""Synthetic two-sided traffic over a Baltic-sized box, for the detector's scale series.

Two parties, ``blue`` and ``red``, each with:

- aircraft at flight levels (FL100-FL390, each flight ±30 m off its level), 200-250 m/s,
  flights of 20-60 min, reported every 1 s;
- maritime patrol aircraft (one aircraft in ten) at 150-600 m and 120-160 m/s, so that air-sea
  encounters happen too;
- ships at 5-15 m/s on voyages of 2-12 h, reported every 10 s;
- blue interceptions of red aircraft: one red flight in ten is joined for 10-20 min by a blue
  aircraft that closes from 30 km to 150-2,000 m and 0-200 m of height, stays, and leaves.

Every track turns at a constant rate (a circle of 50-300 km radius for aircraft, 20-200 km for
ships) and carries a little position noise (5 m aircraft, 3 m ships). Times are whole seconds (as
OpenSky state vectors are); each ship reports at its own phase within its 10 s period.

Density is constant: on average ``AIRCRAFT_ALOFT`` aircraft and ``SHIPS_AT_SEA`` ships are
present at once (half per side), so the covered time, and the number of encounters, grow in
proportion to the number of positions asked for. That density is several times the real military
presence over the Baltic, chosen so that every kind of encounter (air-air crossings and
interceptions, air-sea, sea-sea) occurs every few minutes of simulated time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

from parley.tracks.schema import CANONICAL_COLUMNS, conform

METRES_PER_DEGREE = 111_195.0
FEET = 0.3048
EPOCH = datetime(2024, 3, 1, tzinfo=UTC)

LAT_RANGE = (54.0, 60.5)
LON_RANGE = (13.0, 29.0)
AIRCRAFT_ALOFT = 100.0
SHIPS_AT_SEA = 400.0
LOW_PATROL_SHARE = 0.1
INTERCEPTED_SHARE = 0.1
AIR_PERIOD_S = 1
SEA_PERIOD_S = 10
#: Positions per simulated second at the density above.
POSITIONS_PER_S = AIRCRAFT_ALOFT / AIR_PERIOD_S + SHIPS_AT_SEA / SEA_PERIOD_S

BLUE_ICAO, RED_ICAO = 0x3C0000, 0x100000
BLUE_MMSI, RED_MMSI = 211_000_000, 273_000_000


@dataclass(frozen=True, slots=True)
class Fleet:
    """How one kind of traffic is drawn."""

    domain: str
    concurrent: float
    period_s: int
    speed_mps: tuple[float, float]
    duration_s: tuple[float, float]
    turn_radius_m: tuple[float, float]
    noise_m: float
    #: Flight levels (hundreds of feet, whole levels) or, when ``flight_levels`` is false, metres.
    altitude: tuple[float, float] = (0.0, 0.0)
    flight_levels: bool = False


JETS = Fleet(
    "air",
    AIRCRAFT_ALOFT * (1 - LOW_PATROL_SHARE),
    AIR_PERIOD_S,
    (200.0, 250.0),
    (1200.0, 3600.0),
    (50e3, 300e3),
    5.0,
    (100, 390),
    True,
)
PATROLS = Fleet(
    "air",
    AIRCRAFT_ALOFT * LOW_PATROL_SHARE,
    AIR_PERIOD_S,
    (120.0, 160.0),
    (1200.0, 3600.0),
    (50e3, 300e3),
    5.0,
    (150.0, 600.0),
)
SHIPS = Fleet("sea", SHIPS_AT_SEA, SEA_PERIOD_S, (5.0, 15.0), (7200.0, 43200.0), (20e3, 200e3), 3.0)


@dataclass(slots=True)
class Paths:
    """Constant-turn paths, one element per track: evaluated at any time in closed form."""

    start_s: np.ndarray
    lat0: np.ndarray
    lon0: np.ndarray
    heading0: np.ndarray  # radians, clockwise from north
    speed: np.ndarray
    turn: np.ndarray  # rad/s, signed

    def at(self, index: np.ndarray, t_s: np.ndarray) -> tuple[np.ndarray, ...]:
        """lat, lon, course (deg) of track ``index`` at absolute times ``t_s``."""
        tau = t_s - self.start_s[index]
        h0, v, w = self.heading0[index], self.speed[index], self.turn[index]
        heading = h0 + w * tau
        safe_w = np.where(np.abs(w) > 1e-9, w, 1.0)
        straight = np.abs(w) <= 1e-9
        east = np.where(straight, v * tau * np.sin(h0), v / safe_w * (np.cos(h0) - np.cos(heading)))
        north = np.where(
            straight, v * tau * np.cos(h0), v / safe_w * (np.sin(heading) - np.sin(h0))
        )
        lat0 = self.lat0[index]
        lat = lat0 + north / METRES_PER_DEGREE
        lon = self.lon0[index] + east / (METRES_PER_DEGREE * np.cos(np.radians(lat0)))
        return lat, lon, np.degrees(heading) % 360.0


def _ranges(starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner index, step number) for each owner's ``counts`` steps."""
    owner = np.repeat(np.arange(len(starts)), counts)
    offsets = np.repeat(np.cumsum(counts) - counts, counts)
    return owner, np.arange(int(counts.sum())) - offsets


def _draw_paths(rng: np.random.Generator, fleet: Fleet, span_s: float) -> tuple[Paths, np.ndarray]:
    """Voyages overlapping [0, span): their paths and durations."""
    lo, hi = fleet.duration_s
    count = rng.poisson(fleet.concurrent * (span_s + hi) / ((lo + hi) / 2))
    radius = rng.uniform(*fleet.turn_radius_m, count)
    speed = rng.uniform(*fleet.speed_mps, count)
    paths = Paths(
        start_s=rng.uniform(-hi, span_s, count),
        lat0=rng.uniform(*LAT_RANGE, count),
        lon0=rng.uniform(*LON_RANGE, count),
        heading0=rng.uniform(0.0, 2 * math.pi, count),
        speed=speed,
        turn=speed / radius * rng.choice([-1.0, 1.0], count),
    )
    return paths, rng.uniform(lo, hi, count)


def _sample_times(
    first: np.ndarray, last: np.ndarray, period: int, phase: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Whole-second report times on each track's period grid within [first, last]."""
    t0 = np.ceil((first - phase) / period) * period + phase
    counts = np.maximum(np.floor((last - t0) / period).astype(np.int64) + 1, 0)
    owner, step = _ranges(t0, counts)
    return owner, t0[owner] + step * period


def _noisy(
    rng: np.random.Generator, lat: np.ndarray, lon: np.ndarray, sigma_m: float
) -> tuple[np.ndarray, np.ndarray]:
    north = rng.normal(0.0, sigma_m, lat.size) / METRES_PER_DEGREE
    east = rng.normal(0.0, sigma_m, lat.size) / (METRES_PER_DEGREE * np.cos(np.radians(lat)))
    return lat + north, lon + east


def _frame(
    code: np.ndarray,
    t_s: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    alt: np.ndarray,
    speed: np.ndarray,
    course: np.ndarray,
) -> pl.DataFrame:
    """Positions keyed by an integer track code; ids, sides and domains are joined at the end."""
    return pl.DataFrame(
        {
            "time": (t_s * 1e6).astype(np.int64),
            "code": code,
            "lat": lat,
            "lon": lon,
            "alt_m": alt,
            "speed_mps": speed,
            "course_deg": course,
        }
    )


def _altitudes(rng: np.random.Generator, fleet: Fleet, count: int) -> np.ndarray:
    low, high = fleet.altitude
    if fleet.flight_levels:
        level = rng.integers(int(low), int(high) + 1, count).astype(np.float64)
        return level * 100 * FEET + rng.uniform(-30.0, 30.0, count)
    return rng.uniform(low, high, count)


class Registry:
    """Hands out track codes and remembers each track's id, side and domain."""

    def __init__(self) -> None:
        self.next_number = {
            "icao-blue": BLUE_ICAO,
            "icao-red": RED_ICAO,
            "mmsi-blue": BLUE_MMSI,
            "mmsi-red": RED_MMSI,
        }
        self.parts: list[pl.DataFrame] = []
        self.count = 0

    def add(self, is_blue: np.ndarray, domain: str) -> np.ndarray:
        """Register one track per element of ``is_blue``; returns their codes."""
        kind = "icao" if domain == "air" else "mmsi"
        codes = self.count + np.arange(is_blue.size)
        self.count += is_blue.size
        numbers = np.empty(is_blue.size, dtype=np.int64)
        for blue, side in ((True, "blue"), (False, "red")):
            chosen = np.flatnonzero(is_blue == blue)
            numbers[chosen] = self.next_number[f"{kind}-{side}"] + np.arange(chosen.size)
            self.next_number[f"{kind}-{side}"] += chosen.size
        text = [f"icao:{n:06x}" if kind == "icao" else f"mmsi:{n}" for n in numbers]
        self.parts.append(
            pl.DataFrame(
                {
                    "code": codes,
                    "track": text,
                    "side": np.where(is_blue, "blue", "red"),
                    "domain": [domain] * is_blue.size,
                }
            )
        )
        return codes

    def table(self) -> pl.DataFrame:
        return pl.concat(self.parts)


@dataclass(slots=True)
class Drawn:
    """One fleet's positions and what interceptions need of its tracks."""

    frame: pl.DataFrame
    paths: Paths
    duration: np.ndarray
    altitude: np.ndarray
    is_red: np.ndarray


def _draw_fleet(rng: np.random.Generator, fleet: Fleet, span_s: float, registry: Registry) -> Drawn:
    paths, duration = _draw_paths(rng, fleet, span_s)
    count = paths.start_s.size
    is_blue = rng.random(count) < 0.5
    codes = registry.add(is_blue, fleet.domain)
    phase = rng.integers(0, fleet.period_s, count).astype(np.float64)
    first = np.maximum(paths.start_s, 0.0)
    last = np.minimum(paths.start_s + duration, span_s - 1)
    owner, t_s = _sample_times(first, last, fleet.period_s, phase)
    lat, lon, course = paths.at(owner, t_s)
    lat, lon = _noisy(rng, lat, lon, fleet.noise_m)
    altitude = _altitudes(rng, fleet, count)
    frame = _frame(codes[owner], t_s, lat, lon, altitude[owner], paths.speed[owner], course)
    return Drawn(frame, paths, duration, altitude, ~is_blue)


def _interceptions(
    rng: np.random.Generator, jets: Drawn, span_s: float, registry: Registry
) -> pl.DataFrame:
    """Blue aircraft that join red flights: close from 30 km, stay alongside, leave."""
    paths = jets.paths
    targets = np.flatnonzero(jets.is_red & (rng.random(jets.is_red.size) < INTERCEPTED_SHARE))
    length = rng.uniform(600.0, 1200.0, targets.size)
    flight_end = paths.start_s[targets] + jets.duration[targets]
    begin = paths.start_s[targets] + rng.uniform(0.0, 1.0, targets.size) * np.maximum(
        jets.duration[targets] - length, 0.0
    )
    end = np.minimum(begin + length, flight_end)
    owner, t_s = _sample_times(
        np.maximum(begin, 0.0), np.minimum(end, span_s - 1), AIR_PERIOD_S, np.zeros(targets.size)
    )
    target = targets[owner]
    lat, lon, course = paths.at(target, t_s)
    # a trapezoid: 0 far away, 1 alongside; 30 % of the time closing, 40 % alongside, 30 % leaving
    progress = (t_s - begin[owner]) / (end - begin)[owner]
    closeness = np.clip(np.minimum(progress, 1.0 - progress) / 0.3, 0.0, 1.0)
    near_m = rng.uniform(150.0, 2000.0, targets.size)[owner]
    near_dz = rng.uniform(0.0, 200.0, targets.size)[owner]
    distance = 30_000.0 + (near_m - 30_000.0) * closeness
    bearing = rng.uniform(0.0, 2 * math.pi, targets.size)[owner]
    lat = lat + distance * np.cos(bearing) / METRES_PER_DEGREE
    lon = lon + distance * np.sin(bearing) / (METRES_PER_DEGREE * np.cos(np.radians(lat)))
    lat, lon = _noisy(rng, lat, lon, JETS.noise_m)
    alt = jets.altitude[target] - 1500.0 + (near_dz + 1500.0) * closeness
    codes = registry.add(np.ones(targets.size, dtype=bool), "air")
    return _frame(codes[owner], t_s, lat, lon, alt, paths.speed[target], course)


def generate(positions: int, seed: int = 20240301) -> pl.DataFrame:
    """A canonical table of exactly ``positions`` rows (sides set), sorted by time."""
    rng = np.random.default_rng(seed)
    span_s = max(positions / POSITIONS_PER_S * 1.08, 60.0)
    while True:
        registry = Registry()
        jets = _draw_fleet(rng, JETS, span_s, registry)
        patrols = _draw_fleet(rng, PATROLS, span_s, registry)
        ships = _draw_fleet(rng, SHIPS, span_s, registry)
        intercepts = _interceptions(rng, jets, span_s, registry)
        parts = [jets.frame, patrols.frame, ships.frame, intercepts]
        if sum(part.height for part in parts) >= positions:
            break
        span_s *= 1.2
    table = (
        pl.concat(parts)
        .sort("time", "code")
        .head(positions)
        .join(registry.table(), on="code", how="left", maintain_order="left")
        .with_columns(
            (pl.lit(EPOCH) + pl.duration(microseconds=pl.col("time"))).alias("time"),
            pl.lit("on").alias("transponder"),
            pl.lit("synthetic").alias("source"),
        )
    )
    return conform(table, keep_line=False).select(CANONICAL_COLUMNS)


def write_peer_csv(table: pl.DataFrame, path: Path) -> None:
    """The columns the peer reads from a canonical CSV; time as whole epoch seconds."""
    table.select(
        pl.col("time").dt.epoch("s").alias("time"),
        "track",
        "lat",
        "lon",
        "alt_m",
        pl.col("track").alias("callsign"),
    ).write_csv(path)


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("positions", type=int)
    parser.add_argument("output", type=Path, help="OUT.parquet or OUT.csv (canonical)")
    parser.add_argument("--seed", type=int, default=20240301)
    args = parser.parse_args()
    table = generate(args.positions, args.seed)
    from parley.tracks.load import write_table

    write_table(table, args.output)


if __name__ == "__main__":
    main()
