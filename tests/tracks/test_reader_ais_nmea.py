"""The AIS NMEA reader: tag blocks, Gatehouse wrappers, multi-sentence messages, broken lines.

Real samples: the head of the aisdb tag-block file and the small pyais sample files (whole). A few
tests write their own lines, encoded with pyais, to reach message types the samples lack (SAR
aircraft, not-available values, class B static data) and to break lines on purpose.
"""

from collections import Counter
from datetime import UTC, datetime
from functools import reduce
from pathlib import Path

import polars as pl
import pytest
from pyais import encode_dict

from parley.tracks.readers import detect_format
from parley.tracks.readers.ais_nmea import read_ais_nmea, sniff_ais_nmea
from parley.tracks.readers.base import Rejection
from parley.tracks.readers.fileio import read_head
from parley.tracks.schema import CANONICAL_COLUMNS, LINE_COLUMN
from parley.tracks.units import knots_to_mps

TAGBLOCK_HEAD = "aisdb_tagblocks_head.nm4"
NMEA_SAMPLES = (
    TAGBLOCK_HEAD,
    "pyais_examples_gatehouse.nmea",
    "pyais_examples_sample.ais",
    "pyais_tests_ais_test_messages.ais",
    "pyais_tests_mixed.txt",
    "pyais_tests_nmea_data_sample.txt",
    "pyais_tests_timestamped.ais",
)
GATEHOUSE_TIME = datetime(2008, 5, 9, 0, 0, 0, 10_000, tzinfo=UTC)


def _checksum(text: str) -> str:
    return f"{reduce(lambda acc, char: acc ^ ord(char), text, 0):02X}"


def _tagged(sentence: str, received: str) -> str:
    """``sentence`` behind a tag block with ``c:<received>`` and a correct checksum."""
    tag = f"s:test,c:{received}"
    return f"\\{tag}*{_checksum(tag)}\\{sentence}"


def _sentence(body: str) -> str:
    return f"!{body}*{_checksum(body)}"


def _encoded(**fields: str | int | float | bytes | bool) -> str:
    sentences: list[str] = encode_dict(fields, talker_id="AI", sentence_type="VDM")
    assert len(sentences) == 1
    return sentences[0]


def _write(tmp_path: Path, lines: list[str], name: str = "test.nmea") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return path


def _reasons(rejections: list[Rejection]) -> dict[int | None, str]:
    return {r.line: r.reason for r in rejections}


def test_tagblock_sample_reads_positions_with_receive_times(test_data: Path) -> None:
    result = read_ais_nmea(test_data / TAGBLOCK_HEAD)

    frame = result.frame
    assert frame.columns == [*CANONICAL_COLUMNS, LINE_COLUMN]
    assert frame.height == 302  # message types 1/3/18/27 in the first 360 lines, per pyais
    assert frame["track"].n_unique() == 242
    assert set(frame["domain"]) == {"sea"}
    assert set(frame["alt_m"]) == {0.0}
    # Line 2 is a long-range (type 27) report received at c:1635731909.
    first = frame.row(0, named=True)
    assert first[LINE_COLUMN] == 2
    assert first["time"] == datetime(2021, 11, 1, 1, 58, 29, tzinfo=UTC)
    assert first["track"] == "mmsi:412750020"
    assert first["lat"] == pytest.approx(30.903333, abs=1e-6)
    assert first["lon"] == pytest.approx(117.741667, abs=1e-6)
    assert first["speed_mps"] == 0.0
    assert first["course_deg"] == 25.0
    assert first["source"] == "ais-nmea:aisdb_tagblocks_head.nm4"
    assert _reasons(result.rejections) == {
        302: "position not available",
        350: "position not available",
    }


