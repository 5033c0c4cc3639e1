"""Plumbing shared by the ADS-B readers: identifiers, units, JSON, rejections, carried values.

Every ADS-B reader ends the same way: a frame of raw columns with ``_line``, a few checks that
turn bad rows into :class:`Rejection` s, values carried from one message to the next, and the
canonical columns. The pieces here keep those steps identical across formats.
"""

import importlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import polars as pl

from parley.errors import InputError
from parley.tracks.readers.base import Rejection
from parley.tracks.schema import LINE_COLUMN
from parley.tracks.units import METRES_PER_FOOT, MPS_PER_FOOT_PER_MINUTE, MPS_PER_KNOT

#: A 24-bit address as six lower-case hex digits; readsb marks non-ICAO addresses (TIS-B,
#: anonymous) with a leading ``~``. Such tracks keep the ``~`` (``icao:~abc123``) so that they can
#: never merge with the real aircraft that happens to hold the same six digits.
ADDRESS_PATTERN: Final = r"^~?[0-9a-f]{6}$"

NO_POSITION_RULE: Final = "no_position"
NO_POSITION_REASON: Final = "no position in record"
MALFORMED_RULE: Final = "malformed"

#: A speed, course, altitude or vertical rate older than this is not carried to a later position:
#: after a gap in reception it would describe another moment of the flight.
MAX_CARRY_AGE_S: Final = 60.0

#: Numbers of milliseconds since the epoch are at least this large for any date after 1973, and
#: numbers of seconds stay below it until the year 5138: the two cannot be confused.
MILLIS_THRESHOLD: Final = 1e11

PROBLEM: Final = "_problem"


def _json_loader() -> tuple[str, Callable[[bytes], Any]]:
    try:
        module = importlib.import_module("orjson")
    except ImportError:
        return "json", json.loads
    loads: Callable[[bytes], Any] = module.loads
    return "orjson", loads


#: Which library parses JSON documents: ``orjson`` when it is installed, else the standard ``json``.
JSON_LIBRARY, loads_json = _json_loader()


def parse_json(path: Path, data: bytes) -> Any:
    """The JSON document in ``data``, or an :class:`InputError` naming the file."""
    try:
        return loads_json(data)
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from exc


# --- expressions: units and identifiers ------------------------------------------------------


def knots_to_mps(knots: pl.Expr) -> pl.Expr:
    return knots * MPS_PER_KNOT


def feet_to_m(feet: pl.Expr) -> pl.Expr:
    return feet * METRES_PER_FOOT


def fpm_to_mps(feet_per_minute: pl.Expr) -> pl.Expr:
    return feet_per_minute * MPS_PER_FOOT_PER_MINUTE


def course_0_360(degrees: pl.Expr) -> pl.Expr:
    """Track angles in [0, 360): some sources write -121 for 239."""
    return degrees % 360.0


def address(raw: pl.Expr) -> pl.Expr:
    """The address text as the track id will carry it: stripped, lower case."""
    return raw.cast(pl.String).str.strip_chars().str.to_lowercase()


def icao_track(address_expr: pl.Expr) -> pl.Expr:
    return pl.concat_str([pl.lit("icao:"), address_expr])


def stripped_text(raw: pl.Expr) -> pl.Expr:
    """Callsigns and the like: surrounding blanks removed, empty text is null."""
    text = raw.cast(pl.String).str.strip_chars()
    return pl.when(text == "").then(None).otherwise(text)


def epoch_number_to_time(number: pl.Expr) -> pl.Expr:
    """Seconds or milliseconds since the Unix epoch (told apart by size) to a UTC datetime."""
    micros = (
        pl.when(number.abs() >= MILLIS_THRESHOLD).then(number * 1_000).otherwise(number * 1_000_000)
    )
    return micros.round(0).cast(pl.Int64).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


# --- typed columns from parsed JSON ----------------------------------------------------------


def columns_from_records(
    records: Sequence[Mapping[str, Any]], fields: Mapping[str, pl.DataType]
) -> pl.DataFrame:
    """One typed column per field from a list of JSON objects, plus ``_problem``.

    A field that is present but cannot take its type (``"latitude": "north"``) leaves a null in
    its column and a note naming the field and the value in ``_problem`` (null for clean rows).
    """
    columns = {name: [record.get(name) for record in records] for name in fields}
    return typed_columns(columns, fields, len(records))


def typed_columns(
    columns: Mapping[str, list[Any]], fields: Mapping[str, pl.DataType], height: int
) -> pl.DataFrame:
    """Like :func:`columns_from_records`, from lists of values already gathered per field."""
    series: list[pl.Series] = []
    problems: list[pl.Expr] = []
    for name, dtype in fields.items():
        values = columns.get(name) or [None] * height
        typed = pl.Series(name, values, dtype=dtype, strict=False)
        present = pl.Series([value is not None for value in values], dtype=pl.Boolean)
        failed = present & typed.is_null()
        if failed.any():
            shown = pl.Series([repr(value) for value in values], dtype=pl.String)
            problems.append(
                pl.when(pl.lit(failed)).then(pl.format(f"cannot parse {name}={{}}", pl.lit(shown)))
            )
        series.append(typed)
    frame = pl.DataFrame(series, height=height)
    problem = pl.lit(None, dtype=pl.String)
    if problems:
        joined = pl.concat_str(problems, separator="; ", ignore_nulls=True)
        problem = pl.when(joined != "").then(joined)
    return frame.with_columns(problem.alias(PROBLEM))


# --- rejections ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Check:
    """Rows where ``failed`` holds are rejected with ``reason`` under ``rule``."""

    failed: pl.Expr
    reason: pl.Expr
    rule: str = MALFORMED_RULE


