"""What the AIS readers share: not-available values, ship type text, static data joined by MMSI.

AIS encodes "not available" with reserved values (latitude 91°, longitude 181°, speed 102.3 kn,
course 360°, …); decoded CSV exports often keep them. Every AIS reader turns them into nulls the
same way, and attaches a vessel's static data (name, call sign, ship type), wherever in the file it
was received, to all of that vessel's positions.
"""

from pathlib import Path
from typing import Final, NamedTuple

import polars as pl
from pyais.constants import ShipType

from parley.tracks.readers.base import Rejection, source_label
from parley.tracks.schema import LINE_COLUMN, TIME_DTYPE, conform
from parley.tracks.timeparse import parse_iso_time, unix_seconds_to_time
from parley.tracks.units import MPS_PER_KNOT

LAT_NOT_AVAILABLE: Final = 91.0
LON_NOT_AVAILABLE: Final = 181.0
#: Course over ground of 360° (3600 in tenths) means "not available".
COURSE_NOT_AVAILABLE: Final = 360.0
#: SAR aircraft (message 9): altitude 4095 m means "not available".
ALTITUDE_NOT_AVAILABLE: Final = 4095.0

#: Message types that carry a position, and those that carry static vessel data.
POSITION_TYPES: Final = frozenset({1, 2, 3, 9, 18, 19, 27})
STATIC_TYPES: Final = frozenset({5, 19, 24})
SAR_AIRCRAFT_TYPE: Final = 9
LONG_RANGE_TYPE: Final = 27
SAR_AIRCRAFT_TEXT: Final = "SAR aircraft"

POSITION_NOT_AVAILABLE: Final = "position not available"
#: A receive time at or above this is in milliseconds (1e11 s would be in the year 5138).
MILLIS_THRESHOLD: Final = 1e11

#: Columns of the static table every AIS reader builds: one row per static report, file order.
STATIC_SCHEMA: Final[dict[str, pl.DataType]] = {
    "mmsi": pl.Int64(),
    "name": pl.String(),
    "callsign": pl.String(),
    "type": pl.String(),
}


def unix_time(number: pl.Expr) -> pl.Expr:
    """Unix seconds, or milliseconds when the value is that large, as a UTC time."""
    seconds = pl.when(number >= MILLIS_THRESHOLD).then(number / 1000.0).otherwise(number)
    return unix_seconds_to_time(seconds)


#: Naive layouts tried on a sample of a time column before the general parser (UTC).
_COMMON_TIME_LAYOUTS: Final = (
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%d/%m/%Y %H:%M:%S%.f",
)
_SAMPLE_SIZE: Final = 200


def parse_flexible_time(raw: pl.Expr) -> pl.Expr:
    """ISO 8601, Unix seconds or milliseconds, or ``dd/mm/yyyy HH:MM:SS`` (day first, as DMA)."""
    text = raw.str.strip_chars()
    day_first = text.str.to_datetime("%d/%m/%Y %H:%M:%S%.f", strict=False, time_unit="us")
    return pl.coalesce(
        unix_time(text.cast(pl.Float64, strict=False)),
        parse_iso_time(text),
        day_first.dt.replace_time_zone("UTC"),
    ).cast(TIME_DTYPE)


def parse_time_column(raw: pl.Series) -> pl.Series:
    """:func:`parse_flexible_time` over a whole column, fast when its values share one layout.

    The layout is guessed from the first values and parsed in one pass; only the values it
    does not fit go through every candidate layout.
    """
    text = raw.str.strip_chars()
    parsed = _parse_with_guessed_layout(text)
    left = parsed.is_null() & text.is_not_null()
    if not left.any():
        return parsed.alias(raw.name)
    rest = pl.select(parse_flexible_time(pl.lit(text.filter(left)))).to_series()
    return parsed.scatter(left.arg_true(), rest).alias(raw.name)


def _parse_with_guessed_layout(text: pl.Series) -> pl.Series:
    sample = text.drop_nulls().head(_SAMPLE_SIZE)
    if sample.is_empty():
        return pl.Series(text.name, [None] * len(text), dtype=TIME_DTYPE)
    if sample.cast(pl.Float64, strict=False).is_not_null().all():
        return pl.select(unix_time(pl.lit(text.cast(pl.Float64, strict=False)))).to_series()
    for layout in _COMMON_TIME_LAYOUTS:
        if sample.str.to_datetime(layout, strict=False).is_not_null().all():
            parsed = text.str.to_datetime(layout, strict=False, time_unit="us")
            return parsed.dt.replace_time_zone("UTC").cast(TIME_DTYPE)
    return pl.Series(text.name, [None] * len(text), dtype=TIME_DTYPE)


