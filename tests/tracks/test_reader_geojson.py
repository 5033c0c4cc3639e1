"""The GeoJSON reader: a projected real sample (UTM 32N), WGS84 and broken features."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from parley.errors import InputError
from parley.tracks.readers import detect_format
from parley.tracks.readers.fileio import read_head
from parley.tracks.readers.geojson import read_geojson, sniff_geojson
from parley.tracks.schema import CANONICAL_COLUMNS, LINE_COLUMN
from parley.tracks.units import feet_to_m, knots_to_mps

FERRY_TANKER = "movingpandas_ferry_tanker_40.json"  # the first 20 features of each ship
FERRY, TANKER = "mmsi:265410000", "mmsi:265550210"


def _point(x: float, y: float, **properties: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": {"type": "Point", "coordinates": [x, y]},
    }


def _write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_projected_sample_lands_at_the_gothenburg_approach(test_data: Path) -> None:
    result = read_geojson(test_data / FERRY_TANKER)

    frame = result.frame
    assert result.rejections == []
    assert frame.columns == [*CANONICAL_COLUMNS, LINE_COLUMN]
    assert frame.group_by("track").len().sort("track").rows() == [(FERRY, 20), (TANKER, 20)]
    # EPSG:32632 easting/northing become WGS84: the eastern Kattegat off Gothenburg.
    lats, lons = frame["lat"].to_list(), frame["lon"].to_list()
    assert 57.67 < min(lats) < max(lats) < 57.70
    assert 11.8 < min(lons) < max(lons) < 11.9
    first = frame.row(0, named=True)
    assert first["time"] == datetime(2017, 7, 5, 19, 0, 1, tzinfo=UTC)
    assert (first["track"], first["domain"], first["alt_m"]) == (FERRY, "sea", 0.0)
    assert first["lat"] == pytest.approx(57.687893, abs=1e-6)
    assert first["lon"] == pytest.approx(11.883765, abs=1e-6)
    assert first["speed_mps"] == pytest.approx(knots_to_mps(8.3))
    assert first["course_deg"] == 254.1
    assert (first["callsign"], first["type"]) == ("STENA JUTLANDICA", "Passenger")
    assert first["source"] == f"geojson:{FERRY_TANKER}"
    assert frame[LINE_COLUMN].to_list() == list(range(1, 41))


def test_wgs84_without_crs_and_aircraft(tmp_path: Path) -> None:
    document = {
        "type": "FeatureCollection",
        "features": [
            _point(11.88, 57.69, Timestamp="05/07/2017 19:00:01", MMSI=265410000, SOG=102.3,
                   COG=360.0),
            _point(8.54, 47.45, t="2018-08-01T05:27:30Z", icao24="3003AE", callsign="DLH8JW ",
                   altitude=37000, groundspeed=450, track=83.5),
            _point(8.55, 47.46, time=1533101260, icao24="3003ae"),
        ],
    }  # fmt: skip
    frame = read_geojson(_write(tmp_path / "mixed.geojson", document)).frame

    ship, plane, later = frame.rows(named=True)
    assert (ship["lat"], ship["lon"]) == (57.69, 11.88)
    assert (ship["speed_mps"], ship["course_deg"]) == (None, None)  # AIS "not available"
    assert (plane["track"], plane["domain"], plane["callsign"]) == ("icao:3003ae", "air", "DLH8JW")
    assert plane["alt_m"] == pytest.approx(feet_to_m(37000))
    assert plane["speed_mps"] == pytest.approx(knots_to_mps(450))
    assert plane["course_deg"] == 83.5
    assert plane["time"] == datetime(2018, 8, 1, 5, 27, 30, tzinfo=UTC)
    assert later["time"] == datetime(2018, 8, 1, 5, 27, 40, tzinfo=UTC)


def test_broken_features_are_rejected_by_number(tmp_path: Path) -> None:
    good = _point(11.88, 57.69, t="2017-07-05T19:00:01", MMSI=265410000)
    line = {**good, "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}}
    document = {
        "type": "FeatureCollection",
        "features": [
            good,
            {"type": "Feature", "properties": good["properties"], "geometry": None},
            line,
            _point(11.88, 57.69, t="2017-07-05T19:00:01"),
            _point(11.88, 57.69, MMSI=265410000),
            _point(11.88, 57.69, t="soon", MMSI=265410000),
            _point(181, 91, t="2017-07-05T19:00:01", MMSI=265410000),
            _point(11.88, 57.69, t="2017-07-05T19:00:01", MMSI="not-a-number"),
        ],
    }
    result = read_geojson(_write(tmp_path / "broken.json", document))

    assert result.frame[LINE_COLUMN].to_list() == [1]
    assert {r.line: r.reason for r in result.rejections} == {
        2: "feature without geometry",
        3: "geometry is 'LineString', not a Point",
        4: "no MMSI or icao24 property",
        5: "no time property",
        6: "cannot parse time 'soon'",
        7: "position not available",
        8: "cannot parse MMSI 'not-a-number'",
    }


def test_not_geojson_and_unknown_crs_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"list\.json: not a GeoJSON FeatureCollection"):
        read_geojson(_write(tmp_path / "list.json", [1, 2]))
    broken = tmp_path / "broken.json"
    broken.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    with pytest.raises(InputError, match=r"broken\.json: not valid JSON"):
        read_geojson(broken)
    odd_crs = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::999999"}},
        "features": [],
    }
    with pytest.raises(InputError, match=r"crs\.json: unknown crs"):
        read_geojson(_write(tmp_path / "crs.json", odd_crs))


def test_detect_format_picks_geojson(test_data: Path) -> None:
    assert detect_format(test_data / FERRY_TANKER).name == "geojson"


def test_sniffer_leaves_other_test_files_alone(test_data: Path) -> None:
    others = [p for p in sorted(test_data.rglob("*")) if p.is_file() and p.name != FERRY_TANKER]
    assert [p.name for p in others if sniff_geojson(p, read_head(p))] == []


@pytest.mark.shared
def test_shared_ferry_tanker_file_in_full(shared_data: Path) -> None:
    path = shared_data / "ais" / "movingpandas_ferry_tanker_utm32n.json"
    result = read_geojson(path)

    frame = result.frame
    assert result.rejections == []
    assert frame.group_by("track").len().sort("track").rows() == [(FERRY, 157), (TANKER, 100)]
    assert frame["time"].min() == datetime(2017, 7, 5, 19, 0, 1, tzinfo=UTC)
    assert frame["time"].max() == datetime(2017, 7, 5, 19, 13, 53, tzinfo=UTC)
    assert frame.filter(pl.col("track") == TANKER)["type"].unique().to_list() == ["Tanker"]
    assert detect_format(path).name == "geojson"


@pytest.mark.shared
def test_shared_files_other_than_geojson_are_not_claimed(shared_data: Path) -> None:
    for path in sorted(p for p in shared_data.rglob("*") if p.is_file()):
        expected = path.name == "movingpandas_ferry_tanker_utm32n.json"
        assert sniff_geojson(path, read_head(path)) == expected, path.name
