"""The SBS-1 BaseStation reader.

``tests/data/sbs_sample.txt`` is real data re-encoded: ``tests/data/make_sbs_sample.py`` writes
300 positions of three aircraft of ``switzerland.json.gz`` as the MSG,1/3/4/5 lines a receiver
would have sent, then a few broken lines.
"""

import importlib.util
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from parley.tracks.readers import detect_format
from parley.tracks.readers.sbs import read_sbs
from parley.tracks.schema import CANONICAL_COLUMNS, LINE_COLUMN

KNOT = 1852 / 3600


def _line(kind: int, hex_id: str, clock: str, values: str) -> str:
    stamp = f"2018/08/01,{clock}"
    return f"MSG,{kind},1,1,{hex_id},1,{stamp},{stamp},{values},0,0,0,0"


def test_sample_positions_and_rejections(test_data: Path) -> None:
    result = read_sbs(test_data / "sbs_sample.txt")

    frame = result.frame
    assert frame.height == 300
    assert frame.columns == [*CANONICAL_COLUMNS, LINE_COLUMN]
    assert frame.group_by("track").len().sort("track").rows() == [
        ("icao:3c0f31", 100),
        ("icao:3cd35b", 100),
        ("icao:4ca679", 100),
    ]
    found = {r.line: (r.rule, r.reason) for r in result.rejections}
    assert found == {
        646: ("malformed", "expected 22 fields, found 10"),
        647: ("malformed", "address is not a 24-bit hex address: xyz123"),
        648: ("malformed", "cannot parse field 15=north"),
        649: ("malformed", "cannot parse the generated date and time 2018/13/01 06:40:03.000"),
        650: ("no_position", "no position in record"),
        651: ("malformed", "not an SBS message: this is not an SBS line"),
    }


def test_position_takes_the_latest_velocity_and_callsign(test_data: Path) -> None:
    frame = read_sbs(test_data / "sbs_sample.txt").frame

    first = frame.row(0, named=True)
    assert first[LINE_COLUMN] == 3
    assert first["time"] == datetime(2018, 8, 1, 5, 17, 0, tzinfo=UTC)
    assert first["track"] == "icao:4ca679"
    assert (first["lat"], first["lon"]) == (45.81958, 9.55646)
    assert first["alt_m"] == pytest.approx(36500 * 0.3048)
    assert first["speed_mps"] == pytest.approx(440 * KNOT)  # from the MSG,4 0.3 s before
    assert first["course_deg"] == 328.3
    assert first["vrate_mps"] == pytest.approx(960 * 0.3048 / 60)
    assert first["callsign"] == "RYR17UU"
    assert first["source"] == "sbs:sbs_sample.txt"


def test_callsign_is_carried_backward_to_the_first_positions(test_data: Path) -> None:
    # 3CD35B's first MSG,1 comes only after its third position.
    frame = read_sbs(test_data / "sbs_sample.txt").frame

    efd = frame.filter(pl.col("track") == "icao:3cd35b")
    assert efd["callsign"].to_list() == ["EFD3P"] * 100


def test_values_older_than_a_minute_are_not_carried(tmp_path: Path) -> None:
    path = tmp_path / "feed.txt"
    lines = [
        _line(4, "4CA679", "05:15:00.000", ",,440,328.3,,,960,"),
        _line(3, "4CA679", "05:15:30.000", ",36500,,,45.81958,9.55646,,"),
        _line(3, "4CA679", "05:17:00.000", ",,,,45.82477,9.55646,,"),
        "SEL,,496,2286,4CA679,27215,2018/08/01,05:17:01.000,2018/08/01,05:17:01.000,RYR17UU",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = read_sbs(path)

    assert result.rejections == []  # the SEL line is not a position and not an error
    rows = result.frame.select("speed_mps", "alt_m").rows()
    assert rows[0] == (pytest.approx(440 * KNOT), pytest.approx(36500 * 0.3048))
    assert rows[1] == (None, None)  # 2 min and 90 s old


def test_auto_detection_picks_sbs(test_data: Path) -> None:
    assert detect_format(test_data / "sbs_sample.txt").name == "sbs"


@pytest.mark.shared
def test_committed_sample_is_what_the_script_writes(
    shared_data: Path, test_data: Path, tmp_path: Path
) -> None:
    spec = importlib.util.spec_from_file_location("make_sbs", test_data / "make_sbs_sample.py")
    assert spec is not None
    assert spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)

    script.main(shared_data / "adsb" / "switzerland.json.gz", tmp_path / "sbs.txt")

    assert (tmp_path / "sbs.txt").read_bytes() == (test_data / "sbs_sample.txt").read_bytes()
