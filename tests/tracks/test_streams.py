"""The incremental parsers: a feed cut anywhere gives the rows of the archive reader."""

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from parley.tracks.readers.ais_nmea import read_ais_nmea
from parley.tracks.readers.beast import COUNTER_HZ, frame_starts, read_beast, split_frames
from parley.tracks.readers.readsb import read_readsb_aircraft
from parley.tracks.readers.sbs import read_sbs
from parley.tracks.streams import (
    AisNmeaStream,
    BeastStream,
    CanonicalCsvStream,
    ReadsbAircraftStream,
    SbsStream,
    parse_chunks,
    stream_label,
)

RECEIVED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
COMPARED = ["time", "track", "domain", "lat", "lon", "alt_m", "speed_mps", "course_deg", "_line"]


def _clock() -> datetime:
    return RECEIVED


def cut(data: bytes, *, seed: int, largest: int) -> list[bytes]:
    """``data`` in chunks of random sizes (1 to ``largest`` bytes)."""
    rng = random.Random(seed)
    chunks, at = [], 0
    while at < len(data):
        size = rng.randint(1, largest)
        chunks.append(data[at : at + size])
        at += size
    return chunks


@pytest.mark.parametrize("seed", [1, 2])
def test_nmea_with_tag_blocks_cut_anywhere_gives_the_file_rows(test_data: Path, seed: int) -> None:
    path = test_data / "aisdb_tagblocks_head.nm4"
    archive = read_ais_nmea(path)
    live = parse_chunks(
        AisNmeaStream(path), cut(path.read_bytes(), seed=seed, largest=8000), _clock
    )
    assert live.frame.height == archive.frame.height == 302
    # times come from the tag blocks, not from the receive time
    assert_frame_equal(live.frame.select(COMPARED), archive.frame.select(COMPARED))
    assert [(r.line, r.reason) for r in live.rejections] == [
        (r.line, r.reason) for r in archive.rejections
    ]


def test_multi_sentence_messages_wait_for_their_last_fragment(test_data: Path) -> None:
    path = test_data / "pyais_tests_nmea_data_sample.txt"
    lines = path.read_bytes().splitlines(keepends=True)
    # 95 and 109 are the first fragments of two-sentence messages (file lines 96 and 110)
    chunks = [b"".join(lines[a:b]) for a, b in ((0, 96), (96, 110), (110, len(lines)))]
    whole = parse_chunks(AisNmeaStream(path), [b"".join(lines)], _clock)
    split = parse_chunks(AisNmeaStream(path), chunks, _clock)
    # the file has no times: the archive reader rejects every position, the feed stamps them
    assert read_ais_nmea(path).frame.height == 0
    assert whole.frame.height == split.frame.height == 758
    assert (whole.frame["time"] == RECEIVED).all()
    assert_frame_equal(split.frame, whole.frame)
    assert [r.line for r in split.rejections] == [r.line for r in whole.rejections]


def test_static_reports_name_later_positions_of_the_stream(test_data: Path) -> None:
    # lines 78-79: class B static report of 512007129 (type 24); line 277: its position
    lines = (test_data / "aisdb_tagblocks_head.nm4").read_bytes().splitlines(keepends=True)
    parser = AisNmeaStream(stream_label("udp", "0.0.0.0:10110"))
    first = parser.feed(b"".join(lines[:200]), RECEIVED)
    second = parser.feed(b"".join(lines[200:]), RECEIVED)
    assert "mmsi:512007129" not in first.frame["track"].to_list()
    row = second.frame.filter(pl.col("track") == "mmsi:512007129")
    assert row["_line"].to_list() == [277]
    assert row["callsign"].to_list() == ["ZMZ7418"]
    assert row["type"].to_list() == ["Cargo"]
    assert row["time"].to_list() == [datetime(2021, 11, 1, 1, 59, 6, tzinfo=UTC)]
    assert row["source"].to_list() == ["ais-nmea:udp:0.0.0.0:10110"]


