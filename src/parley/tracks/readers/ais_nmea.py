"""AIS as NMEA 0183 sentences (``!AIVDM``/``!AIVDO``), decoded with pyais.

A line may carry an NMEA 4.0 tag block (``\\s:…,c:1635731889*hh\\!AIVDM,…``) whose ``c:`` field is
the receive time (Unix seconds, or milliseconds: told apart by magnitude), a leading timestamp
(Unix time or ISO 8601 before the sentence), or be a Gatehouse ``$PGHP,1,…`` wrapper whose time
applies to the sentences after it, up to the next ``$PGHP`` line. A sentence takes its own tag
block time first, then its leading timestamp, then the last Gatehouse time. Positions without any
receive time are rejected: the reader never invents a time.

The NMEA framing (splitting, checksums, tag blocks, times) is vectorised with Polars and NumPy;
only the AIS payloads of the message types we use go through pyais, one call each.
"""

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
import polars as pl
from pyais.bit_vector import bit_vector
from pyais.exceptions import AISBaseException
from pyais.messages import MSG_CLASS

from parley.tracks.readers.ais_common import (
    FAILED,
    POSITION_TYPES,
    SAR_AIRCRAFT_TYPE,
    STATIC_SCHEMA,
    STATIC_TYPES,
    Check,
    flag_failed,
    position_table,
    rejections_for,
    ship_type_text,
    split_failed,
    unix_time,
)
from parley.tracks.readers.ais_sixbit import FAST_TYPES, REPORT_CHARS, decode_position_reports
from parley.tracks.readers.base import Format, RawRead
from parley.tracks.readers.fileio import read_bytes
from parley.tracks.schema import LINE_COLUMN, TIME_DTYPE
from parley.tracks.timeparse import parse_iso_time

FORMAT_NAME: Final = "ais-nmea"
NO_RECEIVE_TIME: Final = "no receive time"

_log = logging.getLogger(__name__)

# Optional leading text (a timestamp), optional tag block, then one NMEA sentence. The AIS payload
# alphabet has none of ``!$\*``, so these delimit the parts unambiguously.
_LINE_PATTERN: Final = (
    r"^(?P<prefix>[^!$\\]*)(?:\\(?P<tag>[^\\]*)\\)?"
    r"(?P<delimiter>[!$])(?P<body>[^!$\\*]*)\*(?P<checksum>[0-9A-Fa-f]{2})$"
)
_TAG_PATTERN: Final = r"^(?P<tag_body>[^*]*)\*(?P<tag_checksum>[0-9A-Fa-f]{1,2})$"
_AIS_ADDRESS: Final = r"^[A-Z]{2}VD[MO]$"
_GATEHOUSE_ADDRESS: Final = "PGHP"
_PAYLOAD_ALPHABET: Final = r"^[0-W`-w]*$"

#: First payload character -> AIS message type (the six-bit armouring of the first six bits).
_SIXBIT_VALUE: Final[dict[str, int]] = {
    chr(code): (code - 48 if code < 88 else code - 56) for code in (*range(48, 88), *range(96, 120))
}
_PROBLEM_SCHEMA: Final = {LINE_COLUMN: pl.Int64(), "reason": pl.String()}
_HEX: Final[dict[int, str]] = {value: f"{value:02X}" for value in range(256)}
#: Fields we read from decoded messages; a payload too short to hold them is truncated.
_USED_FIELDS: Final = frozenset(
    {"mmsi", "lat", "lon", "speed", "course", "alt", "shipname", "callsign", "ship_type"}
)


@dataclass(frozen=True, slots=True)
class NmeaDecoded:
    """Decoded NMEA text: the rows, and the static reports (:data:`STATIC_SCHEMA`) it held."""

    raw: RawRead
    static: pl.DataFrame


def read_ais_nmea(path: Path) -> RawRead:
    text = read_bytes(path).decode("utf-8", errors="replace")
    return decode_ais_nmea(text, path).raw


