"""The replayer: any readable track file as a live feed, in accelerated time.

A file is turned into timed text lines: NMEA and SBS files replay their own lines (each at the
time of the position it gave; lines without one, such as static reports or first fragments, with
the line before), every other format replays the canonical CSV of its clean table (a header line,
then one line per position). The lines go out tick by tick, ``speed`` times faster than recorded;
a quiet spell longer than ``max_gap_s`` of recorded time is cut to it (the days between the
April 2016 events need not be waited for). Lines keep their recorded times.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

import polars as pl

from parley.errors import InputError
from parley.tracks.load import load_tracks
from parley.tracks.readers import AUTO, read_raw
from parley.tracks.readers.fileio import open_text
from parley.tracks.schema import CANONICAL_COLUMNS, LINE_COLUMN
from parley.tracks.sources import Sleep, replay_ticks

#: Formats replayed as their own text lines; every other one as canonical CSV.
LINE_FORMATS: Final = ("ais-nmea", "sbs")
CSV_TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%S%.6fZ"

Emit = Callable[[list[str]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Pace:
    """How fast: ``speed`` times real time, in ticks of ``tick_s`` recorded seconds, quiet spells
    cut to ``max_gap_s`` recorded seconds (None: waited in full)."""

    speed: float = 20.0
    tick_s: float = 1.0
    max_gap_s: float | None = None


@dataclass(frozen=True, slots=True)
class ReplayLines:
    """What a replay sends: ``header`` (CSV only) once, then ``lines`` (``time``, ``text``)."""

    format_name: str
    header: str | None
    lines: pl.DataFrame


def replay_lines(path: Path, format_name: str = AUTO, *, as_csv: bool = False) -> ReplayLines:
    """The timed lines of ``path``: its own (NMEA, SBS) unless ``as_csv``, else canonical CSV."""
    fmt, raw = read_raw(path, format_name)
    if fmt.name in LINE_FORMATS and not as_csv:
        return ReplayLines(fmt.name, None, _own_lines(path, raw.frame))
    return _csv_lines(path, fmt.name if format_name == AUTO else format_name)


def _own_lines(path: Path, rows: pl.DataFrame) -> pl.DataFrame:
    with open_text(path) as handle:
        texts = handle.read().splitlines()
    numbered = pl.DataFrame(
        {LINE_COLUMN: pl.int_range(1, len(texts) + 1, eager=True), "text": texts},
        schema={LINE_COLUMN: pl.Int64, "text": pl.String},
    )
    first_time = rows.group_by(LINE_COLUMN).agg(pl.col("time").min())
    timed = (
        numbered.join(first_time, on=LINE_COLUMN, how="left")
        .sort(LINE_COLUMN)
        .with_columns(pl.col("time").forward_fill().backward_fill())
        .filter(pl.col("text").str.strip_chars() != "")
    )
    if timed["time"].is_null().all():
        raise InputError(f"{path}: no timed position to replay")
    return timed.select("time", "text").sort("time", maintain_order=True)


def _csv_lines(path: Path, format_name: str) -> ReplayLines:
    table = load_tracks([path], format_name=format_name).table.select(CANONICAL_COLUMNS)
    text = table.with_columns(pl.col("time").dt.strftime(CSV_TIME_FORMAT)).write_csv()
    header, *lines = text.splitlines()
    frame = pl.DataFrame({"time": table["time"], "text": pl.Series(lines, dtype=pl.String)})
    return ReplayLines("csv", header, frame.sort("time", maintain_order=True))


async def replay(
    source: ReplayLines, emit: Emit, pace: Pace | None = None, sleep: Sleep = asyncio.sleep
) -> int:
    """Send ``source`` through ``emit`` in accelerated time; the number of lines sent."""
    pace = pace or Pace()
    if pace.speed <= 0:
        raise InputError(f"replay speed must be positive, got {pace.speed}")
    if source.header is not None:
        await emit([source.header])
    sent = 0
    for waited, rows in replay_ticks(source.lines, tick_s=pace.tick_s, max_gap_s=pace.max_gap_s):
        if waited > 0:
            await sleep(waited / pace.speed)
        texts = rows["text"].to_list()
        await emit(texts)
        sent += len(texts)
    return sent


def parse_tcp_address(address: str) -> tuple[str, int]:
    """``tcp://HOST:PORT`` (or ``HOST:PORT``) as (host, port)."""
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme != "tcp" or not parts.hostname or parts.port is None:
        raise InputError(f"{address!r}: expected tcp://HOST:PORT")
    return parts.hostname, parts.port


async def replay_to_tcp(source: ReplayLines, address: str, pace: Pace | None = None) -> int:
    """Connect to ``tcp://HOST:PORT`` and send the replay there (as a feed client would read)."""
    host, port = parse_tcp_address(address)
    try:
        _, writer = await asyncio.open_connection(host, port)
    except OSError as exc:
        raise InputError(f"{address}: cannot connect ({exc.strerror or exc})") from exc

    async def emit(texts: list[str]) -> None:
        writer.write(("\n".join(texts) + "\n").encode("utf-8"))
        await writer.drain()

    try:
        return await replay(source, emit, pace)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


class ReplayServer:
    """Serves a replay on ``tcp://HOST:PORT`` to every client connected (like port 30003 does).

    The replay starts when the first client connects; a client connecting later gets the header
    (CSV) and the lines from then on.
    """

    def __init__(self, source: ReplayLines, host: str, port: int) -> None:
        self.source = source
        self.host, self.port = host, port
        self._clients: set[asyncio.StreamWriter] = set()
        self._connected = asyncio.Event()
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.source.header is not None:
            writer.write((self.source.header + "\n").encode("utf-8"))
        self._clients.add(writer)
        self._connected.set()

    async def _emit(self, texts: list[str]) -> None:
        if texts == [self.source.header]:
            return  # sent to each client as it connects
        data = ("\n".join(texts) + "\n").encode("utf-8")
        for writer in list(self._clients):
            if writer.is_closing():
                self._clients.discard(writer)
                continue
            writer.write(data)
            with contextlib.suppress(ConnectionError):
                await writer.drain()

    async def run(self, pace: Pace | None = None) -> int:
        await self._connected.wait()
        try:
            return await replay(self.source, self._emit, pace)
        finally:
            await self.close()

    async def close(self) -> None:
        for writer in list(self._clients):
            writer.close()
        self._clients.clear()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None


__all__ = [
    "LINE_FORMATS",
    "Emit",
    "Pace",
    "ReplayLines",
    "ReplayServer",
    "parse_tcp_address",
    "replay",
    "replay_lines",
    "replay_to_tcp",
]
