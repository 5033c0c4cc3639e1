"""Parley's detector against the peer (traffic's closest_point_of_approach), and at scale.

Run from the repository root::

    .venv/bin/python bench/bench_detect.py            # everything (about 5 min on 2 cores)
    .venv/bin/python bench/bench_detect.py --help     # parts, sizes, windows, timeouts

Part 1, real samples (``switzerland`` and ``quickstart`` of ../shared/data/adsb; skipped with a
message when that folder is missing): one time window of each is written to a file that both
tools read. Parley's detection is timed with the load excluded and included (best of 3) and once
through the CLI; the peer runs once and reports its own ``seconds`` (the time inside
closest_point_of_approach). Its pairs inside the air-air volume (lateral < 9,260 m, vertical
< 1,000 ft) whose two aircraft are on opposing sides (Parley's side of each icao24) must all be
among Parley's encounters, with Parley's minimum no larger than the peer's.

Part 2, synthetic scale series (bench/synthetic.py): 10 k to 10 M positions, each detected in its
own process: positions/s, wall and CPU time, peak RSS, candidate windows, encounters, and where
the time goes (stage timers). The peer runs on the small sizes, with a timeout.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

import benchlib
from benchlib import Timing, best_of, markdown_table, rate
from parley.encounters.policy import Policy
from parley.tracks.schema import CIVIL

if TYPE_CHECKING:
    from parley.tracks.sides import SidesConfig

# The readers and the sides module are imported where used, so that the child process that
# measures the detector's peak memory loads only what detection needs.

FEET = 0.3048
ICAO_HALVES = benchlib.BENCH / "sides-icao-halves.toml"
#: Windows short enough for the peer to finish in a few minutes (it needs ~40 min for the whole
#: 17 hours of the switzerland sample); --full-samples uses the whole files.
WINDOWS = {
    "switzerland": ("2018-08-01T09:00:00", "2018-08-01T10:00:00"),  # the busiest hour
    "quickstart": ("2021-10-07T12:00:00", "2021-10-07T12:30:00"),
}
SIZES = {"10k": 10_000, "100k": 100_000, "1M": 1_000_000, "10M": 10_000_000}
#: Relative excess of Parley's minimum over the peer's still counted as equal: Parley measures on
#: a local flat projection of a sphere, the peer on the WGS84 ellipsoid (up to ~0.4 % apart).
DISTANCE_TOLERANCE = 0.005


# --- the peer


@dataclass(slots=True)
class PeerRun:
    ok: bool
    note: str = ""
    seconds: float = 0.0
    wall_s: float = 0.0
    positions: int = 0
    flights: int = 0
    pairs: list[dict[str, Any]] = field(default_factory=list)


def run_peer(path: Path, timeout_s: float) -> PeerRun:
    if not benchlib.PEER.exists():
        return PeerRun(False, f"peer not found at {benchlib.PEER}")
    result, wall, error = benchlib.run_json([str(benchlib.PEER), str(path)], timeout_s)
    if result is None:
        return PeerRun(False, error, wall_s=wall)
    return PeerRun(
        True,
        "",
        float(result["seconds"]),
        wall,
        int(result["positions"]),
        int(result["flights"]),
        list(result["pairs"]),
    )


def load_peer_result(path: Path) -> PeerRun:
    """A peer run saved earlier (its JSON output), e.g. the ~40 min one on a whole sample."""
    result = json.loads(path.read_text())
    return PeerRun(
        True,
        f"saved run {path.name}",
        float(result["seconds"]),
        0.0,
        int(result["positions"]),
        int(result["flights"]),
        list(result["pairs"]),
    )


def peer_track(icao_or_track: str) -> str:
    """The peer names aircraft by bare icao24 (real data) or by our track id (synthetic CSV)."""
    return icao_or_track if ":" in icao_or_track else f"icao:{icao_or_track.lower()}"


# --- comparing pairs


@dataclass(slots=True)
class Comparison:
    peer_inside: int = 0  # peer pairs inside a volume, any sides
    peer_opposing: int = 0  # ... of which on opposing sides
    unknown_side: int = 0  # ... pairs with an aircraft Parley has no row of
    found: int = 0
    missed: list[dict[str, Any]] = field(default_factory=list)
    differences_m: list[float] = field(default_factory=list)  # Parley min - peer min, found pairs
    relative_excess: list[float] = field(default_factory=list)  # (Parley - peer) / peer when > tol
    parley_pairs: int = 0
    parley_only: Counter[str] = field(default_factory=Counter)
    by_kind: Counter[str] = field(default_factory=Counter)


def _peer_volume(kind: str, policy: Policy) -> Callable[[dict[str, Any]], bool]:
    """Is the peer's reported instant inside the monitoring volume of this kind of pair?"""
    volumes = policy.volumes
    if kind == "air-air":
        return lambda p: p["lateral_m"] < volumes.air_air_horizontal_m and p["vertical_ft"] < 1000
    if kind == "air-sea":  # the ship is at 0 ft, so the vertical distance is the aircraft's height
        return lambda p: (
            p["lateral_m"] < volumes.air_sea_horizontal_m
            and p["vertical_ft"] * FEET < volumes.air_sea_max_altitude_m
        )
    return lambda p: p["lateral_m"] < volumes.sea_sea_horizontal_m


