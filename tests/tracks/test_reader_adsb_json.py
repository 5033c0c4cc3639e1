"""The traffic-library JSON reader: records and column tables, real samples and broken input."""

import gzip
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from parley.errors import InputError
from parley.tracks.readers import detect_format
from parley.tracks.readers.adsb_json import read_traffic_json
from parley.tracks.schema import CANONICAL_COLUMNS, LINE_COLUMN


def _records(path: Path) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads(gzip.decompress(path.read_bytes()))
    return records


def _write_json(path: Path, document: object, **dumps: Any) -> Path:
    path.write_text(json.dumps(document, **dumps), encoding="utf-8")
    return path


def test_switzerland_sample_reads_every_record(test_data: Path) -> None:
    result = read_traffic_json(test_data / "adsb_switzerland_500.json.gz")

    frame = result.frame
    assert frame.height == 500
    assert result.rejections == []
    assert frame.columns == [*CANONICAL_COLUMNS, LINE_COLUMN]
    first = frame.row(0, named=True)
    assert first["time"] == datetime(2018, 8, 1, 5, 27, 30, tzinfo=UTC)
    assert first["track"] == "icao:3003ae"
    assert first["callsign"] == "DLH8JW"
    assert first["lat"] == pytest.approx(45.8189849854)
    assert first["lon"] == pytest.approx(9.2295455933)
    assert first["alt_m"] == pytest.approx(34975 * 0.3048)
    assert first["speed_mps"] == pytest.approx(443.4869334744 * 1852 / 3600)
    assert first["course_deg"] == pytest.approx(324.2670817753)
    assert first["vrate_mps"] == pytest.approx(960 * 0.3048 / 60)
    assert (first["domain"], first["transponder"], first["side"]) == ("air", "on", None)
    assert first["source"] == "traffic-json:adsb_switzerland_500.json.gz"
    assert frame[LINE_COLUMN].to_list() == list(range(1, 501))


def test_records_without_position_are_rejected_as_no_position(test_data: Path) -> None:
    path = test_data / "adsb_aircraft_carrier_300.json.gz"
    without_position = [
        number
        for number, record in enumerate(_records(path), start=1)
        if record["latitude"] is None
    ]

    result = read_traffic_json(path)

    assert len(without_position) == 161
    assert result.frame.height == 300 - 161
    assert [r.line for r in result.rejections] == without_position
    assert {(r.rule, r.reason) for r in result.rejections} == {
        ("no_position", "no position in record")
    }


def test_on_ground_rows_are_kept_without_an_airborne_altitude(test_data: Path) -> None:
    path = test_data / "adsb_quickstart_200.json.gz"
    on_ground = [n for n, r in enumerate(_records(path), start=1) if r["onground"]]

    frame = read_traffic_json(path).frame

    assert len(on_ground) == 28
    kept = frame.filter(pl.col(LINE_COLUMN).is_in(on_ground))
    assert kept.height == 28
    assert kept["alt_m"].null_count() == 28
    airborne = frame.filter(~pl.col(LINE_COLUMN).is_in(on_ground))
    assert airborne["alt_m"].null_count() == 0


def test_column_table_uses_its_row_labels_and_last_position(test_data: Path) -> None:
    path = test_data / "adsb_noisy_spoofing_300.json.gz"
    table = json.loads(gzip.decompress(path.read_bytes()))
    labels = list(table["timestamp"])

    result = read_traffic_json(path)

    assert labels[0] == "3200"  # a slice of a larger table: labels do not start at 0
    assert result.frame.height == 289
    assert Counter(r.rule for r in result.rejections) == {"no_position": 11}
    assert [r.line for r in result.rejections] == list(range(135, 146))
    first = result.frame.row(0, named=True)
    # The position was measured at last_position, not at timestamp.
    assert table["last_position"]["3200"] != table["timestamp"]["3200"]
    expected = datetime.fromtimestamp(table["last_position"]["3200"] / 1000, tz=UTC)
    assert first["time"] == expected
    assert first["track"] == "icao:4baac6"
    assert first["lat"] == pytest.approx(table["latitude"]["3200"])


def test_negative_track_angles_become_0_to_360(tmp_path: Path) -> None:
    # Three records of bornholm.json.gz, whose tracks run past 180 as negative numbers.
    records = [
        {"timestamp": 1543225095000, "icao24": "4ab179", "latitude": 55.061195,
         "longitude": 14.76704, "groundspeed": 126, "track": 116, "vertical_rate": 1664,
         "callsign": "CFL12", "altitude": 325},
        {"timestamp": 1543225105000, "icao24": "4ab179", "latitude": 55.057938,
         "longitude": 14.77453, "groundspeed": 132, "track": -121, "vertical_rate": 1536,
         "callsign": "CFL12", "altitude": 550},
    ]  # fmt: skip
    path = _write_json(tmp_path / "bornholm.json", records, separators=(",", ":"))

    frame = read_traffic_json(path).frame

    assert frame["course_deg"].to_list() == [116.0, 239.0]


