"""The readsb readers: a tar1090 trace and an aircraft.json snapshot.

``tests/data/readsb_aircraft.json`` is hand-made in readsb's aircraft.json layout (no recorded
snapshot was available): its positions, speeds and callsigns are real, taken from
``quickstart.json.gz`` at 2021-10-07 13:00 UTC; the ``~2a00b1`` TIS-B target, the registration
and type of the first entry and the ``lastPosition`` age are made up to exercise the reader.
"""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from parley.errors import InputError
from parley.tracks.readers import detect_format
from parley.tracks.readers.readsb import read_readsb_aircraft, read_readsb_trace
from parley.tracks.schema import CANONICAL_COLUMNS, LINE_COLUMN

TRACE_BASE = 1738703622.619
NOW = datetime(2021, 10, 7, 13, 0, tzinfo=UTC)


def _trace(test_data: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((test_data / "readsb_trace_ac671b_300.json").read_text())
    return document


def _write(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


# --- trace ------------------------------------------------------------------------------------


def test_trace_sample_reads_every_point(test_data: Path) -> None:
    result = read_readsb_trace(test_data / "readsb_trace_ac671b_300.json")

    frame = result.frame
    assert frame.height == 300
    assert result.rejections == []
    assert frame.columns == [*CANONICAL_COLUMNS, LINE_COLUMN]
    first = frame.row(0, named=True)
    assert first["time"] == datetime.fromtimestamp(TRACE_BASE + 14200.37, tz=UTC)
    assert first["track"] == "icao:ac671b"
    assert first["type"] == "B739"
    assert (first["lat"], first["lon"]) == (44.921932, -93.313182)
    assert first["alt_m"] == pytest.approx(1725 * 0.3048)
    assert first["speed_mps"] == pytest.approx(135.5 * 1852 / 3600)
    assert first["course_deg"] == 121.1
    assert first["vrate_mps"] == pytest.approx(-832 * 0.3048 / 60)
    assert first["source"] == "readsb-trace:readsb_trace_ac671b_300.json"


def test_trace_ground_altitude_is_null(test_data: Path) -> None:
    frame = read_readsb_trace(test_data / "readsb_trace_ac671b_300.json").frame

    assert frame["alt_m"].null_count() == 165  # the points whose altitude is "ground"


def test_trace_callsign_fills_each_leg_both_ways(test_data: Path) -> None:
    # The first details (DAL1812) come with point 4; a new leg starts at point 71 and its
    # first details (DAL2418) come with point 72.
    callsigns = read_readsb_trace(test_data / "readsb_trace_ac671b_300.json").frame["callsign"]

    assert callsigns[:70].to_list() == ["DAL1812"] * 70
    assert callsigns[70:].unique().to_list() == ["DAL2418"]


def test_trace_geometric_altitude_is_not_taken_as_barometric(
    test_data: Path, tmp_path: Path
) -> None:
    document = _trace(test_data)
    document["trace"] = document["trace"][:2]
    document["trace"][1][6] = 8  # flag: altitude is geometric
    frame = read_readsb_trace(_write(tmp_path / "trace.json", document)).frame

    assert frame["alt_m"].to_list() == [pytest.approx(1725 * 0.3048), None]


def test_trace_broken_points_are_rejected(test_data: Path, tmp_path: Path) -> None:
    document = _trace(test_data)
    points = document["trace"][:3]
    document["trace"] = [
        points[0],
        "not a point",
        [points[1][0], "north", *points[1][2:]],
        [points[2][0], None, None, *points[2][3:]],
    ]
    result = read_readsb_trace(_write(tmp_path / "trace.json", document))

    assert result.frame[LINE_COLUMN].to_list() == [1]
    found = {r.line: (r.rule, r.reason) for r in result.rejections}
    assert found == {
        2: ("malformed", "trace point is not a list of values: not a point"),
        3: ("malformed", "cannot parse lat='north'"),
        4: ("no_position", "no position in record"),
    }


def test_trace_without_icao_is_one_clear_error(test_data: Path, tmp_path: Path) -> None:
    document = _trace(test_data)
    document["icao"] = "B739"

    with pytest.raises(InputError, match=r"trace\.json: readsb trace: 'icao' is not a 24-bit"):
        read_readsb_trace(_write(tmp_path / "trace.json", document))


# --- aircraft.json ----------------------------------------------------------------------------


def test_aircraft_snapshot_gives_one_row_per_positioned_aircraft(test_data: Path) -> None:
    result = read_readsb_aircraft(test_data / "readsb_aircraft.json")

    frame = result.frame
    assert frame["track"].to_list() == [
        "icao:392ae7",
        "icao:3944f5",
        "icao:344695",
        "icao:405636",
        "icao:~2a00b1",
        "icao:398477",
    ]
    assert frame[LINE_COLUMN].to_list() == [1, 2, 3, 4, 6, 7]
    assert [(r.line, r.rule) for r in result.rejections] == [(5, "no_position")]
    first = frame.row(0, named=True)
    assert first["time"] == NOW - timedelta(seconds=1)
    assert (first["callsign"], first["type"]) == ("AFR21SQ", "A320")
    assert (first["lat"], first["lon"]) == (49.008148, 2.857385)
    assert first["alt_m"] == pytest.approx(3150 * 0.3048)
    assert first["speed_mps"] == pytest.approx(216 * 1852 / 3600)
    assert first["vrate_mps"] == pytest.approx(-1024 * 0.3048 / 60)
    assert first["source"] == "readsb-aircraft:readsb_aircraft.json"


def test_aircraft_ground_geometric_rate_and_last_position(test_data: Path) -> None:
    frame = read_readsb_aircraft(test_data / "readsb_aircraft.json").frame
    rows = {row["track"]: row for row in frame.iter_rows(named=True)}

    assert rows["icao:344695"]["alt_m"] is None  # "ground"
    assert rows["icao:405636"]["vrate_mps"] == pytest.approx(-1472 * 0.3048 / 60)  # geom_rate
    stale = rows["icao:398477"]  # position only in lastPosition, 75 s old
    assert (stale["lat"], stale["lon"]) == (49.268372, 2.251775)
    assert stale["time"] == NOW - timedelta(seconds=75)


def test_aircraft_broken_entries_are_rejected(test_data: Path, tmp_path: Path) -> None:
    document = json.loads((test_data / "readsb_aircraft.json").read_text())
    first = document["aircraft"][0]
    document["aircraft"] = [
        first,
        "4ca7b5",
        {**first, "lat": "north"},
        {key: value for key, value in first.items() if key != "seen_pos"},
        {**first, "hex": "4ca7b5x"},
    ]
    result = read_readsb_aircraft(_write(tmp_path / "aircraft.json", document))

    assert result.frame[LINE_COLUMN].to_list() == [1]
    found = {r.line: r.reason for r in result.rejections}
    assert found == {
        2: "aircraft entry is not a JSON object: 4ca7b5",
        3: "cannot parse lat='north'",
        4: "position without seen_pos: its time is unknown",
        5: "address is not a 24-bit hex address: 4ca7b5x",
    }


def test_aircraft_without_now_is_one_clear_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "aircraft.json", {"now": "soon", "aircraft": []})

    with pytest.raises(InputError, match=r"aircraft\.json: readsb aircraft\.json: 'now' is not"):
        read_readsb_aircraft(path)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("readsb_trace_ac671b_300.json", "readsb-trace"), ("readsb_aircraft.json", "readsb-aircraft")],
)
def test_auto_detection_picks_readsb(test_data: Path, name: str, expected: str) -> None:
    assert detect_format(test_data / name).name == expected


@pytest.mark.shared
def test_shared_trace_reads_in_full(shared_data: Path) -> None:
    result = read_readsb_trace(shared_data / "adsb" / "readsb_trace_full_ac671b.json")

    frame = result.frame
    assert frame.height == 2500
    assert result.rejections == []
    assert frame["callsign"].value_counts().sort("callsign").rows() == [
        ("DAL1615", 474),
        ("DAL1812", 770),
        ("DAL2418", 562),
        ("DAL2927", 694),
    ]
    assert frame["alt_m"].null_count() == 394
    assert frame["time"].max() == datetime.fromtimestamp(TRACE_BASE + 81655.47, tz=UTC)
