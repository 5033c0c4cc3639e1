"""The live detector at scale: 50,000 tracks reporting once a second, on one core.

Synthetic traffic over Europe and its seas (35–70° N, 20° W–40° E): 40 % aircraft (200–250 m/s
at whole flight levels FL100–FL390, one in five turning at up to 3°/s), 60 % ships (5–15 m/s);
30 % of tracks nato, 20 % russia, 50 % civil, and one party aircraft in a hundred dark (so the
civil-safety pairs are examined too). Every track reports once a second, at its own random
instant within the second. Added to it, one scripted head-on pair: a nato and a russia jet at the
same flight level closing at 500 m/s (250 m/s each) from 60 km, closest approach 120 s in.

The detector is fed as a node would: every ``--tick`` seconds (0.5 s by default) the reports
that arrived since the last tick, ``feed(batch, now=tick end)``. The tick is the node's batch
interval (``batch_s`` of ``feeds.toml``): a report waits up to one tick before it is processed,
so the latency target (p99 <= 1 s) needs a tick well under a second, and each tick costs a
fixed part (the grid and the boxes over every live track) whatever its size. 0.5 s leaves half
a second for the processing; ``--tick 0.25`` is the earlier runs' cadence. The feed runs in
this one Python process (NumPy and Polars are limited to one thread: ``POLARS_MAX_THREADS=1``
and the BLAS variables are set before they load). Measured:

- processing per simulated second: the wall time of that second's ticks, summed (and CPU time);
- position-in to warning-out latency: each report's arrival instant to the end of the tick that
  processed it, run as a real-time schedule (a tick starts at its end instant or when the
  previous one finished, whichever is later);
- the head-on pair's warning lead: closest approach minus the first ``warning.raised`` of it.

The first 5 simulated seconds (the state filling up) are timed but left out of the percentiles.
Targets (issue 6): per-second processing p99 <= 200 ms, latency p99 <= 1 s, head-on warned
>= 30 s before the closest approach.

    .venv/bin/python bench/bench_live.py                    # about 3 minutes
    .venv/bin/python bench/bench_live.py --tracks 5000 --seconds 30
    .venv/bin/python bench/bench_live.py --round-slices 5   # detection rounds in 5 slices
"""

from __future__ import annotations

import os

