"""An incident's map: both tracks over the coastline, the closest approach marked, as a PNG.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no display), in a plate carrée
projection whose aspect ratio is corrected for the latitude, so distances look right locally.
"""

import io
import math
from datetime import datetime

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path as MplPath
from matplotlib.ticker import FuncFormatter

from parley.incidents.basemap import BBox, Land, land_in, unwrap_lons
from parley.incidents.report_data import IncidentSection, Side, TrackLine

SEA_COLOUR = "#dcebf5"
LAND_COLOUR = "#ece6d6"
COAST_COLOUR = "#4d4d4d"
SIDE_COLOURS: dict[Side, str] = {"ours": "#1f5fbf", "theirs": "#c0392b"}
CPA_COLOUR = "#111111"
#: Line width of the track drawn first (points); each track drawn over it is 1 point thinner.
TRACK_WIDTH = 2.4
#: Smallest map span, degrees (about 3.3 km north–south): a helicopter circling a ship at 300 m
#: is a visible circle, not a speck under the closest-approach cross; the locator map beside it
#: shows the region.
MIN_SPAN_DEG = 0.03
#: Span of the locator inset, degrees of latitude.
OVERVIEW_SPAN_DEG = 14.0


def render_map_png(
    section: IncidentSection, own_party: str, peer_party: str, dpi: int = 130
) -> bytes | None:
    """The PNG of the incident's map, or None when it has neither tracks nor a position."""
    tracks = _continuous_tracks(section.tracks, section.lon)
    cpa = _cpa_position(section, tracks)
    lons = [lon for _, lons_, _ in tracks for lon in lons_]
    lats = [lat for _, _, lats_ in tracks for lat in lats_]
    if cpa is not None:
        lons.append(cpa[0])
        lats.append(cpa[1])
    if not lons:
        return None
    bbox = _square_box(BBox.around(lons, lats, margin=0.25, min_span=MIN_SPAN_DEG))
    figure = Figure(figsize=(7.2, 3.9), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    axes, overview_axes = figure.subplots(1, 2, width_ratios=(2.6, 1.0))
    _draw_land(axes, land_in(bbox, (bbox.north - bbox.south) / 2000))
    names = {"ours": own_party, "theirs": peer_party}
    # the shortest track on top and thinner, so a slow ship's few hundred metres stay visible over
    # a jet's passes, and a fighter rolling around a reconnaissance aircraft shows as a red edge
    # along the blue line; drawn in the order ours, theirs, as the legend lists them
    layers = sorted(range(len(tracks)), key=lambda index: _extent_deg(tracks[index]))
    for index, (track, track_lons, track_lats) in enumerate(tracks):
        layer = layers.index(index)
        width = max(TRACK_WIDTH - layer * 1.0, 1.0)
        _draw_track(axes, track, track_lons, track_lats, names[track.side], 3 + layer * 0.1, width)
    if cpa is not None:
        _draw_cpa(axes, section, cpa)
    _frame(axes, bbox)
    _draw_overview(overview_axes, bbox)
    axes.set_title(f"Incident {section.id}: tracks and closest approach", fontsize=10)
    _legend_below(overview_axes, axes)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _continuous_tracks(
    tracks: tuple[TrackLine, ...], reference_lon: float | None
) -> list[tuple[TrackLine, list[float], list[float]]]:
    """Each track with continuous longitudes, all within 180° of one reference longitude, so
    tracks across the antimeridian are drawn as one piece."""
    result = []
    for track in tracks:
        if not track.points:
            continue
        lons = unwrap_lons([point.lon for point in track.points])
        reference = reference_lon if reference_lon is not None else lons[0]
        shift = 360.0 * round((reference - lons[0]) / 360.0)
        result.append((track, [lon + shift for lon in lons], [p.lat for p in track.points]))
        if reference_lon is None:
            reference_lon = lons[0] + shift
    return result


def _cpa_position(
    section: IncidentSection, tracks: list[tuple[TrackLine, list[float], list[float]]]
) -> tuple[float, float] | None:
    if section.lat is None or section.lon is None:
        return None
    lon = section.lon
    if tracks:
        first_lon = tracks[0][1][0]
        lon += 360.0 * round((first_lon - lon) / 360.0)
    return lon, section.lat


def _square_box(bbox: BBox) -> BBox:
    """The box grown in one direction so that, drawn with the latitude's aspect, it is square."""
    scale = max(math.cos(math.radians(bbox.mid_lat)), 0.05)
    width_km_like = (bbox.east - bbox.west) * scale
    height = bbox.north - bbox.south
    if width_km_like < height:
        pad = (height / scale - (bbox.east - bbox.west)) / 2
        return BBox(bbox.west - pad, bbox.south, bbox.east + pad, bbox.north)
    pad = (width_km_like - height) / 2
    return BBox(bbox.west, max(bbox.south - pad, -90.0), bbox.east, min(bbox.north + pad, 90.0))


def _draw_land(axes: Axes, land: Land, linewidth: float = 0.6) -> None:
    """All land as one compound path, added without autoscaling (the limits are set by
    :func:`_frame`; matplotlib's per-patch data-limit update is slow for 1:10 m coasts)."""
    axes.set_facecolor(SEA_COLOUR)
    rings = list(land.coastlines)
    if not rings:
        return
    vertices = np.concatenate(rings)
    codes = np.concatenate([_ring_codes(len(ring)) for ring in rings])
    patch = PathPatch(
        MplPath(vertices, codes),
        facecolor=LAND_COLOUR,
        edgecolor=COAST_COLOUR,
        linewidth=linewidth,
        zorder=1,
    )
    axes.add_artist(patch)


def _ring_codes(length: int) -> npt.NDArray[np.uint8]:
    codes = np.full(length, MplPath.LINETO, dtype=np.uint8)
    codes[0] = MplPath.MOVETO
    codes[-1] = MplPath.CLOSEPOLY
    return codes


def _extent_deg(drawn: tuple[TrackLine, list[float], list[float]]) -> float:
    """Minus the track's diagonal, degrees: sorting by it puts the longest first."""
    _, lons, lats = drawn
    return -math.hypot(max(lons) - min(lons), max(lats) - min(lats))


def _draw_track(
    axes: Axes,
    track: TrackLine,
    lons: list[float],
    lats: list[float],
    party: str,
    zorder: float,
    width: float,
) -> None:
    colour = SIDE_COLOURS[track.side]
    label = f"{party}: {track.track}"
    axes.plot(lons, lats, color=colour, linewidth=width, zorder=zorder, label=label)
    axes.plot(lons[0], lats[0], marker="o", markersize=4, color=colour, zorder=zorder + 0.05)
    if len(lons) >= 2:
        axes.annotate(
            "",
            xy=(lons[-1], lats[-1]),
            xytext=(lons[-2], lats[-2]),
            arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 1.4},
            zorder=zorder + 0.05,
        )