def ship_type_text(code: int | None) -> str | None:
    """The pyais name of an AIS ship type code (``70`` -> ``Cargo``), None when not available."""
    if code is None:
        return None
    ship_type = ShipType(code)
    return None if ship_type == ShipType.NotAvailable else ship_type.name


#: Every 8-bit code -> text, for vectorised lookups.
SHIP_TYPE_TEXT: Final[dict[int, str | None]] = {code: ship_type_text(code) for code in range(256)}


def ship_type_from_code(code: pl.Expr) -> pl.Expr:
    return code.cast(pl.Int64, strict=False).replace_strict(
        SHIP_TYPE_TEXT, default=None, return_dtype=pl.String
    )


def speed_not_available(message_type: pl.Expr) -> pl.Expr:
    """The not-available speed (knots) of each message type: 102.3 (tenths), 1023 (SAR), 63 (27)."""
    return (
        pl.when(message_type == SAR_AIRCRAFT_TYPE)
        .then(pl.lit(1023.0))
        .when(message_type == LONG_RANGE_TYPE)
        .then(pl.lit(63.0))
        .otherwise(pl.lit(102.3))
    )


def speed_mps_from_knots(knots: pl.Expr, message_type: pl.Expr) -> pl.Expr:
    # A tiny tolerance: 102.3 read from text and 1023/10 decoded may differ in the last bit.
    available = knots < speed_not_available(message_type) - 1e-6
    return pl.when(available).then(knots * MPS_PER_KNOT).otherwise(None)


def course_or_null(course: pl.Expr) -> pl.Expr:
    """Course over ground, null when not available (360 for most types, 511 for type 27)."""
    return pl.when(course < COURSE_NOT_AVAILABLE).then(course).otherwise(None)


def position_not_available(lat: pl.Expr, lon: pl.Expr) -> pl.Expr:
    return (lat == LAT_NOT_AVAILABLE) | (lon == LON_NOT_AVAILABLE)


def mmsi_track(mmsi: pl.Expr) -> pl.Expr:
    """``mmsi:`` and the nine digits of the MMSI (leading zeros of coast stations kept)."""
    return pl.concat_str(pl.lit("mmsi:"), mmsi.cast(pl.Int64).cast(pl.String).str.zfill(9))


#: Words decoded exports write for "no value".
NOT_AVAILABLE_TEXT: Final = ("", "None", "null", "NULL", "Unknown", "Undefined", "Unknown value")


def text_or_null(text: pl.Expr) -> pl.Expr:
    """Stripped text; empty strings, AIS padding and "None"/"Unknown"-like words become null."""
    stripped = text.str.strip_chars().str.strip_chars_end("@").str.strip_chars()
    return pl.when(~stripped.is_in(NOT_AVAILABLE_TEXT)).then(stripped)


def static_by_mmsi(static: pl.DataFrame) -> pl.DataFrame:
    """One row per MMSI: the last known name, call sign and type (each field on its own)."""
    fields = ("name", "callsign", "type")
    known = static.filter(pl.any_horizontal(pl.col(f).is_not_null() for f in fields))
    return known.group_by("mmsi", maintain_order=True).agg(
        pl.col(name).drop_nulls().last() for name in fields
    )


def _column_or_null(frame: pl.DataFrame, name: str) -> pl.Expr:
    return pl.col(name) if name in frame.columns else pl.lit(None, pl.String)


def attach_static(positions: pl.DataFrame, static: pl.DataFrame) -> pl.DataFrame:
    """Join static data onto positions by ``mmsi``.

    ``callsign`` is the AIS call sign, or the ship name when no call sign is known; ``type`` is
    the static ship type, falling back to a ``type`` the position row already carries.
    """
    per_vessel = static_by_mmsi(static).rename(
        {"name": "_static_name", "callsign": "_static_callsign", "type": "_static_type"}
    )
    joined = positions.join(per_vessel, on="mmsi", how="left", maintain_order="left")
    own_type = pl.col("type") if "type" in positions.columns else pl.lit(None, pl.String)
    own_callsign = (
        pl.col("callsign") if "callsign" in positions.columns else pl.lit(None, pl.String)
    )
    return joined.with_columns(
        pl.coalesce(own_callsign, "_static_callsign", "_static_name").alias("callsign"),
        pl.coalesce("_static_type", own_type).alias("type"),
    ).drop("_static_name", "_static_callsign", "_static_type")


