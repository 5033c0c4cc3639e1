"""ADS-B positions as the ``traffic`` library writes them: JSON records or a pandas column table.

Two layouts of the same table (``.json`` or ``.json.gz``):

* a list of records, ``[{"timestamp": 1533101250000, "icao24": "3003ae", ...}, ...]``;
* pandas' "columns" orientation, ``{"timestamp": {"0": ..., "1": ...}, "icao24": {...}, ...}``.

Fields: ``timestamp`` (ms since the epoch; seconds and ISO 8601 text are understood too),
``icao24``, ``callsign``, ``latitude``, ``longitude``, ``altitude`` (ft, barometric),
``groundspeed`` (kt), ``track`` (deg, sometimes negative), ``vertical_rate`` (ft/min), optional
``typecode``, and ``last_position`` (ms): when present, the time the position was measured.
Records without a position (altitude-only state vectors are common) are rejected under the rule
``no_position``. ``onground`` reports keep their position but no altitude (an aircraft on the
ground is left out of encounter geometry). Other fields (``squawk``, ``TAS``, ``roll``, ...) are
ignored.

Speed: a compact list of flat records (how pandas writes it) is rewritten to JSON lines and read
by Polars' multi-threaded NDJSON reader; anything else, or any surprise on that path, goes
through the general path (``orjson`` when installed, else ``json``), which also locates the
malformed records.
"""

import io
import re
from pathlib import Path
from typing import Any, Final

import polars as pl

from parley.errors import InputError
from parley.tracks.readers.adsb_common import (
    PROBLEM,
    Check,
    address,
    bad_address_check,
    by_line,
    columns_from_records,
    course_0_360,
    epoch_number_to_time,
    feet_to_m,
    fpm_to_mps,
    icao_track,
    knots_to_mps,
    missing_time_check,
    no_position_check,
    parse_json,
    problem_check,
    split_rejected,
    stripped_text,
    typed_columns,
)
from parley.tracks.readers.base import Format, RawRead, Rejection, source_label
from parley.tracks.readers.fileio import read_bytes
from parley.tracks.schema import LINE_COLUMN, conform
from parley.tracks.timeparse import parse_iso_time

FORMAT_NAME: Final = "traffic-json"

_NUMBERS: Final = ("latitude", "longitude", "altitude", "groundspeed", "track", "vertical_rate")
_TEXTS: Final = ("icao24", "callsign", "typecode")
_TIMES: Final = ("timestamp", "last_position")
REQUIRED_FIELDS: Final = ("timestamp", "icao24", "latitude", "longitude")

#: The NDJSON path is strict: any value of another type fails it and the general path takes over.
_FAST_SCHEMA: Final[dict[str, pl.DataType]] = {
    **{name: pl.Float64() for name in (*_TIMES, *_NUMBERS)},
    **{name: pl.String() for name in _TEXTS},
    "onground": pl.Boolean(),
}
#: The general path reads times as text, so that numbers and ISO 8601 text both parse.
_GENERAL_SCHEMA: Final[dict[str, pl.DataType]] = {
    **{name: pl.String() for name in (*_TIMES, *_TEXTS)},
    **{name: pl.Float64() for name in _NUMBERS},
    "onground": pl.Boolean(),
}
_TRAFFIC_FIELDS: Final = frozenset((*_TIMES, *_NUMBERS, *_TEXTS, "onground", "squawk"))
_COLUMN_TABLE_HEAD = re.compile(rb'^\s*\{\s*"(\w+)"\s*:\s*\{\s*"\d+"\s*:')


def read_traffic_json(path: Path) -> RawRead:
    data = read_bytes(path)
    _check_required_fields(path, data)
    raw = _read_compact_records(data)
    rejections: list[Rejection] = []
    if raw is None:
        raw, rejections = _read_document(path, parse_json(path, data))
    raw = raw.with_columns(pl.int_range(1, raw.height + 1, dtype=pl.Int64).alias(LINE_COLUMN))
    frame, rejected = split_rejected(path, _canonical_columns(raw), _checks())
    frame = frame.with_columns(
        icao_track(pl.col("address")).alias("track"),
        pl.lit("air").alias("domain"),
        pl.lit("on").alias("transponder"),
        pl.lit(source_label(FORMAT_NAME, path)).alias("source"),
    )
    return RawRead(conform(frame), by_line(rejections, rejected))


def _check_required_fields(path: Path, data: bytes) -> None:
    missing = [name for name in REQUIRED_FIELDS if f'"{name}"'.encode() not in data]
    if missing:
        raise InputError(f"{path}: not a traffic JSON table (no field {', '.join(missing)})")


