"""GeoJSON: a FeatureCollection of Point features, one position each.

Each feature needs an identity property (``MMSI`` -> ship ``mmsi:…``, ``icao24`` -> aircraft
``icao:…``) and a time property (``t``, ``time``, ``timestamp``, ``Timestamp``, … as ISO 8601,
Unix seconds/milliseconds, or ``dd/mm/yyyy HH:MM:SS``). Optional: ``SOG``/``groundspeed``
(knots), ``COG``/``track``, ``altitude`` (feet) or a third coordinate (metres), call sign, name
and type. A ``crs`` member naming another CRS (e.g. ``urn:ogc:def:crs:EPSG::32632``) is honoured:
coordinates are transformed to WGS84 with pyproj; without one they are WGS84 longitude, latitude.
Rejections carry the 1-based feature number as their line.
"""

import json
import math
import re
from pathlib import Path
from typing import Any, Final

import numpy as np
import polars as pl
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from parley.errors import InputError
from parley.tracks.readers.ais_common import (
    POSITION_NOT_AVAILABLE,
    course_or_null,
    mmsi_track,
    parse_time_column,
    position_not_available,
    rejections_for,
    speed_mps_from_knots,
    text_or_null,
)
from parley.tracks.readers.base import Format, RawRead, Rejection, source_label
from parley.tracks.readers.fileio import read_bytes
from parley.tracks.schema import LINE_COLUMN, conform
from parley.tracks.units import METRES_PER_FOOT, MPS_PER_KNOT

FORMAT_NAME: Final = "geojson"

#: Column -> property names looked up in this order (the first one present wins).
_PROPERTIES: Final[dict[str, tuple[str, ...]]] = {
    "mmsi": ("MMSI", "mmsi"),
    "icao24": ("icao24", "ICAO24", "icao"),
    "time": ("t", "time", "timestamp", "Timestamp", "datetime", "DateTime", "BaseDateTime"),
    "speed_kn": ("SOG", "sog", "groundspeed", "speed"),
    "course": ("COG", "cog", "track", "course"),
    "altitude_ft": ("altitude", "baro_altitude"),
    "callsign": ("callsign", "CallSign", "Callsign", "call_sign"),
    "name": ("Name", "name", "VesselName", "ShipName", "shipname"),
    "type": ("ShipType", "shiptype", "typecode", "type"),
}
_WGS84: Final = CRS.from_epsg(4326)
_GEOJSON_SNIFF: Final = re.compile(rb'"type"\s*:\s*"Feature(Collection)?"')


def read_geojson(path: Path) -> RawRead:
    document = _load(path)
    features = _features(path, document)
    transformer = _transformer(path, document.get("crs"))
    values, problems = _feature_values(features)
    frame = _typed(pl.DataFrame(values, schema=_RAW_SCHEMA, orient="row"))
    rejections = [Rejection(str(path), line, reason) for line, reason in problems]
    frame, rejections = _check(path, frame, rejections)
    frame = _to_wgs84(frame, transformer)
    transform_failed = ~(pl.col("lon").is_finite() & pl.col("lat").is_finite())
    rejections += rejections_for(
        path, frame.filter(transform_failed), "coordinates cannot be transformed to WGS84"
    )
    frame = frame.filter(~transform_failed)
    is_ship = pl.col("mmsi").is_not_null()
    not_available = is_ship & position_not_available(pl.col("lat"), pl.col("lon"))
    rejections += rejections_for(path, frame.filter(not_available), POSITION_NOT_AVAILABLE)
    table = _canonical(path, frame.filter(~not_available))
    return RawRead(table, sorted(rejections, key=lambda r: r.line or 0))


_RAW_SCHEMA: Final[dict[str, pl.DataType]] = {
    LINE_COLUMN: pl.Int64(),
    "x": pl.Float64(),
    "y": pl.Float64(),
    "z": pl.Float64(),
    **{name: pl.String() for name in _PROPERTIES},
}


