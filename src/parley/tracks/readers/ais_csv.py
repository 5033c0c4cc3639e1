"""Decoded AIS as CSV, in three layouts: Danish Maritime Authority, simple, and aisdb.

- ``ais-dma``: the DMA download layout (``# Timestamp,Type of mobile,MMSI,Latitude,…``), times
  ``dd/mm/yyyy HH:MM:SS`` UTC, static data on every row; base stations and AtoN are not vessels.
- ``ais-simple``: one position a row, ``Time, MMSI, Latitude, Longitude`` and optionally SOG
  (knots), COG, name, call sign and ship type, under tolerant column names (``Lat``,
  ``Latitude_degrees``, ``SOG_knots``, ``BaseDateTime``, …).
- ``ais-aisdb``: the wide decoded CSV of the aisdb project (139 columns, one AIS message a row,
  ``Time`` as ``yyyymmdd_HHMMSS`` plus ``Millisecond``); positions from message types
  1/2/3/9/18/19/27, static data from 5/19/24 joined by MMSI.

Every layout is read as text and parsed column-wise with Polars; the header is line 1.
"""

import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Final

import polars as pl

from parley.errors import InputError
from parley.tracks.readers.ais_common import (
    NOT_AVAILABLE_TEXT,
    POSITION_TYPES,
    SAR_AIRCRAFT_TYPE,
    STATIC_SCHEMA,
    STATIC_TYPES,
    Check,
    parse_time_column,
    position_table,
    reject_failed,
    rejections_for,
    ship_type_from_code,
    text_or_null,
)
from parley.tracks.readers.base import Format, RawRead, Rejection
from parley.tracks.readers.fileio import read_bytes
from parley.tracks.schema import LINE_COLUMN

_log = logging.getLogger(__name__)

DMA: Final = "ais-dma"
SIMPLE: Final = "ais-simple"
AISDB: Final = "ais-aisdb"

_DMA_FIRST_COLUMNS: Final = ("timestamp", "type of mobile", "mmsi")
_NON_VESSELS: Final = ("base station", "aton")
#: DMA "Type of mobile" -> the AIS message type whose rules apply (speed not-available value,
#: SAR aircraft in the air).
_DMA_KIND: Final = {"class a": 1, "class b": 18, "sar airborne": SAR_AIRCRAFT_TYPE}

#: ais-simple: role -> accepted column names, after :func:`_normalise_name`.
_SIMPLE_ALIASES: Final[dict[str, frozenset[str]]] = {
    "time": frozenset({"time", "timestamp", "basedatetime", "datetime", "date_time", "t", "utc"}),
    "mmsi": frozenset({"mmsi"}),
    "lat": frozenset({"lat", "latitude"}),
    "lon": frozenset({"lon", "long", "longitude", "lng"}),
    "sog": frozenset({"sog", "speed", "speed_over_ground"}),
    "cog": frozenset({"cog", "course", "course_over_ground"}),
    "name": frozenset({"name", "vesselname", "vessel_name", "shipname", "ship_name"}),
    "callsign": frozenset({"callsign", "call_sign"}),
    "type": frozenset({"shiptype", "ship_type", "vesseltype", "vessel_type"}),
}
_SIMPLE_REQUIRED: Final = ("time", "mmsi", "lat", "lon")
_UNIT_SUFFIX: Final = re.compile(r"_(degrees|degree|deg|knots|knot|kn|kts|kt)$")

_RAW: Final = "raw:"
_AISDB_MARKERS: Final = ("MMSI", "Message_ID", "Time", "Millisecond", "Latitude", "Longitude")
_AISDB_COLUMNS: Final = frozenset(
    {*_AISDB_MARKERS, "SOG", "COG", "Altitude", "Vessel_Name", "Call_sign", "Ship_Type"}
)
_DMA_COLUMNS: Final = frozenset(
    {"Timestamp", "Type of mobile", "MMSI", "Latitude", "Longitude", "SOG", "COG", "Callsign",
     "Name", "Ship type"}
)  # fmt: skip


# --- shared parsing -----------------------------------------------------------------------------


