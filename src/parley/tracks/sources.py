"""Live feed sources: sockets, HTTP polls and file replay around the pure parsers of streams.py.

Every source is an async iterator of canonical frames (``async for frame in source.batches()``),
one frame per chunk received (a TCP read, a UDP datagram, an HTTP poll) or per replay tick; empty
chunks give nothing. Rows a parser rejects are kept in ``source.rejections`` (the latest
``max_rejections``) and logged. Connection-oriented sources reconnect with a capped exponential
backoff and never raise on a network error: they log it and try again (``max_connections`` ends
a TCP source after that many connections, for tests and one-shot captures).
"""

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Final, Self

import httpx
import polars as pl

from parley.errors import InputError
from parley.tracks.hygiene import FILE_COLUMN, HygieneSettings, clean
from parley.tracks.load import load_tracks
from parley.tracks.readers.base import RawRead, Rejection
from parley.tracks.schema import CANONICAL_COLUMNS, conform
from parley.tracks.sides import SidesConfig, assign_sides, load_sides
from parley.tracks.streams import PARSERS, Clock, StreamParser, stream_label, utc_now

Sleep = Callable[[float], Awaitable[None]]

_log = logging.getLogger(__name__)
_READ_SIZE: Final = 64 * 1024


@dataclass(frozen=True, slots=True)
class Backoff:
    """Waits between reconnection attempts: ``initial_s``, times ``factor`` each time, capped."""

    initial_s: float = 0.5
    max_s: float = 30.0
    factor: float = 2.0

    def delays(self) -> Iterator[float]:
        delay = self.initial_s
        while True:
            yield delay
            delay = min(self.max_s, delay * self.factor)


def make_parser(format_name: str, label: Path) -> StreamParser:
    try:
        factory = PARSERS[format_name]
    except KeyError:
        known = ", ".join(sorted(PARSERS))
        raise InputError(f"no live parser for format {format_name!r} (known: {known})") from None
    return factory(label)


class _Collecting:
    """What every source shares: the parser, the clock, the rejections kept."""

    def __init__(self, parser: StreamParser, clock: Clock, max_rejections: int) -> None:
        self.parser = parser
        self.clock = clock
        self.rejections: deque[Rejection] = deque(maxlen=max_rejections)
        self.rows = 0

    def _take(self, raw: RawRead) -> pl.DataFrame | None:
        for rejection in raw.rejections:
            _log.info("rejected: %s", rejection)
        self.rejections.extend(raw.rejections)
        self.rows += raw.frame.height
        return raw.frame if raw.frame.height else None


class TcpSource(_Collecting):
    """A TCP client of a feed server (AIS on port 10110, SBS on 30003, Beast on 30005, …)."""

    def __init__(
        self,
        host: str,
        port: int,
        format_name: str,
        *,
        clock: Clock = utc_now,
        backoff: Backoff | None = None,
        max_connections: int | None = None,
        max_rejections: int = 1000,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        label = stream_label("tcp", f"{host}:{port}")
        super().__init__(make_parser(format_name, label), clock, max_rejections)
        self.host, self.port = host, port
        self.backoff = backoff or Backoff()
        self.max_connections = max_connections
        self.connections = 0
        self._sleep = sleep

    async def batches(self) -> AsyncIterator[pl.DataFrame]:
        delays = self.backoff.delays()
        while self.max_connections is None or self.connections < self.max_connections:
            try:
                reader, writer = await asyncio.open_connection(self.host, self.port)
            except OSError as exc:
                delay = next(delays)
                _log.warning("%s:%s: %s; retrying in %.1f s", self.host, self.port, exc, delay)
                await self._sleep(delay)
                continue
            self.connections += 1
            delays = self.backoff.delays()
            try:
                async for frame in self._read(reader):
                    yield frame
            finally:
                writer.close()
                await _closed(writer)
            if self.max_connections is None or self.connections < self.max_connections:
                delay = next(delays)
                _log.warning(
                    "%s:%s: connection closed; reconnecting in %.1f s", self.host, self.port, delay
                )
                await self._sleep(delay)

    async def _read(self, reader: asyncio.StreamReader) -> AsyncIterator[pl.DataFrame]:
        while True:
            try:
                data = await reader.read(_READ_SIZE)
            except OSError as exc:
                _log.warning("%s:%s: %s", self.host, self.port, exc)
                data = b""
            frame = self._take(
                self.parser.feed(data, self.clock()) if data else self.parser.flush(self.clock())
            )
            if frame is not None:
                yield frame
            if not data:
                return


async def _closed(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        await writer.wait_closed()


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, queue: asyncio.Queue[bytes]) -> None:
        self.queue = queue

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.queue.put_nowait(data)


class UdpSource(_Collecting):
    """A UDP listener (AIS receivers and aggregators send NMEA datagrams).

    Use it as an async context manager: the socket is bound on entry (``port`` 0 picks a free
    port, then read :attr:`port`), and closed on exit.
    """

    def __init__(
        self,
        host: str,
        port: int,
        format_name: str = "ais-nmea",
        *,
        clock: Clock = utc_now,
        max_rejections: int = 1000,
    ) -> None:
        label = stream_label("udp", f"{host}:{port}")
        super().__init__(make_parser(format_name, label), clock, max_rejections)
        self.host, self.port = host, port
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._transport: asyncio.DatagramTransport | None = None

    async def __aenter__(self) -> Self:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Datagrams(self._queue), local_addr=(self.host, self.port)
        )
        self._transport = transport
        self.port = int(transport.get_extra_info("sockname")[1])
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    async def batches(self) -> AsyncIterator[pl.DataFrame]:
        if self._transport is None:
            raise RuntimeError("enter the UdpSource (async with) before reading from it")
        while True:
            data = await self._queue.get()
            # a datagram holds whole sentences: its last line must not wait for the next one
            if not data.endswith(b"\n"):
                data += b"\n"
            frame = self._take(self.parser.feed(data, self.clock()))
            if frame is not None:
                yield frame