def _read_compact_records(data: bytes) -> pl.DataFrame | None:
    """The fast path: ``[{...},{...}]`` of flat objects becomes JSON lines for Polars.

    Only taken when every brace of the body belongs to a record boundary: one more ``{`` than
    ``},{`` separators (and likewise for ``}``). A ``},{`` inside a text value would leave an
    unterminated string on both sides of the cut, so Polars fails and the general path runs.
    """
    body = data.strip()
    if not (body.startswith(b"[{") and body.endswith(b"}]")):
        return None
    inner = body[1:-1]
    separators = inner.count(b"},{")
    if inner.count(b"{") != separators + 1 or inner.count(b"}") != separators + 1:
        return None
    try:
        frame = pl.read_ndjson(io.BytesIO(inner.replace(b"},{", b"}\n{")), schema=_FAST_SCHEMA)
    except pl.exceptions.PolarsError:
        return None
    if frame.height != separators + 1:
        return None
    return frame.with_columns(pl.lit(None, dtype=pl.String).alias(PROBLEM))


def _read_document(path: Path, document: Any) -> tuple[pl.DataFrame, list[Rejection]]:
    if isinstance(document, list):
        return _records_frame(path, document)
    if isinstance(document, dict) and all(isinstance(v, dict) for v in document.values()):
        return _column_table_frame(document), []
    raise InputError(
        f"{path}: not a traffic JSON table (expected a list of records or a table of columns)"
    )


def _records_frame(path: Path, records: list[Any]) -> tuple[pl.DataFrame, list[Rejection]]:
    """Records that are not JSON objects are rejected; they keep their place in the numbering."""
    rejections = [
        Rejection(str(path), index, f"record is not a JSON object: {str(record)[:60]}")
        for index, record in enumerate(records, start=1)
        if not isinstance(record, dict)
    ]
    objects = [record if isinstance(record, dict) else {} for record in records]
    frame = columns_from_records(objects, _GENERAL_SCHEMA)
    if rejections:
        is_object = pl.Series([isinstance(record, dict) for record in records])
        frame = frame.with_columns(pl.lit(is_object).alias("_object"))
    return frame, rejections


def _column_table_frame(table: dict[str, dict[str, Any]]) -> pl.DataFrame:
    """pandas' column orientation: every column maps the same row labels to values."""
    labels = list(table.get("timestamp") or next(iter(table.values()), {}))
    columns = {
        name: [table[name].get(label) for label in labels]
        for name in _GENERAL_SCHEMA
        if name in table
    }
    return typed_columns(columns, _GENERAL_SCHEMA, len(labels))


def _time(raw: pl.DataFrame, name: str) -> pl.Expr:
    """Numbers (the fast path) or text holding a number or ISO 8601 (the general path)."""
    if raw.schema[name] != pl.String:
        return epoch_number_to_time(pl.col(name))
    number = pl.col(name).cast(pl.Float64, strict=False)
    return pl.coalesce(epoch_number_to_time(number), parse_iso_time(pl.col(name)))


def _airborne_altitude(frame: pl.DataFrame) -> pl.Expr:
    """Barometric altitude in metres; none on the ground (``onground``), where the reported
    altitude is not a height above the sea and the aircraft is no party to an air encounter."""
    altitude = feet_to_m(pl.col("altitude").fill_nan(None))
    if "onground" not in frame.columns:
        return altitude
    on_ground = pl.col("onground").cast(pl.String).str.to_lowercase().is_in(["true", "1"])
    return pl.when(on_ground).then(None).otherwise(altitude)


def _canonical_columns(raw: pl.DataFrame) -> pl.DataFrame:
    def number(name: str) -> pl.Expr:
        return pl.col(name).fill_nan(None)

    frame = raw
    if "_object" in raw.columns:  # non-objects were rejected already
        frame = raw.filter(pl.col("_object")).drop("_object")
    return frame.select(
        pl.col(LINE_COLUMN),
        pl.col(PROBLEM),
        pl.col("timestamp").alias("_raw_time"),
        pl.coalesce(_time(frame, "last_position"), _time(frame, "timestamp")).alias("time"),
        address(pl.col("icao24")).alias("address"),
        number("latitude").alias("lat"),
        number("longitude").alias("lon"),
        _airborne_altitude(frame).alias("alt_m"),
        knots_to_mps(number("groundspeed")).alias("speed_mps"),
        course_0_360(number("track")).alias("course_deg"),
        fpm_to_mps(number("vertical_rate")).alias("vrate_mps"),
        stripped_text(pl.col("callsign")).alias("callsign"),
        stripped_text(pl.col("typecode")).alias("type"),
    )


def _checks() -> list[Check]:
    return [
        problem_check(),
        missing_time_check(pl.col("_raw_time")),
        bad_address_check("address"),
        no_position_check(),
    ]


def _sniff(path: Path, head: bytes) -> bool:
    text = head.lstrip()
    if text.startswith(b"["):
        return text[1:].lstrip().startswith(b"{") and all(
            f'"{name}"'.encode() in head for name in ("timestamp", "icao24", "latitude")
        )
    match = _COLUMN_TABLE_HEAD.match(head)
    return match is not None and match.group(1).decode() in _TRAFFIC_FIELDS


FORMATS = (
    Format(
        FORMAT_NAME,
        "ADS-B positions from the traffic library (JSON records or column table, .json[.gz])",
        read_traffic_json,
        _sniff,
        20,
    ),
)

__all__ = ["FORMATS", "FORMAT_NAME", "REQUIRED_FIELDS", "read_traffic_json"]
