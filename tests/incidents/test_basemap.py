"""The offline coastline: Natural Earth land clipped to a box, across the antimeridian too."""

import numpy as np
import pytest
from matplotlib.path import Path as MplPath

from parley.errors import InputError
from parley.incidents.basemap import BasemapError, BBox, Land, land_in, unwrap_lons


def _on_land(land: Land, lon: float, lat: float) -> bool:
    """Inside an outer ring and no hole of the same polygon."""
    for polygon in land.polygons:
        outer, *holes = polygon
        if MplPath(outer).contains_point((lon, lat)) and not any(
            MplPath(hole).contains_point((lon, lat)) for hole in holes
        ):
            return True
    return False


BALTIC = BBox(9.0, 53.0, 31.0, 66.0)


def test_baltic_land_and_sea_where_they_are() -> None:
    land = land_in(BALTIC)
    assert land.vertex_count > 5_000  # 1:10 m detail, not a sketch
    assert _on_land(land, 18.5, 57.45)  # Gotland
    assert _on_land(land, 20.5, 54.7)  # Kaliningrad
    assert _on_land(land, 24.9, 60.2)  # Helsinki
    assert not _on_land(land, 19.5, 55.2)  # the open Baltic, north of the Sambia peninsula
    assert not _on_land(land, 20.0, 58.5)  # Gotland Deep


def test_land_is_clipped_to_the_box() -> None:
    box = BBox(19.0, 54.5, 21.0, 55.5)
    vertices = np.concatenate(list(land_in(box).coastlines))
    assert vertices[:, 0].min() >= 19.0 - 1e-9
    assert vertices[:, 0].max() <= 21.0 + 1e-9
    assert vertices[:, 1].min() >= 54.5 - 1e-9
    assert vertices[:, 1].max() <= 55.5 + 1e-9


def test_the_same_box_is_served_from_the_cache() -> None:
    assert land_in(BBox(19.0, 54.5, 21.0, 55.5)) is land_in(BBox(19.0, 54.5, 21.0, 55.5))


def test_open_sea_has_no_land() -> None:
    assert land_in(BBox(-30.0, 40.0, -29.0, 41.0)).polygons == ()  # mid-Atlantic


def test_a_box_across_the_antimeridian_gets_both_sides() -> None:
    # the Bering Strait: Chukotka (west of 180° W, i.e. east of 180° E) and Alaska
    land = land_in(BBox(170.0, 60.0, 200.0, 70.0))
    vertices = np.concatenate(list(land.coastlines))
    assert vertices[:, 0].min() >= 170.0 - 1e-9
    assert vertices[:, 0].max() <= 200.0 + 1e-9
    assert (vertices[:, 0] > 180.0).any()
    assert _on_land(land, 186.0, 66.0)  # Chukotka at 174° W, drawn at 186
    assert _on_land(land, 197.0, 65.0)  # Seward Peninsula, Alaska at 163° W
    assert not _on_land(land, 190.0, 62.0)  # Bering Sea


def test_a_box_west_of_minus_180_is_shifted_too() -> None:
    east = land_in(BBox(170.0, 60.0, 200.0, 70.0))
    west = land_in(BBox(-190.0, 60.0, -160.0, 70.0))
    assert west.vertex_count == east.vertex_count
    assert _on_land(west, -174.0, 66.0)


def test_unwrap_lons_crosses_the_antimeridian_smoothly() -> None:
    assert unwrap_lons([179.5, -179.5, -178.0]) == pytest.approx([179.5, 180.5, 182.0])
    assert unwrap_lons([10.0, 11.0]) == [10.0, 11.0]
    assert unwrap_lons([]) == []


def test_bbox_around_points_pads_and_keeps_a_minimum_span() -> None:
    box = BBox.around([20.0], [55.0], min_span=1.0)
    assert (box.west, box.east, box.south, box.north) == pytest.approx((19.5, 20.5, 54.5, 55.5))
    wide = BBox.around([10.0, 20.0], [50.0, 60.0], margin=0.1)
    assert (wide.west, wide.east) == pytest.approx((9.0, 21.0))


@pytest.mark.parametrize(
    ("west", "south", "east", "north"),
    [
        (10.0, 50.0, 10.0, 60.0),
        (10.0, 60.0, 20.0, 50.0),
        (0.0, -95.0, 1.0, 1.0),
        (0.0, 0.0, 400.0, 1.0),
    ],
)
def test_invalid_boxes_are_input_errors(
    west: float, south: float, east: float, north: float
) -> None:
    with pytest.raises(BasemapError):
        BBox(west, south, east, north)
    assert issubclass(BasemapError, InputError)


def test_no_seam_where_the_world_is_cut_at_180() -> None:
    """Chukotka is cut at ±180° in the data; the two halves, one shifted by 360°, join."""
    land = land_in(BBox(178.5, 64.9, 181.5, 66.2))
    for ring in land.coastlines:
        on_cut = np.abs(ring[:, 0] - 180.0) < 1e-6
        along = on_cut[:-1] & on_cut[1:]
        lengths = np.abs(np.diff(ring[:, 1]))[along]
        # the coast itself may touch 180° for a few metres; the seam would run over the land
        assert lengths.sum() < 0.001, "an edge runs along 180° across the land"