class HttpPollSource(_Collecting):
    """Polls a readsb/dump1090 ``aircraft.json`` URL every ``interval_s``.

    A failed poll (network error, HTTP error status, invalid document) is logged and retried
    after the backoff delay. Positions already delivered (same aircraft, same time) are not
    delivered again.
    """

    def __init__(
        self,
        url: str,
        *,
        interval_s: float = 1.0,
        clock: Clock = utc_now,
        backoff: Backoff | None = None,
        max_polls: int | None = None,
        max_rejections: int = 1000,
        client: httpx.AsyncClient | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        label = stream_label("http", url.split("://", 1)[-1])
        super().__init__(make_parser("readsb-aircraft", label), clock, max_rejections)
        self.url = url
        self.interval_s = interval_s
        self.backoff = backoff or Backoff()
        self.max_polls = max_polls
        self.polls = 0
        self._client = client
        self._sleep = sleep
        self._last_time: dict[str, datetime] = {}

    async def batches(self) -> AsyncIterator[pl.DataFrame]:
        client = self._client or httpx.AsyncClient(timeout=10.0)
        delays = self.backoff.delays()
        try:
            while self.max_polls is None or self.polls < self.max_polls:
                self.polls += 1
                frame, ok = await self._poll(client)
                if frame is not None:
                    yield frame
                if ok:
                    delays = self.backoff.delays()
                await self._sleep(self.interval_s if ok else next(delays))
        finally:
            if self._client is None:
                await client.aclose()

    async def _poll(self, client: httpx.AsyncClient) -> tuple[pl.DataFrame | None, bool]:
        try:
            response = await client.get(self.url)
            response.raise_for_status()
            raw = self.parser.feed(response.content, self.clock())
        except (httpx.HTTPError, InputError) as exc:
            _log.warning("%s: %s", self.url, exc)
            return None, False
        frame = self._take(raw)
        return (None if frame is None else self._new_only(frame)), True

    def _new_only(self, frame: pl.DataFrame) -> pl.DataFrame | None:
        last = pl.DataFrame(
            {"track": list(self._last_time), "_last": list(self._last_time.values())},
            schema={"track": pl.String, "_last": frame.schema["time"]},
        )
        fresh = (
            frame.join(last, on="track", how="left")
            .filter(pl.col("_last").is_null() | (pl.col("time") > pl.col("_last")))
            .drop("_last")
        )
        latest = fresh.group_by("track").agg(pl.col("time").max())
        self._last_time.update(zip(latest["track"], latest["time"], strict=True))
        return fresh if fresh.height else None


# --- replay -----------------------------------------------------------------------------------


def replay_ticks(
    table: pl.DataFrame, *, tick_s: float = 1.0, max_gap_s: float | None = None
) -> Iterator[tuple[float, pl.DataFrame]]:
    """``table`` (sorted by time) cut in ticks of ``tick_s`` of its own time.

    Yields (seconds of replay time since the previous tick, rows of the tick); a quiet spell
    longer than ``max_gap_s`` counts as ``max_gap_s`` (so days between events need not be waited).
    """
    if tick_s <= 0:
        raise ValueError(f"tick_s must be positive, got {tick_s}")
    if table.is_empty():
        return
    start = table["time"].min()
    assert isinstance(start, datetime)
    tick_us = int(tick_s * 1e6)
    ticks = table.with_columns(
        ((pl.col("time") - pl.lit(start)).dt.total_microseconds() // tick_us).alias("_tick")
    )
    previous: int | None = None
    for (tick,), rows in ticks.group_by("_tick", maintain_order=True):
        assert isinstance(tick, int)
        waited = 0.0 if previous is None else (tick - previous) * tick_s
        if max_gap_s is not None:
            waited = min(waited, max_gap_s)
        previous = tick
        yield waited, rows.drop("_tick")


class FileReplay:
    """A track file (any readable format) replayed as a feed, ``speed`` times faster than real.

    Rows keep their recorded times: a consumer of a replay takes :attr:`feed_time` (the recorded
    time reached) as its clock.
    """

    def __init__(
        self,
        path: Path,
        *,
        speed: float = 1.0,
        format_name: str = "auto",
        tick_s: float = 1.0,
        max_gap_s: float | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if speed <= 0:
            raise InputError(f"replay speed must be positive, got {speed}")
        self.path = path
        self.speed = speed
        self.format_name = format_name
        self.tick_s = tick_s
        self.max_gap_s = max_gap_s
        self.feed_time: datetime | None = None
        self.rejections: list[Rejection] = []
        self._sleep = sleep

    def table(self) -> pl.DataFrame:
        tracks = load_tracks([self.path], format_name=self.format_name)
        self.rejections = list(tracks.hygiene.rejections)
        return tracks.table.sort("time", maintain_order=True)

    async def batches(self) -> AsyncIterator[pl.DataFrame]:
        # reading and cleaning a whole file takes seconds: off the event loop, so the node's
        # other feeds, its API and its event stream keep running meanwhile
        table = await asyncio.to_thread(self.table)
        for waited, rows in replay_ticks(table, tick_s=self.tick_s, max_gap_s=self.max_gap_s):
            if waited > 0:
                await self._sleep(waited / self.speed)
            last = rows["time"].max()
            assert isinstance(last, datetime)
            self.feed_time = last
            yield rows


async def clean_batches(
    batches: AsyncIterator[pl.DataFrame],
    sides: SidesConfig | None = None,
    hygiene: HygieneSettings | None = None,
    label: str = "feed",
) -> AsyncIterator[pl.DataFrame]:
    """Each raw batch through hygiene and sides, as :func:`parley.tracks.load.load_tracks` does
    for files: the canonical columns only (``side`` filled).

    Hygiene sees one batch at a time: a duplicate or an impossible jump *between* batches is
    for the consumer (the live detector keeps per-track state) to judge.
    """
    config = sides if sides is not None else load_sides(None)
    async for frame in batches:
        raw = conform(frame).with_columns(pl.lit(label).alias(FILE_COLUMN))
        table, _ = clean(raw, hygiene)
        if table.height:
            yield assign_sides(table, config).select(CANONICAL_COLUMNS)


async def collect(batches: AsyncIterator[pl.DataFrame], *, until_rows: int) -> pl.DataFrame:
    """Frames from ``batches`` until at least ``until_rows`` rows (a helper for scripts, tests)."""
    frames: list[pl.DataFrame] = []
    count = 0
    async for frame in batches:
        frames.append(frame)
        count += frame.height
        if count >= until_rows:
            break
    return pl.concat(frames) if frames else pl.DataFrame()


__all__ = [
    "Backoff",
    "FileReplay",
    "HttpPollSource",
    "Sleep",
    "TcpSource",
    "UdpSource",
    "clean_batches",
    "collect",
    "make_parser",
    "replay_ticks",
]
