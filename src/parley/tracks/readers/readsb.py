"""readsb / tar1090 JSON: one aircraft's trace, or the receiver's ``aircraft.json`` snapshot.

``readsb-trace`` (``trace_full_<hex>.json``, often gzip-compressed under a ``.json`` name)::

    {"icao": "ac671b", "r": "N899DN", "t": "B739", "timestamp": 1738703622.619,
     "trace": [[dt_s, lat, lon, alt_ft | "ground" | null, gs_kt, track_deg, flags, vrate_fpm,
                details | null, source, geom_alt_ft, geom_rate_fpm, ias_kt, roll_deg], ...]}

Each point's time is ``timestamp + dt_s``. ``flags`` bits: 1 the position is stale (a gap came
before it), 2 a new leg starts here, 4 the vertical rate is geometric, 8 the altitude is
geometric. ``details`` objects come every few points; their ``flight`` is the callsign, carried
to the other points of the same leg (both ways: it names the whole leg). ``t`` becomes ``type``.

``readsb-aircraft`` (``aircraft.json``)::

    {"now": 1700000000.0, "messages": 123, "aircraft": [{"hex": "4ca7b5", "flight": "RYR1 ",
     "lat": ..., "lon": ..., "alt_baro": 35000 | "ground", "gs": ..., "track": ...,
     "baro_rate": ..., "seen_pos": 0.4, "t": "B738", ...}, ...]}

One row per aircraft with a position, at ``now - seen_pos``; a position older than a minute
sits in ``lastPosition`` instead, which is used the same way. Aircraft without any position are
rejected as ``no_position``.

In both, the altitude is barometric only (``"ground"``, or a geometric altitude, gives null):
geometric altitude differs from it by up to a few hundred metres and mixing the two in one
track would invent climbs. The vertical rate may be either, as the two agree closely.
Addresses starting with ``~`` are non-ICAO (TIS-B, anonymous): the track keeps the ``~``
(``icao:~abc123``) so that it never merges with the aircraft holding the real address.
"""

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import polars as pl