def _load(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(read_bytes(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not valid JSON (not UTF-8 text)") from exc
    if not isinstance(document, dict):
        raise InputError(f"{path}: not a GeoJSON FeatureCollection")
    return document


def _features(path: Path, document: dict[str, Any]) -> list[Any]:
    kind = document.get("type")
    if kind == "FeatureCollection" and isinstance(document.get("features"), list):
        return list(document["features"])
    if kind == "Feature":
        return [document]
    raise InputError(f"{path}: not a GeoJSON FeatureCollection")


def _feature_values(features: list[Any]) -> tuple[list[tuple[Any, ...]], list[tuple[int, str]]]:
    """One row of raw values per usable feature, and (feature number, reason) for the others."""
    rows: list[tuple[Any, ...]] = []
    problems: list[tuple[int, str]] = []
    for number, feature in enumerate(features, start=1):
        point, problem = _point(feature)
        if point is None:
            problems.append((number, problem))
            continue
        properties = feature.get("properties") or {}
        if not isinstance(properties, dict):
            problems.append((number, "properties is not an object"))
            continue
        rows.append((number, *point, *(_property(properties, n) for n in _PROPERTIES.values())))
    return rows, problems


def _point(feature: Any) -> tuple[tuple[float, float, float | None] | None, str]:
    geometry = feature.get("geometry") if isinstance(feature, dict) else None
    if not isinstance(geometry, dict):
        return None, "feature without geometry"
    if geometry.get("type") != "Point":
        return None, f"geometry is {geometry.get('type')!r}, not a Point"
    coordinates = geometry.get("coordinates")
    if not isinstance(coordinates, list) or not 2 <= len(coordinates) <= 3:
        return None, f"bad Point coordinates {coordinates!r}"
    numbers = [c for c in coordinates if isinstance(c, int | float) and not isinstance(c, bool)]
    if len(numbers) != len(coordinates) or not all(math.isfinite(c) for c in numbers):
        return None, f"bad Point coordinates {coordinates!r}"
    z = float(numbers[2]) if len(numbers) == 3 else None
    return (float(numbers[0]), float(numbers[1]), z), ""


def _property(properties: dict[str, Any], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = properties.get(name)
        if value is not None:
            return str(value)
    return None


def _typed(raw: pl.DataFrame) -> pl.DataFrame:
    return raw.with_columns(
        parse_time_column(raw["time"]).alias("parsed_time"),
        pl.col("mmsi").str.strip_chars().cast(pl.Float64, strict=False).alias("mmsi_number"),
        pl.col("icao24").str.strip_chars().str.to_lowercase().alias("icao"),
        *(
            pl.col(name).str.strip_chars().cast(pl.Float64, strict=False).alias(f"{name}_value")
            for name in ("speed_kn", "course", "altitude_ft")
        ),
    )


def _check(
    path: Path, frame: pl.DataFrame, rejections: list[Rejection]
) -> tuple[pl.DataFrame, list[Rejection]]:
    mmsi_ok = pl.col("mmsi_number").is_not_null() & (pl.col("mmsi_number") % 1 == 0)
    icao_ok = pl.col("icao").str.contains(r"^[0-9a-f]{6}$")
    reason = (
        pl.when(pl.col("mmsi").is_null() & pl.col("icao24").is_null())
        .then(pl.lit("no MMSI or icao24 property"))
        .when(pl.col("mmsi").is_not_null() & ~mmsi_ok)
        .then(pl.format("cannot parse MMSI '{}'", pl.col("mmsi")))
        .when(pl.col("mmsi").is_null() & ~icao_ok.fill_null(False))
        .then(pl.format("cannot parse icao24 '{}'", pl.col("icao24")))
        .when(pl.col("time").is_null())
        .then(pl.lit("no time property"))
        .when(pl.col("parsed_time").is_null())
        .then(pl.format("cannot parse time '{}'", pl.col("time")))
        .otherwise(None)
    )
    checked = frame.with_columns(reason.alias("_problem"))
    bad = checked.filter(pl.col("_problem").is_not_null())
    rejections = rejections + rejections_for(path, bad, pl.col("_problem"))
    return checked.filter(pl.col("_problem").is_null()).drop("_problem"), rejections


def _transformer(path: Path, crs_member: Any) -> Transformer | None:
    """None when the coordinates already are WGS84 longitude, latitude."""
    if crs_member is None:
        return None
    properties = crs_member.get("properties") if isinstance(crs_member, dict) else None
    name = properties.get("name") if isinstance(properties, dict) else None
    if name is None and isinstance(properties, dict) and "code" in properties:
        name = f"EPSG:{properties['code']}"
    try:
        crs = CRS.from_user_input(name)
    except (CRSError, TypeError) as exc:
        raise InputError(f"{path}: unknown crs {crs_member!r}") from exc
    if crs.is_geographic and crs.equals(_WGS84, ignore_axis_order=True):
        return None
    return Transformer.from_crs(crs, _WGS84, always_xy=True)


def _to_wgs84(frame: pl.DataFrame, transformer: Transformer | None) -> pl.DataFrame:
    if transformer is None or frame.is_empty():
        return frame.with_columns(pl.col("x").alias("lon"), pl.col("y").alias("lat"))
    lon, lat = transformer.transform(frame["x"].to_numpy(), frame["y"].to_numpy(), errcheck=False)
    return frame.with_columns(
        pl.Series("lon", np.asarray(lon, dtype=np.float64)),
        pl.Series("lat", np.asarray(lat, dtype=np.float64)),
    )


def _canonical(path: Path, frame: pl.DataFrame) -> pl.DataFrame:
    is_ship = pl.col("mmsi").is_not_null()
    aircraft_altitude = pl.coalesce(pl.col("altitude_ft_value") * METRES_PER_FOOT, pl.col("z"))
    table = frame.select(
        LINE_COLUMN,
        pl.col("parsed_time").alias("time"),
        pl.when(is_ship)
        .then(mmsi_track(pl.col("mmsi_number")))
        .otherwise(pl.format("icao:{}", pl.col("icao")))
        .alias("track"),
        pl.when(is_ship).then(pl.lit("sea")).otherwise(pl.lit("air")).alias("domain"),
        "lat",
        "lon",
        pl.when(is_ship).then(pl.lit(0.0)).otherwise(aircraft_altitude).alias("alt_m"),
        pl.when(is_ship)
        .then(speed_mps_from_knots(pl.col("speed_kn_value"), pl.lit(1)))
        .otherwise(pl.col("speed_kn_value") * MPS_PER_KNOT)
        .alias("speed_mps"),
        pl.when(is_ship)
        .then(course_or_null(pl.col("course_value")))
        .otherwise(pl.col("course_value"))
        .alias("course_deg"),
        pl.lit("on").alias("transponder"),
        pl.coalesce(text_or_null(pl.col("callsign")), text_or_null(pl.col("name"))).alias(
            "callsign"
        ),
        text_or_null(pl.col("type")).alias("type"),
        pl.lit(source_label(FORMAT_NAME, path)).alias("source"),
    )
    return conform(table)


def sniff_geojson(path: Path, head: bytes) -> bool:
    if path.suffix.lower() == ".geojson":
        return True
    return head.lstrip()[:1] == b"{" and _GEOJSON_SNIFF.search(head) is not None


FORMATS = (
    Format(
        FORMAT_NAME,
        "GeoJSON FeatureCollection of Points with MMSI or icao24 and a time property",
        read_geojson,
        sniff_geojson,
        20,
    ),
)

__all__ = ["FORMATS", "FORMAT_NAME", "read_geojson", "sniff_geojson"]
