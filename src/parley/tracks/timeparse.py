"""Vectorised parsing of time columns into UTC datetimes (nulls where unparsable)."""

import polars as pl

from parley.tracks.schema import TIME_DTYPE

_ISO_WITH_OFFSET = ("%Y-%m-%dT%H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%:z")
_ISO_NAIVE = ("%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M")


def unix_seconds_to_time(seconds: pl.Expr) -> pl.Expr:
    """Unix seconds (float) to a UTC datetime, microsecond resolution."""
    # non-strict: NaN, infinities and times beyond the microsecond range become null (a rejected
    # row with its reason), never an exception
    return (
        (seconds * 1_000_000)
        .round(0)
        .cast(pl.Int64, strict=False)
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone("UTC")
    )


def unix_millis_to_time(millis: pl.Expr) -> pl.Expr:
    return (
        (millis.cast(pl.Float64, strict=False) * 1_000)
        .round(0)
        .cast(pl.Int64, strict=False)
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone("UTC")
    )


def parse_iso_time(text: pl.Expr, naive_formats: tuple[str, ...] = _ISO_NAIVE) -> pl.Expr:
    """ISO 8601 text with or without offset (``Z``, ``+02:00``, ``+0200``); naive means UTC."""
    normalised = (
        text.str.strip_chars()
        .str.replace(r"Z$", "+00:00")
        .str.replace(r"([+-]\d\d)(\d\d)$", "${1}:${2}")
    )
    candidates = [
        normalised.str.to_datetime(fmt, time_zone="UTC", strict=False, time_unit="us")
        for fmt in _ISO_WITH_OFFSET
    ]
    candidates += [
        normalised.str.to_datetime(fmt, strict=False, time_unit="us").dt.replace_time_zone("UTC")
        for fmt in naive_formats
    ]
    return pl.coalesce(candidates).cast(TIME_DTYPE)


def parse_time_text(text: pl.Expr) -> pl.Expr:
    """ISO 8601 text, or Unix seconds written as a number."""
    as_number = text.str.strip_chars().cast(pl.Float64, strict=False)
    return pl.coalesce([unix_seconds_to_time(as_number), parse_iso_time(text)])


_COMMON_FORMATS = ("%Y-%m-%dT%H:%M:%S%.fZ", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S%.f")


def parse_time_series(text: pl.Series) -> pl.Series:
    """Like :func:`parse_time_text` on a whole column, fast when it is written one common way.

    The general parser tries several formats on every row; a real file writes every time the same
    way, so the commonest ISO layouts (or Unix seconds) are tried on the whole column first and only
    the rows they cannot read go through the general parser.
    """
    name = text.name
    stripped = text.str.strip_chars()
    sample = stripped.drop_nulls().head(1)
    frame = pl.DataFrame({"t": stripped})
    parsed: pl.Series | None = None
    if sample.len() and sample.cast(pl.Float64, strict=False).is_not_null().all():
        parsed = frame.select(unix_seconds_to_time(pl.col("t").cast(pl.Float64, strict=False)))["t"]
    else:
        for fmt in _COMMON_FORMATS:
            attempt = frame.select(
                pl.col("t")
                .str.to_datetime(fmt, strict=False, time_unit="us")
                .dt.replace_time_zone("UTC")
            )["t"]
            if sample.len() == 0 or attempt.head(1).is_not_null().all():
                parsed = attempt
                break
    if parsed is None:
        return frame.select(parse_time_text(pl.col("t")))["t"].alias(name)
    missing = parsed.is_null() & stripped.is_not_null()
    if missing.any():
        rest = frame.filter(missing).select(parse_time_text(pl.col("t")))["t"]
        parsed = parsed.scatter(missing.arg_true(), rest)
    return parsed.cast(TIME_DTYPE).alias(name)


__all__ = [
    "parse_iso_time",
    "parse_time_series",
    "parse_time_text",
    "unix_millis_to_time",
    "unix_seconds_to_time",
]
