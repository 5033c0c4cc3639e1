"""The OpenSky state-vector CSV reader."""

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from parley.errors import InputError
from parley.tracks.readers import detect_format
from parley.tracks.readers.opensky import read_opensky_csv
from parley.tracks.schema import CANONICAL_COLUMNS, LINE_COLUMN

HEADER = (
    "time,icao24,lat,lon,velocity,heading,vertrate,callsign,onground,alert,spi,squawk,"
    "baroaltitude,geoaltitude,lastposupdate,lastcontact"
)


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def test_sample_reads_every_row_in_si(test_data: Path) -> None:
    result = read_opensky_csv(test_data / "opensky_states_uk_400.csv")

    frame = result.frame
    assert frame.height == 400
    assert result.rejections == []
    assert frame.columns == [*CANONICAL_COLUMNS, LINE_COLUMN]
    first = frame.row(0, named=True)
    assert first[LINE_COLUMN] == 2  # line 1 is the header
    assert first["time"] == _at(1626098398.996)  # lastposupdate, not time (1626098400)
    assert first["track"] == "icao:3c4591"
    assert first["callsign"] == "BOX413"
    assert first["lat"] == pytest.approx(51.46894551939883)
    assert first["speed_mps"] == pytest.approx(254.65393708930063)
    assert first["course_deg"] == pytest.approx(99.65260971667908)
    assert first["vrate_mps"] == 0.0
    assert first["alt_m"] == 10668.0
    assert first["source"] == "opensky-csv:opensky_states_uk_400.csv"
    assert frame["callsign"].null_count() == 6  # empty callsigns are null, not ""


def test_repeated_stale_position_keeps_its_measurement_time(test_data: Path) -> None:
    # Lines 187 and 221: OpenSky sampled 403321 at 1626098440 and 1626098450, but its position
    # was last updated at 1626098438.563 both times.
    frame = read_opensky_csv(test_data / "opensky_states_uk_400.csv").frame

    repeated = frame.filter(pl.col(LINE_COLUMN).is_in([187, 221]))

    assert repeated["track"].to_list() == ["icao:403321", "icao:403321"]
    assert repeated["time"].to_list() == [_at(1626098438.563)] * 2


def test_time_is_used_when_lastposupdate_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "states.csv"
    path.write_text(
        f"{HEADER}\n"
        "1626098410,407a19,53.4576,-4.0532,142.8,83.8,-3.25,GMDSI   ,False,False,False,5226.0,"
        "6050.28,6195.06,,1626098409.994\n",
        encoding="utf-8",
    )

    frame = read_opensky_csv(path).frame

    assert frame["time"].to_list() == [_at(1626098410)]


def test_broken_rows_are_rejected_with_their_line(tmp_path: Path) -> None:
    good = "51.4,-0.4,254.6,99.6,0.0,BOX413  ,False,False,False,1174.0,10668.0,10843.26"
    path = tmp_path / "states.csv"
    path.write_text(
        "\n".join(
            [
                HEADER,
                f"1626098400,3c4591,{good},1626098398.996,1626098400.0",
                "1626098400,3c4591,,,254.6,99.6,0.0,BOX413,False,False,False,,,,,1626098400.0",
                f"1626098400,3c4591,north,-0.4,{good[10:]},1626098398.996,1626098400.0",
                f"yesterday,3c4591,{good},,1626098400.0",
                f"1626098400,zzz,{good},1626098398.996,1626098400.0",
                f"1626098400,3c4591,{good},soon,1626098400.0",
            ]
        )
        + "\n",
        encoding="utf-8",
    )

    result = read_opensky_csv(path)

    assert result.frame[LINE_COLUMN].to_list() == [2]
    found = {r.line: (r.rule, r.reason) for r in result.rejections}
    assert found == {
        3: ("no_position", "no position in record"),
        4: ("malformed", "cannot parse lat=north"),
        5: ("malformed", "cannot parse time=yesterday"),
        6: ("malformed", "address is not a 24-bit hex address: zzz"),
        7: ("malformed", "cannot parse lastposupdate=soon"),
    }


def test_missing_columns_are_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "states.csv"
    path.write_text("time,icao24,latitude,longitude\n1,abcdef,1,2\n", encoding="utf-8")

    with pytest.raises(InputError, match=r"states\.csv: not OpenSky state vectors \(no column lat"):
        read_opensky_csv(path)


def test_auto_detection_picks_opensky(test_data: Path) -> None:
    assert detect_format(test_data / "opensky_states_uk_400.csv").name == "opensky-csv"


@pytest.mark.shared
def test_shared_file_reads_in_full(shared_data: Path) -> None:
    result = read_opensky_csv(shared_data / "adsb" / "opensky_states_uk_20210712.csv")

    assert result.frame.height == 6052
    assert Counter(r.rule for r in result.rejections) == {}
    assert result.frame["alt_m"].null_count() == 30  # no baroaltitude: not replaced by geometric
    assert result.frame["time"].min() >= datetime(2021, 7, 12, 13, 50, tzinfo=UTC)  # type: ignore[operator]
    assert result.frame["time"].max() <= datetime(2021, 7, 12, 14, 20, tzinfo=UTC)  # type: ignore[operator]
