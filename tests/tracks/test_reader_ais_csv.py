"""The decoded-AIS CSV readers: DMA, simple (Solent) and aisdb layouts."""

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from parley.errors import InputError
from parley.tracks.readers import FORMATS, detect_format
from parley.tracks.readers.ais_csv import read_aisdb_csv, read_dma_csv, read_simple_csv
from parley.tracks.readers.base import Rejection
from parley.tracks.readers.fileio import read_head
from parley.tracks.schema import CANONICAL_COLUMNS, LINE_COLUMN
from parley.tracks.units import knots_to_mps

# ais_dma_sample.csv is a hand-made sample in the DMA layout (no DMA file is in the shared data):
# its ship positions are taken from the real ferry/tanker GeoJSON (DMA data via MovingPandas),
# the base station, AtoN, class B, SAR aircraft and broken rows were written by hand.
DMA_SAMPLE = "ais_dma_sample.csv"
SOLENT_HEAD = "solent_ais_head.csv"  # header and the first 400 rows
SOLENT_JUMP = "solent_ais_jump.csv"  # header and lines 8150-8250, around the jump to 54.8°E
AISDB_EXCERPT = "aisdb_satellite_excerpt.csv"  # header, rows 2-151, then rows 426 and 1418

CSV_SAMPLES = {
    DMA_SAMPLE: "ais-dma",
    SOLENT_HEAD: "ais-simple",
    SOLENT_JUMP: "ais-simple",
    AISDB_EXCERPT: "ais-aisdb",
}


def _reasons(rejections: list[Rejection]) -> dict[int | None, str]:
    return {r.line: r.reason for r in rejections}


# --- ais-dma --------------------------------------------------------------------------------------


def test_dma_sample_reads_vessels_and_rejects_the_rest(test_data: Path) -> None:
    result = read_dma_csv(test_data / DMA_SAMPLE)

    frame = result.frame
    assert frame.columns == [*CANONICAL_COLUMNS, LINE_COLUMN]
    assert frame[LINE_COLUMN].to_list() == [2, 3, 4, 6, 7, 8, 12]
    first = frame.row(0, named=True)
    assert first["time"] == datetime(2017, 7, 5, 19, 0, 1, tzinfo=UTC)  # 05/07/2017 is 5 July
    assert first["track"] == "mmsi:265410000"
    assert (first["lat"], first["lon"]) == (57.687893, 11.883765)
    assert first["speed_mps"] == pytest.approx(knots_to_mps(8.3))
    assert first["course_deg"] == 254.1
    assert (first["callsign"], first["type"]) == ("STENA JUTLANDICA", "Passenger")
    assert first["source"] == "ais-dma:ais_dma_sample.csv"
    assert _reasons(result.rejections) == {
        5: "not a vessel (Base Station)",
        9: "cannot parse Latitude '57.68x'",
        10: "position not available",
        11: "cannot parse Timestamp '32/07/2017 19:00:16'",
        13: "not a vessel (AtoN)",
    }


def test_dma_static_data_and_not_available_values(test_data: Path) -> None:
    frame = read_dma_csv(test_data / DMA_SAMPLE).frame

    # The tanker's first row has no name; her later row names her, for all her rows.
    tanker = frame.filter(pl.col("track") == "mmsi:265550210")
    assert tanker["callsign"].to_list() == ["TANKSKAR", "TANKSKAR"]
    assert tanker["type"].to_list() == ["Tanker", "Tanker"]
    # Class B with SOG 102.3 and COG 360 (not available); its call sign wins over its name.
    class_b = frame.filter(pl.col("track") == "mmsi:219023456").row(0, named=True)
    assert (class_b["speed_mps"], class_b["course_deg"]) == (None, None)
    assert (class_b["callsign"], class_b["type"]) == ("OU2345", "Sailing")
    sar = frame.filter(pl.col("domain") == "air").row(0, named=True)
    assert (sar["track"], sar["type"], sar["alt_m"]) == ("mmsi:111219501", "SAR aircraft", None)
    assert set(frame.filter(pl.col("domain") == "sea")["alt_m"]) == {0.0}


# --- ais-simple -----------------------------------------------------------------------------------


def test_solent_head_reads_every_row(test_data: Path) -> None:
    result = read_simple_csv(test_data / SOLENT_HEAD)

    frame = result.frame
    assert frame.height == 400
    assert result.rejections == []
    assert frame["track"].n_unique() == 56
    first = frame.row(0, named=True)
    assert first[LINE_COLUMN] == 2
    assert first["time"] == datetime(2016, 1, 12, 13, 2, 11, 218_000, tzinfo=UTC)
    assert first["track"] == "mmsi:235070762"
    assert first["lat"] == pytest.approx(50.7730133333333)
    assert first["lon"] == pytest.approx(-1.092935)
    assert first["course_deg"] == 157.8
    assert first["speed_mps"] == pytest.approx(knots_to_mps(5.9))
    assert frame[LINE_COLUMN].to_list() == list(range(2, 402))


