"""A time-partitioned Parquet archive of the canonical table (hive layout, one folder per period).

``ROOT/hour=2016-04-11T13/part-0.parquet`` or ``ROOT/day=2016-04-11/part-0.parquet``: each file
holds the reports of one period in time order, so reading a time range opens only the files of
the periods it touches, and reading every file in folder order gives the table in time order.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final, Literal

import polars as pl

from parley.errors import InputError
from parley.tracks.schema import CANONICAL_COLUMNS

PartitionUnit = Literal["hour", "day"]

_KEY_FORMAT: Final = {"hour": "%Y-%m-%dT%H", "day": "%Y-%m-%d"}
_PERIOD: Final = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
_TRUNCATE: Final = {"hour": "1h", "day": "1d"}
FILE_NAME: Final = "part-0.parquet"


@dataclass(frozen=True, slots=True)
class ArchiveFile:
    """One period's file and its time range ``[start, end)``."""

    path: Path
    start: datetime
    end: datetime


def write_archive(table: pl.DataFrame, root: Path, unit: PartitionUnit) -> list[ArchiveFile]:
    """Write ``table`` under ``root`` (which must not exist or be empty), one file per period."""
    if unit not in _KEY_FORMAT:
        raise InputError(f"--partition must be hour or day, not {unit!r}")
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise InputError(f"{root}: an archive is written into a new or empty folder")
    rows = table.select(CANONICAL_COLUMNS).sort("time", maintain_order=True)
    keyed = rows.with_columns(pl.col("time").dt.truncate(_TRUNCATE[unit]).alias("_period"))
    written = []
    try:
        root.mkdir(parents=True, exist_ok=True)
        for part in keyed.partition_by("_period", maintain_order=True):
            start: datetime = part["_period"][0]
            folder = root / f"{unit}={start.strftime(_KEY_FORMAT[unit])}"
            folder.mkdir()
            part.drop("_period").write_parquet(folder / FILE_NAME)
            written.append(ArchiveFile(folder / FILE_NAME, start, start + _PERIOD[unit]))
    except OSError as exc:
        raise InputError(f"{root}: cannot be written ({exc.strerror or exc})") from exc
    return written


def _parse_folder(folder: Path) -> tuple[datetime, datetime] | None:
    unit, _, key = folder.name.partition("=")
    if unit not in _KEY_FORMAT:
        return None
    try:
        start = datetime.strptime(key, _KEY_FORMAT[unit]).replace(tzinfo=UTC)
    except ValueError:
        return None
    return start, start + _PERIOD[unit]


def is_archive(path: Path) -> bool:
    return path.is_dir() and any(_parse_folder(child) for child in path.iterdir())


def archive_files(root: Path) -> list[ArchiveFile]:
    """The archive's files in time order."""
    if not root.is_dir():
        raise InputError(f"{root}: not an archive folder")
    files = []
    for folder in sorted(root.iterdir()):
        period = _parse_folder(folder)
        if period is not None and folder.is_dir():
            files += [ArchiveFile(p, *period) for p in sorted(folder.glob("*.parquet"))]
    if not files:
        raise InputError(f"{root}: no hour=... or day=... folders with Parquet files")
    return sorted(files, key=lambda f: (f.start, f.path))


def read_archive_files(
    files: Sequence[ArchiveFile],
    start: datetime | None = None,
    end: datetime | None = None,
    tracks: Sequence[str] | None = None,
) -> pl.DataFrame:
    """The rows with ``start <= time <= end`` (either open) of ``tracks`` (all when None)."""
    condition = pl.lit(True)
    if start is not None:
        condition &= pl.col("time") >= start
    if end is not None:
        condition &= pl.col("time") <= end
    if tracks is not None:
        condition &= pl.col("track").is_in(list(tracks))
    touched = [
        f.path
        for f in files
        if (end is None or f.start <= end) and (start is None or f.end > start)
    ]
    frames = []
    for path in touched:
        try:
            frames.append(pl.scan_parquet(path).filter(condition).collect())
        except (OSError, pl.exceptions.ComputeError) as exc:
            raise InputError(f"{path}: cannot be read as Parquet ({exc})") from exc
    if not frames:
        return pl.read_parquet(files[0].path).select(CANONICAL_COLUMNS).head(0)
    return pl.concat(frames).select(CANONICAL_COLUMNS)


def read_archive(root: Path) -> pl.DataFrame:
    """The whole archive in time order."""
    return read_archive_files(archive_files(root))


__all__ = [
    "ArchiveFile",
    "PartitionUnit",
    "archive_files",
    "is_archive",
    "read_archive",
    "read_archive_files",
    "write_archive",
]
