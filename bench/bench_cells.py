"""Spatial cells inside time partitions: rows per task and CPU, with and without cells.

Synthetic two-sided traffic (bench/synthetic.py, a 16° x 6.5° box over the Baltic) is detected in
one process by ``detect`` (the reference), by ``detect_partitioned`` with time partitions only,
and with spatial cells of each size asked for; every result is checked identical to the
reference (``DataFrame.equals``). Optionally, the same on a LocalCluster (``--cluster N``), the
workers reading an hour-partitioned Parquet archive.

The figure cells are for is the largest number of rows one task holds (``max_positions_per_task``:
a worker's memory follows it); the price is the CPU of the extra tasks and of the tracks read by
several cells (``positions_read``).

    .venv/bin/python bench/bench_cells.py [--positions 1000000] [--cell-degrees 4 2 1]
        [--partition-s 3600] [--cluster 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl
from distributed import Client, LocalCluster

import benchlib
import synthetic
from parley.encounters.cells import CellGrid
from parley.encounters.cluster import detect_on_cluster
from parley.encounters.detector import detect
from parley.encounters.partitioned import detect_partitioned
from parley.tracks.archive import write_archive


def _timed(work: Any) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def _row(label: str, wall: float, cpu: float, stats: dict[str, Any], positions: int) -> list[str]:
    tasks = stats.get("cell_tasks", stats.get("partitions", 1))
    peak = stats.get("max_positions_per_task", positions)
    read = stats.get("positions_read", positions)
    return [
        label,
        f"{tasks:,}",
        f"{peak:,}",
        f"{peak / positions:.1%}",
        f"{read / positions:.2f}x",
        f"{wall:.2f}",
        f"{cpu:.2f}",
    ]


def _cluster_run(
    archive: Path, workers: int, partition_s: float, cells: CellGrid | None
) -> tuple[float, float, Any]:
    """Wall seconds, the workers' CPU seconds, and the detection."""
    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers, processes=True, threads_per_worker=1, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        cpu_before = client.run(time.process_time)
        started = time.perf_counter()
        found = detect_on_cluster(client, archive, partition_s=partition_s, cells=cells)
        wall = time.perf_counter() - started
        cpu_after = client.run(time.process_time)
        workers_cpu = sum(cpu_after[w] - cpu_before[w] for w in cpu_after if w in cpu_before)
        return wall, workers_cpu, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--positions", type=int, default=1_000_000)
    parser.add_argument("--cell-degrees", type=float, nargs="+", default=[4.0, 2.0, 1.0])
    parser.add_argument("--partition-s", type=float, default=3600.0)
    parser.add_argument(
        "--cluster", type=int, default=0, help="also run on a LocalCluster of N workers"
    )
    args = parser.parse_args()
    benchlib.print_machine(benchlib.machine())
    table = synthetic.generate(args.positions)
    print(f"{table.height:,} positions, {table['track'].n_unique():,} tracks")
    header = ["run", "tasks", "max rows/task", "of all", "rows read", "wall s", "CPU s"]

    wall, cpu, reference = _timed(lambda: detect(table))
    single = reference.encounters
    rows = [_row("detect, one process", wall, cpu, {}, table.height)]
    print(f"single: {wall:.2f} s wall, {cpu:.2f} s CPU, {single.height} encounters")
    runs: list[tuple[str, CellGrid | None]] = [("time partitions only", None)]
    runs += [(f"cells of {d:g}°", CellGrid(d)) for d in args.cell_degrees]
    for label, grid in runs:
        wall, cpu, found = _timed(
            lambda grid=grid: detect_partitioned(table, partition_s=args.partition_s, cells=grid)
        )
        assert found.encounters.equals(single), f"{label} differs"
        rows.append(_row(f"detect_partitioned, {label}", wall, cpu, found.stats, table.height))
        print(f"{label}: {wall:.2f} s wall, {cpu:.2f} s CPU, identical, {found.stats}")

    if args.cluster:
        with tempfile.TemporaryDirectory() as folder:
            archive = Path(folder) / "archive"
            write_archive(table, archive, "hour")
            for label, grid in runs:
                wall, cpu, found = _cluster_run(archive, args.cluster, args.partition_s, grid)
                assert found.encounters.equals(single), f"cluster, {label} differs"
                rows.append(
                    _row(
                        f"LocalCluster {args.cluster} workers, {label}",
                        wall,
                        cpu,
                        found.stats,
                        table.height,
                    )
                )
                print(f"cluster, {label}: {wall:.2f} s wall, workers' CPU {cpu:.2f} s, identical")
    print(benchlib.markdown_table(header, rows))


if __name__ == "__main__":
    pl.Config.set_tbl_rows(50)
    main()
