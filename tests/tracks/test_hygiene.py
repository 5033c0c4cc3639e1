"""Data hygiene: each rule counted and reported, nothing dropped silently."""

from pathlib import Path

import polars as pl
import pytest

from parley.errors import StrictModeError
from parley.tracks.load import load_tracks


@pytest.fixture
def malformed(test_data: Path) -> Path:
    return test_data / "canonical" / "malformed.csv"


def _reasons(path: Path) -> dict[int | None, str]:
    tracks = load_tracks([path])
    return {r.line: r.reason for r in tracks.hygiene.rejections}


def test_malformed_rows_rejected_with_line_and_reason(malformed: Path) -> None:
    reasons = _reasons(malformed)
    assert "time" in reasons[4]
    assert reasons[5] == "latitude 95.0 outside ±90"
    assert reasons[6] == "longitude 190.0 outside ±180"
    assert "speed_mps='fast'" in reasons[7]
    assert "unknown domain space" in reasons[8]


def test_impossible_jump_flagged_and_excluded(malformed: Path) -> None:
    tracks = load_tracks([malformed])
    jumps = [r for r in tracks.hygiene.rejections if r.rule == "impossible_jump"]
    assert [r.line for r in jumps] == [12]
    assert "implied speed" in jumps[0].reason
    assert "600 m/s" in jumps[0].reason
    assert tracks.table.filter(pl.col("lat") > 57).height == 0


def test_duplicates_removed_and_order_restored(malformed: Path) -> None:
    tracks = load_tracks([malformed])
    assert tracks.hygiene.duplicates_removed == 1
    assert tracks.hygiene.out_of_order == 1
    times = tracks.table.filter(pl.col("track") == "radar:su27-2")["time"].to_list()
    assert times == sorted(times)


def test_unix_seconds_time_and_radar_transponder_default(malformed: Path) -> None:
    table = load_tracks([malformed]).table
    assert table.filter(pl.col("lon") == 19.025).height == 1  # 1460628007 = 10:00:07Z
    radar = table.filter(pl.col("track") == "radar:su27-2")
    assert radar["transponder"].unique().to_list() == ["off"]
    assert radar["vrate_mps"].to_list() == [0.0, 0.0]


def test_counts_add_up(malformed: Path) -> None:
    tracks = load_tracks([malformed])
    report = tracks.hygiene
    assert report.rows_in == 14
    assert report.rows_out + report.rejected + report.duplicates_removed == report.rows_in
    assert tracks.table.height == report.rows_out


def test_strict_mode_fails_on_any_rejection(malformed: Path) -> None:
    with pytest.raises(StrictModeError, match="rejected under --strict"):
        load_tracks([malformed], strict=True)