from parley.errors import InputError
from parley.tracks.readers.adsb_common import (
    MILLIS_THRESHOLD,
    Check,
    address,
    bad_address_check,
    by_line,
    columns_from_records,
    course_0_360,
    epoch_number_to_time,
    feet_to_m,
    fill_both_ways,
    fpm_to_mps,
    icao_track,
    knots_to_mps,
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

TRACE_FORMAT: Final = "readsb-trace"
AIRCRAFT_FORMAT: Final = "readsb-aircraft"

GROUND: Final = "ground"
STALE_FLAG: Final = 1
NEW_LEG_FLAG: Final = 2
GEOMETRIC_ALTITUDE_FLAG: Final = 8

#: Position of each field in a trace point.
_TRACE_FIELDS: Final[dict[str, tuple[int, pl.DataType]]] = {
    "dt": (0, pl.Float64()),
    "lat": (1, pl.Float64()),
    "lon": (2, pl.Float64()),
    "alt_ft": (3, pl.Float64()),
    "gs_kt": (4, pl.Float64()),
    "track_deg": (5, pl.Float64()),
    "flags": (6, pl.Int64()),
    "vrate_fpm": (7, pl.Float64()),
    "geom_rate_fpm": (11, pl.Float64()),
}
_AIRCRAFT_FIELDS: Final[dict[str, pl.DataType]] = {
    "hex": pl.String(),
    "flight": pl.String(),
    "t": pl.String(),
    "lat": pl.Float64(),
    "lon": pl.Float64(),
    "seen_pos": pl.Float64(),
    "alt_baro": pl.Float64(),
    "gs": pl.Float64(),
    "track": pl.Float64(),
    "baro_rate": pl.Float64(),
    "geom_rate": pl.Float64(),
}
_TRACE_HEAD = (re.compile(rb'"icao"\s*:\s*"'), re.compile(rb'"trace"\s*:\s*\['))
_AIRCRAFT_HEAD = (re.compile(rb'"now"\s*:\s*[\d.]'), re.compile(rb'"aircraft"\s*:\s*\['))


# --- trace ------------------------------------------------------------------------------------


def read_readsb_trace(path: Path) -> RawRead:
    document = parse_json(path, read_bytes(path))
    icao, base_s, points = _trace_parts(path, document)
    rejections = [
        Rejection(str(path), number, f"trace point is not a list of values: {str(point)[:60]}")
        for number, point in enumerate(points, start=1)
        if not _is_point(point)
    ]
    raw = _trace_columns(points).with_columns(
        pl.int_range(1, len(points) + 1, dtype=pl.Int64).alias(LINE_COLUMN),
        pl.Series("_point", [_is_point(point) for point in points], dtype=pl.Boolean),
    )
    raw = raw.filter(pl.col("_point"))
    flags = pl.col("flags").fill_null(0)
    frame = raw.select(
        pl.col(LINE_COLUMN),
        pl.col("_problem"),
        epoch_number_to_time(pl.lit(base_s) + pl.col("dt")).alias("time"),
        pl.col("lat"),
        pl.col("lon"),
        pl.when(flags & GEOMETRIC_ALTITUDE_FLAG == 0)
        .then(feet_to_m(pl.col("alt_ft")))
        .alias("alt_m"),
        knots_to_mps(pl.col("gs_kt")).alias("speed_mps"),
        course_0_360(pl.col("track_deg")).alias("course_deg"),
        fpm_to_mps(pl.coalesce("vrate_fpm", "geom_rate_fpm")).alias("vrate_mps"),
        stripped_text(pl.col("flight")).alias("callsign"),
        (flags & NEW_LEG_FLAG != 0).cum_sum().alias("_leg"),
    )
    frame, rejected = split_rejected(
        path,
        frame,
        [
            problem_check(),
            Check(pl.col("time").is_null(), pl.lit("trace point without a time offset")),
            no_position_check(),
        ],
    )
    frame = fill_both_ways(frame, "callsign", by="_leg").with_columns(
        pl.lit(f"icao:{icao}").alias("track"),
        pl.lit(_text_or_none(document.get("t")), dtype=pl.String).alias("type"),
        *_air_transponder_source(TRACE_FORMAT, path),
    )
    return RawRead(conform(frame), by_line(rejections, rejected))


def _trace_parts(path: Path, document: Any) -> tuple[str, float, list[Any]]:
    if not isinstance(document, dict) or not isinstance(document.get("trace"), list):
        raise InputError(f"{path}: not a readsb trace (no 'trace' list)")
    icao = str(document.get("icao", "")).strip().lower()
    if not re.fullmatch(r"~?[0-9a-f]{6}", icao):
        raise InputError(f"{path}: readsb trace: 'icao' is not a 24-bit hex address: {icao!r}")
    base = document.get("timestamp")
    if not isinstance(base, int | float) or isinstance(base, bool):
        raise InputError(f"{path}: readsb trace: 'timestamp' is not a number: {base!r}")
    return icao, float(base), document["trace"]


def _is_point(point: Any) -> bool:
    return isinstance(point, list) and len(point) >= 3


def _trace_columns(points: Sequence[Any]) -> pl.DataFrame:
    rows = [point if _is_point(point) else [] for point in points]
    columns = {
        name: [row[index] if len(row) > index else None for row in rows]
        for name, (index, _) in _TRACE_FIELDS.items()
    }
    columns["alt_ft"] = [None if value == GROUND else value for value in columns["alt_ft"]]
    flights = [_flight(row[8]) if len(row) > 8 else None for row in rows]
    frame = typed_columns(
        columns, {name: dtype for name, (_, dtype) in _TRACE_FIELDS.items()}, len(rows)
    )
    return frame.with_columns(pl.Series("flight", flights, dtype=pl.String))


def _flight(details: Any) -> str | None:
    if isinstance(details, dict):
        return _text_or_none(details.get("flight"))
    return None


def _text_or_none(value: Any) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


# --- aircraft.json ----------------------------------------------------------------------------


def read_readsb_aircraft(path: Path) -> RawRead:
    return decode_readsb_aircraft(read_bytes(path), path)


def decode_readsb_aircraft(data: bytes, path: Path) -> RawRead:
    """One ``aircraft.json`` document (bytes) as rows; ``path`` names it in rejections."""
    document = parse_json(path, data)
    now_s, aircraft = _aircraft_parts(path, document)
    rejections = [
        Rejection(str(path), number, f"aircraft entry is not a JSON object: {str(entry)[:60]}")
        for number, entry in enumerate(aircraft, start=1)
        if not isinstance(entry, dict)
    ]
    records = [_flat_aircraft(entry) if isinstance(entry, dict) else {} for entry in aircraft]
    raw = columns_from_records(records, _AIRCRAFT_FIELDS).with_columns(
        pl.int_range(1, len(records) + 1, dtype=pl.Int64).alias(LINE_COLUMN),
        pl.Series("_object", [isinstance(entry, dict) for entry in aircraft], dtype=pl.Boolean),
    )
    frame = raw.filter(pl.col("_object")).select(
        pl.col(LINE_COLUMN),
        pl.col("_problem"),
        pl.col("seen_pos"),
        epoch_number_to_time(pl.lit(now_s) - pl.col("seen_pos")).alias("time"),
        address(pl.col("hex")).alias("address"),
        pl.col("lat"),
        pl.col("lon"),
        feet_to_m(pl.col("alt_baro")).alias("alt_m"),
        knots_to_mps(pl.col("gs")).alias("speed_mps"),
        course_0_360(pl.col("track")).alias("course_deg"),
        fpm_to_mps(pl.coalesce("baro_rate", "geom_rate")).alias("vrate_mps"),
        stripped_text(pl.col("flight")).alias("callsign"),
        stripped_text(pl.col("t")).alias("type"),
    )
    has_position = pl.col("lat").is_not_null() & pl.col("lon").is_not_null()
    frame, rejected = split_rejected(
        path,
        frame,
        [
            problem_check(),
            bad_address_check("address"),
            Check(
                has_position & pl.col("seen_pos").is_null(),
                pl.lit("position without seen_pos: its time is unknown"),
            ),
            no_position_check(),
        ],
    )
    frame = frame.with_columns(
        icao_track(pl.col("address")).alias("track"),
        *_air_transponder_source(AIRCRAFT_FORMAT, path),
    )
    return RawRead(conform(frame), by_line(rejections, rejected))


def _aircraft_parts(path: Path, document: Any) -> tuple[float, list[Any]]:
    if not isinstance(document, dict) or not isinstance(document.get("aircraft"), list):
        raise InputError(f"{path}: not a readsb aircraft.json (no 'aircraft' list)")
    now = document.get("now")
    if not isinstance(now, int | float) or isinstance(now, bool):
        raise InputError(f"{path}: readsb aircraft.json: 'now' is not a number: {now!r}")
    # readsb writes seconds; some API front ends write milliseconds.
    now_s = float(now) / 1000 if now >= MILLIS_THRESHOLD else float(now)
    return now_s, document["aircraft"]


def _flat_aircraft(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry's fields, with the position taken from ``lastPosition`` when it is only there."""
    flat = dict(entry)
    if flat.get("alt_baro") == GROUND:
        flat["alt_baro"] = None
    last = entry.get("lastPosition")
    if entry.get("lat") is None and isinstance(last, dict):
        flat.update(lat=last.get("lat"), lon=last.get("lon"), seen_pos=last.get("seen_pos"))
    return flat


# --- shared -----------------------------------------------------------------------------------


def _air_transponder_source(format_name: str, path: Path) -> list[pl.Expr]:
    return [
        pl.lit("air").alias("domain"),
        pl.lit("on").alias("transponder"),
        pl.lit(source_label(format_name, path)).alias("source"),
    ]


def _sniff_trace(path: Path, head: bytes) -> bool:
    return head.lstrip().startswith(b"{") and all(p.search(head) for p in _TRACE_HEAD)


def _sniff_aircraft(path: Path, head: bytes) -> bool:
    return head.lstrip().startswith(b"{") and all(p.search(head) for p in _AIRCRAFT_HEAD)


FORMATS = (
    Format(
        TRACE_FORMAT,
        "readsb/tar1090 trace of one aircraft (trace_full_<hex>.json)",
        read_readsb_trace,
        _sniff_trace,
        20,
    ),
    Format(
        AIRCRAFT_FORMAT,
        "readsb/dump1090 aircraft.json snapshot (now, aircraft[])",
        read_readsb_aircraft,
        _sniff_aircraft,
        20,
    ),
)

__all__ = [
    "AIRCRAFT_FORMAT",
    "FORMATS",
    "TRACE_FORMAT",
    "decode_readsb_aircraft",
    "read_readsb_aircraft",
    "read_readsb_trace",
]
