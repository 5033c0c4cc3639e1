"""The detection output contract: JSON document, GeoJSON, CSV and Parquet."""

import json
import math
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from parley.encounters.detector import Detection, detect
from parley.encounters.output import (
    CONTRACT_VERSION,
    encounter_records,
    to_geojson,
    to_json_document,
    write_output,
)
from parley.encounters.policy import Policy
from parley.errors import InputError
from parley.tracks.geo import METRES_PER_DEGREE, offset_position
from parley.tracks.schema import conform

T0 = datetime(2016, 4, 12, 15, 0, tzinfo=UTC)
ORIGIN = (55.3, 18.9)
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
CONTRACT_FIELDS = {
    "id": str,
    "a": str,
    "b": str,
    "sides": list,
    "kind": str,
    "start": str,
    "end": str,
    "cpa_time": str,
    "min_slant_m": float,
    "min_horizontal_m": float,
    "vertical_m": float,
    "max_closure_mps": float,
    "passes": int,
    "orbits": int,
    "severity": str,
    "reasons": list,
}
JET_A, JET_B = "icao:155001", "icao:4ca001"
SHIP_A, SHIP_B = "mmsi:273000001", "mmsi:338000001"


def line(
    name: str, side: str, domain: str, times: np.ndarray, *, north: float, alt: float, v_east: float
) -> pl.DataFrame:
    lat, lon = offset_position(ORIGIN[0], ORIGIN[1], v_east * times, north + 0 * times)
    n = times.size
    return conform(
        pl.DataFrame(
            {
                "time": [T0 + timedelta(seconds=float(t)) for t in times],
                "track": [name] * n,
                "side": [side] * n,
                "domain": [domain] * n,
                "lat": lat,
                "lon": lon,
                "alt_m": [alt] * n,
                "speed_mps": [abs(v_east)] * n,
                "course_deg": [90.0 if v_east > 0 else 270.0] * n,
                "transponder": ["on"] * n,
            }
        ),
        keep_line=False,
    )


@pytest.fixture(scope="module")
def table() -> pl.DataFrame:
    """Head-on jets passing 40 m apart at T0, and two ships passing 600 m apart at T0."""
    jets = np.arange(-90.5, 91.0, 1.0)
    ships = np.arange(-900.0, 901.0, 10.0)
    return pl.concat(
        [
            line(JET_B, "nato", "air", jets, north=0.0, alt=9000.0, v_east=250.0),
            line(JET_A, "russia", "air", jets, north=40.0, alt=9000.0, v_east=-250.0),
            line(SHIP_B, "nato", "sea", ships, north=0.0, alt=0.0, v_east=6.0),
            line(SHIP_A, "russia", "sea", ships, north=600.0, alt=0.0, v_east=-6.0),
        ]
    )


@pytest.fixture(scope="module")
def detection(table: pl.DataFrame) -> Detection:
    found = detect(table)
    assert found.encounters.height == 2
    return found


def by_kind(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["kind"]: r for r in records}


def test_json_document_top_level(detection: Detection) -> None:
    document = to_json_document(detection, Policy(), rejected_rows=3)
    assert set(document) == {"encounters", "rejected_rows", "policy", "stats"}
    assert document["rejected_rows"] == 3
    assert document["policy"] == Policy().to_dict()
    assert document["policy"]["volumes"]["air_air_horizontal_m"] == 9260.0
    assert document["stats"]["contract_version"] == CONTRACT_VERSION
    assert document["stats"]["positions"] == 2 * 182 + 2 * 181
    assert document["stats"]["tracks"] == 4
    assert document["stats"]["encounters"] == 2
    assert json.loads(json.dumps(document)) == document  # plain JSON, nothing lost


def test_each_encounter_carries_the_contract_fields_with_their_types(detection: Detection) -> None:
    records = encounter_records(detection)
    assert len(records) == 2
    for record in records:
        for name, kind in CONTRACT_FIELDS.items():
            assert name in record, name
            assert type(record[name]) is kind, (name, record[name])
        for name in ("start", "end", "cpa_time"):
            assert ISO_UTC.match(record[name]), record[name]
        assert record["id"].startswith("enc-")
        assert all(type(side) is str for side in record["sides"])
        assert len(record["sides"]) == 2
        assert record["reasons"]
        assert all(type(reason) is str for reason in record["reasons"])
        assert record["severity"] in {"high-risk", "serious", "routine"}
        assert record["kind"] in {"air-air", "air-sea", "sea-sea"}
        assert record["start"] <= record["cpa_time"] <= record["end"]


def test_encounter_values_in_the_json(detection: Detection) -> None:
    records = by_kind(encounter_records(detection))
    jets, ships = records["air-air"], records["sea-sea"]
    assert (jets["a"], jets["b"], jets["sides"]) == (JET_A, JET_B, ["russia", "nato"])
    assert jets["min_slant_m"] == 40.0  # rounded to centimetres
    assert jets["vertical_m"] == 0.0
    assert jets["cpa_time"] == "2016-04-12T15:00:00.000Z"
    assert (jets["severity"], jets["reasons"]) == ("high-risk", ["fast-close-approach"])
    assert (ships["a"], ships["b"]) == (SHIP_A, SHIP_B)
    assert ships["min_horizontal_m"] == 600.0
    assert ships["severity"] == "serious"
    assert ships["passes"] == 1
    assert ships["orbits"] == 0
    assert len({jets["id"], ships["id"]}) == 2


def test_ids_are_stable_across_runs(table: pl.DataFrame, detection: Detection) -> None:
    again = detect(table)
    assert again.encounters["id"].to_list() == detection.encounters["id"].to_list()