def problem_check() -> Check:
    """Rejects rows whose ``_problem`` column (see :func:`typed_columns`) holds a note."""
    return Check(pl.col(PROBLEM).is_not_null(), pl.col(PROBLEM))


def bad_address_check(column: str) -> Check:
    value = pl.col(column)
    return Check(
        value.is_null() | ~value.str.contains(ADDRESS_PATTERN),
        pl.format(f"{column} is not a 24-bit hex address: {{}}", value.fill_null("missing")),
    )


def missing_time_check(raw_time: pl.Expr) -> Check:
    return Check(
        pl.col("time").is_null(),
        pl.format("cannot parse time: {}", raw_time.cast(pl.String).fill_null("missing")),
    )


def no_position_check(reason: str = NO_POSITION_REASON) -> Check:
    return Check(
        pl.col("lat").is_null() | pl.col("lon").is_null(), pl.lit(reason), NO_POSITION_RULE
    )


def split_rejected(
    path: Path, frame: pl.DataFrame, checks: Sequence[Check]
) -> tuple[pl.DataFrame, list[Rejection]]:
    """Rows that pass every check, and one Rejection per row that fails one (the first wins)."""
    if not checks or frame.is_empty():
        return frame, []
    reason = pl.coalesce(
        [pl.when(c.failed).then(c.reason.cast(pl.String).fill_null(c.rule)) for c in checks]
    )
    rule = pl.coalesce([pl.when(c.failed).then(pl.lit(c.rule)) for c in checks])
    marked = frame.with_columns(reason.alias("_reason"), rule.alias("_rule"))
    failed = marked.filter(pl.col("_reason").is_not_null())
    rejections = [
        Rejection(str(path), line, text, rule_name)
        for line, text, rule_name in zip(
            failed[LINE_COLUMN].to_list(),
            failed["_reason"].to_list(),
            failed["_rule"].to_list(),
            strict=True,
        )
    ]
    kept = marked.filter(pl.col("_reason").is_null()).drop("_reason", "_rule")
    return kept, rejections


def by_line(*groups: Sequence[Rejection]) -> list[Rejection]:
    """All rejections in the order of the file (those without a line first)."""
    return sorted((r for group in groups for r in group), key=lambda r: r.line or 0)


# --- values carried from one message to the next ---------------------------------------------


def carry_forward(
    frame: pl.DataFrame,
    columns: Sequence[str],
    *,
    by: str | Sequence[str] = "track",
    max_age_s: float = MAX_CARRY_AGE_S,
) -> pl.DataFrame:
    """Fill nulls with the latest earlier value of the same aircraft, unless it is too old.

    "Earlier" is the frame's order (the order the messages were received); "too old" compares
    the ``time`` of the row with the time of the message that carried the value.
    """
    limit = pl.duration(microseconds=round(max_age_s * 1_000_000))
    exprs = []
    for name in columns:
        value = pl.col(name)
        carried = value.forward_fill().over(by)
        carried_at = pl.when(value.is_not_null()).then(pl.col("time")).forward_fill().over(by)
        exprs.append(
            pl.when(value.is_not_null())
            .then(value)
            .when(pl.col("time") - carried_at <= limit)
            .then(carried)
            .alias(name)
        )
    return frame.with_columns(exprs)


def decoded_positions(positions: pl.DataFrame, source: str) -> pl.DataFrame:
    """Canonical rows from decoded Mode S positions carried forward in aviation units.

    ``positions`` has ``_line``, ``time``, ``track``, ``lat``, ``lon``, ``alt_ft``, ``gs_kt``,
    ``track_deg``, ``vrate_fpm`` and ``callsign`` (SBS, jet1090 and Beast build it that way).
    """
    return positions.select(
        pl.col(LINE_COLUMN),
        pl.col("time"),
        pl.col("track"),
        pl.col("lat"),
        pl.col("lon"),
        feet_to_m(pl.col("alt_ft")).alias("alt_m"),
        knots_to_mps(pl.col("gs_kt")).alias("speed_mps"),
        course_0_360(pl.col("track_deg")).alias("course_deg"),
        fpm_to_mps(pl.col("vrate_fpm")).alias("vrate_mps"),
        pl.col("callsign"),
        pl.lit("air").alias("domain"),
        pl.lit("on").alias("transponder"),
        pl.lit(source).alias("source"),
    )


def fill_both_ways(frame: pl.DataFrame, column: str, *, by: str | Sequence[str]) -> pl.DataFrame:
    """Fill nulls from the latest earlier value, and the leading nulls from the first value.

    Used for callsigns: they identify the flight, so the first one received also names the
    positions received before it.
    """
    return frame.with_columns(pl.col(column).forward_fill().backward_fill().over(by))


__all__ = [
    "ADDRESS_PATTERN",
    "JSON_LIBRARY",
    "MALFORMED_RULE",
    "MAX_CARRY_AGE_S",
    "MILLIS_THRESHOLD",
    "NO_POSITION_REASON",
    "NO_POSITION_RULE",
    "PROBLEM",
    "Check",
    "address",
    "bad_address_check",
    "by_line",
    "carry_forward",
    "columns_from_records",
    "course_0_360",
    "decoded_positions",
    "epoch_number_to_time",
    "feet_to_m",
    "fill_both_ways",
    "fpm_to_mps",
    "icao_track",
    "knots_to_mps",
    "loads_json",
    "missing_time_check",
    "no_position_check",
    "parse_json",
    "problem_check",
    "split_rejected",
    "stripped_text",
    "typed_columns",
]
