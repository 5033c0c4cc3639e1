"""Incremental parsers for live feeds: bytes in, canonical rows out, no sockets.

Each parser wraps the decoding functions of the archive reader of its format, so a feed and a
recording of it give the same rows. A parser is fed chunks as they arrive, with their receive
time, and returns a :class:`RawRead` for the complete records in them (an incomplete line or frame
waits for the next chunk; :meth:`flush` gives what is left at the end). ``_line`` counts lines (or
Beast frames, or documents) from the start of the stream. Where the feed carries no time of its
own, the receive time is used: plain NMEA lines without tag block or leading timestamp, SBS lines
with empty date and time fields, Beast frames (whose counter is not a time of day).

What a record needs from earlier ones is kept: AIS static reports (names, call signs, types) per
MMSI, and for SBS and Beast a short context of recent messages (``context_s``), re-decoded with
each chunk, so that altitudes, speeds, callsigns and CPR pairs carry over as in the archive
readers.
"""

import dataclasses
import re
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Protocol

import polars as pl

from parley.tracks.readers.ais_common import STATIC_SCHEMA, static_by_mmsi
from parley.tracks.readers.ais_nmea import decode_ais_nmea
from parley.tracks.readers.base import RawRead, Rejection
from parley.tracks.readers.beast import (
    COUNTER_HZ,
    FRAME_LENGTHS,
    MODE_AC,
    BeastFrame,
    decode_replies,
    frame_starts,
    split_frames,
)
from parley.tracks.readers.canonical import decode_canonical_csv
from parley.tracks.readers.readsb import decode_readsb_aircraft
from parley.tracks.readers.sbs import decode_sbs_lines
from parley.tracks.schema import LINE_COLUMN, conform, empty_table

Clock = Callable[[], datetime]

_FRAGMENT: Final = re.compile(r"![A-Z]{2}VD[MO],(\d),(\d),")
_MAX_LINE_BYTES: Final = 64 * 1024
#: SBS fields 7 and 8 (0-based 6 and 7): the "generated" date and time.
_SBS_DATE, _SBS_CLOCK = 6, 7


def utc_now() -> datetime:
    return datetime.now(UTC)


class StreamParser(Protocol):
    """One feed's parser: chunks in, rows out."""

    format_name: str

    def feed(self, data: bytes, received: datetime) -> RawRead: ...

    def flush(self, received: datetime) -> RawRead: ...


def stream_label(kind: str, where: str) -> Path:
    """A stand-in file name for a stream (``tcp:host:port``), used in rejections and ``source``."""
    return Path(f"{kind}:{where}".replace("/", "_"))


def _empty() -> RawRead:
    return RawRead(empty_table(keep_line=True), [])


def _only_from(raw: RawRead, first: int) -> RawRead:
    """The rows and rejections at or after line ``first`` (a re-decoded context is dropped)."""
    return RawRead(
        raw.frame.filter(pl.col(LINE_COLUMN) >= first),
        [r for r in raw.rejections if r.line is None or r.line >= first],
    )


class LineBuffer:
    """Splits a byte stream into numbered text lines; keeps an unfinished last line."""

    def __init__(self) -> None:
        self._pending = b""
        self.next_line = 1

    def lines(self, data: bytes) -> list[str]:
        self._pending += data
        *complete, self._pending = self._pending.split(b"\n")
        if len(self._pending) > _MAX_LINE_BYTES:  # no newline in sight: not a line feed
            complete.append(self._pending)
            self._pending = b""
        return self._decoded(complete)

    def rest(self) -> list[str]:
        rest, self._pending = self._pending, b""
        return self._decoded([rest] if rest.strip() else [])

    def _decoded(self, lines: list[bytes]) -> list[str]:
        self.next_line += len(lines)
        return [line.decode("utf-8", errors="replace").rstrip("\r") for line in lines]


# --- AIS NMEA ---------------------------------------------------------------------------------


