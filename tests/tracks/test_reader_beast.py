"""The Beast binary reader: framing, sidecars, decoding with rs1090.

``tests/data/sample_dump1090.bin`` is the traffic library's dump1090 sample (Toulouse); its
``.start`` sidecar holds 2020-02-12T10:07:00Z, the start time traffic's own tests give it (the
recording's real date is not documented), and the receiver reference used below is
Toulouse-Blagnac airport (LFBO), as in those tests.
"""

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from parley.errors import InputError
from parley.tracks.readers import detect_format
from parley.tracks.readers.beast import read_beast, split_frames
from parley.tracks.schema import CANONICAL_COLUMNS, LINE_COLUMN

START = datetime(2020, 2, 12, 10, 7, tzinfo=UTC)
FIRST_COUNTER = 363_366_270
LFBO = "43.6293 1.3638\n"


def _copy(test_data: Path, tmp_path: Path, *, start: bool = True) -> Path:
    path = Path(shutil.copy(test_data / "sample_dump1090.bin", tmp_path))
    if start:
        shutil.copy(test_data / "sample_dump1090.bin.start", tmp_path)
    return path


def _frame_time(counter: int) -> datetime:
    return START + timedelta(microseconds=round((counter - FIRST_COUNTER) / 12))


def test_framing_unescapes_and_counts_every_frame(test_data: Path) -> None:
    frames, rejections = split_frames(
        Path("x.bin"), (test_data / "sample_dump1090.bin").read_bytes()
    )

    assert rejections == []
    assert len(frames) == 239
    assert sum(1 for f in frames if f.kind == ord("2")) == 185
    assert sum(1 for f in frames if f.kind == ord("3")) == 54
    # Frame 2's counter holds a 0x1a byte, written 0x1a 0x1a in the file.
    assert frames[1].counter == int.from_bytes(bytes.fromhex("000015be1a0c"), "big")
    assert frames[1].reply.hex() == "02e18ca8f1d2ed"


def test_sample_positions_with_global_cpr(test_data: Path) -> None:
    frames, _ = split_frames(Path("x.bin"), (test_data / "sample_dump1090.bin").read_bytes())
    result = read_beast(test_data / "sample_dump1090.bin")

    frame = result.frame
    assert frame.columns == [*CANONICAL_COLUMNS, LINE_COLUMN]
    assert frame[LINE_COLUMN].to_list() == [61, 71, 108]
    assert frame["track"].unique().to_list() == ["icao:48520a"]
    assert frame["callsign"].unique().to_list() == ["TRA89M"]
    first = frame.row(0, named=True)
    assert first["time"] == _frame_time(frames[60].counter)
    assert (round(first["lat"], 4), round(first["lon"], 4)) == (43.6442, 1.2315)
    assert first["alt_m"] == pytest.approx(38000 * 0.3048)
    assert first["speed_mps"] == pytest.approx(203.38, abs=0.01)
    assert first["source"] == "beast:sample_dump1090.bin"
    # Frame 51 is an even message with no odd partner yet: no global position.
    assert [(r.line, r.rule) for r in result.rejections] == [(51, "no_position")]


def test_reference_sidecar_decodes_single_messages_locally(test_data: Path, tmp_path: Path) -> None:
    path = _copy(test_data, tmp_path)
    (tmp_path / "sample_dump1090.bin.reference").write_text(LFBO, encoding="utf-8")

    result = read_beast(path)

    assert result.frame[LINE_COLUMN].to_list() == [51, 61, 71, 108]
    assert result.rejections == []
    assert round(result.frame["lat"][0], 3) == 43.643


def test_missing_start_sidecar_names_the_file_to_write(test_data: Path, tmp_path: Path) -> None:
    path = _copy(test_data, tmp_path, start=False)

    with pytest.raises(InputError) as caught:
        read_beast(path)

    message = str(caught.value)
    assert "\n" not in message
    assert str(tmp_path / "sample_dump1090.bin.start") in message
    assert "UTC time of the first frame" in message


@pytest.mark.parametrize(
    ("sidecar", "text", "error"),
    [
        (".start", "yesterday\n", r"\.start: not an ISO 8601 time: 'yesterday'"),
        (".reference", "LFBO\n", r"\.reference: expected 'lat lon' in degrees"),
        (".reference", "143.6 1.36\n", r"\.reference: position out of range"),
    ],
)
def test_bad_sidecars_are_one_clear_error(
    test_data: Path, tmp_path: Path, sidecar: str, text: str, error: str
) -> None:
    path = _copy(test_data, tmp_path)
    (tmp_path / f"sample_dump1090.bin{sidecar}").write_text(text, encoding="utf-8")

    with pytest.raises(InputError, match=error):
        read_beast(path)


def test_garbled_and_truncated_frames_are_rejected(test_data: Path, tmp_path: Path) -> None:
    data = bytearray((test_data / "sample_dump1090.bin").read_bytes())
    frames, _ = split_frames(Path("x.bin"), bytes(data))
    velocity_75 = data.index(bytes.fromhex("8d48520af82300060049b898ba5f"), 1000)
    data[velocity_75 + 13] ^= 0xFF  # frame 75: parity no longer matches
    after_100 = data.index(frames[100].reply) + len(frames[100].reply)
    data[after_100:after_100] = b"\x1a\x35" + bytes(10)  # an unknown frame type
    garbled = b"\x00\x17junk" + bytes(data[:-5])  # leading junk, last frame cut short
    path = _copy(test_data, tmp_path)
    path.write_bytes(garbled)

    result = read_beast(path)

    last = garbled.rindex(b"\x1a3")
    corrupted = "8d48520af82300060049b898baa0"
    assert result.frame[LINE_COLUMN].to_list() == [61, 71, 109]
    found = [(r.line, r.rule, r.reason) for r in result.rejections]
    assert found == [
        (None, "malformed", "6 bytes before the first frame skipped"),
        (51, "no_position", "position message without a decoded position (CPR not resolved)"),
        (75, "malformed", f"Mode S reply {corrupted} not decodable (parity, format)"),
        (102, "malformed", f"byte {after_100 + 6}: frame type 0x35 is not Mode A/C or Mode S"),
        (240, "malformed", f"byte {last}: frame truncated at the end of the file (16 of 21 bytes)"),
    ]  # fmt: skip


def test_a_file_without_frames_is_one_rejection(test_data: Path, tmp_path: Path) -> None:
    path = _copy(test_data, tmp_path)
    path.write_bytes(b"not a Beast capture")

    result = read_beast(path)

    assert result.frame.is_empty()
    assert [(r.line, r.reason) for r in result.rejections] == [
        (None, "no Beast frame marker (0x1a) in the file")
    ]


def test_auto_detection_picks_beast(test_data: Path) -> None:
    assert detect_format(test_data / "sample_dump1090.bin").name == "beast"


@pytest.mark.shared
def test_shared_file_reads_with_a_start_sidecar(shared_data: Path, tmp_path: Path) -> None:
    path = Path(shutil.copy(shared_data / "adsb" / "sample_dump1090.bin", tmp_path))
    (tmp_path / "sample_dump1090.bin.start").write_text("2020-02-12T10:07:00Z\n", "utf-8")

    result = read_beast(path)

    assert result.frame.height == 3
    assert result.frame["time"].max() == _frame_time(FIRST_COUNTER) + timedelta(seconds=12.674728)
