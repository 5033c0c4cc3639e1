"""The duty officer's desk in the browser: ``GET /desk`` and what the page loads.

- ``GET /desk``: the page (sign-in, then the map and the warnings panel; docs/desk.md).
- ``/desk/static/…``: its scripts, styles, dictionaries and the map style; the third-party
  libraries under ``/desk/static/vendor/`` are copied there from npm by ``tools/web-assets.sh``.
- ``GET /desk/config.json``: what the page needs before sign-in: our party, the theatre, the
  basemap's box and what each role may do.
- ``GET /desk/basemap.geojson?bbox=W,S,E,N`` (default :data:`BASEMAP_BOX`): land, coastline and
  land borders of Natural Earth 1:10 m inside the box, simplified to the box's scale (computed
  once per box, then cached; the page's own box starts computing when the page is served).

The offline rule: every file the page needs is served from here; a Content-Security-Policy on
the page tells the browser to refuse any other origin, so nothing leaves the machine even if a
library tried.
"""

import json
import math
import threading
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

import shapely  # type: ignore[import-untyped]  # shapely ships no type information
import shapely.affinity  # type: ignore[import-untyped]
import shapely.geometry  # type: ignore[import-untyped]
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from parley.hotline.escalation_policy import INBOUND, TRACKS, load_policy
from parley.hotline.users import PERMISSIONS
from parley.incidents import basemap
from parley.incidents.basemap import BasemapError, BBox, land_in
from parley.web.state import node_state

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_PATH = "/desk/static"
PAGE = STATIC_DIR / "desk" / "index.html"
#: The files tools/web-assets.sh copies; the page cannot work without them.
VENDOR_FILES = ("maplibre-gl.mjs", "maplibre-gl-worker.mjs", "maplibre-gl.css", "milsymbol.js")

#: The Baltic theatre (lon/lat degrees): the map's first view.
THEATRE = BBox(west=9.0, south=53.0, east=31.0, north=66.0)
#: The basemap the page loads: the theatre and a margin, so panning out shows no bare edge.
BASEMAP_BOX = BBox(west=3.0, south=50.0, east=37.0, north=69.0)
#: The basemap is simplified to this fraction of the box's width (about a pixel of a full view).
DETAIL_FRACTION = 1 / 4000
MIN_TOLERANCE_DEG = 0.0005

#: Only this origin: no tile server, no font or sprite host, no analytics (docs/desk.md).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "child-src 'self' blob:",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

router = APIRouter(prefix="/desk", tags=["desk"])


def static_files() -> StaticFiles:
    """The page's files, to mount at :data:`STATIC_PATH`."""
    return StaticFiles(directory=STATIC_DIR, check_dir=False)


def missing_vendor_files() -> list[str]:
    """The library files tools/web-assets.sh has not copied (empty when the desk can run)."""
    vendor = STATIC_DIR / "vendor"
    return [name for name in VENDOR_FILES if not (vendor / name).is_file()]


@router.get("", summary="The duty officer's desk (HTML page)", response_class=FileResponse)
async def page() -> Response:
    _warm_basemap()
    missing = missing_vendor_files()
    if missing:
        return PlainTextResponse(
            f"the desk's libraries are not installed ({', '.join(missing)} missing in "
            "src/parley/web/static/vendor): run tools/web-assets.sh",
            status_code=503,
        )
    headers = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-cache"}
    return FileResponse(PAGE, media_type="text/html; charset=utf-8", headers=headers)


@router.get("/config.json", summary="Our party, the theatre and each role's actions")
async def config(request: Request) -> dict[str, Any]:
    """What the page needs before sign-in. The roles' actions let it leave out what the
    officer's role may not do; the API refuses those actions regardless. The escalation
    deadlines (escalation.toml) let the hotline panel count down to each first notice."""
    node = node_state(request).node
    party = node.config.party
    policy = load_policy(node.directory)
    box = THEATRE
    return {
        "party": party,
        "peer_party": None if node.config.peer is None else node.config.peer.identity.party,
        "theatre": [box.west, box.south, box.east, box.north],
        "basemap": [BASEMAP_BOX.west, BASEMAP_BOX.south, BASEMAP_BOX.east, BASEMAP_BOX.north],
        "permissions": {
            str(role): sorted(str(action) for action in actions)
            for role, actions in PERMISSIONS.items()
        },
        "deadlines": {track: getattr(policy, track).deadline_s for track in (*TRACKS, INBOUND)},
    }


