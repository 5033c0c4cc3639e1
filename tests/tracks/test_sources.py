"""Live sources on real sockets (127.0.0.1, free ports) fed with the recorded samples."""

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from parley.errors import InputError
from parley.tracks.readers.ais_nmea import read_ais_nmea
from parley.tracks.readers.beast import read_beast
from parley.tracks.readers.sbs import read_sbs
from parley.tracks.schema import CANONICAL_COLUMNS
from parley.tracks.sources import (
    Backoff,
    FileReplay,
    HttpPollSource,
    TcpSource,
    UdpSource,
    clean_batches,
    make_parser,
    replay_ticks,
)

LOCAL = "127.0.0.1"
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _all(batches: AsyncIterator[pl.DataFrame]) -> pl.DataFrame:
    frames = [frame async for frame in batches]
    return pl.concat(frames) if frames else pl.DataFrame()


async def _serving(handler: Handler) -> tuple[asyncio.Server, int]:
    server = await asyncio.start_server(handler, LOCAL, 0)
    return server, int(server.sockets[0].getsockname()[1])


def _sender(*parts: bytes) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for part in parts:
            writer.write(part)
            await writer.drain()
            await asyncio.sleep(0.01)
        writer.close()

    return handle


def _tcp_rows(format_name: str, *parts: bytes, connections: int = 1) -> tuple[pl.DataFrame, int]:
    async def main() -> tuple[pl.DataFrame, int]:
        server, port = await _serving(_sender(*parts))
        async with server:
            source = TcpSource(
                LOCAL,
                port,
                format_name,
                backoff=Backoff(initial_s=0.01),
                max_connections=connections,
            )
            rows = await asyncio.wait_for(_all(source.batches()), 30)
            return rows, source.connections

    return asyncio.run(main())


def test_ais_nmea_over_tcp_gives_the_file_rows(test_data: Path) -> None:
    path = test_data / "aisdb_tagblocks_head.nm4"
    data = path.read_bytes()
    rows, _ = _tcp_rows("ais-nmea", data[:10_000], data[10_000:])
    archive = read_ais_nmea(path).frame
    assert rows.height == archive.height == 302
    # static reports sent after a position cannot name it on a live feed: compare the positions
    compared = ["time", "track", "lat", "lon", "speed_mps", "course_deg", "_line"]
    assert_frame_equal(rows.select(compared), archive.select(compared))
    assert rows["source"][0] == f"ais-nmea:tcp:{LOCAL}:{rows['source'][0].rsplit(':', 1)[1]}"


def test_sbs_over_tcp_survives_a_reconnection(test_data: Path) -> None:
    path = test_data / "sbs_sample.txt"
    lines = path.read_bytes().splitlines(keepends=True)
    first, second = b"".join(lines[:200]), b"".join(lines[200:])
    connections: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        writer.write(first if len(connections) == 1 else second)
        await writer.drain()
        writer.close()

    async def main() -> tuple[pl.DataFrame, TcpSource]:
        server, port = await _serving(handle)
        async with server:
            source = TcpSource(
                LOCAL, port, "sbs", backoff=Backoff(initial_s=0.01), max_connections=2
            )
            return await asyncio.wait_for(_all(source.batches()), 30), source

    rows, source = asyncio.run(main())
    archive = read_sbs(path).frame
    assert source.connections == 2
    assert rows.height == archive.height == 300
    assert rows["track"].to_list() == archive["track"].to_list()
    assert rows["alt_m"].to_list() == archive["alt_m"].to_list()
    assert len(source.rejections) == 6


def test_beast_over_tcp_decodes_the_positions(test_data: Path) -> None:
    path = test_data / "sample_dump1090.bin"
    data = path.read_bytes()
    rows, _ = _tcp_rows("beast", data)
    archive = read_beast(path).frame
    assert (
        rows.select("track", "lat", "lon", "alt_m").rows()
        == archive.select("track", "lat", "lon", "alt_m").rows()
    )
    assert rows["time"].min() > datetime(2024, 1, 1, tzinfo=UTC)  # receive times, not 2020


def test_tcp_reconnects_with_capped_backoff() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind((LOCAL, 0))
        port = probe.getsockname()[1]
    waits: list[float] = []

    class EnoughError(Exception):
        pass

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 6:
            raise EnoughError

    source = TcpSource(LOCAL, port, "sbs", backoff=Backoff(0.5, 4.0, 2.0), sleep=sleep)

    async def main() -> None:
        async for _ in source.batches():
            pass

    with pytest.raises(EnoughError):
        asyncio.run(main())
    assert waits == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert source.connections == 0


