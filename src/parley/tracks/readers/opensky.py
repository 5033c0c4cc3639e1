"""OpenSky Network state vectors as CSV (the historical "states" data set and its extracts).

Header: ``time, icao24, lat, lon, velocity, heading, vertrate, callsign, onground, alert, spi,
squawk, baroaltitude, geoaltitude, lastposupdate, lastcontact`` (extra columns such as ``hour``
or ``x_speed`` are ignored). Units are SI already: velocity and vertrate in m/s, altitudes in m.

Times: ``time`` is the instant OpenSky sampled its picture (every 10 s); ``lastposupdate`` is
when the position in that row was received. A position that did not change between two samples
is repeated with a new ``time`` but the same ``lastposupdate``, so the reader stamps each row
with ``lastposupdate`` when present (and ``time`` otherwise): a repeated position then becomes
the exact duplicate it is, instead of an aircraft that seems to stand still.

Altitude is ``baroaltitude`` only: ``geoaltitude`` (above the WGS84 ellipsoid) differs from it by
up to a few hundred metres, and mixing the two in one track would invent climbs and descents.
"""

from pathlib import Path
from typing import Final

import polars as pl

from parley.errors import InputError
from parley.tracks.readers.adsb_common import (
    Check,
    address,
    bad_address_check,
    course_0_360,
    epoch_number_to_time,
    icao_track,
    missing_time_check,
    no_position_check,
    split_rejected,
    stripped_text,
)
from parley.tracks.readers.base import Format, RawRead, source_label
from parley.tracks.readers.fileio import read_bytes
from parley.tracks.schema import LINE_COLUMN, conform

FORMAT_NAME: Final = "opensky-csv"
REQUIRED_COLUMNS: Final = ("time", "icao24", "lat", "lon")
#: OpenSky column -> canonical column, for the numbers read as they are.
_NUMBERS: Final = {
    "lat": "lat",
    "lon": "lon",
    "velocity": "speed_mps",
    "heading": "course_deg",
    "vertrate": "vrate_mps",
    "baroaltitude": "alt_m",
}
_TIMES: Final = ("time", "lastposupdate")
_SNIFF_COLUMNS: Final = frozenset((*REQUIRED_COLUMNS, "velocity", "baroaltitude"))


def read_opensky_csv(path: Path) -> RawRead:
    text = _read_text_table(path)
    frame, rejections = split_rejected(path, _typed(text), _checks())
    frame = frame.with_columns(
        icao_track(pl.col("address")).alias("track"),
        course_0_360(pl.col("course_deg")),
        pl.lit("air").alias("domain"),
        pl.lit("on").alias("transponder"),
        pl.lit(source_label(FORMAT_NAME, path)).alias("source"),
    )
    return RawRead(conform(frame), rejections)


def _read_text_table(path: Path) -> pl.DataFrame:
    try:
        text = pl.read_csv(read_bytes(path), infer_schema=False, truncate_ragged_lines=True)
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as exc:
        raise InputError(f"{path}: not a readable CSV ({str(exc).splitlines()[0]})") from exc
    text = text.rename({name: name.strip() for name in text.columns})
    missing = [name for name in REQUIRED_COLUMNS if name not in text.columns]
    if missing:
        raise InputError(f"{path}: not OpenSky state vectors (no column {', '.join(missing)})")
    present = [*_NUMBERS, *_TIMES, "icao24", "callsign"]
    text = text.with_columns(
        pl.lit(None, dtype=pl.String).alias(name) for name in present if name not in text.columns
    )
    # Line 1 is the header.
    return text.with_columns(pl.int_range(2, text.height + 2, dtype=pl.Int64).alias(LINE_COLUMN))


def _number(name: str) -> pl.Expr:
    """Empty text is a missing value; ``NaN`` too."""
    return pl.col(name).str.strip_chars().cast(pl.Float64, strict=False).fill_nan(None)


def _given(name: str) -> pl.Expr:
    return pl.col(name).str.strip_chars().fill_null("") != ""


def _typed(text: pl.DataFrame) -> pl.DataFrame:
    times = [epoch_number_to_time(_number(name)) for name in reversed(_TIMES)]
    unparsed = [
        pl.when(
            _given(name) & _number(name).is_null() & ~pl.col(name).str.contains("(?i)nan")
        ).then(pl.format(f"cannot parse {name}={{}}", pl.col(name)))
        for name in (*_NUMBERS, *_TIMES)
    ]
    return text.select(
        pl.col(LINE_COLUMN),
        pl.concat_str(unparsed, separator="; ", ignore_nulls=True).alias("_problem"),
        pl.col("time").alias("_raw_time"),
        pl.coalesce(times).alias("time"),
        address(pl.col("icao24")).alias("address"),
        *(_number(name).alias(canonical) for name, canonical in _NUMBERS.items()),
        stripped_text(pl.col("callsign")).alias("callsign"),
    ).with_columns(
        # an aircraft on the ground has no airborne altitude: it stays out of encounter geometry
        pl.when(_on_ground(text)).then(None).otherwise(pl.col("alt_m")).alias("alt_m")
    )


def _on_ground(text: pl.DataFrame) -> pl.Series:
    if "onground" not in text.columns:
        return pl.Series([False] * text.height, dtype=pl.Boolean)
    flags = text["onground"].str.strip_chars().str.to_lowercase()
    return flags.is_in(["true", "1"]).fill_null(False)


def _checks() -> list[Check]:
    problem = pl.col("_problem")
    return [
        Check(problem.is_not_null() & (problem != ""), problem),
        missing_time_check(pl.col("_raw_time")),
        bad_address_check("address"),
        no_position_check(),
    ]


def _sniff(path: Path, head: bytes) -> bool:
    first = head.split(b"\n", 1)[0].decode("utf-8", "replace").strip().lstrip("\ufeff")
    names = {name.strip() for name in first.split(",")}
    return names >= _SNIFF_COLUMNS


FORMATS = (
    Format(
        FORMAT_NAME,
        "OpenSky state vectors CSV (time, icao24, lat, lon, velocity, …, baroaltitude)",
        read_opensky_csv,
        _sniff,
        20,
    ),
)

__all__ = ["FORMATS", "FORMAT_NAME", "REQUIRED_COLUMNS", "read_opensky_csv"]
