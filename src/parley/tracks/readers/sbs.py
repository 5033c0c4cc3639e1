"""SBS-1 BaseStation text, as dump1090, readsb and their kin send on TCP port 30003.

One message a line, 22 comma-separated fields::

    MSG,3,1,1,4CA7B5,1,2016/04/14,12:00:00.000,2016/04/14,12:00:00.000,CALLSIGN,alt,gs,track,
    lat,lon,vr,squawk,alert,emergency,spi,onground

Field 2 is the transmission type: 1 identification (callsign), 2 surface position, 3 airborne
position (with altitude), 4 velocity (ground speed kt, track, vertical rate ft/min), 5 to 7
altitude (ft, barometric) and squawk, 8 all-call. Positions come from types 2 and 3; each takes
the latest altitude, speed, track and vertical rate of the same aircraft from the messages
before it (at most a minute old), and its callsign (carried backward too: it names the flight).

Times are the "generated" date and time (fields 7 and 8), read as UTC: configure the feeder to
write UTC (some dump1090 builds write local time). Lines of the other record kinds (``SEL``,
``ID``, ``AIR``, ``STA``, ``CLK``) carry no position and are skipped; anything else, and any
``MSG`` line that cannot be parsed, is rejected with its line number.
"""

import re
from pathlib import Path
from typing import Final

import polars as pl

from parley.tracks.readers.adsb_common import (
    Check,
    address,
    bad_address_check,
    by_line,
    carry_forward,
    decoded_positions,
    fill_both_ways,
    icao_track,
    no_position_check,
    split_rejected,
    stripped_text,
)
from parley.tracks.readers.base import Format, RawRead, source_label
from parley.tracks.readers.fileio import open_text
from parley.tracks.schema import LINE_COLUMN, conform

FORMAT_NAME: Final = "sbs"
FIELD_COUNT: Final = 22
RECORD_KINDS: Final = ("MSG", "SEL", "ID", "AIR", "STA", "CLK")
POSITION_TYPES: Final = (2, 3)
_TIME_FORMAT: Final = "%Y/%m/%d %H:%M:%S%.f"
#: Field number (0-based) of each value used.
_FIELDS: Final = {
    "kind": 0,
    "transmission": 1,
    "hex": 4,
    "date": 6,
    "clock": 7,
    "callsign": 10,
    "alt_ft": 11,
    "gs_kt": 12,
    "track_deg": 13,
    "lat": 14,
    "lon": 15,
    "vrate_fpm": 16,
}
_NUMBERS: Final = ("alt_ft", "gs_kt", "track_deg", "lat", "lon", "vrate_fpm")
_SBS_LINE = re.compile(rb"^MSG,[1-8],[^,\r\n]*,[^,\r\n]*,~?[0-9A-Fa-f]{6},", re.MULTILINE)


def read_sbs(path: Path) -> RawRead:
    with open_text(path) as handle:
        lines = handle.read().splitlines()
    return decode_sbs_lines(lines, path)


def decode_sbs_lines(lines: list[str], path: Path, first_line: int = 1) -> RawRead:
    """SBS lines as rows; the first is line ``first_line`` of ``path`` (for ``_line``)."""
    fields = _split_fields(lines, first_line)
    other_kinds = pl.col("kind").is_in(RECORD_KINDS) & (pl.col("kind") != "MSG")
    typed = _typed(fields).filter(~other_kinds)
    messages, rejections = split_rejected(path, typed, _line_checks())
    messages = carry_forward(messages, ["alt_ft", "gs_kt", "track_deg", "vrate_fpm"])
    messages = fill_both_ways(messages, "callsign", by="track")
    positions, no_position = split_rejected(
        path, messages.filter(pl.col("transmission").is_in(POSITION_TYPES)), [no_position_check()]
    )
    frame = decoded_positions(positions, source_label(FORMAT_NAME, path))
    return RawRead(conform(frame), by_line(rejections, no_position))


def _split_fields(lines: list[str], first_line: int) -> pl.DataFrame:
    """One row per non-blank line: its number, its field count and the fields used."""
    text = pl.DataFrame({"_text": lines}, schema={"_text": pl.String}).with_columns(
        pl.int_range(first_line, first_line + len(lines), dtype=pl.Int64).alias(LINE_COLUMN)
    )
    text = text.filter(pl.col("_text").str.strip_chars() != "")
    parts = pl.col("_text").str.split(",")
    return text.select(
        pl.col(LINE_COLUMN),
        pl.col("_text"),
        parts.list.len().alias("_count"),
        *(
            parts.list.get(index, null_on_oob=True).str.strip_chars().alias(name)
            for name, index in _FIELDS.items()
        ),
    )


def _number(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.Float64, strict=False)


def _given(name: str) -> pl.Expr:
    return pl.col(name).fill_null("") != ""


def _typed(fields: pl.DataFrame) -> pl.DataFrame:
    unparsed = [
        pl.when(_given(name) & _number(name).is_null()).then(
            pl.format(f"cannot parse field {_FIELDS[name] + 1}={{}}", pl.col(name))
        )
        for name in _NUMBERS
    ]
    stamp = pl.concat_str([pl.col("date"), pl.col("clock")], separator=" ").fill_null("missing")
    return fields.select(
        pl.col(LINE_COLUMN),
        pl.col("_text"),
        pl.col("_count"),
        pl.col("kind"),
        pl.col("transmission").cast(pl.Int64, strict=False),
        pl.concat_str(unparsed, separator="; ", ignore_nulls=True).alias("_problem"),
        stamp.alias("_raw_time"),
        stamp.str.to_datetime(_TIME_FORMAT, strict=False, time_unit="us")
        .dt.replace_time_zone("UTC")
        .alias("time"),
        address(pl.col("hex")).alias("address"),
        icao_track(address(pl.col("hex"))).alias("track"),
        stripped_text(pl.col("callsign")).alias("callsign"),
        *(_number(name).alias(name) for name in _NUMBERS),
    )


def _line_checks() -> list[Check]:
    kind = pl.col("kind")
    problem = pl.col("_problem")
    return [
        Check(
            ~kind.is_in(RECORD_KINDS),
            pl.format("not an SBS message: {}", pl.col("_text").str.slice(0, 60)),
        ),
        Check(
            pl.col("_count") < FIELD_COUNT,
            pl.format(f"expected {FIELD_COUNT} fields, found {{}}", pl.col("_count")),
        ),
        Check(
            ~pl.col("transmission").is_between(1, 8).fill_null(False),
            pl.lit("transmission type is not 1 to 8"),
        ),
        bad_address_check("address"),
        Check(
            pl.col("time").is_null(),
            pl.format("cannot parse the generated date and time {}", pl.col("_raw_time")),
        ),
        Check(problem.is_not_null() & (problem != ""), problem),
    ]


def _sniff(path: Path, head: bytes) -> bool:
    return _SBS_LINE.search(head) is not None


FORMATS = (
    Format(FORMAT_NAME, "SBS-1 BaseStation text (port 30003: MSG,3,…)", read_sbs, _sniff, 30),
)

__all__ = ["FORMATS", "FORMAT_NAME", "decode_sbs_lines", "read_sbs"]