def _kind(track_a: str, track_b: str) -> str:
    domains = sorted("air" if t.startswith("icao:") else "sea" for t in (track_a, track_b))
    return "air-sea" if domains == ["air", "sea"] else f"{domains[0]}-{domains[1]}"


def common_instants(table: pl.DataFrame, track_a: str, track_b: str) -> int:
    """How many report times the two tracks share (the only instants the peer compares)."""
    times = [table.filter(pl.col("track") == t).select("time").unique() for t in (track_a, track_b)]
    return times[0].join(times[1], on="time").height


def compare_pairs(
    peer_pairs: list[dict[str, Any]],
    encounters: pl.DataFrame,
    side_of: dict[str, str],
    policy: Policy,
    table: pl.DataFrame | None = None,
) -> Comparison:
    """Peer pairs inside a volume and opposing must be among Parley's encounters."""
    result = Comparison()
    parley_min: dict[tuple[str, str], float] = {}
    for a, b, minimum in encounters.select("a", "b", "min_horizontal_m").iter_rows():
        key = (min(a, b), max(a, b))
        parley_min[key] = min(minimum, parley_min.get(key, float("inf")))
    result.parley_pairs = len(parley_min)
    peer_by_key: dict[tuple[str, str], dict[str, Any]] = {}
    for pair in peer_pairs:
        a, b = peer_track(pair["a"]), peer_track(pair["b"])
        key = (min(a, b), max(a, b))
        peer_by_key[key] = pair
        kind = _kind(*key)
        if not _peer_volume(kind, policy)(pair):
            continue
        result.peer_inside += 1
        sides = (side_of.get(key[0]), side_of.get(key[1]))
        if None in sides:
            result.unknown_side += 1
            continue
        if CIVIL in sides or sides[0] == sides[1]:
            continue
        result.peer_opposing += 1
        result.by_kind[kind] += 1
        if key not in parley_min:
            result.missed.append({**pair, "kind": kind})
            continue
        result.found += 1
        difference = parley_min[key] - pair["lateral_m"]
        result.differences_m.append(difference)
        if difference > DISTANCE_TOLERANCE * max(pair["lateral_m"], 1.0):
            result.relative_excess.append(difference / max(pair["lateral_m"], 1.0))
    for key in parley_min:
        pair = peer_by_key.get(key)
        if pair is None:
            shared = common_instants(table, *key) if table is not None else -1
            reason = (
                "not reported by the peer: no common sample instant"
                if shared == 0
                else "not reported by the peer"
            )
            result.parley_only[reason] += 1
        elif not _peer_volume(_kind(*key), policy)(pair):
            horizontal = _peer_volume(_kind(*key), policy)({**pair, "vertical_ft": 0.0})
            if not horizontal:
                reason = "laterally outside"
            elif pair["vertical_ft"] == 1000:
                reason = "exactly 1,000 ft apart vertically"
            else:
                reason = "vertically outside"
            result.parley_only[f"peer's closest sampled instant {reason}"] += 1
    return result


