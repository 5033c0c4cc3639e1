"""An activity's area: a GeoJSON Polygon or MultiPolygon (WGS84), and what it contains.

Containment is decided in the plane of longitude and latitude (each edge a straight line on a
plate carrée chart, as areas are drawn on most charts), with the even-odd rule over every ring, so
holes work. Each edge runs the shorter way round in longitude: a ring crossing the antimeridian
may be given with longitudes either side of it (170 … -170), or split into a MultiPolygon as RFC
7946 prefers. An area more than 180° wide therefore needs intermediate vertices.

On the hotline the area travels as one line of text (:func:`area_to_line`): rings separated by
``; ``, vertices ``54.5N 14.25E`` separated by ``, ``, the closing vertex left out, four decimals
(about 11 m), hemispheres spelt out so that latitude and longitude cannot be swapped.
"""

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from parley.errors import InputError

Ring = tuple[tuple[float, float], ...]
"""A closed ring of (lon, lat) vertices, the first repeated last."""

_VERTEX = re.compile(r"(\d{1,2}(?:\.\d+)?)([NS]) (\d{1,3}(?:\.\d+)?)([EW])")
_DECIMALS = 4


class AreaError(InputError):
    """An area that is not a usable GeoJSON polygon (the message names where and why)."""


@dataclass(frozen=True, slots=True)
class Area:
    """Polygons, each an exterior ring followed by its holes."""

    polygons: tuple[tuple[Ring, ...], ...]

    @property
    def rings(self) -> tuple[Ring, ...]:
        return tuple(ring for polygon in self.polygons for ring in polygon)

    def to_geojson(self) -> dict[str, Any]:
        """A GeoJSON geometry: a Polygon when there is one, else a MultiPolygon."""
        polygons = [[[list(vertex) for vertex in ring] for ring in poly] for poly in self.polygons]
        if len(polygons) == 1:
            return {"type": "Polygon", "coordinates": polygons[0]}
        return {"type": "MultiPolygon", "coordinates": polygons}

    def contains(self, lat: npt.ArrayLike, lon: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """Whether each point (degrees) lies inside the area (even-odd over all rings)."""
        lats = np.atleast_1d(np.asarray(lat, dtype=np.float64))
        lons = np.atleast_1d(np.asarray(lon, dtype=np.float64))
        inside = np.zeros(lats.shape, dtype=bool)
        for ring in self.rings:
            inside ^= _ring_contains(ring, lats, lons)
        return inside


def area_from_geojson(data: object, where: str = "area") -> Area:
    """An :class:`Area` from a GeoJSON Polygon or MultiPolygon (or a Feature holding one)."""
    if isinstance(data, dict) and data.get("type") == "Feature":
        return area_from_geojson(data.get("geometry"), f"{where}.geometry")
    if not isinstance(data, dict):
        raise AreaError(f"{where}: expected a GeoJSON Polygon or MultiPolygon object")
    kind, coordinates = data.get("type"), data.get("coordinates")
    if kind == "Polygon":
        return Area((_polygon(coordinates, f"{where}.coordinates"),))
    if kind == "MultiPolygon":
        if not isinstance(coordinates, list) or not coordinates:
            raise AreaError(f"{where}.coordinates: expected a list of polygons")
        return Area(
            tuple(_polygon(p, f"{where}.coordinates[{i}]") for i, p in enumerate(coordinates))
        )
    raise AreaError(f"{where}: type {kind!r}, expected Polygon or MultiPolygon")


def area_from_json_text(text: str, where: str = "area") -> Area:
    try:
        return area_from_geojson(json.loads(text), where)
    except json.JSONDecodeError as exc:
        raise AreaError(f"{where}: not JSON ({exc.msg})") from None


def area_to_line(area: Area) -> str:
    """The area as one line of text for the hotline (see the module's docstring)."""
    return "; ".join(
        ", ".join(_vertex_text(lon, lat) for lon, lat in ring[:-1]) for ring in area.rings
    )


def area_from_line(line: str, where: str = "area") -> Area:
    """The area of :func:`area_to_line`; a ring inside an odd number of others is a hole."""
    rings: list[Ring] = []
    for number, ring_text in enumerate(line.split(";"), start=1):
        vertices: list[list[float]] = []
        for vertex_text in ring_text.split(","):
            match = _VERTEX.fullmatch(vertex_text.strip())
            if match is None:
                raise AreaError(
                    f"{where}: ring {number}: {vertex_text.strip()!r} is not a vertex such as "
                    "54.5N 14.25E"
                )
            lat = float(match[1]) * (1 if match[2] == "N" else -1)
            lon = float(match[3]) * (1 if match[4] == "E" else -1)
            vertices.append([lon, lat])
        rings.append(_ring(vertices, f"{where}: ring {number}"))
    return Area(_nest(rings))


def _vertex_text(lon: float, lat: float) -> str:
    def number(value: float) -> str:
        text = f"{abs(value):.{_DECIMALS}f}".rstrip("0").rstrip(".")
        return text or "0"

    return f"{number(lat)}{'N' if lat >= 0 else 'S'} {number(lon)}{'E' if lon >= 0 else 'W'}"


def _polygon(data: object, where: str) -> tuple[Ring, ...]:
    if not isinstance(data, list) or not data:
        raise AreaError(f"{where}: expected a list of rings (the exterior, then any holes)")
    return tuple(_ring(ring, f"{where}[{i}]") for i, ring in enumerate(data))


def _ring(data: object, where: str) -> Ring:
    if not isinstance(data, list):
        raise AreaError(f"{where}: expected a list of [lon, lat] positions")
    vertices: list[tuple[float, float]] = []
    for i, position in enumerate(data):
        vertices.append(_position(position, f"{where}[{i}]"))
    if vertices and vertices[0] != vertices[-1]:
        vertices.append(vertices[0])  # RFC 7946 wants it closed; closing it is unambiguous
    if len(set(vertices)) < 3:
        raise AreaError(f"{where}: a ring needs at least 3 distinct positions")
    return tuple(vertices)


def _position(data: object, where: str) -> tuple[float, float]:
    if (
        not isinstance(data, list | tuple)
        or len(data) < 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in data[:2])
    ):
        raise AreaError(f"{where}: expected a [lon, lat] position in degrees")
    lon, lat = float(data[0]), float(data[1])
    if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
        raise AreaError(f"{where}: longitude {lon} outside -180..180")
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise AreaError(f"{where}: latitude {lat} outside -90..90")
    return (lon, lat)


