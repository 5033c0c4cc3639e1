"""Time parsing: every text either becomes a UTC time or null (a rejection), never an exception."""

from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from parley.tracks.load import load_tracks
from parley.tracks.timeparse import parse_time_series, unix_millis_to_time


def test_numbers_that_are_no_time_become_null() -> None:
    texts = pl.Series(
        "time", ["1460379600", "nan", "inf", "-inf", "9223372036855.0", "1e30", "1460379600.5"]
    )
    parsed = parse_time_series(texts).to_list()
    assert parsed[0] == datetime(2016, 4, 11, 13, 0, tzinfo=UTC)
    assert parsed[1:6] == [None] * 5
    assert parsed[6] == datetime(2016, 4, 11, 13, 0, 0, 500_000, tzinfo=UTC)


def test_unix_millis_out_of_range_become_null() -> None:
    frame = pl.DataFrame({"ms": [1460379600000.0, float("nan"), 1e30]})
    times = frame.select(unix_millis_to_time(pl.col("ms")))["ms"].to_list()
    assert times == [datetime(2016, 4, 11, 13, 0, tzinfo=UTC), None, None]


def test_a_csv_with_such_times_rejects_those_rows(tmp_path: Path) -> None:
    path = tmp_path / "times.csv"
    path.write_text(
        "time,track,domain,lat,lon\n"
        "nan,mmsi:1,sea,55,20\n"
        "9223372036855.0,mmsi:1,sea,55,20\n"
        "1460379600,mmsi:1,sea,55,20\n"
    )
    tracks = load_tracks([path])
    assert tracks.table.height == 1
    reasons = sorted((r.line, r.reason) for r in tracks.hygiene.rejections)
    assert reasons == [
        (2, "cannot parse time='nan'"),
        (3, "cannot parse time='9223372036855.0'"),
    ]