def describe_differences(values: list[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[round(q * (len(ordered) - 1))]

    return (
        f"min {ordered[0]:.0f}, p5 {at(0.05):.0f}, median {statistics.median(ordered):.0f}, "
        f"p95 {at(0.95):.0f}, max {ordered[-1]:.1f}"
    )


# --- part 1: real samples


def window_file(name: str, full: bool, workdir: Path) -> tuple[Path, str]:
    """The sample, or one window of it, as a traffic JSON file both tools read."""
    source = benchlib.DATA / "adsb" / f"{name}.json.gz"
    if full:
        return source, "whole file"
    start, stop = WINDOWS[name]
    target = workdir / f"{name}-{start[11:13]}{start[14:16]}-{stop[11:13]}{stop[14:16]}.json.gz"
    label = f"{start.replace('T', ' ')}–{stop[11:16]} UTC"
    if target.exists():
        return target, label
    lo = datetime.fromisoformat(start).replace(tzinfo=UTC).timestamp() * 1000
    hi = datetime.fromisoformat(stop).replace(tzinfo=UTC).timestamp() * 1000
    with gzip.open(source, "rt", encoding="utf-8") as handle:
        records = [r for r in json.load(handle) if lo <= r["timestamp"] < hi]
    with gzip.open(target, "wt", encoding="utf-8", compresslevel=6) as handle:
        json.dump(records, handle)
    return target, label


@dataclass(slots=True)
class SplitResult:
    split: str
    parties: dict[str, int]
    tracks: int
    positions: int
    excluded: Timing
    included: Timing
    cli_wall_s: float
    cli_encounters: int | None
    encounters: int
    comparison: Comparison


def side_counts(table: pl.DataFrame, config: SidesConfig) -> dict[str, int]:
    from parley.tracks.sides import parties

    counts = dict(table.group_by("side").agg(pl.col("track").n_unique()).iter_rows())
    return {party: int(counts.get(party, 0)) for party in [*parties(config), CIVIL]}


def run_cli(path: Path, sides_path: Path) -> tuple[float, int | None]:
    parley = Path(sys.executable).parent / "parley"
    command = [str(parley), "detect", str(path), "--sides", str(sides_path), "--json"]
    document, wall, error = benchlib.run_json(command, 600)
    if document is None:
        print(f"  CLI failed: {error}")
        return wall, None
    return wall, len(document["encounters"])


def bench_split(
    path: Path, split: str, sides_path: Path, peer: PeerRun, repeats: int
) -> SplitResult | None:
    from parley.encounters.detector import detect
    from parley.tracks.load import load_tracks
    from parley.tracks.sides import load_sides, parties

    config = load_sides(sides_path)
    policy = Policy()
    table = load_tracks([path], sides=config).table
    counts = side_counts(table, config)
    if sum(1 for party in parties(config) if counts[party] > 0) < 2:
        empty = [party for party in parties(config) if counts[party] == 0]
        print(f"  split {split}: party {', '.join(empty)} has no track here; skipped")
        return None
    excluded, detection = best_of(repeats, lambda: detect(table, policy))
    included, _ = best_of(repeats, lambda: detect(load_tracks([path], sides=config).table, policy))
    cli_wall, cli_count = run_cli(path, sides_path)
    side_of = dict(table.select("track", "side").unique("track").iter_rows())
    comparison = (
        compare_pairs(peer.pairs, detection.encounters, side_of, policy, table)
        if peer.ok
        else Comparison()
    )
    return SplitResult(
        split,
        counts,
        table["track"].n_unique(),
        table.height,
        excluded,
        included,
        cli_wall,
        cli_count,
        detection.encounters.height,
        comparison,
    )


def bench_samples(args: argparse.Namespace, report: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    if not benchlib.DATA.is_dir():
        message = f"Part 1 skipped: {benchlib.DATA} is missing (set PARLEY_SHARED)."
        print(message)
        return [message]
    from parley.tracks.sides import by_registry_sides_path

    splits = [("by registry (packaged)", by_registry_sides_path()), ("ICAO halves", ICAO_HALVES)]
    for name in args.samples:
        path, label = window_file(name, args.full_samples, args.workdir)
        if name in args.peer_result:
            print(f"\n{name}: {label} ({path.name}); peer figures from {args.peer_result[name]}")
            peer = load_peer_result(args.peer_result[name])
        else:
            print(
                f"\n{name}: {label} ({path.name}); running the peer "
                f"(timeout {args.peer_timeout:.0f} s)"
            )
            peer = run_peer(path, args.peer_timeout)
        print(
            f"  peer: {'ok' if peer.ok else peer.note}; {peer.seconds:.1f} s inside CPA, "
            f"{peer.wall_s:.1f} s wall, {len(peer.pairs)} pairs reported"
        )
        results = []
        for split, sides_path in splits:
            result = bench_split(path, split, sides_path, peer, args.repeats)
            if result is None:
                lines.append(f"- {name}, split {split}: one party has no track; not run.")
                continue
            results.append(result)
            print_split(name, result, peer)
        report["samples"][name] = {
            "window": label,
            "peer": {
                k: getattr(peer, k)
                for k in ("ok", "note", "seconds", "wall_s", "positions", "flights")
            },
            "peer_pairs": len(peer.pairs),
            "splits": [split_json(r) for r in results],
        }
        lines += sample_lines(name, label, peer, results)
    return lines


def print_split(name: str, r: SplitResult, peer: PeerRun) -> None:
    c = r.comparison
    print(f"  split {r.split}: tracks per party {r.parties}; {r.positions} positions")
    print(
        f"    Parley detect {r.excluded.wall_s:.3f} s (cpu {r.excluded.cpu_s:.3f}); with load "
        f"{r.included.wall_s:.3f} s; CLI {r.cli_wall_s:.2f} s; {r.encounters} encounters"
    )
    if peer.ok:
        print(
            f"    peer pairs inside the volume: {c.peer_inside}, opposing {c.peer_opposing} "
            f"(unknown side {c.unknown_side}); found {c.found}, missed {len(c.missed)}"
        )
        print(
            f"    Parley min - peer min (m): {describe_differences(c.differences_m)}; "
            f"above tolerance: {len(c.relative_excess)}"
        )
        print(f"    Parley pairs {c.parley_pairs}; not in the peer's volume: {dict(c.parley_only)}")
        for miss in c.missed[:10]:
            print(f"    MISSED {miss}")


def split_json(r: SplitResult) -> dict[str, Any]:
    c = r.comparison
    return {
        "split": r.split,
        "parties": r.parties,
        "tracks": r.tracks,
        "positions": r.positions,
        "detect_s": r.excluded.wall_s,
        "detect_cpu_s": r.excluded.cpu_s,
        "with_load_s": r.included.wall_s,
        "with_load_cpu_s": r.included.cpu_s,
        "cli_wall_s": r.cli_wall_s,
        "cli_encounters": r.cli_encounters,
        "encounters": r.encounters,
        "peer_inside": c.peer_inside,
        "peer_opposing": c.peer_opposing,
        "unknown_side": c.unknown_side,
        "found": c.found,
        "missed": c.missed,
        "differences_m": c.differences_m,
        "relative_excess": c.relative_excess,
        "parley_pairs": c.parley_pairs,
        "parley_only": dict(c.parley_only),
    }


def sample_lines(name: str, label: str, peer: PeerRun, results: list[SplitResult]) -> list[str]:
    rows = []
    for r in results:
        c = r.comparison
        ratio = f"{peer.seconds / r.excluded.wall_s:.0f}×" if peer.ok else "-"
        ratio_load = f"{peer.seconds / r.included.wall_s:.0f}×" if peer.ok else "-"
        rows.append(
            [
                r.split,
                " / ".join(f"{k} {v}" for k, v in r.parties.items()),
                r.positions,
                f"{r.excluded.wall_s:.3f} ({r.excluded.cpu_s:.3f})",
                f"{r.included.wall_s:.2f} ({r.included.cpu_s:.2f})",
                f"{r.cli_wall_s:.2f}",
                f"{peer.seconds:.1f}" if peer.ok else peer.note,
                ratio,
                ratio_load,
                r.encounters,
                f"{c.found}/{c.peer_opposing}" if peer.ok else "-",
                len(c.missed) if peer.ok else "-",
            ]
        )
    header = [
        "split",
        "tracks per party",
        "positions",
        "Parley detect s (cpu)",
        "with load s (cpu)",
        "CLI s",
        "peer s",
        "peer/Parley",
        "peer/(Parley+load)",
        "Parley encounters",
        "peer pairs found",
        "missed",
    ]
    lines = [
        f"\n**{name}**, {label}; the peer: {peer.positions} positions, {peer.flights} flights,"
        f" {len(peer.pairs)} pairs reported, "
        + (f"{peer.wall_s:.0f} s wall for its process\n" if peer.wall_s else f"{peer.note}\n"),
        markdown_table(header, rows),
    ]
    for r in results:
        c = r.comparison
        if peer.ok:
            lines.append(
                f"- {r.split}: Parley min − peer min over the {c.found} found pairs (m): "
                f"{describe_differences(c.differences_m)}; above the {DISTANCE_TOLERANCE:.1%} "
                f"tolerance: {len(c.relative_excess)}. Parley's {c.parley_pairs} pairs not "
                f"inside the peer's volume: {dict(c.parley_only) or 'none'}."
            )
            lines += [f"  - missed: {m}" for m in c.missed]
    return lines


# --- part 2: synthetic scale series

STAGES = (
    "_usable",
    "_track_table",
    "_arrays",
    "segment_slices",
    "eligible_pairs",
    "candidate_slices",
    "_windows",
    "_batches",
    "measure_windows",
    "aggregate",
    "_finish",
)


def _timed_stages() -> dict[str, list[float]]:
    """Wrap the detector's stages (those that exist) with wall, CPU and peak-RSS probes."""
    import parley.encounters.detector as module

    spent: dict[str, list[float]] = {}

    def wrap(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            wall0, cpu0 = time.perf_counter(), time.process_time()
            result = function(*args, **kwargs)
            entry = spent.setdefault(name, [0.0, 0.0, 0.0])
            entry[0] += time.perf_counter() - wall0
            entry[1] += time.process_time() - cpu0
            entry[2] = benchlib.peak_rss_mb()
            return result

        return timed

    for name in STAGES:
        if callable(getattr(module, name, None)):
            setattr(module, name, wrap(name, getattr(module, name)))
    return spent


def child(path: Path, pairs_out: Path | None) -> None:
    """One detection in this process; prints one JSON object."""
    stages = _timed_stages()
    import parley.encounters.detector as module

    wall0, cpu0 = time.perf_counter(), time.process_time()
    table = pl.read_parquet(path)
    read_s, read_cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    rss_table = benchlib.peak_rss_mb()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    detection = module.detect(table, Policy())
    detect_s, detect_cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    encounters = detection.encounters
    if pairs_out is not None:
        encounters.select("a", "b", "kind", "min_horizontal_m").write_parquet(pairs_out)
    by_kind = dict(encounters.group_by("kind").len().iter_rows()) if encounters.height else {}
    json.dump(
        {
            "positions": table.height,
            "tracks": table["track"].n_unique(),
            "read_s": read_s,
            "read_cpu_s": read_cpu,
            "detect_s": detect_s,
            "detect_cpu_s": detect_cpu,
            "peak_rss_mb": benchlib.peak_rss_mb(),
            "rss_after_read_mb": rss_table,
            "stats": detection.stats,
            "by_kind": by_kind,
            "stages": stages,
            "hours": _hours(table),
        },
        sys.stdout,
    )


def _hours(table: pl.DataFrame) -> float:
    seconds = table["time"].dt.epoch("s")
    return float(seconds.max() - seconds.min()) / 3600  # type: ignore[operator]


def synthetic_file(label: str, workdir: Path) -> Path:
    import synthetic

    path = workdir / f"synthetic-{label}.parquet"
    stamp = workdir / f"synthetic-{label}.version"
    version = f"{Path(synthetic.__file__).stat().st_mtime_ns}"
    if path.exists() and stamp.exists() and stamp.read_text() == version:
        return path
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(benchlib.BENCH / "synthetic.py"), str(SIZES[label]), str(path)],
        check=True,
    )
    stamp.write_text(version)
    print(f"  generated {path.name} in {time.perf_counter() - started:.1f} s")
    return path


def bench_synthetic(args: argparse.Namespace, report: dict[str, Any]) -> list[str]:
    rows, peer_rows, stage_lines = [], [], []
    for label in args.sizes:
        path = synthetic_file(label, args.workdir)
        repeats = 1 if SIZES[label] >= 10_000_000 else args.repeats
        pairs_out = args.workdir / f"encounters-{label}.parquet"
        runs = []
        for _ in range(repeats):
            command = [
                sys.executable,
                __file__,
                "--child",
                str(path),
                "--pairs-out",
                str(pairs_out),
            ]
            result, wall, error = benchlib.run_json(command, args.child_timeout)
            if result is None:
                print(f"  {label}: detection failed: {error}")
                break
            result["process_wall_s"] = wall
            runs.append(result)
        if not runs:
            rows.append([label, SIZES[label], "failed", "", "", "", "", "", "", ""])
            continue
        best = min(runs, key=lambda r: r["detect_s"])
        stats = best["stats"]
        print(
            f"  {label}: detect {best['detect_s']:.2f} s (cpu {best['detect_cpu_s']:.2f}), "
            f"peak RSS {best['peak_rss_mb']:.0f} MB, {stats.get('candidate_windows')} windows,"
            f" {stats.get('encounters', 0)} encounters {best['by_kind']}"
        )
        rows.append(
            [
                label,
                f"{best['positions']:,}",
                span_text(best["hours"]),
                best["tracks"],
                rate(best["positions"], best["detect_s"]),
                f"{best['detect_s']:.2f} ({best['detect_cpu_s']:.2f})",
                f"{best['read_s']:.2f}",
                f"{best['peak_rss_mb']:.0f}",
                stats.get("candidate_windows", 0),
                f"{stats.get('encounters', 0)} "
                + "/".join(
                    str(best["by_kind"].get(k, 0)) for k in ("air-air", "air-sea", "sea-sea")
                ),
            ]
        )
        report["synthetic"][label] = {"runs": runs}
        stage_lines.append(stage_line(label, best))
        if label in args.peer_sizes:
            peer_rows.append(synthetic_peer(label, path, pairs_out, best, args, report))
    header = [
        "size",
        "positions",
        "time simulated",
        "tracks",
        "positions/s",
        "detect s (cpu)",
        "read Parquet s",
        "peak RSS MB",
        "candidate windows",
        "encounters (air-air/air-sea/sea-sea)",
    ]
    lines = ["", markdown_table(header, rows), "", "Where the time goes (CPU s per stage):", ""]
    lines += stage_lines
    if peer_rows:
        lines += [
            "",
            markdown_table(
                [
                    "size",
                    "peer s (inside CPA)",
                    "peer wall s",
                    "Parley detect s",
                    "peer/Parley",
                    "peer pairs inside a volume, opposing",
                    "found by Parley",
                    "missed",
                    "Parley min − peer min (m)",
                ],
                peer_rows,
            ),
        ]
    skipped = [label for label in args.sizes if label not in args.peer_sizes]
    if skipped:
        lines.append(f"\nThe peer was not run on {', '.join(skipped)} (see RESULTS.md).")
    return lines


def span_text(hours: float) -> str:
    return f"{hours * 60:.0f} min" if hours < 1 else f"{hours:.1f} h"


def stage_line(label: str, run: dict[str, Any]) -> str:
    stages = run["stages"]
    total = sum(v[1] for v in stages.values()) or 1.0
    parts = sorted(stages.items(), key=lambda kv: -kv[1][1])
    text = ", ".join(
        f"{name} {v[1]:.2f} ({v[1] / total:.0%}, peak {v[2]:.0f} MB after)" for name, v in parts[:6]
    )
    return f"- {label}: {text}; RSS after reading the table {run['rss_after_read_mb']:.0f} MB"


def synthetic_peer(
    label: str,
    path: Path,
    pairs_out: Path,
    parley: dict[str, Any],
    args: argparse.Namespace,
    report: dict[str, Any],
) -> list[Any]:
    import synthetic

    csv_path = args.workdir / f"synthetic-{label}-peer.csv"
    table = pl.read_parquet(path)
    synthetic.write_peer_csv(table, csv_path)
    print(f"  {label}: running the peer (timeout {args.peer_timeout} s)")
    peer = run_peer(csv_path, args.peer_timeout)
    if not peer.ok:
        print(f"  {label}: peer {peer.note}")
        return [
            label,
            peer.note,
            f"{peer.wall_s:.0f}",
            f"{parley['detect_s']:.2f}",
            "-",
            "-",
            "-",
            "-",
            "-",
        ]
    side_of = dict(table.select("track", "side").unique("track").iter_rows())
    comparison = compare_pairs(peer.pairs, pl.read_parquet(pairs_out), side_of, Policy(), table)
    report["synthetic"][label]["peer"] = {
        "seconds": peer.seconds,
        "wall_s": peer.wall_s,
        "pairs": len(peer.pairs),
        "comparison": {
            "peer_inside": comparison.peer_inside,
            "peer_opposing": comparison.peer_opposing,
            "found": comparison.found,
            "missed": comparison.missed,
            "by_kind": dict(comparison.by_kind),
            "parley_only": dict(comparison.parley_only),
            "differences_m": comparison.differences_m,
        },
    }
    print(
        f"  {label}: peer {peer.seconds:.1f} s; opposing pairs inside {comparison.peer_opposing}"
        f" {dict(comparison.by_kind)}; found {comparison.found}; missed "
        f"{len(comparison.missed)}; Parley-only {dict(comparison.parley_only)}"
    )
    for miss in comparison.missed[:10]:
        print(f"    MISSED {miss}")
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(comparison.by_kind.items()))
    return [
        label,
        f"{peer.seconds:.1f}",
        f"{peer.wall_s:.0f}",
        f"{parley['detect_s']:.2f}",
        f"{peer.seconds / parley['detect_s']:.0f}×",
        f"{comparison.peer_opposing} ({kinds})",
        comparison.found,
        len(comparison.missed),
        describe_differences(comparison.differences_m),
    ]


# --- main


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--parts", default="samples,synthetic", help="samples, synthetic or both (default)"
    )
    parser.add_argument("--samples", default="switzerland,quickstart")
    parser.add_argument(
        "--full-samples",
        action="store_true",
        help="whole sample files instead of the default windows (the peer needs "
        "~40 min for switzerland)",
    )
    parser.add_argument("--sizes", default="10k,100k,1M,10M", help=f"of {', '.join(SIZES)}")
    parser.add_argument(
        "--peer-sizes", default="10k,100k", help="synthetic sizes the peer also runs on"
    )
    parser.add_argument("--peer-timeout", type=float, default=420.0)
    parser.add_argument("--child-timeout", type=float, default=600.0)
    parser.add_argument("--repeats", type=int, default=3, help="best of N (10M: one run)")
    parser.add_argument("--workdir", type=Path, default=benchlib.WORKDIR)
    parser.add_argument(
        "--peer-result",
        action="append",
        default=[],
        metavar="SAMPLE=FILE",
        help="use a saved peer output (its JSON) for SAMPLE instead of running "
        "the peer; only meaningful with the same data (e.g. --full-samples)",
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--pairs-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    for name in ("parts", "samples", "sizes", "peer_sizes"):
        setattr(args, name, [x for x in getattr(args, name).split(",") if x])
    try:
        args.peer_result = {
            name: Path(file) for name, file in (item.split("=", 1) for item in args.peer_result)
        }
    except ValueError:
        parser.error("--peer-result takes SAMPLE=FILE")
    unknown = [s for s in args.sizes + args.peer_sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown size {unknown[0]!r} (known: {', '.join(SIZES)})")
    return args


def main() -> None:
    args = parse_args()
    if args.child:
        child(args.child, args.pairs_out)
        return
    args.workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    info = benchlib.machine()
    benchlib.print_machine(info)
    report: dict[str, Any] = {"machine": info, "samples": {}, "synthetic": {}}
    lines: list[str] = []
    if "samples" in args.parts:
        print("\n== Part 1: real samples, Parley and the peer side by side ==")
        lines += ["### Real samples", *bench_samples(args, report)]
    if "synthetic" in args.parts:
        print("\n== Part 2: synthetic scale series ==")
        lines += ["", "### Synthetic scale series", *bench_synthetic(args, report)]
    report["total_s"] = time.perf_counter() - started
    out = args.workdir / "bench_detect.json"
    out.write_text(json.dumps(report, indent=1, default=str))
    print("\n" + "\n".join(lines))
    print(f"\ntotal {report['total_s']:.0f} s; raw figures in {out}")


if __name__ == "__main__":
    main()