def decode_ais_nmea(
    text: str, path: Path, *, first_line: int = 1, known_static: pl.DataFrame | None = None
) -> NmeaDecoded:
    """NMEA ``text`` (line ``first_line`` of ``path`` first) as rows.

    ``known_static`` (static reports seen before, :data:`STATIC_SCHEMA`) names the vessels whose
    static report is not in ``text``: a stream passes what earlier chunks held.
    """
    lines = _content_lines(text, first_line)
    good, rejections = split_failed(path, _parse_lines(lines), _LINE_CHECKS)
    ais = good.filter(pl.col("is_ais"))
    messages, fragment_problems = _assemble(ais)
    rejections += rejections_for(path, fragment_problems, pl.col("reason"))
    messages = messages.with_columns(
        pl.col("payload").str.slice(0, 1).replace_strict(_SIXBIT_VALUE, default=None).alias("kind")
    )
    unknown = messages.filter(
        pl.col("kind").is_null() | (pl.col("kind") == 0) | ~pl.col("kind").is_in(list(MSG_CLASS))
    )
    rejections += rejections_for(
        path, unknown, pl.format("unknown AIS message type {}", pl.col("kind").fill_null(-1))
    )
    wanted = messages.filter(pl.col("kind").is_in(list(POSITION_TYPES | STATIC_TYPES)))
    positions, static, undecodable = _decode(wanted)
    rejections += rejections_for(path, undecodable, pl.col("reason"))
    no_time = pl.col("time").is_null()
    rejections += rejections_for(path, positions.filter(no_time), NO_RECEIVE_TIME)
    known = static if known_static is None else pl.concat([known_static, static])
    frame, unavailable = position_table(path, FORMAT_NAME, positions.filter(~no_time), known)
    rejections += unavailable
    _log.info(
        "%s: %d positions, %d static reports, %d other AIS messages skipped, %d rejected",
        path,
        frame.height,
        static.height,
        messages.height - unknown.height - wanted.height,
        len(rejections),
    )
    rejections.sort(key=lambda r: r.line or 0)
    return NmeaDecoded(RawRead(frame, rejections), static)


def _content_lines(text: str, first_line: int = 1) -> pl.DataFrame:
    """Numbered lines, without blank lines and ``#`` comments."""
    lines = pl.DataFrame({"text": text.split("\n")}, schema={"text": pl.String})
    return (
        lines.with_row_index(LINE_COLUMN, offset=first_line)
        .with_columns(pl.col(LINE_COLUMN).cast(pl.Int64), pl.col("text").str.strip_chars())
        .filter((pl.col("text") != "") & ~pl.col("text").str.starts_with("#"))
    )


def _parse_lines(lines: pl.DataFrame) -> pl.DataFrame:
    """Split each line into its parts, check it, and give each sentence its receive time.

    Adds ``_failed`` (see :data:`_LINE_CHECKS`), ``is_ais``, ``time`` and the sentence fields.
    """
    parts = lines.with_columns(pl.col("text").str.extract_groups(_LINE_PATTERN).alias("_m")).unnest(
        "_m"
    )
    parts = parts.with_columns(
        pl.col("tag").str.extract_groups(_TAG_PATTERN).alias("_t"),
        pl.col("body").str.splitn(",", 2).struct.rename_fields(["address", "rest"]).alias("_b"),
        pl.col("prefix").str.strip_chars(" \t,;[]"),
    ).unnest("_t", "_b")
    parts = parts.with_columns(
        pl.Series("computed", _xor_checksums(parts["body"])),
        pl.Series("tag_computed", _xor_checksums(parts["tag_body"])),
        pl.col("checksum").str.to_integer(base=16, strict=False).alias("given"),
        pl.col("tag_checksum").str.to_integer(base=16, strict=False).alias("tag_given"),
        ((pl.col("delimiter") == "!") & pl.col("address").str.contains(_AIS_ADDRESS)).alias(
            "is_ais"
        ),
        ((pl.col("delimiter") == "$") & (pl.col("address") == _GATEHOUSE_ADDRESS)).alias(
            "is_gatehouse"
        ),
    )
    parts = _with_ais_fields(parts)
    parts = parts.with_columns(
        _tag_time(pl.col("tag_body")).alias("tag_time"),
        _prefix_time(pl.col("prefix")).alias("prefix_time"),
        (
            _gatehouse_time(pl.col("rest"))
            if parts["is_gatehouse"].any()
            else pl.lit(None, TIME_DTYPE)
        ).alias("gatehouse_time"),
    )
    parts = flag_failed(parts, _LINE_CHECKS)
    # A Gatehouse line stamps the lines after it; a garbled one leaves them without a time.
    stamp = (
        pl.when(~pl.col(FAILED) & pl.col("is_gatehouse"))
        .then(pl.col("gatehouse_time"))
        .otherwise(None)
        .first()
        .over(pl.col("is_gatehouse").fill_null(False).cum_sum())
    )
    return parts.with_columns(
        pl.coalesce("tag_time", "prefix_time", stamp).alias("time"),
        pl.col("is_ais").fill_null(False),
    )


