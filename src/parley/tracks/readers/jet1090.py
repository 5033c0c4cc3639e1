"""Decoded Mode S messages as JSON lines, as jet1090 (and rs1090) write them.

One JSON object a line::

    {"timestamp": 1720248199.46, "frame": "8f3933...", "df": "17", "icao24": "393322",
     "bds": "06", "groundspeed": 0.25, "track": 90, "latitude": 49.0058, "longitude": 2.5735, ...}

``timestamp`` is in seconds since the epoch. Position rows come from the messages carrying a
decoded ``latitude`` and ``longitude``; each takes the latest barometric ``altitude`` (ft),
``groundspeed`` (kt), ``track`` (deg) and ``vertical_rate`` (ft/min) of the same aircraft from
the messages before it (at most a minute old; a position message's own values come first), and
its ``callsign`` (carried backward too: it names the flight). Position messages whose CPR
position could not be resolved are rejected as ``no_position``.

Speed, track and vertical rate are taken from ADS-B messages (downlink formats 17 and 18) only:
Comm-B replies (formats 20 and 21) do not say which register they answer, decoders infer it,
and a wrong guess yields a plausible but false speed. Altitudes come from every message whose
altitude is barometric (the altitude code of formats 0, 4, 16 and 20 is not inferred).

The Beast reader decodes raw frames with rs1090 into the same messages and ends here too.
"""

import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import polars as pl

from parley.tracks.readers.adsb_common import (
    PROBLEM,
    address,
    bad_address_check,
    by_line,
    carry_forward,
    columns_from_records,
    decoded_positions,
    fill_both_ways,
    icao_track,
    loads_json,
    missing_time_check,
    no_position_check,
    problem_check,
    split_rejected,
    stripped_text,
)
from parley.tracks.readers.base import Format, RawRead, Rejection, source_label
from parley.tracks.readers.fileio import read_bytes
from parley.tracks.schema import LINE_COLUMN, conform
from parley.tracks.timeparse import unix_seconds_to_time

FORMAT_NAME: Final = "jet1090"
ADSB_DOWNLINK_FORMATS: Final = ("17", "18")
UNRESOLVED_POSITION: Final = "position message without a decoded position (CPR not resolved)"

#: The message fields used, and their types.
MESSAGE_FIELDS: Final[dict[str, pl.DataType]] = {
    "timestamp": pl.Float64(),
    "icao24": pl.String(),
    "df": pl.String(),
    "latitude": pl.Float64(),
    "longitude": pl.Float64(),
    "lat_cpr": pl.Float64(),
    "altitude": pl.Float64(),
    "source": pl.String(),
    "groundspeed": pl.Float64(),
    "track": pl.Float64(),
    "vertical_rate": pl.Float64(),
    "callsign": pl.String(),
}
_CARRIED: Final = ("alt_ft", "gs_kt", "track_deg", "vrate_fpm")
_FIRST_LINE_KEYS: Final = (
    re.compile(rb'"timestamp"\s*:\s*[\d.]'),
    re.compile(rb'"icao24"\s*:'),
    re.compile(rb'"df"\s*:'),
)


def read_jet1090(path: Path) -> RawRead:
    data = read_bytes(path)
    messages = _read_clean_lines(data)
    rejections: list[Rejection] = []
    if messages is None:
        messages, rejections = _read_lines_one_by_one(path, data)
    result = positions_from_messages(path, messages, FORMAT_NAME)
    return RawRead(result.frame, by_line(rejections, result.rejections))