for _name in ("POLARS_MAX_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from benchlib import machine, markdown_table, peak_rss_mb, print_machine  # noqa: E402
from parley.encounters.live import LiveDetector  # noqa: E402
from parley.tracks.geo import METRES_PER_DEGREE  # noqa: E402

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WARMUP_S = 5
HEAD_ON = ("icao:aaa001", "icao:bbb001")
HEAD_ON_CPA_S = 120.0


@dataclass(frozen=True, slots=True)
class Fleet:
    ids: list[str]
    side: np.ndarray
    air: np.ndarray
    dark: np.ndarray
    lat0: np.ndarray
    lon0: np.ndarray
    alt: np.ndarray
    speed: np.ndarray
    course0: np.ndarray
    turn: np.ndarray  # deg/s
    offset: np.ndarray  # report instant within each second


def fleet(n: int, seed: int) -> Fleet:
    rng = np.random.default_rng(seed)
    air = rng.random(n) < 0.4
    side = rng.choice(np.array(["nato", "russia", "civil"]), n, p=[0.3, 0.2, 0.5])
    dark = air & (side != "civil") & (rng.random(n) < 0.01)
    ids = [f"icao:{i:06x}" if a else f"mmsi:{200000000 + i}" for i, a in enumerate(air)]
    alt = np.where(air, rng.integers(100, 391, n) * 100 * 0.3048, 0.0)
    speed = np.where(air, rng.uniform(200, 250, n), rng.uniform(5, 15, n))
    turn = np.where(air & (rng.random(n) < 0.2), rng.uniform(-3, 3, n), 0.0)
    lat0, lon0 = rng.uniform(35, 70, n), rng.uniform(-20, 40, n)
    course0 = rng.uniform(0, 360, n)
    # the scripted head-on pair: same flight level, 60 km apart on one meridian, 250 m/s each
    lat_mid, lon_mid = 57.0, 20.0
    half = 30_000.0 / METRES_PER_DEGREE
    extra = {
        "ids": list(HEAD_ON),
        "side": ["nato", "russia"],
        "air": [True, True],
        "dark": [False, False],
        "lat0": [lat_mid - half, lat_mid + half],
        "lon0": [lon_mid, lon_mid],
        "alt": [9144.0, 9144.0],
        "speed": [250.0, 250.0],
        "course0": [0.0, 180.0],
        "turn": [0.0, 0.0],
    }
    return Fleet(
        ids=ids + extra["ids"],
        side=np.concatenate([side, extra["side"]]),
        air=np.concatenate([air, extra["air"]]),
        dark=np.concatenate([dark, extra["dark"]]),
        lat0=np.concatenate([lat0, extra["lat0"]]),
        lon0=np.concatenate([lon0, extra["lon0"]]),
        alt=np.concatenate([alt, extra["alt"]]),
        speed=np.concatenate([speed, extra["speed"]]),
        course0=np.concatenate([course0, extra["course0"]]),
        turn=np.concatenate([turn, extra["turn"]]),
        offset=rng.uniform(0, 1, n + 2),
    )


def positions(f: Fleet, idx: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, ...]:
    """Lat, lon, course at times t (s) of tracks idx: straight lines or constant-rate turns."""
    v, c0, w = f.speed[idx], np.radians(f.course0[idx]), np.radians(f.turn[idx])
    turning = np.abs(w) > 1e-9
    sw = np.where(turning, w, 1.0)
    east = np.where(turning, v / sw * (np.cos(c0) - np.cos(c0 + w * t)), v * np.sin(c0) * t)
    north = np.where(turning, v / sw * (np.sin(c0 + w * t) - np.sin(c0)), v * np.cos(c0) * t)
    lat = f.lat0[idx] + north / METRES_PER_DEGREE
    lon = f.lon0[idx] + east / (METRES_PER_DEGREE * np.cos(np.radians(f.lat0[idx])))
    course = np.degrees(c0 + w * t) % 360.0
    return lat, lon, course


def batches(f: Fleet, seconds: int, tick: float) -> list[tuple[float, pl.DataFrame, np.ndarray]]:
    """(tick end in s, the reports that arrived during the tick, their arrival instants)."""
    ids = pl.Series("track", f.ids)
    sides = pl.Series("side", f.side.tolist())
    out = []
    per_second = round(1 / tick)
    for second in range(seconds):
        for k in range(per_second):
            lo, hi = k * tick, (k + 1) * tick
            idx = np.flatnonzero((f.offset >= lo) & (f.offset < hi))
            t = second + f.offset[idx]
            lat, lon, course = positions(f, idx, t)
            frame = pl.DataFrame(
                {
                    "time": pl.Series(
                        [T0 + timedelta(seconds=float(x)) for x in t],
                        dtype=pl.Datetime("us", "UTC"),
                    ),
                    "track": ids.gather(idx),
                    "side": sides.gather(idx),
                    "domain": np.where(f.air[idx], "air", "sea"),
                    "lat": lat,
                    "lon": lon,
                    "alt_m": f.alt[idx],
                    "speed_mps": f.speed[idx],
                    "course_deg": course,
                    "vrate_mps": np.zeros(idx.size),
                    "transponder": np.where(f.dark[idx], "off", "on"),
                }
            )
            out.append((second + hi, frame, t))
    return out


def run(
    tracks: int, seconds: int, tick: float, seed: int, round_slices: int = 1
) -> dict[str, object]:
    f = fleet(tracks, seed)
    prepared = batches(f, seconds, tick)
    # (round_slices only when asked: an older tree run side by side does not have it)
    slicing = {"round_slices": round_slices} if round_slices != 1 else {}
    detector = LiveDetector(capacity=tracks + 16, **slicing)
    per_tick_wall, per_tick_cpu, latencies = [], [], []
    finished = 0.0
    first_warning: float | None = None
    events: dict[str, int] = {}
    for end, frame, arrivals in prepared:
        wall0, cpu0 = time.perf_counter(), time.process_time()
        out = detector.feed(frame, now=T0 + timedelta(seconds=end))
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        per_tick_wall.append(wall)
        per_tick_cpu.append(cpu)
        start = max(end, finished)
        finished = start + wall
        if end > WARMUP_S:
            latencies.append(finished - arrivals)
        for event in out:
            events[event.type] = events.get(event.type, 0) + 1
            is_head_on = getattr(event, "a", None) == HEAD_ON[0] and event.b == HEAD_ON[1]  # type: ignore[union-attr]
            if event.type == "warning.raised" and is_head_on and first_warning is None:
                first_warning = (event.time - T0).total_seconds()  # type: ignore[union-attr]
    per_second = round(1 / tick)
    wall_s = np.add.reduceat(np.array(per_tick_wall), np.arange(0, len(per_tick_wall), per_second))
    cpu_s = np.add.reduceat(np.array(per_tick_cpu), np.arange(0, len(per_tick_cpu), per_second))
    wall_s, cpu_s = wall_s[WARMUP_S:], cpu_s[WARMUP_S:]
    lat = np.concatenate(latencies) if latencies else np.zeros(1)
    return {
        "tracks": len(f.ids),
        "seconds": seconds,
        "tick_s": tick,
        "reports": sum(frame.height for _, frame, _ in prepared),
        "second_wall_ms": np.percentile(wall_s, [50, 99, 100]) * 1e3,
        "second_cpu_ms": np.percentile(cpu_s, [50, 99, 100]) * 1e3,
        "latency_s": np.percentile(lat, [50, 99, 100]),
        "head_on_lead_s": None if first_warning is None else HEAD_ON_CPA_S - first_warning,
        "events": events,
        "watched_pairs_end": len(detector._watches),
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tracks", type=int, default=50_000)
    parser.add_argument("--seconds", type=int, default=150)
    parser.add_argument("--tick", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument(
        "--round-slices",
        type=int,
        default=1,
        help="re-detect the watched pairs in this many slices (LiveDetector(round_slices=))",
    )
    args = parser.parse_args()
    print_machine(machine())
    t0 = time.perf_counter()
    result = run(args.tracks, args.seconds, args.tick, args.seed, args.round_slices)
    print(f"(whole run {time.perf_counter() - t0:.0f} s including traffic generation)")
    w, c, lat = result["second_wall_ms"], result["second_cpu_ms"], result["latency_s"]
    lead = result["head_on_lead_s"]
    rows = [
        [
            "processing per second, wall (ms)",
            f"{w[0]:.0f}",
            f"{w[1]:.0f}",
            f"{w[2]:.0f}",
            "p99 ≤ 200",
        ],
        ["processing per second, CPU (ms)", f"{c[0]:.0f}", f"{c[1]:.0f}", f"{c[2]:.0f}", ""],
        [
            "position-in to warning-out (s)",
            f"{lat[0]:.3f}",
            f"{lat[1]:.3f}",
            f"{lat[2]:.3f}",
            "p99 ≤ 1",
        ],
    ]
    print(
        f"{result['tracks']:,} tracks, {result['seconds']} s, tick {result['tick_s']} s, "
        f"{result['reports']:,} reports; peak RSS {result['peak_rss_mb']:.0f} MiB"
    )
    print(markdown_table(["measure", "p50", "p99", "max", "target"], rows))
    lead_text = "never warned" if lead is None else f"{lead:.1f} s"
    print(
        f"head-on at 500 m/s: first warning {lead_text} before the closest approach (target ≥ 30 s)"
    )
    print(f"events: {result['events']}; watched pairs at the end: {result['watched_pairs_end']}")


if __name__ == "__main__":
    main()