def test_static_data_applies_to_positions_received_before_it(test_data: Path) -> None:
    frame = read_ais_nmea(test_data / TAGBLOCK_HEAD).frame

    # Type 5 of TARAKENA (two sentences, lines 268-269) comes after her positions (15, 58).
    pilot = frame.filter(pl.col("track") == "mmsi:512000321")
    assert pilot[LINE_COLUMN].to_list() == [15, 58]
    assert set(pilot["callsign"]) == {"ZMT2685"}
    assert set(pilot["type"]) == {"PilotVessel"}
    # Type 24 part A only (line 92): the name stands in for the missing call sign.
    patiki = frame.filter(pl.col("track") == "mmsi:512003336").row(0, named=True)
    assert (patiki["callsign"], patiki["type"]) == ("PATIKI", None)
    # Type 24 part B only (line 79): call sign and ship type.
    class_b = frame.filter(pl.col("track") == "mmsi:512007129").row(0, named=True)
    assert (class_b["callsign"], class_b["type"]) == ("ZMZ7418", "Cargo")


def test_gatehouse_time_stamps_the_sentences_after_it(test_data: Path) -> None:
    result = read_ais_nmea(test_data / "pyais_tests_timestamped.ais")

    frame = result.frame
    assert frame[LINE_COLUMN].to_list() == [2, 6]  # line 6 follows blank and comment lines
    assert set(frame["time"]) == {GATEHOUSE_TIME}
    assert frame["track"].to_list() == ["mmsi:367309370", "mmsi:413355820"]
    # The $PGHP of line 7 was edited (2009) without its checksum: its sentences have no time.
    assert _reasons(result.rejections) == {
        7: "bad checksum (computed 16, given 17)",
        8: "no receive time",
        9: "no receive time",
    }


def test_mixed_file_skips_other_nmea_and_reports_garbage(test_data: Path) -> None:
    result = read_ais_nmea(test_data / "pyais_tests_mixed.txt")

    reasons = _reasons(result.rejections)
    # $GPGGA, $GPRTE, $GPR00, $IIMWV (lines 7, 8, 13, 18) are other NMEA talkers: skipped.
    assert not {7, 8, 13, 18} & set(reasons)
    assert reasons[14] == "not an NMEA sentence"  # foobar
    assert reasons[21] == "not an NMEA sentence"  # IamNotAnAisMessage1111
    assert reasons[23] == "malformed NMEA sentence"  # no *hh checksum
    assert reasons[26] == reasons[27] == "bad tag block checksum"
    assert reasons[35] == "bad checksum (computed 16, given 17)"
    # The two-sentence type 5 (lines 15-16) assembles without a complaint.
    assert not {15, 16} & set(reasons)
    assert [line for line, r in reasons.items() if r == "no receive time"] == [2, 3, 4, 5, 10, 11]
    assert result.frame[LINE_COLUMN].to_list() == [30, 34]
    assert set(result.frame["time"]) == {GATEHOUSE_TIME}


def test_file_without_any_time_source_rejects_every_position(test_data: Path) -> None:
    result = read_ais_nmea(test_data / "pyais_tests_nmea_data_sample.txt")

    assert result.frame.is_empty()
    counts = Counter(r.reason for r in result.rejections)
    assert counts["empty AIS payload"] == 100  # the !AIVDM,1,1,,B,,0*25 lines
    assert counts["no receive time"] == 762  # 667 type 1, 76 type 3, 19 type 18 (per pyais)
    # The file holds 20 first halves of type 5 messages whose second halves never came.
    assert counts["incomplete multi-sentence message (not all 2 fragments found)"] == 20
    assert len(counts) == 3