def _unwrapped(ring: Ring) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The ring's longitudes made continuous (each step the shorter way round) and latitudes."""
    lons = np.array([v[0] for v in ring], dtype=np.float64)
    lats = np.array([v[1] for v in ring], dtype=np.float64)
    steps = (np.diff(lons) + 180.0) % 360.0 - 180.0
    return np.concatenate(([lons[0]], lons[0] + np.cumsum(steps))), lats


def _ring_contains(
    ring: Ring, lats: npt.NDArray[np.float64], lons: npt.NDArray[np.float64]
) -> npt.NDArray[np.bool_]:
    ring_lons, ring_lats = _unwrapped(ring)
    inside = np.zeros(lats.shape, dtype=bool)
    # An unwrapped ring spans less than 360°: at most one of these copies of a point falls in it.
    for shift in (-360.0, 0.0, 360.0):
        inside |= _even_odd(ring_lons, ring_lats, lats, lons + shift)
    return inside


def _even_odd(
    xs: npt.NDArray[np.float64],
    ys: npt.NDArray[np.float64],
    lats: npt.NDArray[np.float64],
    lons: npt.NDArray[np.float64],
) -> npt.NDArray[np.bool_]:
    inside = np.zeros(lats.shape, dtype=bool)
    for x1, y1, x2, y2 in zip(xs[:-1], ys[:-1], xs[1:], ys[1:], strict=True):
        if y1 == y2:
            continue  # a horizontal edge is never crossed by a horizontal ray
        straddles = (y1 > lats) != (y2 > lats)
        x_at = x1 + (lats - y1) * (x2 - x1) / (y2 - y1)
        inside ^= straddles & (lons < x_at)
    return inside


def _nest(rings: Sequence[Ring]) -> tuple[tuple[Ring, ...], ...]:
    """Group rings into polygons: a ring inside an odd number of others is a hole of the
    innermost ring that holds it."""
    # Rings do not cross, so a ring's first vertex lies inside exactly the rings holding it.
    probes = [ring[0] for ring in rings]
    holders = [
        [j for j, outer in enumerate(rings) if j != i and _holds(outer, probes[i])]
        for i in range(len(rings))
    ]
    exteriors = [i for i in range(len(rings)) if len(holders[i]) % 2 == 0]
    holes: dict[int, list[Ring]] = {i: [] for i in exteriors}
    for i in range(len(rings)):
        if len(holders[i]) % 2 == 1:
            innermost = max(holders[i], key=lambda j: len(holders[j]))
            holes.setdefault(innermost, []).append(rings[i])
    return tuple((rings[i], *holes[i]) for i in exteriors)


def _holds(ring: Ring, point: tuple[float, float]) -> bool:
    lon, lat = point
    return bool(_ring_contains(ring, np.array([lat]), np.array([lon]))[0])


__all__ = [
    "Area",
    "AreaError",
    "Ring",
    "area_from_geojson",
    "area_from_json_text",
    "area_from_line",
    "area_to_line",
]