def _with_ais_fields(parts: pl.DataFrame) -> pl.DataFrame:
    fields = ["frag_cnt", "frag_num", "seq", "channel", "payload", "fill"]
    split = pl.col("rest").str.splitn(",", 6).struct.rename_fields(fields).alias("_f")
    parts = parts.with_columns(split).unnest("_f")
    return parts.with_columns(
        pl.col("frag_cnt").str.to_integer(strict=False),
        pl.col("frag_num").str.to_integer(strict=False),
        pl.col("fill").str.to_integer(strict=False),
    )


def _line_checks() -> list[Check]:
    """What makes a line unusable, in the order the first failure names the reason."""
    body, tag = pl.col("body"), pl.col("tag")
    sentence_like = pl.col("text").str.contains(r"[!$]")
    is_ais = pl.col("is_ais")
    frag_cnt, frag_num, fill = pl.col("frag_cnt"), pl.col("frag_num"), pl.col("fill")
    computed_hex = pl.col("computed").replace_strict(_HEX, default=None, return_dtype=pl.String)
    return [
        Check(body.is_null() & sentence_like, pl.lit("malformed NMEA sentence")),
        Check(body.is_null(), pl.lit("not an NMEA sentence")),
        Check(tag.is_not_null() & pl.col("tag_body").is_null(), pl.lit("malformed tag block")),
        Check(
            tag.is_not_null() & (pl.col("tag_computed") != pl.col("tag_given")),
            pl.lit("bad tag block checksum"),
        ),
        Check(
            pl.col("computed") != pl.col("given"),
            pl.format(
                "bad checksum (computed {}, given {})",
                computed_hex,
                pl.col("checksum").str.to_uppercase(),
            ),
        ),
        Check(
            (pl.col("prefix") != "") & pl.col("prefix_time").is_null(),
            pl.format("unrecognised text before the sentence: {}", pl.col("prefix")),
        ),
        Check(
            pl.col("is_gatehouse") & pl.col("gatehouse_time").is_null(),
            pl.lit("bad Gatehouse timestamp"),
        ),
        Check(
            is_ais & ~frag_cnt.is_between(1, 9).fill_null(False),
            pl.format("invalid fragment count {}", pl.col("rest").str.extract(r"^([^,]*)")),
        ),
        Check(
            is_ais & ~frag_num.is_between(1, frag_cnt).fill_null(False),
            pl.lit("invalid fragment number"),
        ),
        Check(is_ais & ~fill.is_between(0, 5).fill_null(False), pl.lit("invalid fill bits")),
        Check(
            is_ais & ~pl.col("payload").str.contains(_PAYLOAD_ALPHABET).fill_null(False),
            pl.lit("invalid characters in the AIS payload"),
        ),
        Check(is_ais & (pl.col("payload") == ""), pl.lit("empty AIS payload")),
    ]


_LINE_CHECKS: Final = _line_checks()


def _xor_checksums(texts: pl.Series) -> np.ndarray[Any, np.dtype[np.int64]]:
    """The NMEA checksum (XOR of all bytes) of every string, at once.

    XOR over a slice is the XOR of two prefix XORs, so one pass over all strings laid end to
    end gives every checksum. Nulls get 0.
    """
    filled = texts.fill_null("")
    lengths = filled.str.len_bytes().cast(pl.Int64).to_numpy()
    joined: str = filled.str.join("").item() if len(filled) else ""
    buffer = np.frombuffer(joined.encode("utf-8"), dtype=np.uint8)
    prefix = np.zeros(buffer.size + 1, dtype=np.int64)
    prefix[1:] = np.bitwise_xor.accumulate(buffer)
    ends = np.cumsum(lengths)
    result: np.ndarray[Any, np.dtype[np.int64]] = prefix[ends] ^ prefix[ends - lengths]
    return result


def _tag_time(tag_body: pl.Expr) -> pl.Expr:
    received = tag_body.str.extract(r"(?:^|,)c:(\d+(?:\.\d+)?)(?:,|$)").cast(pl.Float64)
    return unix_time(received)


def _prefix_time(prefix: pl.Expr) -> pl.Expr:
    as_number = prefix.cast(pl.Float64, strict=False)
    return (
        pl.when(prefix == "")
        .then(None)
        .otherwise(pl.coalesce(unix_time(as_number), parse_iso_time(prefix)))
    )


