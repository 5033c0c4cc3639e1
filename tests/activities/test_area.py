"""Areas: GeoJSON in and out, containment (concave, holes, the antimeridian), the hotline line,
and which activities contain a point in space and time."""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from parley.activities.area import (
    AreaError,
    area_from_geojson,
    area_from_line,
    area_to_line,
)
from parley.activities.correlate import activities_containing
from parley.activities.model import Activity, Forces

#: A "U" open to the north: its notch (x 1..2, y 1..3) is outside though inside the hull.
U_SHAPE = {
    "type": "Polygon",
    "coordinates": [[[0, 0], [3, 0], [3, 3], [2, 3], [2, 1], [1, 1], [1, 3], [0, 3], [0, 0]]],
}
#: Over the antimeridian in the Bering Sea, given with longitudes either side of it.
BERING = {
    "type": "Polygon",
    "coordinates": [[[175, 60], [-170, 60], [-170, 65], [175, 65], [175, 60]]],
}
#: The same area split at the antimeridian, as RFC 7946 prefers.
BERING_SPLIT = {
    "type": "MultiPolygon",
    "coordinates": [
        [[[175, 60], [180, 60], [180, 65], [175, 65], [175, 60]]],
        [[[-180, 60], [-170, 60], [-170, 65], [-180, 65], [-180, 60]]],
    ],
}
WITH_HOLE = {
    "type": "Polygon",
    "coordinates": [
        [[10, 50], [20, 50], [20, 60], [10, 60], [10, 50]],
        [[14, 54], [16, 54], [16, 56], [14, 56], [14, 54]],
    ],
}


def test_concave_polygon() -> None:
    area = area_from_geojson(U_SHAPE)
    lats = [0.5, 2.0, 2.0, 2.0, 3.5, 0.5]
    lons = [1.5, 0.5, 1.5, 2.5, 0.5, 3.5]
    assert area.contains(lats, lons).tolist() == [True, True, False, True, False, False]


@pytest.mark.parametrize("geometry", [BERING, BERING_SPLIT], ids=["unsplit", "split"])
def test_polygon_across_the_antimeridian(geometry: Mapping[str, object]) -> None:
    area = area_from_geojson(geometry)
    lats = [62, 62, 62, 62, 62, 59]
    lons = [179.5, -179.5, 176, -171, 0, 179]
    assert area.contains(lats, lons).tolist() == [True, True, True, True, False, False]


def test_a_hole_is_outside() -> None:
    area = area_from_geojson(WITH_HOLE)
    assert area.contains([55, 52, 61], [15, 12, 15]).tolist() == [False, True, False]


def test_the_hotline_line_round_trips_with_holes_and_parts() -> None:
    assert area_to_line(area_from_geojson(U_SHAPE)) == (
        "0N 0E, 0N 3E, 3N 3E, 3N 2E, 1N 2E, 1N 1E, 3N 1E, 3N 0E"
    )
    holed = area_from_geojson(WITH_HOLE)
    assert area_from_line(area_to_line(holed)) == holed
    split = area_from_geojson(BERING_SPLIT)
    assert area_from_line(area_to_line(split)) == split
    south_west = area_from_geojson(
        {"type": "Polygon", "coordinates": [[[-70.12345, -33.5], [-70, -33.5], [-70, -33]]]}
    )
    assert area_to_line(south_west) == "33.5S 70.1235W, 33.5S 70W, 33S 70W"


def test_geojson_out_is_geojson_in() -> None:
    for geometry in (U_SHAPE, WITH_HOLE, BERING_SPLIT):
        assert area_from_geojson(geometry).to_geojson() == geometry
    feature = {"type": "Feature", "geometry": U_SHAPE, "properties": {}}
    assert area_from_geojson(feature).to_geojson() == U_SHAPE


@pytest.mark.parametrize(
    ("geometry", "message"),
    [
        ({"type": "Point", "coordinates": [1, 2]}, "type 'Point', expected Polygon"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0]]]}, "at least 3 distinct"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 95], [2, 0]]]}, r"\[0\]\[1\]: latitude"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [190, 1], [2, 0]]]}, "longitude 190"),
        ({"type": "Polygon", "coordinates": [[[0, 0], ["1", 1], [2, 0]]]}, "expected a \\[lon"),
        ("Baltic", "expected a GeoJSON Polygon"),
    ],
)
def test_bad_areas_say_where(geometry: object, message: str) -> None:
    with pytest.raises(AreaError, match=message):
        area_from_geojson(geometry, "file.json: area")


def test_a_bad_hotline_area_names_the_vertex() -> None:
    with pytest.raises(AreaError, match="ring 1: 'east of Bornholm' is not a vertex"):
        area_from_line("54N 14E, 55N 14E, east of Bornholm")


T0 = datetime(2026, 6, 1, tzinfo=UTC)


def _activity(activity_id: str, geometry: Mapping[str, object], days: int = 2) -> Activity:
    return Activity(
        id=activity_id,
        party="nato",
        origin="own",
        kind="exercise",
        notice="planned",
        area=area_from_geojson(geometry),
        start=T0,
        end=T0 + timedelta(days=days),
        declared=Forces(troops=9_000),
    )


def test_activities_containing_points_in_space_and_time() -> None:
    u_shape, bering = _activity("u", U_SHAPE), _activity("bering", BERING, days=1)
    points = [
        (T0 + timedelta(hours=1), 2.0, 0.5),  # in the U, in its window
        (T0 + timedelta(hours=1), 2.0, 1.5),  # in the notch
        (T0 - timedelta(seconds=1), 2.0, 0.5),  # a second before the start
        (T0 + timedelta(days=1), 62.0, -179.0),  # in the Bering area at the last instant
        (T0 + timedelta(days=1, seconds=1), 62.0, -179.0),  # a second after its end
    ]
    found = activities_containing(points, [u_shape, bering])
    assert [[a.id for a in row] for row in found] == [["u"], [], [], ["bering"], []]


def test_activities_containing_a_polars_frame() -> None:
    frame = pl.DataFrame(
        {
            "time": [T0 + timedelta(hours=5), T0 + timedelta(days=3)],
            "lat": [0.5, 0.5],
            "lon": [2.5, 2.5],
        }
    ).with_columns(pl.col("time").dt.cast_time_unit("us"))
    found = activities_containing(frame, [_activity("u", U_SHAPE)])
    assert [len(row) for row in found] == [1, 0]
    naive = frame.with_columns(pl.col("time").dt.replace_time_zone(None))
    assert [len(row) for row in activities_containing(naive, [_activity("u", U_SHAPE)])] == [1, 0]


def test_many_points_are_vectorised() -> None:
    rng = np.random.default_rng(5)
    lats, lons = rng.uniform(-1, 4, 20_000), rng.uniform(-1, 4, 20_000)
    inside = area_from_geojson(U_SHAPE).contains(lats, lons)
    expected = (
        (lats > 0) & (lats < 3) & (lons > 0) & (lons < 3) & ~((lons > 1) & (lons < 2) & (lats > 1))
    )
    assert (inside == expected).all()