def positions_from_messages(path: Path, messages: pl.DataFrame, format_name: str) -> RawRead:
    """Position rows from decoded Mode S messages (columns :data:`MESSAGE_FIELDS`, ``_line``).

    ``messages`` are in reception order and may carry a ``_problem`` note per row (see
    :func:`parley.tracks.readers.adsb_common.typed_columns`).
    """
    if PROBLEM not in messages.columns:
        messages = messages.with_columns(pl.lit(None, dtype=pl.String).alias(PROBLEM))
    adsb = pl.col("df").is_in(ADSB_DOWNLINK_FORMATS)
    barometric = pl.col("source").fill_null("barometric") != "GNSS"
    frame = messages.select(
        pl.col(LINE_COLUMN),
        pl.col(PROBLEM),
        pl.col("timestamp").alias("_raw_time"),
        unix_seconds_to_time(pl.col("timestamp")).alias("time"),
        address(pl.col("icao24")).alias("address"),
        pl.col("latitude").fill_nan(None).alias("lat"),
        pl.col("longitude").fill_nan(None).alias("lon"),
        (pl.col("lat_cpr").is_not_null() | pl.col("latitude").is_not_null()).alias("_positional"),
        pl.when(barometric).then(pl.col("altitude")).alias("alt_ft"),
        pl.when(adsb).then(pl.col("groundspeed")).alias("gs_kt"),
        pl.when(adsb).then(pl.col("track")).alias("track_deg"),
        pl.when(adsb).then(pl.col("vertical_rate")).alias("vrate_fpm"),
        stripped_text(pl.col("callsign")).alias("callsign"),
    )
    frame, rejections = split_rejected(
        path,
        frame,
        [problem_check(), missing_time_check(pl.col("_raw_time")), bad_address_check("address")],
    )
    frame = frame.with_columns(icao_track(pl.col("address")).alias("track"))
    frame = fill_both_ways(carry_forward(frame, _CARRIED), "callsign", by="track")
    positions, unresolved = split_rejected(
        path, frame.filter(pl.col("_positional")), [no_position_check(UNRESOLVED_POSITION)]
    )
    positions = decoded_positions(positions, source_label(format_name, path))
    return RawRead(conform(positions), by_line(rejections, unresolved))


def _read_clean_lines(data: bytes) -> pl.DataFrame | None:
    """The fast path: Polars reads the lines; any surprise hands over to the careful path.

    Polars skips blank lines, so the row number is the line number only when no line is blank:
    the row count must equal the line count.
    """
    line_count = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    try:
        frame = pl.read_ndjson(io.BytesIO(data), schema=MESSAGE_FIELDS)
    except pl.exceptions.PolarsError:
        return None
    if frame.height != line_count:
        return None
    return frame.with_columns(pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias(LINE_COLUMN))


def _read_lines_one_by_one(path: Path, data: bytes) -> tuple[pl.DataFrame, list[Rejection]]:
    records: list[dict[str, Any]] = []
    numbers: list[int] = []
    rejections: list[Rejection] = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        record = _json_object(line)
        if isinstance(record, str):
            rejections.append(Rejection(str(path), number, record))
            continue
        records.append(record)
        numbers.append(number)
    return message_frame(records, numbers), rejections


def _json_object(line: bytes) -> dict[str, Any] | str:
    """The line's JSON object, or why it is not one."""
    try:
        value = loads_json(line)
    except ValueError as exc:
        return f"not valid JSON ({exc})"
    if not isinstance(value, dict):
        return f"not a JSON object: {line[:60].decode('utf-8', 'replace')}"
    return value


def message_frame(records: Sequence[dict[str, Any]], numbers: Sequence[int]) -> pl.DataFrame:
    """Decoded messages (rs1090's dictionaries) as :func:`positions_from_messages` reads them."""
    return columns_from_records(records, MESSAGE_FIELDS).with_columns(
        pl.Series(LINE_COLUMN, numbers, dtype=pl.Int64)
    )


def _sniff(path: Path, head: bytes) -> bool:
    first = head.lstrip().split(b"\n", 1)[0]
    return first.startswith(b"{") and all(key.search(first) for key in _FIRST_LINE_KEYS)


FORMATS = (
    Format(
        FORMAT_NAME,
        "decoded Mode S messages as JSON lines (jet1090, rs1090)",
        read_jet1090,
        _sniff,
        20,
    ),
)

__all__ = [
    "FORMATS",
    "FORMAT_NAME",
    "MESSAGE_FIELDS",
    "message_frame",
    "positions_from_messages",
    "read_jet1090",
]