def _gatehouse_time(rest: pl.Expr) -> pl.Expr:
    """``1,2008,5,9,0,0,0,10,…``: message 1, then year, month, day, hour, minute, second, ms."""
    names = ["msg", "year", "month", "day", "hour", "minute", "second", "milli", "tail"]
    fields = rest.str.splitn(",", 9).struct.rename_fields(names)
    two = [
        fields.struct.field(n).str.zfill(2) for n in ("month", "day", "hour", "minute", "second")
    ]
    text = pl.format(
        "{}-{}-{} {}:{}:{}.{}",
        fields.struct.field("year"),
        *two,
        fields.struct.field("milli").str.zfill(3),
    )
    parsed = text.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False, time_unit="us")
    return (
        pl.when(fields.struct.field("msg") == "1")
        .then(parsed.dt.replace_time_zone("UTC"))
        .otherwise(None)
    )


def _assemble(ais: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Whole messages (``_line``, ``time``, ``payload``, ``fill``) and rejected fragments.

    A multi-sentence message is keyed like pyais does it (talker and type, channel, sequence id,
    fragment count); its time is the first time found on its fragments, its line the first one.
    """
    columns = [LINE_COLUMN, "time", "payload", "fill"]
    singles = ais.filter(pl.col("frag_cnt") == 1).select(columns)
    multi = ais.filter(pl.col("frag_cnt") > 1)
    assembled: list[tuple[int, datetime | None, str, int]] = []
    problems: list[tuple[int, str]] = []
    pending: dict[tuple[Any, ...], list[_Fragment]] = {}
    names = [LINE_COLUMN, "time", "address", "channel", "seq", "frag_cnt", "frag_num"]
    rows = zip(*(multi[name].to_list() for name in [*names, "payload", "fill"]), strict=True)
    for line, time, address, channel, seq, count, number, payload, fill in rows:
        key = (address, channel, seq, count)
        parts = pending.pop(key, [])
        if number == 1 or len(parts) != number - 1:
            problems.extend((part.line, _incomplete(count)) for part in parts)
            parts = []
        if number != 1 and not parts:
            problems.append((line, f"fragment {number} of {count} without the fragments before it"))
            continue
        parts.append(_Fragment(line, time, payload, fill))
        if len(parts) < count:
            pending[key] = parts
            continue
        times = [part.time for part in parts if part.time is not None]
        whole = "".join(part.payload for part in parts)
        assembled.append((parts[0].line, times[0] if times else None, whole, parts[-1].fill))
    for key, parts in pending.items():
        problems.extend((part.line, _incomplete(key[3])) for part in parts)
    whole_messages = pl.DataFrame(assembled, schema=singles.schema, orient="row")
    messages = pl.concat([singles, whole_messages]).sort(LINE_COLUMN)
    return messages, pl.DataFrame(problems, schema=_PROBLEM_SCHEMA, orient="row")


@dataclass(frozen=True, slots=True)
class _Fragment:
    line: int
    time: datetime | None
    payload: str
    fill: int


def _incomplete(count: int) -> str:
    return f"incomplete multi-sentence message (not all {count} fragments found)"


_REQUIRED_BITS: dict[type, int] = {}


def _required_bits(message_class: type) -> int:
    """Payload bits needed for the fields we read, from pyais's own field plan."""
    bits = _REQUIRED_BITS.get(message_class)
    if bits is None:
        plan: list[tuple[Any, ...]] = getattr(message_class, "decoder_plan")()  # noqa: B009
        bits = max(int(offset + width) for name, offset, width, *_ in plan if name in _USED_FIELDS)
        _REQUIRED_BITS[message_class] = bits
    return bits


def _fast_reports() -> pl.Expr:
    """Which messages the vectorised decoder takes: 168-bit reports of types 1/2/3/18."""
    return (
        pl.col("kind").is_in(list(FAST_TYPES))
        & (
            pl.col("payload").str.len_bytes()
            == pl.col("kind").replace_strict(REPORT_CHARS, default=-1)
        )
        & (pl.col("fill") == 0)
    )


def _decode(messages: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Decode the payloads: positions, static reports, undecodable rows.

    The common fixed-size position reports are decoded in bulk (``ais_sixbit``); everything else
    goes through pyais one message at a time.
    """
    indexed = messages.with_row_index("_row").with_columns(pl.col("_row").cast(pl.Int64))
    fast = indexed.filter(_fast_reports())
    fields = decode_position_reports(
        fast["payload"].cast(pl.Binary).to_list(), fast["kind"].to_numpy().astype(np.int64)
    )
    fast_positions = pl.DataFrame(
        {
            "_row": fast["_row"],
            "mmsi": fields.mmsi,
            "lat": fields.lat,
            "lon": fields.lon,
            "speed_kn": fields.speed_kn,
            "course": fields.course,
            "altitude": None,
        },
        schema=_POSITION_SCHEMA,
    )
    slow = indexed.filter(~_fast_reports())
    slow_positions, static, bad = _decode_with_pyais(slow)
    positions = pl.concat([fast_positions, slow_positions]).sort("_row")
    position_frame = positions.join(indexed, on="_row", how="left", maintain_order="left")
    return position_frame, static, bad.join(indexed, on="_row", how="left")


def _decode_with_pyais(
    messages: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Decode one message at a time with pyais (``messages`` carries ``_row``)."""
    positions: dict[str, list[Any]] = {name: [] for name in _POSITION_SCHEMA}
    rows, mmsis, lats, lons, speeds, courses, altitudes = positions.values()
    static_rows: list[tuple[int, str | None, str | None, str | None]] = []
    problems: list[tuple[int, str]] = []
    kinds = messages["kind"].to_list()
    payloads = messages["payload"].cast(pl.Binary).to_list()
    fills = messages["fill"].to_list()
    row_ids = messages["_row"].to_list()
    # vessels repeat the same static report every few minutes: decode each distinct one once
    static_seen: dict[tuple[int, bytes, int], Any] = {}
    for row, kind, payload, fill in zip(row_ids, kinds, payloads, fills, strict=True):
        key = (kind, payload, fill)
        decoded: Any = static_seen.get(key)
        if decoded is None:
            try:
                decoded = MSG_CLASS[kind].from_vector(bit_vector(payload, fill))
            except (AISBaseException, ValueError, KeyError, IndexError) as exc:
                problems.append((row, f"undecodable AIS payload ({type(exc).__name__})"))
                continue
            if kind in STATIC_TYPES:
                static_seen[key] = decoded
        bits = len(payload) * 6 - fill
        if bits < _required_bits(type(decoded)):
            problems.append((row, f"truncated AIS payload ({bits} bits for message type {kind})"))
            continue
        if kind in POSITION_TYPES:
            rows.append(row)
            mmsis.append(decoded.mmsi)
            lats.append(decoded.lat)
            lons.append(decoded.lon)
            speeds.append(decoded.speed)
            courses.append(decoded.course)
            altitudes.append(decoded.alt if kind == SAR_AIRCRAFT_TYPE else None)
        if kind in STATIC_TYPES:
            static_rows.append(_static_row(decoded))
    position_frame = pl.DataFrame(positions, schema=_POSITION_SCHEMA)
    static = pl.DataFrame(static_rows, schema=STATIC_SCHEMA, orient="row")
    bad = pl.DataFrame(problems, schema={"_row": pl.Int64, "reason": pl.String}, orient="row")
    return position_frame, static, bad


_POSITION_SCHEMA: Final = {
    "_row": pl.Int64(),
    "mmsi": pl.Int64(),
    "lat": pl.Float64(),
    "lon": pl.Float64(),
    "speed_kn": pl.Float64(),
    "course": pl.Float64(),
    "altitude": pl.Float64(),
}


def _static_row(decoded: Any) -> tuple[int, str | None, str | None, str | None]:
    code = getattr(decoded, "ship_type", None)
    return (
        decoded.mmsi,
        getattr(decoded, "shipname", None),
        getattr(decoded, "callsign", None),
        ship_type_text(int(code)) if code is not None else None,
    )


#: A line of the head that starts, after an optional timestamp and tag block, an AIS sentence.
_SNIFF_PATTERN: Final = re.compile(
    rb"(?m)^[^!$\\\r\n]{0,40}(?:\\[^\\\r\n]*\\)?(?:![A-Z]{2}VD[MO],|\$PGHP,)"
)


def sniff_ais_nmea(path: Path, head: bytes) -> bool:
    return b"\x00" not in head and _SNIFF_PATTERN.search(head) is not None


FORMATS = (
    Format(
        FORMAT_NAME,
        "AIS NMEA 0183 (!AIVDM/!AIVDO, tag blocks, Gatehouse $PGHP), decoded with pyais",
        read_ais_nmea,
        sniff_ais_nmea,
        20,
    ),
)

__all__ = [
    "FORMATS",
    "FORMAT_NAME",
    "NO_RECEIVE_TIME",
    "NmeaDecoded",
    "decode_ais_nmea",
    "read_ais_nmea",
    "sniff_ais_nmea",
]
