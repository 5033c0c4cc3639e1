"""Archive detection on a Dask cluster: the partitioned detector's steps as distributed tasks.

Workers read their own rows from a time-partitioned Parquet archive (see
:mod:`parley.tracks.archive`; every worker must see its folder), or receive them from the client
when the tracks are a table in memory. The steps are those of
:func:`parley.encounters.partitioned.detect_partitioned`, so the result is the same, row for row:
the archive's summary (one task per file), one detection per partition, one re-detection per pair
whose episode outlasts its partition, then the merge on the client. A worker lost mid-run has its
tasks run again elsewhere by Dask's scheduler; tasks are pure functions of their inputs, so a task
run twice gives the same answer.

With spatial cells (``cells``), one more small task per time partition reads the positions of its
window (six columns) and lists the tracks of each cell; each cell's task then reads all the rows of
its tracks only, so a task's memory follows the traffic of its cell, not of the whole world.
"""

import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from distributed import Client, LocalCluster

from parley.encounters.cells import CellGrid
from parley.encounters.detector import ENCOUNTER_SCHEMA, Detection
from parley.encounters.partitioned import (
    ArchiveSummary,
    CellTask,
    Partition,
    PartitionResult,
    PendingPair,
    RowLoader,
    combine_summaries,
    detect_partition,
    frame_loader,
    from_epoch_us,
    merge_results,
    merged_stats,
    plan_cells,
    plan_partitions,
    redetect_pair,
    summarize_rows,
)
from parley.encounters.policy import Policy
from parley.errors import InputError
from parley.tracks.archive import ArchiveFile, archive_files, read_archive_files
from parley.tracks.schema import CANONICAL_SCHEMA

_LOCAL = re.compile(r"^local(?::(\d+))?$")


@dataclass(frozen=True, slots=True)
class ArchiveLoader:
    """A picklable :data:`RowLoader` reading an archive's files (each worker opens them)."""

    files: tuple[ArchiveFile, ...]

    def __call__(self, lo_us: int, hi_us: int, tracks: Sequence[str] | None) -> pl.DataFrame:
        return read_archive_files(self.files, from_epoch_us(lo_us), from_epoch_us(hi_us), tracks)

    def positions(self, lo_us: int, hi_us: int) -> pl.DataFrame:
        """Only the columns that place the rows ``lo_us <= time <= hi_us`` in cells."""
        start, end = from_epoch_us(lo_us), from_epoch_us(hi_us)
        touched = [f.path for f in self.files if f.start <= end and f.end > start]
        frames = []
        for path in touched:
            try:
                frames.append(
                    pl.scan_parquet(path)
                    .select(_POSITION_COLUMNS)
                    .filter(pl.col("time").is_between(start, end))
                    .collect()
                )
            except (OSError, pl.exceptions.ComputeError) as exc:
                raise InputError(f"{path}: cannot be read as Parquet ({exc})") from exc
        if not frames:
            schema = {name: CANONICAL_SCHEMA[name] for name in _POSITION_COLUMNS}
            return pl.DataFrame(schema=schema)
        return pl.concat(frames)


_POSITION_COLUMNS = ("time", "track", "domain", "lat", "lon", "alt_m")


@contextmanager
def open_client(spec: str, *, connect_timeout_s: float = 20.0) -> Iterator[Client]:
    """``local`` or ``local:N`` (N worker processes, one thread each) or a scheduler address."""
    match = _LOCAL.match(spec.strip())
    if match is None:
        try:
            client = Client(spec, timeout=f"{connect_timeout_s}s")  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"--cluster {spec}: cannot reach the scheduler ({exc})") from exc
        with client:
            yield client
        return
    workers = int(match.group(1) or 2)
    if workers < 1:
        raise InputError(f"--cluster {spec}: at least one worker")
    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers, processes=True, threads_per_worker=1, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        yield client


def _summarize_file(file: ArchiveFile) -> ArchiveSummary | None:
    return summarize_rows(read_archive_files((file,)))


def _detect_task(
    loader: RowLoader, partition: Partition, summary: ArchiveSummary, policy: Policy
) -> PartitionResult:
    rows = loader(partition.data_lo_us, partition.data_hi_us, None)
    return detect_partition(rows, partition, summary, policy)


def _detect_rows_task(
    rows: pl.DataFrame,
    partition: Partition,
    summary: ArchiveSummary,
    policy: Policy,
    cell: CellTask | None = None,
) -> PartitionResult:
    return detect_partition(rows, partition, summary, policy, cell)