def test_udp_datagrams_of_nmea(test_data: Path) -> None:
    lines = (test_data / "aisdb_tagblocks_head.nm4").read_bytes().splitlines(keepends=True)
    datagrams = [b"".join(lines[i : i + 20]) for i in range(0, len(lines), 20)]
    expected = read_ais_nmea(test_data / "aisdb_tagblocks_head.nm4").frame

    async def main() -> pl.DataFrame:
        async with UdpSource(LOCAL, 0) as source:
            loop = asyncio.get_running_loop()
            transport, _ = await loop.create_datagram_endpoint(
                asyncio.DatagramProtocol, remote_addr=(LOCAL, source.port)
            )
            for datagram in datagrams:
                transport.sendto(datagram)
            transport.close()
            frames = []
            count = 0
            async for frame in source.batches():
                frames.append(frame)
                count += frame.height
                if count >= expected.height:
                    break
            return pl.concat(frames)

    rows = asyncio.run(asyncio.wait_for(main(), 30))
    # fragments of a message cut between two datagrams wait for the second one
    compared = ["time", "track", "lat", "lon", "_line"]
    assert_frame_equal(rows.select(compared), expected.select(compared))


def _http_server(bodies: list[tuple[int, bytes]]) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        status, body = bodies.pop(0) if len(bodies) > 1 else bodies[0]
        head = f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        writer.write(head.encode() + body)
        await writer.drain()
        writer.close()

    return handle


def test_http_poller_delivers_each_position_once(test_data: Path) -> None:
    document = (test_data / "readsb_aircraft.json").read_bytes()
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async def main() -> tuple[pl.DataFrame, HttpPollSource]:
        handler = _http_server([(500, b"oops"), (200, document), (200, document)])
        server, port = await _serving(handler)
        async with server:
            source = HttpPollSource(
                f"http://{LOCAL}:{port}/data/aircraft.json",
                interval_s=1.0,
                backoff=Backoff(initial_s=0.25),
                max_polls=3,
                sleep=sleep,
            )
            return await asyncio.wait_for(_all(source.batches()), 30), source

    rows, source = asyncio.run(main())
    assert source.polls == 3
    assert waits == [0.25, 1.0, 1.0]  # the failed poll backs off, the good ones keep the interval
    assert rows.height == 6  # the second, identical document adds nothing
    assert rows["track"].n_unique() == 6


def test_file_replay_waits_recorded_time_over_speed(test_data: Path) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    replay = FileReplay(test_data / "sbs_sample.txt", speed=10.0, tick_s=5.0, sleep=sleep)
    rows = asyncio.run(_all(replay.batches()))
    archive = read_sbs(test_data / "sbs_sample.txt").frame
    assert rows.height == 300
    span = (archive["time"].max() - archive["time"].min()).total_seconds()  # type: ignore[operator]
    assert sum(waits) == pytest.approx(span / 10.0, abs=0.5 + 5.0 / 10)
    assert replay.feed_time == archive["time"].max()


class _SlowReplay(FileReplay):
    """A replay whose file takes 0.3 s to read (a big archive, in miniature)."""

    def table(self) -> pl.DataFrame:
        import time

        time.sleep(0.3)
        return super().table()


def test_replay_reads_its_file_off_the_event_loop(test_data: Path) -> None:
    async def run() -> tuple[int, int]:
        ticks = 0

        async def heartbeat() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.02)
                ticks += 1

        beating = asyncio.create_task(heartbeat())
        replay = _SlowReplay(test_data / "sbs_sample.txt", speed=1e6)
        first = await anext(aiter(replay.batches()))
        beating.cancel()
        return ticks, first.height

    ticks, height = asyncio.run(run())
    assert height > 0
    assert ticks >= 5  # the loop kept running while the file was read


def test_replay_ticks_cut_long_gaps() -> None:
    times = [datetime(2016, 4, 11, 13, 0, s, tzinfo=UTC) for s in (0, 1, 2)]
    times.append(datetime(2016, 4, 12, 15, 0, tzinfo=UTC))
    table = pl.DataFrame({"time": times, "n": [1, 2, 3, 4]})
    ticks = list(replay_ticks(table, tick_s=1.0, max_gap_s=30.0))
    assert [waited for waited, _ in ticks] == [0.0, 1.0, 1.0, 30.0]
    assert [rows["n"].to_list() for _, rows in ticks] == [[1], [2], [3], [4]]


def test_unknown_live_format_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no live parser for format 'klingon'"):
        make_parser("klingon", Path("x"))


def test_clean_batches_apply_hygiene_and_sides() -> None:
    times = [datetime(2024, 5, 1, 12, 0, s, tzinfo=UTC) for s in (0, 1)]
    raw = pl.DataFrame(
        {
            "time": times,
            "track": ["icao:ae1234", "icao:4ca7b5"],  # a US military address, an Irish airliner
            "domain": ["air", "air"],
            "lat": [55.0, 95.0],
            "lon": [18.0, 18.0],
            "_line": [1, 2],
        }
    )

    async def batches() -> AsyncIterator[pl.DataFrame]:
        yield raw

    async def main() -> pl.DataFrame:
        return await _all(clean_batches(batches(), label="tcp:test"))

    table = asyncio.run(main())
    assert table.columns == list(CANONICAL_COLUMNS)
    assert table["track"].to_list() == ["icao:ae1234"]  # latitude 95 is rejected
    assert table["side"].to_list() == ["nato"]