@pytest.mark.parametrize("seed", [4, 5])
def test_sbs_cut_anywhere_gives_the_file_positions(test_data: Path, seed: int) -> None:
    path = test_data / "sbs_sample.txt"
    archive = read_sbs(path)
    live = parse_chunks(SbsStream(path), cut(path.read_bytes(), seed=seed, largest=6000), _clock)
    assert live.frame.height == archive.frame.height == 300
    assert_frame_equal(live.frame.select(COMPARED), archive.frame.select(COMPARED))
    assert sorted(r.line or 0 for r in live.rejections) == sorted(
        r.line or 0 for r in archive.rejections
    )
    # a feed cannot know a callsign before it is sent: only the file fills it backwards
    assert live.frame["callsign"].null_count() >= archive.frame["callsign"].null_count()


def test_sbs_without_generated_time_takes_the_receive_time() -> None:
    line = b"MSG,3,1,1,4CA7B5,1,,,,,,35000,,,55.1,18.9,,,0,0,0,0\n"
    raw = SbsStream(stream_label("tcp", "x:30003")).feed(line, RECEIVED)
    assert raw.frame["track"].to_list() == ["icao:4ca7b5"]
    assert raw.frame["time"].to_list() == [RECEIVED]
    assert raw.frame["alt_m"].to_list() == [pytest.approx(10668.0)]


def test_beast_frames_at_their_receive_times_give_the_file_positions(test_data: Path) -> None:
    path = test_data / "sample_dump1090.bin"
    data = path.read_bytes()
    archive = read_beast(path)
    frames, _ = split_frames(path, data)
    starts = [*frame_starts(data).tolist(), len(data)]
    first_at = datetime(2020, 2, 12, 10, 7, tzinfo=UTC)  # the file's .start sidecar
    parser = BeastStream(path)
    rows = []
    for begin in range(0, len(frames), 7):
        end = min(begin + 7, len(frames))
        at = first_at + timedelta(
            seconds=(frames[end - 1].counter - frames[0].counter) / COUNTER_HZ
        )
        rows.append(parser.feed(data[starts[begin] : starts[end]], at).frame)
    live = pl.concat(rows)
    assert live.height == archive.frame.height == 3
    assert_frame_equal(
        live.select("track", "lat", "lon", "alt_m", "_line"),
        archive.frame.select("track", "lat", "lon", "alt_m", "_line"),
    )
    assert (live["time"] - archive.frame["time"]).abs().max() < timedelta(milliseconds=1)


def test_beast_partial_frame_waits_for_the_rest(test_data: Path) -> None:
    data = (test_data / "sample_dump1090.bin").read_bytes()
    parser = BeastStream(stream_label("tcp", "x:30005"))
    halves = [parser.feed(data[:1000], RECEIVED), parser.feed(data[1000:], RECEIVED)]
    total = sum(len(r.rejections) for r in halves) + len(parser.flush(RECEIVED).rejections)
    truncated = [r for h in halves for r in h.rejections if "truncated" in r.reason]
    assert truncated == []
    assert total >= 1  # the file's one undecodable position stays a rejection


def test_readsb_document_is_one_chunk(test_data: Path) -> None:
    path = test_data / "readsb_aircraft.json"
    parser = ReadsbAircraftStream(stream_label("http", "x/data/aircraft.json"))
    live = parser.feed(path.read_bytes(), RECEIVED)
    assert_frame_equal(live.frame.drop("source"), read_readsb_aircraft(path).frame.drop("source"))
    assert live.frame.height == 6


def test_canonical_csv_lines_keep_their_line_numbers() -> None:
    text = (
        b"time,track,domain,lat,lon,alt_m\n"
        b"2016-04-11T13:00:00Z,sim:a,air,55.3,18.9,30\n"
        b"2016-04-11T13:00:01Z,sim:a,air,55.31,18.9,bad\n"
        b"2016-04-11T13:00:02Z,sim:a,air,55.32,18.9,30\n"
    )
    raw = parse_chunks(
        CanonicalCsvStream(stream_label("tcp", "x:1")), cut(text, seed=9, largest=20)
    )
    assert raw.frame["_line"].to_list() == [2, 4]
    assert raw.frame["lat"].to_list() == [55.3, 55.32]
    assert [(r.line, r.reason) for r in raw.rejections] == [(3, "cannot parse alt_m='bad'")]
