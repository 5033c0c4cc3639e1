"""From files to the clean canonical table: read each file, apply hygiene, attribute sides."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from parley.errors import StrictModeError
from parley.tracks.hygiene import FILE_COLUMN, HygieneReport, HygieneSettings, clean
from parley.tracks.readers import AUTO, read_raw
from parley.tracks.readers.fileio import check_readable
from parley.tracks.schema import CANONICAL_COLUMNS, conform, empty_table
from parley.tracks.sides import SidesConfig, assign_sides, load_sides


@dataclass(frozen=True, slots=True)
class FileRead:
    path: str
    format: str
    rows: int
    rejected_by_reader: int


@dataclass(slots=True)
class TrackSet:
    """The clean table and the account of how it was made."""

    table: pl.DataFrame
    files: list[FileRead] = field(default_factory=list)
    hygiene: HygieneReport = field(default_factory=HygieneReport)

    @property
    def rejected_rows(self) -> int:
        return self.hygiene.rejected


def read_files(
    paths: Sequence[Path], format_name: str = AUTO
) -> tuple[pl.DataFrame, list[FileRead], HygieneReport]:
    """Read every file with its reader; the frames are concatenated before hygiene."""
    for path in paths:
        check_readable(path)
    report = HygieneReport()
    frames: list[pl.DataFrame] = []
    files: list[FileRead] = []
    for path in paths:
        fmt, raw = read_raw(path, format_name)
        frame = conform(raw.frame).with_columns(pl.lit(str(path)).alias(FILE_COLUMN))
        frames.append(frame)
        report.add(raw.rejections)
        files.append(FileRead(str(path), fmt.name, frame.height, len(raw.rejections)))
    if frames:
        combined = pl.concat(frames, how="vertical")
    else:
        combined = empty_table(keep_line=True).with_columns(pl.lit("").alias(FILE_COLUMN))
    report.rows_in += sum(f.rejected_by_reader for f in files)
    return combined, files, report


def load_tracks(
    paths: Sequence[Path],
    *,
    format_name: str = AUTO,
    sides: SidesConfig | None = None,
    hygiene: HygieneSettings | None = None,
    strict: bool = False,
) -> TrackSet:
    """Read, clean and attribute: the canonical table of ``paths``."""
    raw, files, report = read_files(paths, format_name)
    table, report = clean(raw, hygiene, report)
    table = assign_sides(table, sides if sides is not None else load_sides(None))
    if strict and report.rejected:
        first = report.rejections[0]
        raise StrictModeError(f"{report.rejected} row(s) rejected under --strict; first: {first}")
    return TrackSet(table.select(CANONICAL_COLUMNS), files, report)


def write_table(table: pl.DataFrame, path: Path) -> None:
    """Write the canonical table as Parquet or canonical CSV (by the file's suffix)."""
    from parley.errors import InputError

    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            table.write_parquet(path)
        elif suffix == ".csv":
            table.with_columns(pl.col("time").dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ")).write_csv(path)
        else:
            raise InputError(f"{path}: output must end in .parquet or .csv")
    except OSError as exc:
        raise InputError(f"{path}: cannot be written ({exc.strerror or exc})") from exc


__all__ = ["FileRead", "TrackSet", "load_tracks", "read_files", "write_table"]
