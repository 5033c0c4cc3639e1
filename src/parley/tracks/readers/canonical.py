"""The canonical table as a file: canonical CSV and Parquet, exactly the canonical column names."""

import logging
import mmap
from pathlib import Path

import polars as pl

from parley.errors import InputError
from parley.tracks.readers import fastcsv
from parley.tracks.readers.base import Format, RawRead, Rejection, source_label
from parley.tracks.readers.fileio import is_gzip, read_bytes, read_head
from parley.tracks.schema import LINE_COLUMN, REQUIRED_COLUMNS, conform
from parley.tracks.timeparse import parse_time_series, parse_time_text

log = logging.getLogger(__name__)

PARQUET_MAGIC = b"PAR1"
_NUMERIC = ("lat", "lon", "alt_m", "speed_mps", "course_deg", "vrate_mps")
_TEXT = ("track", "side", "domain", "transponder", "callsign", "type", "source")


def _check_columns(path: Path, columns: list[str]) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise InputError(f"{path}: missing required column(s) {', '.join(missing)}")


def _reject_unparsed(
    path: Path, text: pl.DataFrame, typed: pl.DataFrame
) -> tuple[pl.DataFrame, list[Rejection]]:
    """Rows where a present value failed to parse are rejected, naming the field."""
    problems: list[pl.Expr] = []
    for name in ("time", *_NUMERIC):
        if name not in text.columns:
            continue
        given = text[name].is_not_null() & (text[name].str.strip_chars() != "")
        problems.append(
            pl.when(given & typed[name].is_null())
            .then(pl.lit(f"{name}: cannot parse "))
            .otherwise(None)
        )
    if not problems:
        return typed, []
    report = pl.DataFrame({"_i": range(text.height)}).with_columns(
        pl.concat_str([p for p in problems], ignore_nulls=True).alias("problem")
    )
    bad_rows = report.filter(pl.col("problem") != "")
    bad_index = bad_rows["_i"].to_list()
    rejections: list[Rejection] = []
    for i, problem in zip(bad_index, bad_rows["problem"].to_list(), strict=True):
        fields = [f.split(":")[0] for f in problem.split("cannot parse ") if f]
        values = ", ".join(f"{f}={text[f][i]!r}" for f in fields)
        rejections.append(
            Rejection(str(path), int(typed[LINE_COLUMN][i]), f"cannot parse {values}")
        )
    keep = pl.Series([True] * text.height, dtype=pl.Boolean)
    if bad_index:
        keep = keep.scatter(bad_index, False)
    return typed.filter(keep), rejections


def _read_typed(data: bytes | Path, header: list[str]) -> pl.DataFrame | None:
    """The fast path: numbers parsed by the CSV reader itself; None when any value does not parse.

    A clean file (the usual case) is read in one pass; a file with a bad number falls back to the
    all-text path, which names every bad row and field.
    """
    if len(set(header)) != len(header):
        return None
    schema = {name: pl.Float64 if name in _NUMERIC else pl.String for name in header}
    try:
        frame = pl.read_csv(data, schema=schema, truncate_ragged_lines=True)
    except (
        pl.exceptions.ComputeError,
        pl.exceptions.InvalidOperationError,
        pl.exceptions.NoDataError,
        pl.exceptions.PanicException,  # Polars' CSV reader panics on some odd layouts
    ):
        return None
    # empty fields are already null; text is taken as written (the canonical layout is exact)
    return frame.rename({c: c.strip() for c in frame.columns}).with_columns(
        pl.int_range(2, frame.height + 2, dtype=pl.Int64).alias(LINE_COLUMN)
    )


def _header(path: Path, data: bytes) -> list[str]:
    end = data.find(b"\n")
    first = data[: end if end >= 0 else len(data)].decode("utf-8", "replace").lstrip("\ufeff")
    names = [c.strip().strip('"') for c in first.split(",")]
    _check_columns(path, names)
    return names


def read_canonical_csv(path: Path) -> RawRead:
    header = _header(path, read_head(path))
    if fastcsv.available():
        if is_gzip(path) or path.stat().st_size == 0:
            return _decode_csv(path, read_bytes(path), header)
        try:
            with (
                path.open("rb") as handle,
                mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data,
            ):
                fast = fastcsv.decode(data, path, header)
        except OSError as exc:
            raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
        return fast if fast is not None else decode_csv_with_polars(path, path, header)
    # a plain file is memory-mapped by the CSV reader; a gzip one is decompressed first
    source: bytes | Path = read_bytes(path) if is_gzip(path) else path
    return decode_csv_with_polars(path, source, header)