def _read_text_csv(
    path: Path,
    keep: Callable[[str], bool] = lambda name: True,
    rename: Callable[[str], str] = str,
) -> pl.DataFrame:
    """The CSV as text columns (those whose cleaned name ``keep`` accepts) with ``_line``.

    Blank lines are dropped. Reading only the columns in use matters for wide layouts.
    """
    data = read_bytes(path)
    try:
        header = pl.read_csv(data, n_rows=0, infer_schema=False).columns
        names = {c: rename(c.strip().lstrip("\ufeff")) for c in header}
        wanted = [c for c in header if keep(names[c])]
        text = pl.read_csv(data, infer_schema=False, truncate_ragged_lines=True, columns=wanted)
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as exc:
        raise InputError(f"{path}: not a readable CSV ({str(exc).splitlines()[0]})") from exc
    # Raw columns are prefixed so that no source name collides with the parsed columns.
    text = text.rename({c: _RAW + names[c] for c in text.columns})
    text = text.with_columns(pl.int_range(2, text.height + 2, dtype=pl.Int64).alias(LINE_COLUMN))
    # A blank line reads as nulls, or (whitespace only) as text in the first column.
    first, *others = [pl.col(c) for c in text.columns if c != LINE_COLUMN]
    blank = (first.is_null() | (first.str.strip_chars() == "")) & pl.all_horizontal(
        [v.is_null() for v in others] or [pl.lit(True)]
    )
    return text.filter(~blank)


def _raw(name: str) -> pl.Expr:
    return pl.col(_RAW + name)


def _source_names(frame: pl.DataFrame) -> list[str]:
    return [c.removeprefix(_RAW) for c in frame.columns if c.startswith(_RAW)]


def _given(raw: pl.Expr) -> pl.Expr:
    return raw.is_not_null() & ~raw.str.strip_chars().is_in(NOT_AVAILABLE_TEXT)


def _number(raw: pl.Expr) -> pl.Expr:
    return raw.str.strip_chars().cast(pl.Float64, strict=False)


def _problem(label: str, raw: pl.Expr, parsed: pl.Expr, *, required: bool) -> Check:
    unparsable = _given(raw) & parsed.is_null()
    cannot_parse = pl.format("cannot parse {} '{}'", pl.lit(label), raw.str.strip_chars())
    if not required:
        return Check(unparsable, cannot_parse)
    missing = ~_given(raw)
    reason = pl.when(missing).then(pl.lit(f"missing {label}")).otherwise(cannot_parse)
    return Check(unparsable | missing, reason)


def _ship_type(raw: pl.Expr) -> pl.Expr:
    """Ship type as text: a numeric AIS code becomes its name, text is kept."""
    is_code = raw.str.strip_chars().str.contains(r"^\d+$")
    return (
        pl.when(is_code)
        .then(ship_type_from_code(raw.str.strip_chars()))
        .otherwise(text_or_null(raw))
    )


def _header(head: bytes) -> list[str]:
    first = head.split(b"\n", 1)[0].decode("utf-8", "replace").strip().lstrip("\ufeff")
    return [c.strip() for c in first.split(",")]


def _finish(
    path: Path,
    name: str,
    positions: pl.DataFrame,
    static: pl.DataFrame,
    rejections: list[Rejection],
) -> RawRead:
    frame, unavailable = position_table(path, name, positions, static)
    rejections = sorted(rejections + unavailable, key=lambda r: r.line or 0)
    return RawRead(frame, rejections)


# --- ais-dma --------------------------------------------------------------------------------------


def _dma_name(name: str) -> str:
    return name.lstrip("#").strip()


def read_dma_csv(path: Path) -> RawRead:
    text = _read_text_csv(path, keep=_DMA_COLUMNS.__contains__, rename=_dma_name)
    _require_columns(path, text, ("Timestamp", "Type of mobile", "MMSI", "Latitude", "Longitude"))
    mobile = _raw("Type of mobile").str.strip_chars().str.to_lowercase()
    not_vessel = text.filter(mobile.is_in(_NON_VESSELS))
    rejections = rejections_for(
        path, not_vessel, pl.format("not a vessel ({})", _raw("Type of mobile"))
    )
    text = text.filter(~mobile.is_in(_NON_VESSELS).fill_null(False))
    typed = text.with_columns(
        parse_time_column(text[_RAW + "Timestamp"]).alias("time"),
        _raw("MMSI").str.strip_chars().cast(pl.Int64, strict=False).alias("mmsi"),
        mobile.replace_strict(_DMA_KIND, default=1, return_dtype=pl.Int64).alias("kind"),
        _number(_raw("Latitude")).alias("lat"),
        _number(_raw("Longitude")).alias("lon"),
        _optional_number(text, "SOG").alias("speed_kn"),
        _optional_number(text, "COG").alias("course"),
        _optional_text(text, "Name").alias("name"),
        _optional_text(text, "Callsign").alias("callsign"),
        _optional_text(text, "Ship type").alias("type"),
    )
    typed, problems = reject_failed(path, typed, _position_checks(typed, "Timestamp"))
    static = typed.select(list(STATIC_SCHEMA))
    return _finish(path, DMA, typed.drop("name", "callsign", "type"), static, rejections + problems)