def test_evidence_holds_the_positions_around_the_cpa(
    table: pl.DataFrame, detection: Detection
) -> None:
    records = by_kind(encounter_records(detection, table))
    jets = records["air-air"]["evidence"]
    assert jets["window_s"] == 60.0
    assert len(jets["a"]) == 120
    assert len(jets["b"]) == 120
    first = jets["a"][0]
    assert set(first) == {"time", "lat", "lon", "alt_m", "speed_mps", "course_deg"}
    assert first["time"] == "2016-04-12T14:59:00.500Z"
    assert first["alt_m"] == 9000.0
    ships = records["sea-sea"]["evidence"]
    assert ships["window_s"] == 600.0
    assert len(ships["a"]) == 121  # -600 .. 600 s every 10 s


def test_empty_detection_document() -> None:
    lone = line(JET_A, "russia", "air", np.arange(0.0, 10.0), north=0.0, alt=9000.0, v_east=200.0)
    document = to_json_document(detect(lone), Policy(), rejected_rows=0)
    assert document["encounters"] == []
    assert document["stats"]["positions"] == 10


def test_geojson_one_feature_per_encounter(table: pl.DataFrame, detection: Detection) -> None:
    collection = to_geojson(detection, table)
    assert collection["type"] == "FeatureCollection"
    features = collection["features"]
    assert [f["id"] for f in features] == detection.encounters["id"].to_list()
    json.dumps(collection)
    for feature in features:
        assert feature["type"] == "Feature"
        geometry = feature["geometry"]
        assert geometry["type"] == "GeometryCollection"
        kinds = [g["type"] for g in geometry["geometries"]]
        assert kinds == ["LineString", "LineString", "Point"]
        for part in geometry["geometries"][:2]:
            assert len(part["coordinates"]) >= 2
            for lon, lat in part["coordinates"]:  # GeoJSON order: longitude first
                assert 18.0 < lon < 20.0
                assert 55.0 < lat < 55.6
        properties = feature["properties"]
        assert properties["id"] == feature["id"]
        assert isinstance(properties["sides"], str)
        assert "," in properties["sides"]
        assert ISO_UTC.match(properties["cpa_time"])


def test_geojson_cpa_point_is_between_the_two_tracks(
    table: pl.DataFrame, detection: Detection
) -> None:
    features = {f["properties"]["kind"]: f for f in to_geojson(detection, table)["features"]}
    for kind, north in (("air-air", 40.0), ("sea-sea", 600.0)):
        lon, lat = features[kind]["geometry"]["geometries"][2]["coordinates"]
        expected_lat, expected_lon = offset_position(ORIGIN[0], ORIGIN[1], 0.0, north / 2)
        north_error = (lat - float(expected_lat)) * METRES_PER_DEGREE
        east_error = (lon - float(expected_lon)) * METRES_PER_DEGREE * math.cos(math.radians(lat))
        assert math.hypot(north_error, east_error) < 0.5, kind


def test_written_json_and_geojson_read_back(
    tmp_path: Path, table: pl.DataFrame, detection: Detection
) -> None:
    path = tmp_path / "out.json"
    write_output(path, detection, Policy(), 5, table, evidence=False)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document == to_json_document(detection, Policy(), 5)
    assert "evidence" not in document["encounters"][0]
    write_output(path, detection, Policy(), 5, table, evidence=True)
    assert "evidence" in json.loads(path.read_text(encoding="utf-8"))["encounters"][0]
    geo = tmp_path / "out.geojson"
    write_output(geo, detection, Policy(), 5, table, evidence=False)
    assert len(json.loads(geo.read_text(encoding="utf-8"))["features"]) == 2


def test_written_csv_reads_back(tmp_path: Path, table: pl.DataFrame, detection: Detection) -> None:
    path = tmp_path / "out.csv"
    write_output(path, detection, Policy(), 0, table, evidence=False)
    back = pl.read_csv(path)
    assert back.height == 2
    assert set(CONTRACT_FIELDS) <= set(back.columns)
    rows = {r["kind"]: r for r in back.iter_rows(named=True)}
    jets = rows["air-air"]
    assert jets["cpa_time"] == "2016-04-12T15:00:00.000Z"
    assert all(ISO_UTC.match(r[c]) for r in rows.values() for c in ("start", "end", "cpa_time"))
    assert jets["sides"] == "russia,nato"
    assert jets["reasons"] == "fast-close-approach"
    assert jets["min_slant_m"] == pytest.approx(40.0, abs=0.01)
    assert rows["sea-sea"]["severity"] == "serious"


def test_written_parquet_reads_back(
    tmp_path: Path, table: pl.DataFrame, detection: Detection
) -> None:
    path = tmp_path / "out.parquet"
    write_output(path, detection, Policy(), 0, table, evidence=False)
    back = pl.read_parquet(path)
    assert back.schema == detection.encounters.schema
    assert back.equals(detection.encounters)
    assert back["start"].dtype == pl.Datetime("us", "UTC")


def test_unknown_output_suffix_and_unwritable_path(
    tmp_path: Path, table: pl.DataFrame, detection: Detection
) -> None:
    with pytest.raises(InputError, match=r"out\.txt: output must end in"):
        write_output(tmp_path / "out.txt", detection, Policy(), 0, table, evidence=False)
    missing_dir = tmp_path / "no" / "such" / "dir" / "out.json"
    with pytest.raises(InputError, match="cannot be written") as caught:
        write_output(missing_dir, detection, Policy(), 0, table, evidence=False)
    assert str(missing_dir) in str(caught.value)
