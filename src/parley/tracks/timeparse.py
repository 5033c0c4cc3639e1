"""Vectorised parsing of time columns into UTC datetimes (nulls where unparsable)."""

import polars as pl

from parley.tracks.schema import TIME_DTYPE

_ISO_WITH_OFFSET = ("%Y-%m-%dT%H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%:z")
_ISO_NAIVE = ("%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M")


def unix_seconds_to_time(seconds: pl.Expr) -> pl.Expr:
    """Unix seconds (float) to a UTC datetime, microsecond resolution."""
    return (
        (seconds * 1_000_000)
        .round(0)
        .cast(pl.Int64)
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone("UTC")
    )


def unix_millis_to_time(millis: pl.Expr) -> pl.Expr:
    return (
        (millis.cast(pl.Float64) * 1_000)
        .round(0)
        .cast(pl.Int64)
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


__all__ = ["parse_iso_time", "parse_time_text", "unix_millis_to_time", "unix_seconds_to_time"]