def decode_canonical_csv(data: bytes, path: Path) -> RawRead:
    """Canonical CSV text (header line first) as rows; ``path`` names it in rejections."""
    return _decode_csv(path, data, _header(path, data))


def _decode_csv(path: Path, data: bytes, header: list[str]) -> RawRead:
    """The compiled parser when it is built and takes the file; the Polars reader otherwise."""
    fast = fastcsv.decode(data, path, header)
    return fast if fast is not None else decode_csv_with_polars(path, data, header)


def decode_csv_with_polars(path: Path, source: bytes | Path, header: list[str]) -> RawRead:
    """The Polars reader (also the reference the compiled parser is tested against)."""
    log.debug("canonical CSV %s: read by the Polars reader", path)
    fast = _read_typed(source, [c.strip() for c in header])
    if fast is not None:
        typed = fast.with_columns(parse_time_series(fast["time"]).alias("time"))
        text = fast.select(pl.col("time"))
        typed, rejections = _reject_unparsed(path, text, typed)
    else:
        data = source if isinstance(source, bytes) else read_bytes(path)
        try:
            text = pl.read_csv(data, infer_schema=False, truncate_ragged_lines=True)
        except (
            pl.exceptions.ComputeError,
            pl.exceptions.NoDataError,
            pl.exceptions.PanicException,
        ) as exc:
            first_line = (str(exc).splitlines() or [type(exc).__name__])[0]
            raise InputError(f"{path}: not a readable CSV ({first_line})") from exc
        text = text.rename({c: c.strip() for c in text.columns})
        exprs: list[pl.Expr] = [pl.int_range(2, text.height + 2, dtype=pl.Int64).alias(LINE_COLUMN)]
        for name in _NUMERIC:
            if name in text.columns:
                exprs.append(
                    pl.col(name).str.strip_chars().cast(pl.Float64, strict=False).alias(name)
                )
        for name in _TEXT:
            if name in text.columns:
                exprs.append(pl.col(name).str.strip_chars().replace("", None).alias(name))
        typed = text.select(exprs).with_columns(parse_time_series(text["time"]).alias("time"))
        typed, rejections = _reject_unparsed(path, text, typed)
    if "source" not in typed.columns:
        typed = typed.with_columns(pl.lit(source_label("csv", path)).alias("source"))
    return RawRead(conform(typed), rejections)


def read_canonical_parquet(path: Path) -> RawRead:
    try:
        frame = pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(f"{path}: not a readable Parquet file ({exc})") from exc
    _check_columns(path, frame.columns)
    frame = frame.with_columns(pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias(LINE_COLUMN))
    if frame.schema["time"] in (pl.Float64(), pl.Int64()):
        frame = frame.with_columns(parse_time_text(pl.col("time").cast(pl.String)).alias("time"))
    elif isinstance(frame.schema["time"], pl.Datetime):
        time_zone = frame.schema["time"].time_zone
        col = pl.col("time")
        col = (
            col.dt.replace_time_zone("UTC")
            if time_zone is None
            else col.dt.convert_time_zone("UTC")
        )
        frame = frame.with_columns(col.dt.cast_time_unit("us").alias("time"))
    if "source" not in frame.columns:
        frame = frame.with_columns(pl.lit(source_label("parquet", path)).alias("source"))
    return RawRead(conform(frame), [])


def _sniff_csv(path: Path, head: bytes) -> bool:
    first = head.split(b"\n", 1)[0].decode("utf-8", "replace").strip().lstrip("\ufeff")
    names = {c.strip() for c in first.split(",")}
    return all(c in names for c in REQUIRED_COLUMNS)


def _sniff_parquet(path: Path, head: bytes) -> bool:
    return head[:4] == PARQUET_MAGIC


FORMATS = (
    Format(
        "parquet", "canonical track table as Parquet", read_canonical_parquet, _sniff_parquet, 0
    ),
    Format(
        "csv",
        "canonical track CSV (time, track, domain, lat, lon, …)",
        read_canonical_csv,
        _sniff_csv,
        10,
    ),
)


__all__ = [
    "FORMATS",
    "decode_canonical_csv",
    "decode_csv_with_polars",
    "read_canonical_csv",
    "read_canonical_parquet",
]