def _require_columns(path: Path, frame: pl.DataFrame, names: tuple[str, ...]) -> None:
    missing = [n for n in names if n not in _source_names(frame)]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}")


def _optional_number(frame: pl.DataFrame, name: str) -> pl.Expr:
    return _number(_raw(name)) if _RAW + name in frame.columns else pl.lit(None, pl.Float64)


def _optional_text(frame: pl.DataFrame, name: str) -> pl.Expr:
    return text_or_null(_raw(name)) if _RAW + name in frame.columns else pl.lit(None, pl.String)


def _position_checks(
    typed: pl.DataFrame,
    time_column: str,
    *,
    lat: str = "Latitude",
    lon: str = "Longitude",
    mmsi: str = "MMSI",
    sog: str | None = "SOG",
    cog: str | None = "COG",
) -> list[Check]:
    checks = [
        _problem(time_column, _raw(time_column), pl.col("time"), required=True),
        _problem(mmsi, _raw(mmsi), pl.col("mmsi"), required=True),
        _problem(lat, _raw(lat), pl.col("lat"), required=True),
        _problem(lon, _raw(lon), pl.col("lon"), required=True),
    ]
    for label, parsed in ((sog, "speed_kn"), (cog, "course")):
        if label is not None and _RAW + label in typed.columns:
            checks.append(_problem(label, _raw(label), pl.col(parsed), required=False))
    return checks


def _sniff_dma(path: Path, head: bytes) -> bool:
    names = tuple(c.lstrip("#").strip().lower() for c in _header(head)[:3])
    return names == _DMA_FIRST_COLUMNS


# --- ais-simple -----------------------------------------------------------------------------------


def _normalise_name(name: str) -> str:
    """Lower case, units dropped: ``SOG (knots)``, ``SOG_knots`` -> ``sog``."""
    text = re.sub(r"[(\[].*?[)\]]", "", name.strip().lstrip("#").strip().lower())
    text = re.sub(r"[\s\-]+", "_", text.strip()).strip("_")
    return _UNIT_SUFFIX.sub("", text)


def _simple_roles(columns: list[str]) -> dict[str, str]:
    """Role (time, mmsi, lat, …) -> the first column that plays it."""
    roles: dict[str, str] = {}
    for column in columns:
        key = _normalise_name(column)
        for role, aliases in _SIMPLE_ALIASES.items():
            if key in aliases and role not in roles:
                roles[role] = column
    return roles


def _is_simple_column(name: str) -> bool:
    key = _normalise_name(name)
    return any(key in aliases for aliases in _SIMPLE_ALIASES.values())


def read_simple_csv(path: Path) -> RawRead:
    text = _read_text_csv(path, keep=_is_simple_column)
    roles = _simple_roles(_source_names(text))
    missing = [role for role in _SIMPLE_REQUIRED if role not in roles]
    if missing:
        expected = ", ".join(sorted(_SIMPLE_ALIASES[missing[0]]))
        raise InputError(f"{path}: no column for {missing[0]} (one of: {expected})")
    column = {role: _raw(name) for role, name in roles.items()}
    absent = pl.lit(None, pl.String)
    typed = text.with_columns(
        parse_time_column(text[_RAW + roles["time"]]).alias("time"),
        column["mmsi"].str.strip_chars().cast(pl.Int64, strict=False).alias("mmsi"),
        pl.lit(1, pl.Int64).alias("kind"),
        _number(column["lat"]).alias("lat"),
        _number(column["lon"]).alias("lon"),
        _number(column.get("sog", absent)).alias("speed_kn"),
        _number(column.get("cog", absent)).alias("course"),
        text_or_null(column.get("name", absent)).alias("name"),
        text_or_null(column.get("callsign", absent)).alias("callsign"),
        _ship_type(column.get("type", absent)).alias("type"),
    )
    checks = _position_checks(
        typed, roles["time"], lat=roles["lat"], lon=roles["lon"], mmsi=roles["mmsi"],
        sog=roles.get("sog"), cog=roles.get("cog"),
    )  # fmt: skip
    typed, rejections = reject_failed(path, typed, checks)
    static = typed.select(list(STATIC_SCHEMA))
    return _finish(path, SIMPLE, typed.drop("name", "callsign", "type"), static, rejections)


