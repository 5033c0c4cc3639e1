"""The jet1090 JSON-lines reader (decoded Mode S messages).

``tests/data/rs1090_flight_1000.jsonl.gz`` is lines 1646-2645 of the shared
``rs1090_full_flight_short.jsonl.gz``: AFR34ZG lining up, taking off and climbing out of
Paris-CDG (2024-07-06).
"""

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from parley.tracks.readers import detect_format
from parley.tracks.readers.jet1090 import read_jet1090
from parley.tracks.schema import CANONICAL_COLUMNS, LINE_COLUMN

KNOT = 1852 / 3600
FPM = 0.3048 / 60

# Real messages of the sample (lines 401 and 402: an airborne position and a velocity).
POSITION: dict[str, Any] = json.loads(
    '{"timestamp":1720249161.8509269,"frame":"8d393322580940aa0a8e4d4f6250","df":"17",'
    '"icao24":"393322","bds":"05","NUCp":7,"NICb":0,"altitude":700,"source":"barometric",'
    '"parity":"even","lat_cpr":21765,"lon_cpr":36429,"latitude":48.99632263183594,'
    '"longitude":2.565518892728365}'
)
VELOCITY: dict[str, Any] = json.loads(
    '{"timestamp":1720249161.8509488,"frame":"8d3933229914a182408c8a8bf9bb","df":"17",'
    '"icao24":"393322","bds":"09","NACv":2,"groundspeed":160.90059042775448,'
    '"track":263.93507755455204,"vrate_src":"barometric","vertical_rate":2176,'
    '"geo_minus_baro":-225}'
)


def _sample_lines(test_data: Path) -> list[str]:
    return (
        gzip.decompress((test_data / "rs1090_flight_1000.jsonl.gz").read_bytes())
        .decode("utf-8")
        .splitlines()
    )


def _write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _later(message: dict[str, Any], seconds: float, **changes: Any) -> str:
    return json.dumps({**message, "timestamp": message["timestamp"] + seconds, **changes})


def test_sample_positions_carry_the_latest_values(test_data: Path) -> None:
    result = read_jet1090(test_data / "rs1090_flight_1000.jsonl.gz")

    frame = result.frame
    assert frame.height == 248  # the messages with a decoded latitude and longitude
    assert result.rejections == []
    assert frame.columns == [*CANONICAL_COLUMNS, LINE_COLUMN]
    assert frame["callsign"].unique().to_list() == ["AFR34ZG"]
    assert frame["track"].unique().to_list() == ["icao:393322"]
    row = frame.filter(pl.col(LINE_COLUMN) == 407).row(0, named=True)
    assert row["time"] == datetime(2024, 7, 6, 6, 59, 22, 288597, tzinfo=UTC)
    assert (row["lat"], row["lon"]) == (48.99627685546875, 2.5650963416466346)
    assert row["alt_m"] == pytest.approx(725 * 0.3048)  # its own altitude
    assert row["speed_mps"] == pytest.approx(160.90059042775448 * KNOT)  # line 402
    assert row["course_deg"] == pytest.approx(263.93507755455204)
    assert row["vrate_mps"] == pytest.approx(2176 * FPM)
    assert row["source"] == "jet1090:rs1090_flight_1000.jsonl.gz"


def test_comm_b_speed_and_gnss_altitude_are_not_used(tmp_path: Path) -> None:
    # A Comm-B reply of the sample (line 872), its ground speed changed to stand out.
    comm_b: dict[str, Any] = {
        "timestamp": 0,
        "frame": "a000013dfffbd113fffc5784eacc",
        "df": "20",
        "altitude": 1325,
        "bds": "50",
        "track": 265.78125,
        "groundspeed": 999,
        "icao24": "393322",
    }
    lines = [
        json.dumps(VELOCITY),
        _later(comm_b, VELOCITY["timestamp"] + 0.1),
        _later(POSITION, 0.5, altitude=None),
        _later(POSITION, 0.6, altitude=9999, source="GNSS"),
    ]
    frame = read_jet1090(_write_lines(tmp_path / "messages.jsonl", lines)).frame

    assert frame["speed_mps"].to_list() == [pytest.approx(160.90059042775448 * KNOT)] * 2
    # The Comm-B altitude code is barometric and usable; the GNSS height is not.
    assert frame["alt_m"].to_list() == [pytest.approx(1325 * 0.3048)] * 2


def test_unresolved_positions_are_no_position_rejections(tmp_path: Path) -> None:
    unresolved = {k: v for k, v in POSITION.items() if k not in ("latitude", "longitude")}
    path = _write_lines(tmp_path / "messages.jsonl", [json.dumps(unresolved), json.dumps(POSITION)])

    result = read_jet1090(path)

    assert result.frame[LINE_COLUMN].to_list() == [2]
    assert [(r.line, r.rule) for r in result.rejections] == [(1, "no_position")]


def test_malformed_lines_are_rejected_with_their_number(test_data: Path, tmp_path: Path) -> None:
    lines = _sample_lines(test_data)[:30]
    lines[4] = lines[4][:40]  # cut short
    lines[9] = "[1, 2, 3]"
    lines[14] = ""
    lines[19] = _later(json.loads(lines[19]), 0, icao24="39332")
    path = _write_lines(tmp_path / "messages.jsonl", lines)

    result = read_jet1090(path)

    found = {r.line: r.reason for r in result.rejections}
    assert set(found) == {5, 10, 20}
    assert found[5].startswith("not valid JSON")
    assert found[10] == "not a JSON object: [1, 2, 3]"
    assert found[20] == "address is not a 24-bit hex address: 39332"
    clean = read_jet1090(test_data / "rs1090_flight_1000.jsonl.gz").frame
    expected = clean.filter(pl.col(LINE_COLUMN) <= 30, ~pl.col(LINE_COLUMN).is_in([5, 10, 15, 20]))
    assert result.frame.drop("source").equals(expected.drop("source"))


def test_auto_detection_picks_jet1090(test_data: Path) -> None:
    assert detect_format(test_data / "rs1090_flight_1000.jsonl.gz").name == "jet1090"


@pytest.mark.shared
def test_shared_flight_reads_in_full(shared_data: Path) -> None:
    result = read_jet1090(shared_data / "adsb" / "rs1090_full_flight_short.jsonl.gz")

    frame = result.frame
    assert frame.height == 8324
    assert result.rejections == []
    last = frame.row(-1, named=True)
    assert last["time"] == datetime(2024, 7, 6, 8, 2, 47, 494935, tzinfo=UTC)
    assert (round(last["lat"], 2), round(last["lon"], 2)) == (43.63, 1.37)  # Toulouse-Blagnac
    assert frame["alt_m"].max() == pytest.approx(35050 * 0.3048)  # cruise at FL350
    assert frame["callsign"].unique().to_list() == ["AFR34ZG"]
