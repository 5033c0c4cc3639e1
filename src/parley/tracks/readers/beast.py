"""Raw Mode S frames in the Beast binary format (dump1090 / readsb ``--net-bo``, port 30005).

Framing: each frame starts with the escape byte ``0x1a`` and a type byte, ``'1'`` Mode A/C
(2 bytes of reply), ``'2'`` Mode S short (7 bytes) or ``'3'`` Mode S long (14 bytes); then a
6-byte big-endian receiver counter, 1 signal byte and the reply. A ``0x1a`` inside a frame is
doubled. The reader splits the frames itself and decodes the Mode S replies with ``rs1090``;
the rows are built as for :mod:`parley.tracks.readers.jet1090` (positions, with the latest
altitude, speed, track, vertical rate and callsign of the same aircraft).

Two sidecar files next to ``FILE`` (the full file name plus a suffix) complete it:

``FILE.start`` (required)
    The UTC time of the file's first frame, ISO 8601 (``2024-07-06T06:43:09.5Z``; no offset
    means UTC). The counter is a 12 MHz clock started by the receiver, not a time of day, so
    without this file the reader stops with an error rather than invent a date. Each frame's time
    is that start plus (counter - first counter) / 12 MHz. A receiver restart resets the
    counter, so a capture spanning one must be split at the restart. (GPS-stamped receivers such
    as the Radarcape write another counter format, which this reader does not read.)

``FILE.reference`` (optional)
    The receiver's position, ``lat lon`` in degrees. With it, positions are decoded locally from
    single messages (and surface positions become possible); without it, only from the even/odd
    pairs of global CPR decoding.

Frames that cannot be split (garbage, truncation, unknown type) and Mode S frames that rs1090
cannot decode (failed parity, unsupported format) are rejected; the ``_line`` of a row (and the
line of a rejection) is the frame's number in the file, counting from 1. Mode A/C replies carry
no address and are skipped.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
import rs1090

from parley.errors import InputError
from parley.tracks.readers.adsb_common import by_line
from parley.tracks.readers.base import Format, RawRead, Rejection
from parley.tracks.readers.fileio import read_bytes
from parley.tracks.readers.jet1090 import message_frame, positions_from_messages

FORMAT_NAME: Final = "beast"
ESCAPE: Final = 0x1A
COUNTER_HZ: Final = 12_000_000
MODE_AC: Final = ord("1")
MODE_S_SHORT: Final = ord("2")
MODE_S_LONG: Final = ord("3")
#: Frame type -> bytes after the type byte, once unescaped: counter (6), signal (1), reply.
FRAME_LENGTHS: Final = {MODE_AC: 6 + 1 + 2, MODE_S_SHORT: 6 + 1 + 7, MODE_S_LONG: 6 + 1 + 14}
START_SUFFIX: Final = ".start"
REFERENCE_SUFFIX: Final = ".reference"


@dataclass(frozen=True, slots=True)
class BeastFrame:
    """One frame: its number in the file (from 1), type byte, counter and Mode S/AC reply."""

    number: int
    kind: int
    counter: int
    reply: bytes


def read_beast(path: Path) -> RawRead:
    data = read_bytes(path)
    start = read_start_time(path)
    reference = read_reference(path)
    frames, rejections = split_frames(path, data)
    replies = [frame for frame in frames if frame.kind != MODE_AC]
    first_counter = frames[0].counter if frames else 0
    times = [start + (frame.counter - first_counter) / COUNTER_HZ for frame in replies]
    result = decode_replies(path, replies, times, reference)
    return RawRead(result.frame, by_line(rejections, result.rejections))


def decode_replies(
    path: Path,
    replies: list[BeastFrame],
    times: list[float],
    reference: tuple[float, float] | None,
) -> RawRead:
    """Position rows from Mode S replies received at ``times`` (Unix seconds), in order."""
    decoded = _decode(replies, times, reference)
    messages, numbers, undecoded = _match_decoded(path, replies, times, decoded)
    result = positions_from_messages(path, message_frame(messages, numbers), FORMAT_NAME)
    return RawRead(result.frame, by_line(undecoded, result.rejections))


# --- sidecars ---------------------------------------------------------------------------------


def sidecar(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def read_start_time(path: Path) -> float:
    """Unix seconds of the first frame, from ``FILE.start``."""
    start_file = sidecar(path, START_SUFFIX)
    if not start_file.is_file():
        raise InputError(
            f"{path}: Beast counters are not times of day: write the UTC time of the first "
            f"frame (ISO 8601, e.g. 2024-07-06T06:43:09Z) into {start_file}"
        )
    text = start_file.read_text(encoding="utf-8", errors="replace").strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"{start_file}: not an ISO 8601 time: {text[:40]!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def read_reference(path: Path) -> tuple[float, float] | None:
    """The receiver position from ``FILE.reference`` (``lat lon``), if that file exists."""
    reference_file = sidecar(path, REFERENCE_SUFFIX)
    if not reference_file.is_file():
        return None
    text = reference_file.read_text(encoding="utf-8", errors="replace")
    parts = text.replace(",", " ").split()
    try:
        lat, lon = (float(part) for part in parts)
    except ValueError:
        raise InputError(
            f"{reference_file}: expected 'lat lon' in degrees, found {text.strip()[:40]!r}"
        ) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InputError(f"{reference_file}: position out of range: {lat} {lon}")
    return lat, lon


# --- framing ----------------------------------------------------------------------------------


def frame_starts(data: bytes) -> np.ndarray[Any, np.dtype[np.intp]]:
    """Offsets of the ``0x1a`` bytes that start a frame.

    In a run of ``0x1a`` bytes the pairs are escaped data; an odd run ends with a frame start.
    """
    is_escape = np.frombuffer(data, dtype=np.uint8) == ESCAPE
    edges = np.diff(np.concatenate(([0], is_escape.view(np.int8), [0])))
    run_starts = np.flatnonzero(edges == 1)
    run_ends = np.flatnonzero(edges == -1)
    odd = (run_ends - run_starts) % 2 == 1
    starts: np.ndarray[Any, np.dtype[np.intp]] = run_ends[odd] - 1
    return starts


def split_frames(path: Path, data: bytes) -> tuple[list[BeastFrame], list[Rejection]]:
    starts = frame_starts(data).tolist()
    rejections: list[Rejection] = []
    if not starts and data:
        rejections.append(Rejection(str(path), None, "no Beast frame marker (0x1a) in the file"))
    elif starts and starts[0] > 0:
        rejections.append(
            Rejection(str(path), None, f"{starts[0]} bytes before the first frame skipped")
        )
    frames: list[BeastFrame] = []
    ends = [*starts[1:], len(data)] if starts else []
    for number, (begin, end) in enumerate(zip(starts, ends, strict=True), 1):
        body = data[begin + 2 : end].replace(b"\x1a\x1a", b"\x1a")
        kind = data[begin + 1] if begin + 1 < len(data) else -1
        problem = _frame_problem(kind, body, end == len(data))
        if problem:
            rejections.append(Rejection(str(path), number, f"byte {begin}: {problem}"))
            continue
        counter = int.from_bytes(body[:6], "big")
        frames.append(BeastFrame(number, kind, counter, body[7:]))
    return frames, rejections


def _frame_problem(kind: int, body: bytes, at_end: bool) -> str | None:
    expected = FRAME_LENGTHS.get(kind)
    if expected is None:
        shown = "none (end of file)" if kind < 0 else f"0x{kind:02x}"
        return f"frame type {shown} is not Mode A/C or Mode S"
    if len(body) < expected:
        cut = "truncated at the end of the file" if at_end else "truncated"
        return f"frame {cut} ({len(body)} of {expected} bytes)"
    if len(body) > expected:
        return f"garbled frame ({len(body)} bytes where {expected} were expected)"
    return None


# --- decoding ---------------------------------------------------------------------------------


def _decode(
    replies: list[BeastFrame], times: list[float], reference: tuple[float, float] | None
) -> list[Any]:
    if not replies:
        return []
    hexes = [frame.reply.hex() for frame in replies]
    decoded: list[Any] = rs1090.decode(hexes, times, reference=reference)
    if reference is not None:
        _decode_locally(decoded, reference)
    return decoded


def _decode_locally(decoded: list[Any], reference: tuple[float, float]) -> None:
    """Positions the batch left unresolved (no even/odd pair yet), decoded around the receiver.

    rs1090's batch decoding pairs even and odd messages; decoding one message alone against the
    receiver position is what it does for a single message given a reference.
    """
    for message in decoded:
        if "lat_cpr" in message and message.get("latitude") is None:
            alone: Any = rs1090.decode(message["frame"], reference=reference)
            if alone.get("latitude") is not None:
                message["latitude"] = alone["latitude"]
                message["longitude"] = alone["longitude"]


def _match_decoded(
    path: Path, replies: list[BeastFrame], times: list[float], decoded: list[Any]
) -> tuple[list[dict[str, Any]], list[int], list[Rejection]]:
    """Pair each decoded message with its frame (by reply and time); rs1090 leaves out the
    frames it cannot decode, and those become rejections."""
    waiting: dict[tuple[str, float], list[int]] = {}
    for index, (frame, moment) in enumerate(zip(replies, times, strict=True)):
        waiting.setdefault((frame.reply.hex(), moment), []).append(index)
    matched: dict[int, dict[str, Any]] = {}
    for message in decoded:
        indices = waiting.get((message.get("frame", ""), message.get("timestamp", -1.0)))
        if indices:
            matched[indices.pop(0)] = message
    rejections = [
        Rejection(
            str(path),
            frame.number,
            f"Mode S reply {frame.reply.hex()} not decodable (parity, format)",
        )
        for index, frame in enumerate(replies)
        if index not in matched
    ]
    order = sorted(matched)
    return [matched[i] for i in order], [replies[i].number for i in order], rejections


def _sniff(path: Path, head: bytes) -> bool:
    if len(head) < 2 or head[0] != ESCAPE or head[1] not in FRAME_LENGTHS:
        return False
    markers = sum(head.count(bytes([ESCAPE, kind])) for kind in FRAME_LENGTHS)
    return markers >= 3 or len(head) < 64


FORMATS = (
    Format(
        FORMAT_NAME,
        "Beast binary Mode S frames (needs FILE.start with the UTC time of the first frame)",
        read_beast,
        _sniff,
        30,
    ),
)

__all__ = [
    "FORMATS",
    "FORMAT_NAME",
    "BeastFrame",
    "decode_replies",
    "frame_starts",
    "read_beast",
    "read_reference",
    "read_start_time",
    "sidecar",
    "split_frames",
]