def test_solent_course_360_is_not_available(test_data: Path) -> None:
    text = pl.read_csv(test_data / SOLENT_HEAD)
    frame = read_simple_csv(test_data / SOLENT_HEAD).frame

    at_360 = (text["COG_degrees"] == 360).to_list()
    assert any(at_360)
    assert [c is None for c in frame["course_deg"]] == at_360


def test_solent_jump_row_is_read_for_hygiene_to_judge(test_data: Path) -> None:
    frame = read_simple_csv(test_data / SOLENT_JUMP).frame

    vessel = frame.filter(pl.col("track") == "mmsi:245188000")
    # Reported at 50.8141 N 54.83172 E (the Gulf of Oman) between two fixes in Portsmouth harbour.
    assert vessel["lon"].to_list() == pytest.approx([-1.0923333, 54.83172, -1.0923333], abs=1e-6)
    assert vessel[LINE_COLUMN].to_list() == [12, 61, 95]  # 61 is line 8209 of the full file


def test_simple_layout_accepts_other_column_names(tmp_path: Path) -> None:
    path = tmp_path / "marinecadastre.csv"
    path.write_text(
        "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,CallSign,VesselType\n"
        "367000001,2023-01-01T00:00:05,29.5,-94.8,10.0,90.0,88,GULF STAR,WDA1234,70\n"
        "367000002,1672531210,29.6,-94.7,,,511,,,\n"
        "367000003,yesterday,29.7,-94.6,3.0,1.0,1,,,\n"
        "367000004,2023-01-01T00:00:20,29.8,-94.5,fast,1.0,1,,,\n",
        encoding="utf-8",
    )
    result = read_simple_csv(path)

    frame = result.frame
    assert frame["track"].to_list() == ["mmsi:367000001", "mmsi:367000002"]
    assert frame["time"].to_list() == [
        datetime(2023, 1, 1, 0, 0, 5, tzinfo=UTC),
        datetime(2023, 1, 1, 0, 0, 10, tzinfo=UTC),
    ]
    assert frame.row(0, named=True)["callsign"] == "WDA1234"
    assert frame.row(0, named=True)["type"] == "Cargo"
    assert frame.row(1, named=True)["speed_mps"] is None
    assert _reasons(result.rejections) == {
        4: "cannot parse BaseDateTime 'yesterday'",
        5: "cannot parse SOG 'fast'",
    }


def test_simple_layout_with_unit_suffixes_and_short_names(tmp_path: Path) -> None:
    path = tmp_path / "units.csv"
    path.write_text(
        "timestamp,mmsi,lat_deg,Lon (degrees),SOG (knots),COG_deg\n"
        "05/07/2017 19:00:01,265410000,57.687893,11.883765,8.3,254.1\n",
        encoding="utf-8",
    )
    row = read_simple_csv(path).frame.row(0, named=True)

    assert row["time"] == datetime(2017, 7, 5, 19, 0, 1, tzinfo=UTC)
    assert (row["lat"], row["lon"], row["course_deg"]) == (57.687893, 11.883765, 254.1)
    assert row["speed_mps"] == pytest.approx(knots_to_mps(8.3))


def test_simple_layout_without_a_position_column_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "no_lon.csv"
    path.write_text("Time,MMSI,Latitude\n2016-01-12 13:02:11,235070762,50.77\n", encoding="utf-8")

    expected = r"no_lon\.csv: no column for lon \(one of: lng, lon, long, longitude\)"
    with pytest.raises(InputError, match=expected):
        read_simple_csv(path)


# --- ais-aisdb ------------------------------------------------------------------------------------


def test_aisdb_excerpt_reads_positions_of_every_kind(test_data: Path) -> None:
    result = read_aisdb_csv(test_data / AISDB_EXCERPT)

    frame = result.frame
    # Rows 2-151 hold 63 type 1, 15 type 3, 3 type 18, 1 type 19, 60 type 27 and 1 type 9.
    assert frame.height == 143
    first = frame.row(0, named=True)
    assert first[LINE_COLUMN] == 2
    assert first["time"] == datetime(2021, 7, 1, 18, 51, 51, 680_000, tzinfo=UTC)  # + 680 ms
    assert first["track"] == "mmsi:432905000"
    assert (first["lat"], first["lon"]) == (8.87747666667, -103.63687)
    assert first["speed_mps"] == pytest.approx(knots_to_mps(13.6))
    assert first["course_deg"] == 314.8
    assert _reasons(result.rejections) == {152: "position not available"}  # source row 426