def test_tag_block_time_in_milliseconds_and_leading_timestamps(tmp_path: Path) -> None:
    position = _encoded(type=1, mmsi=211000001, speed=12.3, lon=11.5, lat=57.5, course=45.5)
    path = _write(
        tmp_path,
        [
            _tagged(position, "1635731889123"),
            f"2021-11-01T01:58:10.5Z {position}",
            f"1635731891.25,{position}",
            f"[2021-11-01 01:58:12] {position}",
            f"receiver-7 {position}",
        ],
    )
    result = read_ais_nmea(path)

    assert result.frame["time"].to_list() == [
        datetime(2021, 11, 1, 1, 58, 9, 123_000, tzinfo=UTC),
        datetime(2021, 11, 1, 1, 58, 10, 500_000, tzinfo=UTC),
        datetime(2021, 11, 1, 1, 58, 11, 250_000, tzinfo=UTC),
        datetime(2021, 11, 1, 1, 58, 12, tzinfo=UTC),
    ]
    row = result.frame.row(0, named=True)
    assert row["speed_mps"] == pytest.approx(knots_to_mps(12.3))
    assert row["course_deg"] == pytest.approx(45.5)
    assert _reasons(result.rejections) == {5: "unrecognised text before the sentence: receiver-7"}


def test_not_available_values_become_null_or_reject_the_position(tmp_path: Path) -> None:
    received = "1635731889"
    path = _write(
        tmp_path,
        [
            _tagged(_encoded(type=1, mmsi=211000001, speed=102.3, lon=11.5, lat=57.5,
                             course=360, heading=511), received),
            _tagged(_encoded(type=18, mmsi=211000002, speed=102.3, lon=181, lat=91,
                             course=360), received),
            _tagged(_encoded(type=27, mmsi=211000003, speed=63, lon=11.5, lat=57.5,
                             course=511), received),
            _tagged(_encoded(type=27, mmsi=211000004, speed=14, lon=11.6, lat=57.6,
                             course=270), received),
        ],
    )  # fmt: skip
    result = read_ais_nmea(path)

    frame = result.frame
    assert frame["track"].to_list() == ["mmsi:211000001", "mmsi:211000003", "mmsi:211000004"]
    assert frame["speed_mps"].to_list()[:2] == [None, None]
    assert frame["course_deg"].to_list()[:2] == [None, None]
    assert frame["speed_mps"][2] == pytest.approx(knots_to_mps(14))
    assert frame["course_deg"][2] == 270.0
    assert _reasons(result.rejections) == {2: "position not available"}


def test_sar_aircraft_are_in_the_air_with_altitude_in_metres(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            _tagged(_encoded(type=9, mmsi=111219501, alt=462, speed=120, lon=11.7, lat=57.7,
                             course=90.0), "1635731889"),
            _tagged(_encoded(type=9, mmsi=111219501, alt=4095, speed=1023, lon=11.8, lat=57.7,
                             course=3600 / 10), "1635731899"),
        ],
    )  # fmt: skip
    frame = read_ais_nmea(path).frame

    assert frame["domain"].to_list() == ["air", "air"]
    assert frame["type"].to_list() == ["SAR aircraft", "SAR aircraft"]
    assert frame["alt_m"].to_list() == [462.0, None]
    assert frame["speed_mps"][0] == pytest.approx(knots_to_mps(120))
    assert frame["speed_mps"][1] is None
    assert frame["course_deg"].to_list() == [90.0, None]


def test_class_b_static_parts_join_by_mmsi(tmp_path: Path) -> None:
    received = "1635731889"
    path = _write(
        tmp_path,
        [
            _tagged(_encoded(type=18, mmsi=211000003, speed=12.5, lon=11.5, lat=57.5,
                             course=45.0), received),
            _tagged(_encoded(type=24, mmsi=211000003, partno=0, shipname="PATROL ONE"), received),
            _tagged(_encoded(type=24, mmsi=211000003, partno=1, callsign="DABC",
                             ship_type=35), received),
        ],
    )  # fmt: skip
    row = read_ais_nmea(path).frame.row(0, named=True)

    assert (row["track"], row["callsign"], row["type"]) == ("mmsi:211000003", "DABC", "MilitaryOps")


