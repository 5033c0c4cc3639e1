"""Detection cut into time partitions, merged into exactly the single-process result.

Each partition owns the encounters whose episode *starts* in its core interval. It detects on its
core widened by an overlap on both sides, with the run's origin, so its 60 s slices are those of
the single run. A slice is measured exactly when the data holds every report within the largest
interpolation gap ``G`` of it; an episode found in that trusted range is exactly the single run's
episode when nothing outside can merge with it, i.e. when it starts at least the merge gap ``M``
after the trusted range begins and ends at least ``M`` before it ends. The overlap (a whole
number of slices at least ``G + M`` plus one slice) makes the first condition hold for every
episode starting in the core. An owned episode that runs on past the trusted range (an escort of
many hours) is re-detected for its one pair alone, on a time range grown until the episode closes
inside it: no episode is cut, however long.

Detection sees a partition's reports only, so the per-track attributes that depend on all of a
track's reports (its side, and whether it is dark: any report with the transponder off) are
computed once for the whole archive and written into every partition before it is detected.

Inside a time partition, spatial cells (optional, :mod:`parley.encounters.cells`) split the work
further: each cell detects on the tracks that come near it, with all their rows of the partition's
window, and keeps the episodes whose ownership point lies in its core. Ownership in time and in
space are independent, so each episode is still kept exactly once.

This module is pure (no Dask): :mod:`parley.encounters.cluster` runs the same steps on workers.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from parley.encounters.cells import CellGrid, owning_cells, track_cells
from parley.encounters.detector import ENCOUNTER_SCHEMA, SLICE_S, Detection, detect
from parley.encounters.policy import Policy

SLICE_US = SLICE_S * 1_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: rows of the given tracks (all when None) with ``lo_us <= time <= hi_us`` (epoch µs)
RowLoader = Callable[[int, int, Sequence[str] | None], pl.DataFrame]


def epoch_us(moment: datetime) -> int:
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_epoch_us(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


def _ceil_slices(seconds: float) -> int:
    return math.ceil(seconds / SLICE_S) * SLICE_US


def largest_gap_us(policy: Policy) -> int:
    """``G``: the longest segment interpolated (a slice needs the reports this far around it)."""
    return math.ceil(max(policy.gaps.air_max_gap_s, policy.gaps.sea_max_gap_s) * 1e6)


def largest_merge_gap_us(policy: Policy) -> int:
    """``M``: stays closer than this are one episode."""
    return math.ceil(max(policy.gaps.air_merge_gap_s, policy.gaps.sea_merge_gap_s) * 1e6)


def overlap_us(policy: Policy) -> int:
    """Whole slices covering ``G + M``, plus one slice for trusted ranges rounded inwards."""
    gaps = policy.gaps
    needed_s = max(gaps.air_max_gap_s, gaps.sea_max_gap_s) + max(
        gaps.air_merge_gap_s, gaps.sea_merge_gap_s
    )
    return _ceil_slices(needed_s) + SLICE_US


# --- the archive's summary: its time span and the per-track attributes -----------------------


@dataclass(frozen=True, slots=True)
class ArchiveSummary:
    """What every partition must agree on: the origin, the end, and each track's attributes.

    ``first_us`` is the first report usable for geometry (the single run's default origin);
    ``last_us`` the last report of all. ``tracks`` has one row per track: ``track``, ``side``
    (first non-null side in row order) and ``dark``.
    """

    first_us: int
    last_us: int
    tracks: pl.DataFrame
    positions: int


_USABLE = ~((pl.col("domain") == "air") & pl.col("alt_m").is_null())


def summarize_rows(table: pl.DataFrame) -> ArchiveSummary | None:
    """The summary of some rows (None when none is usable); combine parts in row order."""
    usable = table.filter(_USABLE)
    if usable.height == 0:
        return None
    tracks = usable.group_by("track", maintain_order=True).agg(
        pl.col("side").drop_nulls().first(),
        (pl.col("transponder") == "off").any().alias("dark"),
    )
    first = epoch_us(usable["time"].min())  # type: ignore[arg-type]
    last = epoch_us(table["time"].max())  # type: ignore[arg-type]
    return ArchiveSummary(first, last, tracks, table.height)


def combine_summaries(parts: Sequence[ArchiveSummary | None]) -> ArchiveSummary | None:
    """The summary of consecutive row sets, given in their row order."""
    present = [part for part in parts if part is not None]
    if not present:
        return None
    tracks = (
        pl.concat([part.tracks for part in present])
        .group_by("track", maintain_order=True)
        .agg(pl.col("side").drop_nulls().first(), pl.col("dark").any())
    )
    first = min(part.first_us for part in present)
    last = max(part.last_us for part in present)
    return ArchiveSummary(first, last, tracks, sum(part.positions for part in present))


def with_archive_attributes(rows: pl.DataFrame, summary: ArchiveSummary) -> pl.DataFrame:
    """``rows`` with each track's side and darkness as the whole archive has them."""
    attributes = summary.tracks.rename({"side": "_side", "dark": "_dark"})
    return (
        rows.join(attributes, on="track", how="left", maintain_order="left")
        .with_columns(
            pl.coalesce("_side", "side").alias("side"),
            pl.when(pl.col("_dark"))
            .then(pl.lit("off"))
            .otherwise(pl.col("transponder"))
            .alias("transponder"),
        )
        .drop("_side", "_dark")
    )


# --- the plan ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Partition:
    """A core interval ``[core_lo_us, core_hi_us)`` and the rows read for it (inclusive)."""

    index: int
    core_lo_us: int
    core_hi_us: int
    data_lo_us: int
    data_hi_us: int


def plan_partitions(summary: ArchiveSummary, policy: Policy, partition_s: float) -> list[Partition]:
    """Cores of ``partition_s`` (rounded up to whole slices) from the origin to the last report."""
    if partition_s <= 0:
        raise ValueError("partition_s must be positive")
    core_us = _ceil_slices(partition_s)
    overlap = overlap_us(policy)
    count = (summary.last_us - summary.first_us) // core_us + 1
    partitions = []
    for index in range(count):
        lo = summary.first_us + index * core_us
        partitions.append(Partition(index, lo, lo + core_us, lo - overlap, lo + core_us + overlap))
    return partitions


# --- one partition ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PendingPair:
    """Episodes of one pair that start in a core but may run on past what its data could show."""

    a: str
    b: str
    starts_us: tuple[int, ...]
    hi_us: int  # the end of the data the owner had


@dataclass(slots=True)
class PartitionResult:
    index: int
    encounters: pl.DataFrame
    pending: list[PendingPair] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)