class AisNmeaStream:
    """``!AIVDM`` lines, as from an AIS receiver or aggregator on TCP or UDP.

    A line with no time of its own (no tag block ``c:``, no leading timestamp) takes its receive
    time, unless the feed has sent Gatehouse ``$PGHP`` lines, whose times then apply as in files.
    The fragments of a multi-sentence message that has not fully arrived wait for the next chunk.
    """

    format_name = "ais-nmea"

    def __init__(self, label: Path) -> None:
        self.label = label
        self._buffer = LineBuffer()
        self._held: list[str] = []
        self._gatehouse = False
        self._last_gatehouse: str | None = None
        self._static = pl.DataFrame(schema=STATIC_SCHEMA)

    def feed(self, data: bytes, received: datetime) -> RawRead:
        first = self._buffer.next_line - len(self._held)
        lines = self._held + [self._stamped(line, received) for line in self._buffer.lines(data)]
        held = _incomplete_tail(lines)
        self._held = lines[len(lines) - held :] if held else []
        return self._decode(lines[: len(lines) - held], first)

    def flush(self, received: datetime) -> RawRead:
        first = self._buffer.next_line - len(self._held)
        rest = [self._stamped(line, received) for line in self._buffer.rest()]
        lines, self._held = self._held + rest, []
        return self._decode(lines, first)

    def _stamped(self, line: str, received: datetime) -> str:
        text = line.strip()
        if text.startswith("$PGHP"):
            self._gatehouse = True
        if self._gatehouse or not text.startswith(("!", "\\")):
            return line
        return f"{received.timestamp():.3f} {text}"

    def _decode(self, lines: list[str], first: int) -> RawRead:
        if not lines:
            return _empty()
        # the last Gatehouse line still dates the sentences after it: decode it again, first
        context = [] if self._last_gatehouse is None else [self._last_gatehouse]
        decoded = decode_ais_nmea(
            "\n".join(context + lines),
            self.label,
            first_line=first - len(context),
            known_static=self._static,
        )
        gatehouse = [line for line in lines if line.strip().startswith("$PGHP")]
        if gatehouse:
            self._last_gatehouse = gatehouse[-1]
        if decoded.static.height:
            self._static = static_by_mmsi(pl.concat([self._static, decoded.static])).select(
                list(STATIC_SCHEMA)
            )
        return _only_from(decoded.raw, first)


def _incomplete_tail(lines: list[str]) -> int:
    """How many lines at the end are the first fragments of a message still arriving."""
    if not lines:
        return 0
    match = _FRAGMENT.search(lines[-1])
    if match is None:
        return 0
    count, number = int(match.group(1)), int(match.group(2))
    return number if number < count else 0


# --- context-keeping line and frame streams ---------------------------------------------------


class SbsStream:
    """SBS-1 BaseStation lines (TCP port 30003 of dump1090, readsb and their kin).

    The last ``context_s`` seconds of lines (at most ``context_lines``) are decoded again with
    each chunk, so a position takes the altitude, speed and callsign of the messages before it
    exactly as :func:`parley.tracks.readers.sbs.read_sbs` does in a file.
    """

    format_name = "sbs"

    def __init__(self, label: Path, *, context_s: float = 60.0, context_lines: int = 5000) -> None:
        self.label = label
        self.context_s = context_s
        self._buffer = LineBuffer()
        self._context: deque[tuple[datetime, str]] = deque(maxlen=context_lines)

    def feed(self, data: bytes, received: datetime) -> RawRead:
        return self._decode(self._buffer.lines(data), received)

    def flush(self, received: datetime) -> RawRead:
        return self._decode(self._buffer.rest(), received)

    def _decode(self, new: list[str], received: datetime) -> RawRead:
        if not new:
            return _empty()
        first_new = self._buffer.next_line - len(new)
        while self._context and (received - self._context[0][0]).total_seconds() > self.context_s:
            self._context.popleft()
        lines = [text for _, text in self._context] + [_sbs_timed(line, received) for line in new]
        first = first_new - len(self._context)
        result = _only_from(decode_sbs_lines(lines, self.label, first), first_new)
        self._context.extend((received, text) for text in lines[len(self._context) :])
        return result


def _sbs_timed(line: str, received: datetime) -> str:
    fields = line.split(",")
    if len(fields) > _SBS_CLOCK and fields[0] == "MSG" and not fields[_SBS_DATE].strip():
        fields[_SBS_DATE] = received.strftime("%Y/%m/%d")
        fields[_SBS_CLOCK] = received.strftime("%H:%M:%S.%f")[:-3]
    return ",".join(fields)


class BeastStream:
    """Beast binary frames (TCP port 30005). Each frame's time is its receive time, refined by
    the 12 MHz counter within a chunk; ``reference`` (receiver ``(lat, lon)``) allows decoding a
    position from a single message, as the ``FILE.reference`` sidecar does for files."""

    format_name = "beast"

    def __init__(
        self,
        label: Path,
        *,
        reference: tuple[float, float] | None = None,
        context_s: float = 10.0,
    ) -> None:
        self.label = label
        self.reference = reference
        self.context_s = context_s
        self._pending = b""
        self._next_frame = 1
        self._context: deque[tuple[BeastFrame, float]] = deque()

    def feed(self, data: bytes, received: datetime) -> RawRead:
        self._pending += data
        cut = _complete_prefix(self._pending)
        chunk, self._pending = self._pending[:cut], self._pending[cut:]
        return self._decode(chunk, received)

    def flush(self, received: datetime) -> RawRead:
        chunk, self._pending = self._pending, b""
        return self._decode(chunk, received)

    def _decode(self, chunk: bytes, received: datetime) -> RawRead:
        if not chunk:
            return _empty()
        frames, rejections = split_frames(self.label, chunk)
        offset = self._next_frame - 1
        self._next_frame += len(frame_starts(chunk))
        frames = [dataclasses.replace(f, number=f.number + offset) for f in frames]
        rejections = [_shifted(r, offset) for r in rejections]
        replies = [frame for frame in frames if frame.kind != MODE_AC]
        now = received.timestamp()
        while self._context and now - self._context[0][1] > self.context_s:
            self._context.popleft()
        timed = list(self._context) + list(zip(replies, _frame_times(replies, now), strict=True))
        if not replies:
            return RawRead(empty_table(keep_line=True), rejections)
        result = decode_replies(
            self.label, [f for f, _ in timed], [t for _, t in timed], self.reference
        )
        self._context.extend(timed[len(self._context) :])
        fresh = _only_from(result, replies[0].number)
        return RawRead(fresh.frame, rejections + fresh.rejections)


