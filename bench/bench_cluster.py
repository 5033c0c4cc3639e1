"""Archive detection on a local Dask cluster: throughput against workers, partitioning overhead.

Synthetic two-sided traffic (bench/synthetic.py) is detected four ways, and every result is
checked identical to the first:

1. ``detect`` in one process (the reference);
2. ``detect_partitioned`` in one process (the cost of cutting time: overlaps read twice, pairs
   re-detected, one detector call per partition);
3. ``detect_on_cluster`` on a LocalCluster of 1, 2, ... worker processes (one thread each), the
   workers reading an hour-partitioned Parquet archive written beforehand.

Then the projection for one year of worldwide traffic, from the measured per-core throughput.

    .venv/bin/python bench/bench_cluster.py [--positions 1000000] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import polars as pl
from distributed import Client, LocalCluster

import benchlib
import synthetic
from parley.encounters.cluster import detect_on_cluster
from parley.encounters.detector import detect
from parley.encounters.partitioned import detect_partitioned
from parley.tracks.archive import write_archive

YEAR_S = 365 * 86_400
ADSB_AIRCRAFT = 15_000  # aloft at once worldwide (the figure)
ADSB_PERIOD_S = 10.0
AIS_SHIPS = 100_000  # under way at once worldwide, a round figure for class A/B transponders
AIS_PERIOD_S = 30.0


def _timed(work: object) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()  # type: ignore[operator]
    return time.perf_counter() - wall, time.process_time() - cpu, result


def _cluster_run(
    archive: Path, workers: int, partition_s: float, polars_threads: int | None
) -> tuple[float, float, pl.DataFrame]:
    """Wall seconds, the workers' CPU seconds, and the encounters."""
    # Polars sizes its thread pool at import: set in the worker processes' environment, it makes
    # one worker one core, so that throughput against workers measures the workers
    env = {} if polars_threads is None else {"POLARS_MAX_THREADS": str(polars_threads)}
    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers,
            processes=True,
            threads_per_worker=1,
            dashboard_address=":0",
            env=env,
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        cpu_before = client.run(time.process_time)  # the workers are up before the clock starts
        started = time.perf_counter()
        found = detect_on_cluster(client, archive, partition_s=partition_s)
        wall = time.perf_counter() - started
        cpu_after = client.run(time.process_time)
        workers_cpu = sum(cpu_after[w] - cpu_before[w] for w in cpu_after if w in cpu_before)
        return wall, workers_cpu, found.encounters


def projection(rate_per_core: float, cores_per_machine: int, machines: int) -> list[str]:
    """The arithmetic of one year of worldwide ADS-B and AIS on ``machines`` machines."""
    adsb = ADSB_AIRCRAFT / ADSB_PERIOD_S * YEAR_S
    ais = AIS_SHIPS / AIS_PERIOD_S * YEAR_S
    total = adsb + ais
    cores = cores_per_machine * machines
    seconds = total / (rate_per_core * cores)
    return [
        f"ADS-B: {ADSB_AIRCRAFT:,} aircraft / {ADSB_PERIOD_S:.0f} s x {YEAR_S:,} s "
        f"= {adsb:.3g} positions",
        f"AIS: {AIS_SHIPS:,} ships / {AIS_PERIOD_S:.0f} s x {YEAR_S:,} s = {ais:.3g} positions",
        f"total {total:.3g} positions / ({rate_per_core:,.0f} positions/s per core x {cores} "
        f"cores = {machines} machines x {cores_per_machine}) = {seconds:,.0f} s "
        f"= {seconds / 60:,.1f} min",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--positions", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--partition-s", type=float, default=3600.0)
    parser.add_argument(
        "--worker-polars-threads",
        type=int,
        default=None,
        help="Polars threads in each worker process (default: Polars' own, one per core)",
    )
    args = parser.parse_args()
    benchlib.print_machine(benchlib.machine())
    print(
        f"Polars threads: {pl.thread_pool_size()} in this process, "
        f"{args.worker_polars_threads or 'default'} in each worker"
    )
    table = synthetic.generate(args.positions)
    span_us = table.select(pl.col("time").dt.epoch("us")).to_series()
    span_h = (int(span_us.max()) - int(span_us.min())) / 3.6e9  # type: ignore[arg-type]
    print(f"{table.height:,} positions, {table['track'].n_unique():,} tracks, {span_h:.1f} h")

    wall, cpu, single = _timed(lambda: detect(table).encounters)
    assert isinstance(single, pl.DataFrame)
    rows = [["detect, one process", f"{wall:.2f}", f"{cpu:.2f}", benchlib.rate(table.height, wall)]]
    print(f"single: {wall:.2f} s wall, {cpu:.2f} s CPU, {single.height} encounters")

    wall_p, cpu_p, parted = _timed(lambda: detect_partitioned(table, partition_s=args.partition_s))
    assert parted.encounters.equals(single)  # type: ignore[attr-defined]
    stats = parted.stats  # type: ignore[attr-defined]
    rows.append(
        [
            f"detect_partitioned, one process, {stats['partitions']} partitions",
            f"{wall_p:.2f}",
            f"{cpu_p:.2f}",
            benchlib.rate(table.height, wall_p),
        ]
    )
    print(
        f"partitioned: {wall_p:.2f} s ({wall_p / wall:.2f}x), read {stats['positions_read']:,} "
        f"positions ({stats['positions_read'] / table.height:.2f}x), "
        f"{stats['redetected_pairs']} pairs re-detected"
    )

    with tempfile.TemporaryDirectory() as folder:
        archive = Path(folder) / "archive"
        write_archive(table, archive, "hour")
        for workers in args.workers:
            seconds, workers_cpu, found = _cluster_run(
                archive, workers, args.partition_s, args.worker_polars_threads
            )
            assert found.equals(single), f"cluster with {workers} workers differs"
            rows.append(
                [
                    f"detect_on_cluster, LocalCluster {workers} worker(s)",
                    f"{seconds:.2f}",
                    f"{workers_cpu:.2f} (workers)",
                    benchlib.rate(table.height, seconds),
                ]
            )
            print(
                f"cluster {workers}: {seconds:.2f} s, workers' CPU {workers_cpu:.2f} s, identical"
            )
    print(benchlib.markdown_table(["run", "wall s", "CPU s", "positions/s (wall)"], rows))
    # per core: the partitioned run's CPU time, so the overlaps and re-detections are counted
    per_core = table.height / cpu_p
    for machines in (1, 10, 100):
        print(f"\nprojection, {machines} machine(s) of 32 cores:")
        for line in projection(per_core, 32, machines):
            print("  " + line)


if __name__ == "__main__":
    main()