def _trusted(
    data_lo_us: int, data_hi_us: int, summary: ArchiveSummary, policy: Policy
) -> tuple[int | None, int | None]:
    """The slice-aligned range measured exactly from rows ``[lo, hi]`` (None: archive's edge)."""
    gap = largest_gap_us(policy)
    origin = summary.first_us
    lo = None
    if data_lo_us > origin:
        lo = origin + -((origin - data_lo_us - gap) // SLICE_US) * SLICE_US
    hi = None
    if data_hi_us < summary.last_us:
        hi = origin + ((data_hi_us - gap - origin) // SLICE_US) * SLICE_US
    return lo, hi


def _starts_and_ends(encounters: pl.DataFrame) -> pl.DataFrame:
    return encounters.with_columns(
        pl.col("start").dt.epoch("us").alias("_start_us"),
        pl.col("end").dt.epoch("us").alias("_end_us"),
    )


def _complete(trusted_lo: int | None, trusted_hi: int | None, merge_gap_us: int) -> pl.Expr:
    # one microsecond of margin: times are rounded to microseconds from float seconds
    condition = pl.lit(True)
    if trusted_lo is not None:
        condition &= pl.col("_start_us") - 1 >= trusted_lo + merge_gap_us
    if trusted_hi is not None:
        condition &= pl.col("_end_us") + 1 + merge_gap_us <= trusted_hi
    return condition


def _detect_rows(rows: pl.DataFrame, summary: ArchiveSummary, policy: Policy) -> Detection:
    return detect(
        with_archive_attributes(rows, summary), policy, origin=from_epoch_us(summary.first_us)
    )


def _no_segment_in_core(rows: pl.DataFrame, partition: Partition, policy: Policy) -> bool:
    """Whether no segment can cross the core (so no episode can start there): a quick skip."""
    gap = largest_gap_us(policy)
    epoch = pl.col("time").dt.epoch("us")
    near = (epoch >= partition.core_lo_us - gap) & (epoch <= partition.core_hi_us + gap)
    return int(rows.select(near.sum()).item() or 0) < 2


@dataclass(frozen=True, slots=True)
class CellTask:
    """One spatial cell of a time partition and the tracks it needs (all their rows are read)."""

    partition: Partition
    grid: CellGrid
    cell: int
    tracks: tuple[str, ...]


def plan_cells(
    rows: pl.DataFrame, partition: Partition, grid: CellGrid, policy: Policy
) -> list[CellTask]:
    """The cells of a partition's rows that hold at least two tracks, with their tracks."""
    membership = track_cells(rows, grid, policy)
    grouped = membership.group_by("cell").agg(pl.col("track").sort()).sort("cell")
    return [
        CellTask(partition, grid, cell, tuple(tracks))
        for cell, tracks in grouped.iter_rows()
        if len(tracks) >= 2
    ]


def detect_partition(
    rows: pl.DataFrame,
    partition: Partition,
    summary: ArchiveSummary,
    policy: Policy,
    cell: CellTask | None = None,
) -> PartitionResult:
    """Detect on a partition's rows: its complete owned encounters, and the pairs to re-detect.

    With ``cell``, ``rows`` are the rows of the cell's tracks, and only the episodes whose
    ownership point lies in the cell's core are owned.
    """
    stats: dict[str, Any] = {"positions": rows.height}
    if _no_segment_in_core(rows, partition, policy):
        return PartitionResult(partition.index, pl.DataFrame(schema=ENCOUNTER_SCHEMA), [], stats)
    detection = _detect_rows(rows, summary, policy)
    trusted_lo, trusted_hi = _trusted(partition.data_lo_us, partition.data_hi_us, summary, policy)
    timed = _starts_and_ends(detection.encounters)
    owned = timed.filter(
        (pl.col("_start_us") >= partition.core_lo_us) & (pl.col("_start_us") < partition.core_hi_us)
    )
    if cell is not None:
        owned = owned.filter(pl.Series(owning_cells(owned, rows, cell.grid) == cell.cell))
    complete = _complete(trusted_lo, trusted_hi, largest_merge_gap_us(policy))
    pending = _pending(owned.filter(~complete), partition.data_hi_us)
    stats |= {
        "candidate_windows": detection.stats.get("candidate_windows", 0),
        "subintervals_inside": detection.stats.get("subintervals_inside", 0),
    }
    accepted = owned.filter(complete).drop("_start_us", "_end_us")
    return PartitionResult(partition.index, accepted, pending, stats)


def _pending(incomplete: pl.DataFrame, hi_us: int) -> list[PendingPair]:
    grouped = incomplete.group_by("a", "b", maintain_order=True).agg(pl.col("_start_us"))
    return [PendingPair(a, b, tuple(sorted(starts)), hi_us) for a, b, starts in grouped.iter_rows()]


# --- pairs whose episodes outlast a partition -------------------------------------------------


def redetect_pair(
    pending: PendingPair, load: RowLoader, summary: ArchiveSummary, policy: Policy
) -> pl.DataFrame:
    """The pair's episodes starting at ``pending.starts_us``, over a range grown until they close.

    Only the two tracks are read: whether and how a pair meets depends on nothing else.
    """
    merge_gap = largest_merge_gap_us(policy)
    lo = max(min(pending.starts_us) - overlap_us(policy) - SLICE_US, summary.first_us)
    hi = max(pending.hi_us, lo + overlap_us(policy))
    wanted = pl.col("_start_us").is_in(list(pending.starts_us))
    while True:
        rows = load(lo, hi, (pending.a, pending.b))
        detection = _detect_rows(rows, summary, policy)
        trusted_lo, trusted_hi = _trusted(lo, hi, summary, policy)
        found = _starts_and_ends(detection.encounters).filter(
            (pl.col("a") == pending.a) & (pl.col("b") == pending.b) & wanted
        )
        if found.filter(_complete(trusted_lo, trusted_hi, merge_gap)).height == found.height:
            if found.height != len(pending.starts_us):
                raise RuntimeError(f"re-detection lost episodes of {pending.a} / {pending.b}")
            return found.drop("_start_us", "_end_us")
        if trusted_hi is None:
            raise RuntimeError(f"re-detection of {pending.a} / {pending.b} cannot close")
        hi += 2 * (hi - lo)


# --- the merge --------------------------------------------------------------------------------


def merge_results(parts: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """The owned encounters of every partition in the single run's order."""
    frames = [part for part in parts if part.height]
    if not frames:
        return pl.DataFrame(schema=ENCOUNTER_SCHEMA)
    return pl.concat(frames).sort("a", "b", "start").select(list(ENCOUNTER_SCHEMA))


def merged_stats(
    summary: ArchiveSummary | None,
    results: Sequence[PartitionResult],
    encounters: pl.DataFrame,
    *,
    partitions: int | None = None,
) -> dict[str, Any]:
    """Totals over the tasks; ``partitions`` when the results are those of cells."""
    stats = {
        "positions": 0 if summary is None else summary.positions,
        "tracks": 0 if summary is None else summary.tracks.height,
        "partitions": len(results) if partitions is None else partitions,
        "positions_read": sum(r.stats.get("positions", 0) for r in results),
        "max_positions_per_task": max((r.stats.get("positions", 0) for r in results), default=0),
        "candidate_windows": sum(r.stats.get("candidate_windows", 0) for r in results),
        "redetected_pairs": sum(len(r.pending) for r in results),
        "encounters": encounters.height,
    }
    if partitions is not None:
        stats["cell_tasks"] = len(results)
    return stats


# --- in one process ---------------------------------------------------------------------------


def frame_loader(table: pl.DataFrame) -> RowLoader:
    """A :data:`RowLoader` over a table in memory."""
    epoch = pl.col("time").dt.epoch("us")

    def load(lo_us: int, hi_us: int, tracks: Sequence[str] | None) -> pl.DataFrame:
        condition = (epoch >= lo_us) & (epoch <= hi_us)
        if tracks is not None:
            condition &= pl.col("track").is_in(list(tracks))
        return table.filter(condition)

    return load


def _detect_cells(
    rows: pl.DataFrame,
    partition: Partition,
    summary: ArchiveSummary,
    policy: Policy,
    grid: CellGrid,
) -> list[PartitionResult]:
    results = []
    for task in plan_cells(rows, partition, grid, policy):
        cell_rows = rows.filter(pl.col("track").is_in(list(task.tracks)))
        results.append(detect_partition(cell_rows, partition, summary, policy, task))
    return results


def detect_partitioned(
    table: pl.DataFrame,
    policy: Policy | None = None,
    *,
    partition_s: float = 3600.0,
    cells: CellGrid | None = None,
) -> Detection:
    """The encounters of :func:`~parley.encounters.detector.detect`, found partition by partition
    (and, with ``cells``, cell by cell inside each partition).

    Sequential and in memory: the reference for the cluster runner, and the proof that cutting
    time and space changes nothing.
    """
    policy = policy or Policy()
    summary = summarize_rows(table)
    if summary is None:
        return Detection(pl.DataFrame(schema=ENCOUNTER_SCHEMA), merged_stats(None, [], table[:0]))
    load = frame_loader(table)
    plan = plan_partitions(summary, policy, partition_s)
    results: list[PartitionResult] = []
    for partition in plan:
        rows = load(partition.data_lo_us, partition.data_hi_us, None)
        if cells is None:
            results.append(detect_partition(rows, partition, summary, policy))
        else:
            results += _detect_cells(rows, partition, summary, policy, cells)
    parts = [r.encounters for r in results]
    parts += [redetect_pair(p, load, summary, policy) for r in results for p in r.pending]
    encounters = merge_results(parts)
    partitions = None if cells is None else len(plan)
    return Detection(encounters, merged_stats(summary, results, encounters, partitions=partitions))


__all__ = [
    "ArchiveSummary",
    "CellTask",
    "Partition",
    "PartitionResult",
    "PendingPair",
    "RowLoader",
    "combine_summaries",
    "detect_partition",
    "detect_partitioned",
    "frame_loader",
    "merge_results",
    "merged_stats",
    "overlap_us",
    "plan_cells",
    "plan_partitions",
    "redetect_pair",
    "summarize_rows",
    "with_archive_attributes",
]