def _shifted(rejection: Rejection, offset: int) -> Rejection:
    if rejection.line is None:
        return rejection
    return dataclasses.replace(rejection, line=rejection.line + offset)


def _frame_times(replies: list[BeastFrame], received_s: float) -> list[float]:
    """Receive time of the chunk, less each frame's counter distance to the chunk's last frame."""
    if not replies:
        return []
    last = replies[-1].counter
    times = []
    for frame in replies:
        behind = (last - frame.counter) / COUNTER_HZ
        times.append(received_s - behind if 0 <= behind < 60 else received_s)
    return times


def _complete_prefix(data: bytes) -> int:
    """Length of the part of ``data`` made of whole frames (the last frame may be unfinished)."""
    starts = frame_starts(data)
    if starts.size == 0:
        return 0
    last = int(starts[-1])
    expected = FRAME_LENGTHS.get(data[last + 1]) if last + 1 < len(data) else None
    body = data[last + 2 :].replace(b"\x1a\x1a", b"\x1a")
    if expected is not None and len(body) == expected and not data.endswith(b"\x1a"):
        return len(data)
    return last


# --- whole documents and canonical CSV --------------------------------------------------------


class ReadsbAircraftStream:
    """readsb/dump1090 ``aircraft.json`` documents, one per :meth:`feed` (an HTTP poll)."""

    format_name = "readsb-aircraft"

    def __init__(self, label: Path) -> None:
        self.label = label
        self.documents = 0

    def feed(self, data: bytes, received: datetime) -> RawRead:
        self.documents += 1
        return decode_readsb_aircraft(data, self.label)

    def flush(self, received: datetime) -> RawRead:
        return _empty()


class CanonicalCsvStream:
    """Canonical CSV lines, the header line first (what ``parley replay`` sends by default)."""

    format_name = "csv"

    def __init__(self, label: Path) -> None:
        self.label = label
        self._buffer = LineBuffer()
        self._header: str | None = None

    def feed(self, data: bytes, received: datetime) -> RawRead:
        return self._decode(self._buffer.lines(data))

    def flush(self, received: datetime) -> RawRead:
        return self._decode(self._buffer.rest())

    def _decode(self, lines: list[str]) -> RawRead:
        first = self._buffer.next_line - len(lines)
        if self._header is None and lines:
            self._header, lines, first = lines[0], lines[1:], first + 1
        rows = [line for line in lines if line.strip()]
        if self._header is None or not rows:
            return _empty()
        document = "\n".join([self._header, *lines]).encode("utf-8")
        raw = decode_canonical_csv(document, self.label)
        # the decoder numbers the rows from 2 (after its header)
        shift = first - 2
        frame = raw.frame.with_columns(pl.col(LINE_COLUMN) + shift)
        return RawRead(conform(frame), [_shifted(r, shift) for r in raw.rejections])


PARSERS: Final[dict[str, Callable[[Path], StreamParser]]] = {
    AisNmeaStream.format_name: AisNmeaStream,
    SbsStream.format_name: SbsStream,
    BeastStream.format_name: BeastStream,
    ReadsbAircraftStream.format_name: ReadsbAircraftStream,
    CanonicalCsvStream.format_name: CanonicalCsvStream,
}


def parse_chunks(parser: StreamParser, chunks: Iterable[bytes], clock: Clock = utc_now) -> RawRead:
    """Every chunk through ``parser`` (and a final flush): the rows and rejections of them all."""
    reads = [parser.feed(chunk, clock()) for chunk in chunks]
    reads.append(parser.flush(clock()))
    frames = [r.frame for r in reads if r.frame.height]
    frame = pl.concat(frames) if frames else empty_table(keep_line=True)
    return RawRead(frame, [rejection for r in reads for rejection in r.rejections])


__all__ = [
    "PARSERS",
    "AisNmeaStream",
    "BeastStream",
    "CanonicalCsvStream",
    "Clock",
    "LineBuffer",
    "ReadsbAircraftStream",
    "SbsStream",
    "StreamParser",
    "parse_chunks",
    "stream_label",
    "utc_now",
]