def _sniff_simple(path: Path, head: bytes) -> bool:
    columns = _header(head)
    if "Message_ID" in columns or _sniff_dma(path, head):
        return False
    roles = _simple_roles(columns)
    return all(role in roles for role in _SIMPLE_REQUIRED)


# --- ais-aisdb ------------------------------------------------------------------------------------


def read_aisdb_csv(path: Path) -> RawRead:
    text = _read_text_csv(path, keep=_AISDB_COLUMNS.__contains__)
    _require_columns(path, text, _AISDB_MARKERS)
    kind = _raw("Message_ID").str.strip_chars().cast(pl.Int64, strict=False)
    millis = _raw("Millisecond").str.strip_chars().cast(pl.Int64, strict=False)
    seconds = (
        _raw("Time")
        .str.strip_chars()
        .str.to_datetime("%Y%m%d_%H%M%S", strict=False, time_unit="us")
    )
    typed = text.with_columns(
        kind.alias("kind"),
        (seconds + pl.duration(milliseconds=millis.fill_null(0)))
        .dt.replace_time_zone("UTC")
        .alias("time"),
        _raw("MMSI").str.strip_chars().cast(pl.Int64, strict=False).alias("mmsi"),
        _number(_raw("Latitude")).alias("lat"),
        _number(_raw("Longitude")).alias("lon"),
        _optional_number(text, "SOG").alias("speed_kn"),
        _optional_number(text, "COG").alias("course"),
        _optional_number(text, "Altitude").alias("altitude"),
    )
    typed, rejections = reject_failed(
        path, typed, [_problem("Message_ID", _raw("Message_ID"), pl.col("kind"), required=True)]
    )
    positions, position_problems = reject_failed(
        path, typed.filter(pl.col("kind").is_in(list(POSITION_TYPES))),
        _position_checks(typed, "Time"),
    )  # fmt: skip
    static = _aisdb_static(typed.filter(pl.col("kind").is_in(list(STATIC_TYPES))))
    others = typed.filter(~pl.col("kind").is_in(list(POSITION_TYPES | STATIC_TYPES)))
    _log.info("%s: %d rows of other AIS message types skipped", path, others.height)
    return _finish(path, AISDB, positions, static, rejections + position_problems)


def _aisdb_static(rows: pl.DataFrame) -> pl.DataFrame:
    ship_type = _raw("Ship_Type") if _RAW + "Ship_Type" in rows.columns else pl.lit(None, pl.String)
    return rows.filter(pl.col("mmsi").is_not_null()).select(
        "mmsi",
        _optional_text(rows, "Vessel_Name").alias("name"),
        _optional_text(rows, "Call_sign").alias("callsign"),
        _ship_type(ship_type).alias("type"),
    )


def _sniff_aisdb(path: Path, head: bytes) -> bool:
    columns = set(_header(head))
    return all(marker in columns for marker in _AISDB_MARKERS)


FORMATS = (
    Format(DMA, "AIS CSV of the Danish Maritime Authority", read_dma_csv, _sniff_dma, 20),
    Format(AISDB, "AIS CSV decoded by aisdb (139 columns)", read_aisdb_csv, _sniff_aisdb, 20),
    Format(
        SIMPLE,
        "AIS CSV with Time, MMSI, Latitude, Longitude[, SOG, COG, name, call sign, ship type]",
        read_simple_csv,
        _sniff_simple,
        40,
    ),
)

__all__ = ["AISDB", "DMA", "FORMATS", "SIMPLE", "read_aisdb_csv", "read_dma_csv", "read_simple_csv"]