@router.get("/basemap.geojson", summary="Land, coastline and land borders inside a box (GeoJSON)")
async def basemap_geojson(
    bbox: Annotated[
        str | None, Query(description="west,south,east,north in degrees (default: the theatre)")
    ] = None,
) -> Response:
    box = BASEMAP_BOX if bbox is None else parse_bbox(bbox)
    try:
        body = await run_in_threadpool(basemap_bytes, box)
    except BasemapError as exc:
        raise HTTPException(400 if bbox is not None else 500, str(exc)) from None
    headers = {"Cache-Control": "public, max-age=86400"}
    return Response(body, media_type="application/geo+json", headers=headers)


_warming = threading.Lock()


def _warm_basemap() -> None:
    """Start computing the page's basemap while the browser loads the scripts (the first
    computation reads the whole shapefile: seconds; later ones come from the cache)."""
    if _warming.acquire(blocking=False):
        threading.Thread(target=basemap_bytes, args=(BASEMAP_BOX,), daemon=True).start()


def parse_bbox(text: str) -> BBox:
    """``west,south,east,north`` as a box, each edge rounded to 1/1000 degree (so the cache
    holds one entry per view, not one per floating-point jitter); 400 when malformed."""
    parts = text.split(",")
    try:
        values = [round(float(part), 3) for part in parts]
    except ValueError:
        values = []
    if len(values) != 4 or len(parts) != 4:
        raise HTTPException(400, f"bbox {text!r}: four numbers west,south,east,north expected")
    try:
        return BBox(*values)
    except BasemapError as exc:
        raise HTTPException(400, str(exc)) from None


def tolerance_for(box: BBox) -> float:
    return max(MIN_TOLERANCE_DEG, (box.east - box.west) * DETAIL_FRACTION)


@lru_cache(maxsize=32)
def basemap_bytes(box: BBox) -> bytes:
    """The GeoJSON of the box: ``kind`` ``land`` polygons (their outline is the coastline) and
    ``border`` lines (the edges two countries share), both simplified for the box's scale."""
    tolerance = tolerance_for(box)
    land = land_in(box, tolerance)
    features = [
        _feature("land", {"type": "Polygon", "coordinates": [_coords(ring) for ring in rings]})
        for rings in land.polygons
    ]
    features += [
        _feature("border", shapely.geometry.mapping(line)) for line in borders_in(box, tolerance)
    ]
    collection = {
        "type": "FeatureCollection",
        "bbox": [box.west, box.south, box.east, box.north],
        "source": basemap.SOURCE,
        "features": features,
    }
    return json.dumps(collection, separators=(",", ":")).encode()


def borders_in(box: BBox, tolerance_deg: float) -> list[Any]:
    """The land borders inside the box: the boundary two clipped countries share, as lines
    (shifted by whole turns like :func:`parley.incidents.basemap.land_in` across ±180°)."""
    # basemap keeps the country polygons private (its land is merged); the borders need them.
    geometries, tree = basemap._world()
    lines: list[Any] = []
    for shift in _world_shifts(box):
        west, east = box.west - shift, box.east - shift
        window = shapely.box(west, box.south, east, box.north)
        countries = [
            shapely.clip_by_rect(geometries[index], west, box.south, east, box.north)
            for index in tree.query(window, predicate="intersects")
        ]
        countries = [country for country in countries if not country.is_empty]
        outlines = [country.boundary for country in countries]
        for i, first in enumerate(countries):
            for j in range(i + 1, len(countries)):
                if not first.intersects(countries[j]):
                    continue
                shared = _lines(shapely.intersection(outlines[i], outlines[j]))
                if shared is not None:
                    lines.append(shapely.affinity.translate(shared, xoff=shift))
    return [shapely.simplify(line, tolerance_deg) for line in lines]


def _world_shifts(box: BBox) -> list[float]:
    first = math.floor((box.west + 180.0) / 360.0)
    last = math.floor((box.east + 180.0) / 360.0)
    return [360.0 * k for k in range(first, last + 1)]


def _lines(geometry: Any) -> Any:
    """The line parts of an intersection, merged (None when it has none: countries that only
    touch at a point)."""
    parts = [
        part
        for part in shapely.get_parts(geometry)
        if part.geom_type in ("LineString", "MultiLineString")
    ]
    if not parts:
        return None
    return shapely.line_merge(shapely.union_all(parts))


def _coords(ring: basemap.Ring) -> list[list[float]]:
    return [[round(float(lon), 5), round(float(lat), 5)] for lon, lat in ring]


def _feature(kind: str, geometry: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "properties": {"kind": kind}, "geometry": geometry}


__all__ = [
    "BASEMAP_BOX",
    "CONTENT_SECURITY_POLICY",
    "STATIC_DIR",
    "STATIC_PATH",
    "THEATRE",
    "basemap_bytes",
    "borders_in",
    "missing_vendor_files",
    "parse_bbox",
    "router",
    "static_files",
]