def _plan_cells_task(
    loader: RowLoader, partition: Partition, grid: CellGrid, policy: Policy
) -> list[CellTask]:
    lo, hi = partition.data_lo_us, partition.data_hi_us
    rows = loader.positions(lo, hi) if isinstance(loader, ArchiveLoader) else loader(lo, hi, None)
    return plan_cells(rows, partition, grid, policy)


def _detect_cell_task(
    loader: RowLoader, task: CellTask, summary: ArchiveSummary, policy: Policy
) -> PartitionResult:
    rows = loader(task.partition.data_lo_us, task.partition.data_hi_us, task.tracks)
    return detect_partition(rows, task.partition, summary, policy, task)


def _redetect_task(
    loader: RowLoader, pending: PendingPair, summary: ArchiveSummary, policy: Policy
) -> pl.DataFrame:
    return redetect_pair(pending, loader, summary, policy)


def _run(
    client: Client,
    plan: list[Partition],
    summary: ArchiveSummary,
    policy: Policy,
    detect_futures: Any,
    loader_for: Any,
) -> tuple[list[PartitionResult], list[pl.DataFrame]]:
    results: list[PartitionResult] = client.gather(  # type: ignore[no-untyped-call]
        detect_futures(plan)
    )
    pending = [p for r in results for p in r.pending]
    redetected = client.gather(  # type: ignore[no-untyped-call]
        [
            client.submit(_redetect_task, loader_for(p), p, summary, policy, pure=False)
            for p in pending
        ]
    )
    return results, [r.encounters for r in results] + list(redetected)


def detect_on_cluster(
    client: Client,
    tracks: Path | pl.DataFrame,
    policy: Policy | None = None,
    *,
    partition_s: float = 3600.0,
    loader: RowLoader | None = None,
    cells: CellGrid | None = None,
) -> Detection:
    """The encounters of ``tracks`` (an archive folder or a canonical table) found on ``client``.

    ``loader`` replaces the archive reader on the workers (another storage, or fault injection);
    ``cells`` splits each time partition into spatial cells.
    """
    policy = policy or Policy()
    started = time.perf_counter()
    if isinstance(tracks, pl.DataFrame):
        table = tracks
        summary = summarize_rows(table)
        table_loader = frame_loader(table)

        def detect_futures(plan: list[Partition]) -> Any:
            futures = []
            for p in plan:
                rows = table_loader(p.data_lo_us, p.data_hi_us, None)
                if cells is None:
                    futures.append(
                        client.submit(_detect_rows_task, rows, p, summary, policy, pure=False)
                    )
                    continue
                for task in plan_cells(rows, p, cells, policy):
                    cell_rows = rows.filter(pl.col("track").is_in(list(task.tracks)))
                    futures.append(
                        client.submit(
                            _detect_rows_task, cell_rows, p, summary, policy, task, pure=False
                        )
                    )
            return futures

        def loader_for(pending: PendingPair) -> RowLoader:
            return loader or frame_loader(
                table.filter(pl.col("track").is_in([pending.a, pending.b]))
            )

    else:
        files = archive_files(tracks)
        archive_loader: RowLoader = loader or ArchiveLoader(tuple(files))
        summaries = client.gather(  # type: ignore[no-untyped-call]
            [client.submit(_summarize_file, f, pure=False) for f in files]
        )
        summary = combine_summaries(summaries)

        def detect_futures(plan: list[Partition]) -> Any:
            if cells is None:
                return [
                    client.submit(_detect_task, archive_loader, p, summary, policy, pure=False)
                    for p in plan
                ]
            cell_plans: list[list[CellTask]] = client.gather(  # type: ignore[no-untyped-call]
                [
                    client.submit(_plan_cells_task, archive_loader, p, cells, policy, pure=False)
                    for p in plan
                ]
            )
            return [
                client.submit(_detect_cell_task, archive_loader, task, summary, policy, pure=False)
                for tasks in cell_plans
                for task in tasks
            ]

        def loader_for(pending: PendingPair) -> RowLoader:
            return archive_loader

    if summary is None:
        return Detection(
            pl.DataFrame(schema=ENCOUNTER_SCHEMA), merged_stats(None, [], pl.DataFrame())
        )
    plan = plan_partitions(summary, policy, partition_s)
    results, parts = _run(client, plan, summary, policy, detect_futures, loader_for)
    encounters = merge_results(parts)
    partitions = None if cells is None else len(plan)
    stats = merged_stats(summary, results, encounters, partitions=partitions)
    stats["workers"] = len(client.scheduler_info().get("workers", {}))
    stats["seconds"] = round(time.perf_counter() - started, 3)
    return Detection(encounters, stats)


__all__ = ["ArchiveLoader", "detect_on_cluster", "open_client"]