def position_table(
    path: Path, format_name: str, positions: pl.DataFrame, static: pl.DataFrame
) -> tuple[pl.DataFrame, list[Rejection]]:
    """The canonical table from decoded positions, and the rows whose position is not available.

    ``positions`` has ``_line``, ``time``, ``mmsi``, ``kind`` (AIS message type), ``lat``,
    ``lon``, ``speed_kn``, ``course`` and optionally ``altitude`` (SAR aircraft, metres);
    ``static`` follows :data:`STATIC_SCHEMA`.
    """
    not_available = position_not_available(pl.col("lat"), pl.col("lon"))
    rejections = rejections_for(path, positions.filter(not_available), POSITION_NOT_AVAILABLE)
    is_sar = pl.col("kind") == SAR_AIRCRAFT_TYPE
    altitude = pl.col("altitude") if "altitude" in positions.columns else pl.lit(None, pl.Float64)
    table = positions.filter(~not_available).select(
        LINE_COLUMN,
        "time",
        "mmsi",
        mmsi_track(pl.col("mmsi")).alias("track"),
        pl.when(is_sar).then(pl.lit("air")).otherwise(pl.lit("sea")).alias("domain"),
        "lat",
        "lon",
        pl.when(is_sar)
        .then(pl.when(altitude < ALTITUDE_NOT_AVAILABLE).then(altitude))
        .otherwise(0.0)
        .alias("alt_m"),
        speed_mps_from_knots(pl.col("speed_kn"), pl.col("kind")).alias("speed_mps"),
        course_or_null(pl.col("course")).alias("course_deg"),
        pl.lit("on").alias("transponder"),
        pl.when(is_sar).then(pl.lit(SAR_AIRCRAFT_TEXT)).otherwise(None).alias("type"),
        pl.lit(source_label(format_name, path)).alias("source"),
    )
    static = static.with_columns(text_or_null(pl.col("name")), text_or_null(pl.col("callsign")))
    return conform(attach_static(table, static)), rejections


class Check(NamedTuple):
    """A row check: which rows fail it, and why (the reason is built for failing rows only)."""

    fails: pl.Expr
    reason: pl.Expr


FAILED: Final = "_failed"


def flag_failed(frame: pl.DataFrame, checks: list[Check]) -> pl.DataFrame:
    """Add ``_failed``: the row fails at least one check."""
    return frame.with_columns(
        pl.any_horizontal(c.fails.fill_null(False) for c in checks).alias(FAILED)
    )


def split_failed(
    path: Path, flagged: pl.DataFrame, checks: list[Check]
) -> tuple[pl.DataFrame, list[Rejection]]:
    """Rows that pass (without ``_failed``), and a rejection for each that fails.

    The first failed check, in the order given, names the reason.
    """
    good = flagged.filter(~pl.col(FAILED)).drop(FAILED)
    first_failure = pl.coalesce(pl.when(c.fails).then(c.reason) for c in checks)
    return good, rejections_for(path, flagged.filter(pl.col(FAILED)), first_failure)


def reject_failed(
    path: Path, frame: pl.DataFrame, checks: list[Check]
) -> tuple[pl.DataFrame, list[Rejection]]:
    return split_failed(path, flag_failed(frame, checks), checks)


def rejections_for(path: Path, frame: pl.DataFrame, reason: str | pl.Expr) -> list[Rejection]:
    """One rejection per row of ``frame`` (which has ``_line``), with a fixed or per-row reason."""
    if frame.is_empty():
        return []
    expr = pl.lit(reason) if isinstance(reason, str) else reason
    reasons = frame.with_columns(expr.alias("_reason"))["_reason"]
    return [
        Rejection(str(path), line, text)
        for line, text in zip(frame[LINE_COLUMN].to_list(), reasons.to_list(), strict=True)
    ]


__all__ = [
    "FAILED",
    "LAT_NOT_AVAILABLE",
    "LON_NOT_AVAILABLE",
    "NOT_AVAILABLE_TEXT",
    "POSITION_NOT_AVAILABLE",
    "POSITION_TYPES",
    "SAR_AIRCRAFT_TEXT",
    "STATIC_SCHEMA",
    "STATIC_TYPES",
    "Check",
    "attach_static",
    "course_or_null",
    "flag_failed",
    "mmsi_track",
    "parse_flexible_time",
    "parse_time_column",
    "position_not_available",
    "position_table",
    "reject_failed",
    "rejections_for",
    "ship_type_from_code",
    "ship_type_text",
    "speed_mps_from_knots",
    "split_failed",
    "static_by_mmsi",
    "text_or_null",
    "unix_time",
]