def test_aisdb_sar_aircraft_and_static_join(test_data: Path) -> None:
    frame = read_aisdb_csv(test_data / AISDB_EXCERPT).frame

    sar = frame.filter(pl.col("domain") == "air").row(0, named=True)
    assert (sar[LINE_COLUMN], sar["track"], sar["alt_m"]) == (104, "mmsi:000002918", 462.0)
    assert sar["speed_mps"] == pytest.approx(knots_to_mps(12.0))
    assert sar["type"] == "SAR aircraft"
    # The type 5 of FRONTIER MARINER (last row, source row 1418) names her earlier position.
    tanker = frame.filter(pl.col("track") == "mmsi:538009132").row(0, named=True)
    assert (tanker[LINE_COLUMN], tanker["callsign"], tanker["type"]) == (147, "V7A4360", "Tanker")
    # A type 19 carries its own name and ship type.
    fishing = frame.filter(pl.col("track") == "mmsi:416084600").row(0, named=True)
    assert (fishing["callsign"], fishing["type"]) == ("SHIN SHING SHENGNO23", "Fishing")
    # "None" in SOG/COG is not available, not an error.
    assert frame.filter(pl.col("track") == "mmsi:273455590")["course_deg"].to_list() == [None]


def test_aisdb_broken_rows_are_rejected(test_data: Path, tmp_path: Path) -> None:
    lines = (test_data / AISDB_EXCERPT).read_text(encoding="utf-8").splitlines()
    broken = [
        lines[0],
        lines[1],
        lines[1].replace('"20210701_185151"', '"20210701_996151"'),
        lines[1].replace('"1",', '"x",', 1),
    ]
    path = tmp_path / "aisdb_broken.csv"
    path.write_text("\n".join(broken) + "\n", encoding="utf-8")
    result = read_aisdb_csv(path)

    assert result.frame[LINE_COLUMN].to_list() == [2]
    assert _reasons(result.rejections) == {
        3: "cannot parse Time '20210701_996151'",
        4: "cannot parse Message_ID 'x'",
    }


# --- detection ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "expected"), sorted(CSV_SAMPLES.items()))
def test_detect_format_picks_the_layout(test_data: Path, name: str, expected: str) -> None:
    assert detect_format(test_data / name).name == expected


def test_csv_sniffers_leave_other_test_files_alone(test_data: Path) -> None:
    others = [p for p in sorted(test_data.rglob("*")) if p.is_file() and p.name not in CSV_SAMPLES]
    for name in set(CSV_SAMPLES.values()):
        claimed = [p.name for p in others if FORMATS[name].sniff(p, read_head(p))]
        assert claimed == [], name


# --- full shared files ------------------------------------------------------------------------


@pytest.mark.shared
def test_shared_solent_file_in_full(shared_data: Path) -> None:
    result = read_simple_csv(shared_data / "ais" / "solent_ais_20160112.csv")

    frame = result.frame
    assert frame.height == 18_623
    assert frame["track"].n_unique() == 91
    assert result.rejections == []
    assert frame["time"].min() == datetime(2016, 1, 12, 13, 2, 11, 218_000, tzinfo=UTC)
    assert frame["time"].max() == datetime(2016, 1, 12, 14, 26, 41, 924_000, tzinfo=UTC)
    assert frame.filter(pl.col("lon") > 50)[LINE_COLUMN].to_list() == [8209]  # the jump


@pytest.mark.shared
def test_shared_aisdb_file_in_full(shared_data: Path) -> None:
    result = read_aisdb_csv(shared_data / "ais" / "aisdb_20210701_satellite.csv")

    frame = result.frame
    # 1062 + 206 + 85 + 41 + 978 + 1 position rows (types 1, 3, 18, 19, 27, 9), 11 at 91/181.
    assert frame.height == 2_362
    assert frame["track"].n_unique() == 2_233
    assert [r.reason for r in result.rejections] == ["position not available"] * 11
    assert frame.filter(pl.col("callsign").is_not_null()).height == 46


@pytest.mark.shared
def test_shared_files_detected_as_csv_layouts_only_when_they_are(shared_data: Path) -> None:
    expected = {
        "solent_ais_20160112.csv": "ais-simple",
        "aisdb_20210701_satellite.csv": "ais-aisdb",
    }
    for path in sorted(p for p in shared_data.rglob("*") if p.is_file()):
        head = read_head(path)
        claims = [name for name in ("ais-dma", "ais-simple", "ais-aisdb")
                  if FORMATS[name].sniff(path, head)]  # fmt: skip
        assert claims == ([expected[path.name]] if path.name in expected else []), path.name
        if path.name in expected:
            assert detect_format(path).name == expected[path.name]