def test_general_path_reads_the_same_as_the_fast_path(test_data: Path, tmp_path: Path) -> None:
    records = _records(test_data / "adsb_switzerland_500.json.gz")
    compact = _write_json(tmp_path / "compact.json", records, separators=(",", ":"))
    pretty = _write_json(tmp_path / "pretty.json", records, indent=1)

    fast = read_traffic_json(compact).frame.drop("source")
    general = read_traffic_json(pretty).frame.drop("source")

    assert fast.equals(general)


def test_malformed_records_become_rejections_naming_the_field(tmp_path: Path) -> None:
    good = {"timestamp": 1533101250000, "icao24": "3003AE", "callsign": "DLH8JW ",
            "latitude": 45.82, "longitude": 9.23, "altitude": 34975.0, "groundspeed": 443.5,
            "track": 324.3, "vertical_rate": 960.0}  # fmt: skip
    records: list[object] = [
        good,
        42,
        {**good, "latitude": "north"},
        {**good, "icao24": "zz"},
        {**good, "timestamp": None},
        {**good, "timestamp": "2018-08-01T05:27:40Z"},
        {**good, "latitude": None, "longitude": None},
    ]
    path = _write_json(tmp_path / "broken.json", records)

    result = read_traffic_json(path)

    assert result.frame[LINE_COLUMN].to_list() == [1, 6]
    assert result.frame["track"].to_list() == ["icao:3003ae", "icao:3003ae"]
    assert result.frame["callsign"].to_list() == ["DLH8JW", "DLH8JW"]
    assert result.frame["time"][1] == datetime(2018, 8, 1, 5, 27, 40, tzinfo=UTC)
    found = {r.line: (r.rule, r.reason) for r in result.rejections}
    assert found[2] == ("malformed", "record is not a JSON object: 42")
    assert found[3] == ("malformed", "cannot parse latitude='north'")
    assert found[4][1] == "address is not a 24-bit hex address: zz"
    assert found[5][1] == "cannot parse time: missing"
    assert found[7] == ("no_position", "no position in record")
    assert all(str(tmp_path) in str(r) for r in result.rejections)


def test_invalid_json_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text('[{"timestamp": 1, "icao24": "abcdef", "latitude": 1, "longitude"', "utf-8")

    with pytest.raises(InputError, match=r"cut\.json: not valid JSON"):
        read_traffic_json(path)


def test_json_without_the_traffic_fields_is_refused(tmp_path: Path) -> None:
    path = _write_json(tmp_path / "other.json", [{"time": 1, "lat": 2, "lon": 3}])

    with pytest.raises(InputError, match=r"not a traffic JSON table \(no field timestamp"):
        read_traffic_json(path)


@pytest.mark.parametrize(
    "name",
    [
        "adsb_switzerland_500.json.gz",
        "adsb_aircraft_carrier_300.json.gz",
        "adsb_quickstart_200.json.gz",
        "adsb_noisy_spoofing_300.json.gz",
    ],
)
def test_auto_detection_picks_traffic_json(test_data: Path, name: str) -> None:
    assert detect_format(test_data / name).name == "traffic-json"


@pytest.mark.shared
@pytest.mark.parametrize(
    ("name", "rows", "no_position"),
    [
        ("switzerland.json.gz", 139_098, 0),
        ("quickstart.json.gz", 284_505, 0),
        ("bornholm.json.gz", 2_572, 0),
        ("aircraft_carrier.json.gz", 7_335, 1_689),
        ("inflight_refuelling.json.gz", 10_396, 1),
        ("noisy_spoofing.json.gz", 8_670, 11),
    ],
)
def test_shared_files_read_in_full(
    shared_data: Path, name: str, rows: int, no_position: int
) -> None:
    result = read_traffic_json(shared_data / "adsb" / name)

    assert result.frame.height == rows
    assert Counter(r.rule for r in result.rejections) == (
        {"no_position": no_position} if no_position else {}
    )
    assert result.frame["course_deg"].min() >= 0  # type: ignore[operator]
    assert result.frame["course_deg"].max() < 360  # type: ignore[operator]
    assert result.frame["track"].str.contains(r"^icao:[0-9a-f]{6}$").all()


@pytest.mark.shared
def test_shared_quickstart_counts_its_aircraft(shared_data: Path) -> None:
    frame = read_traffic_json(shared_data / "adsb" / "quickstart.json.gz").frame

    assert frame["track"].n_unique() == 213
    assert frame["time"].min() == datetime(2021, 10, 7, 12, 0, 1, tzinfo=UTC)