def test_broken_fragments_checksums_and_payloads_are_rejected(
    test_data: Path, tmp_path: Path
) -> None:
    lines = (test_data / "pyais_tests_ais_test_messages.ais").read_text().splitlines()
    first, second = lines[7], lines[8]  # the two sentences of a type 5 message
    position = lines[1]
    truncated = _sentence("AIVDM,1,1,,A,13HOI:0P0000VOHL,0")
    path = _write(
        tmp_path,
        [
            _tagged(second, "1635731889"),  # 1: fragment 2 without fragment 1
            first,  # 2: fragment 1 never completed (another fragment 1 follows)
            first,  # 3
            second,  # 4: completes line 3
            position.replace("*23", "*24"),  # 5: bad checksum
            _tagged(_sentence("AIVDM,1,1,,A,m0000000000000000000000000,0"), "1635731889"),  # 6
            _tagged(truncated, "1635731889"),  # 7
            _tagged(_sentence("AIVDM,0,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0"), "1635731889"),  # 8
            _tagged(_sentence("AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,7"), "1635731889"),  # 9
            first,  # 10: still waiting at the end of the file
        ],
    )
    result = read_ais_nmea(path)

    assert result.frame.is_empty()
    assert _reasons(result.rejections) == {
        1: "fragment 2 of 2 without the fragments before it",
        2: "incomplete multi-sentence message (not all 2 fragments found)",
        5: "bad checksum (computed 23, given 24)",
        6: "unknown AIS message type 53",
        7: "truncated AIS payload (96 bits for message type 1)",
        8: "invalid fragment count 0",
        9: "invalid fill bits",
        10: "incomplete multi-sentence message (not all 2 fragments found)",
    }


def test_talker_ids_other_than_ai_are_read(tmp_path: Path) -> None:
    position = _encoded(type=1, mmsi=211000001, speed=5.0, lon=11.5, lat=57.5, course=10.0)
    body = position[1 : position.index("*")]
    lines = [_tagged(_sentence(body.replace("AIVDM", talker)), "1635731889")
             for talker in ("BSVDM", "ABVDM", "SAVDO")]  # fmt: skip
    frame = read_ais_nmea(_write(tmp_path, lines)).frame

    assert frame.height == 3


@pytest.mark.parametrize("name", NMEA_SAMPLES)
def test_detect_format_picks_ais_nmea(test_data: Path, name: str) -> None:
    assert detect_format(test_data / name).name == "ais-nmea"


def test_sniffer_leaves_other_test_files_alone(test_data: Path) -> None:
    others = [p for p in sorted(test_data.rglob("*")) if p.is_file() and p.name not in NMEA_SAMPLES]
    assert others, "expected other formats' samples in tests/data"
    claimed = [p.name for p in others if sniff_ais_nmea(p, read_head(p))]
    assert claimed == []


@pytest.mark.shared
def test_shared_tagblock_file_in_full(shared_data: Path) -> None:
    result = read_ais_nmea(shared_data / "ais" / "aisdb_20211101_tagblocks.nm4")

    frame = result.frame
    assert frame.height == 915
    assert frame["track"].n_unique() == 799  # of the 843 MMSIs in the file, 799 report positions
    assert frame["time"].min() == datetime(2021, 11, 1, 1, 58, 7, tzinfo=UTC)
    assert frame["time"].max() == datetime(2021, 11, 1, 1, 59, 6, tzinfo=UTC)
    assert [r.reason for r in result.rejections] == ["position not available"] * 2


@pytest.mark.shared
def test_shared_files_detected_as_ais_nmea_only_when_they_are(shared_data: Path) -> None:
    nmea = {
        "aisdb_20211101_tagblocks.nm4",
        "examples_gatehouse.nmea",
        "examples_sample.ais",
        "tests_ais_test_messages",
        "tests_messages.ais",
        "tests_mixed.txt",
        "tests_nmea_data_sample.txt",
        "tests_timestamped.ais",
    }
    for path in sorted(p for p in shared_data.rglob("*") if p.is_file()):
        claimed = sniff_ais_nmea(path, read_head(path))
        assert claimed == (path.name in nmea), path.name
        if path.name in nmea:
            assert detect_format(path).name == "ais-nmea"