def _draw_cpa(axes: Axes, section: IncidentSection, cpa: tuple[float, float]) -> None:
    distance = "" if section.min_slant_m is None else f" {section.min_slant_m:,.0f} m"
    axes.plot(
        cpa[0],
        cpa[1],
        # a thin cross under the tracks: a filled marker would hide a short track under it
        marker="x",
        markersize=10,
        markeredgewidth=2.0,
        color=CPA_COLOUR,
        zorder=2.5,
        linestyle="none",
        label=f"closest approach{distance}\nat {_clock(section.cpa_time)}",
    )


def _draw_overview(inset: Axes, bbox: BBox) -> None:
    """The locator map beside the main one: the wider region, the main map's box in red."""
    centre_lon, centre_lat = (bbox.west + bbox.east) / 2, bbox.mid_lat
    half_lat = OVERVIEW_SPAN_DEG / 2
    half_lon = half_lat / max(math.cos(math.radians(centre_lat)), 0.05)
    overview = BBox(
        centre_lon - half_lon,
        max(centre_lat - half_lat, -90.0),
        centre_lon + half_lon,
        min(centre_lat + half_lat, 90.0),
    )
    _draw_land(inset, land_in(overview, OVERVIEW_SPAN_DEG / 400), linewidth=0.3)
    inset.add_patch(
        Rectangle(
            (bbox.west, bbox.south),
            bbox.east - bbox.west,
            bbox.north - bbox.south,
            fill=False,
            edgecolor="#c0392b",
            linewidth=1.0,
            zorder=3,
        )
    )
    if bbox.north - bbox.south < OVERVIEW_SPAN_DEG / 40:
        # a box of a few pixels: ring it so that the reader finds it
        inset.plot(
            centre_lon,
            centre_lat,
            marker="o",
            markersize=9,
            markerfacecolor="none",
            markeredgecolor="#c0392b",
            markeredgewidth=1.0,
            zorder=3,
        )
    inset.set_xlim(overview.west, overview.east)
    inset.set_ylim(overview.south, overview.north)
    inset.set_aspect(1.0 / max(math.cos(math.radians(overview.mid_lat)), 0.05))
    inset.set_xticks([])
    inset.set_yticks([])
    inset.set_title("where", fontsize=8)


def _legend_below(overview: Axes, axes: Axes) -> None:
    """The main map's legend under the locator map, where it hides no track."""
    handles, labels = axes.get_legend_handles_labels()
    overview.legend(
        handles,
        labels,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.04),
        fontsize=7,
        frameon=False,
        borderaxespad=0.0,
    )


def _clock(moment: datetime) -> str:
    return moment.strftime("%H:%M:%SZ")


def _frame(axes: Axes, bbox: BBox) -> None:
    axes.set_xlim(bbox.west, bbox.east)
    axes.set_ylim(bbox.south, bbox.north)
    axes.set_aspect(1.0 / max(math.cos(math.radians(bbox.mid_lat)), 0.05))
    axes.set_xlabel("longitude (°E)", fontsize=8)
    axes.set_ylabel("latitude (°N)", fontsize=8)
    axes.tick_params(labelsize=7)
    axes.grid(color="white", linewidth=0.5, alpha=0.7, zorder=2)
    axes.xaxis.set_major_formatter(_wrapped_lon_formatter())


def _wrapped_lon_formatter() -> FuncFormatter:
    """Tick labels in ±180° even where the axis runs past the antimeridian."""
    return FuncFormatter(lambda value, _pos: f"{(value + 180.0) % 360.0 - 180.0:g}")


__all__ = ["COAST_COLOUR", "LAND_COLOUR", "SEA_COLOUR", "SIDE_COLOURS", "render_map_png"]
