"""``parley replay``: a file as a feed, in accelerated time, into a live source."""

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import polars as pl
import pytest

from parley.cli.main import run
from parley.errors import InputError
from parley.scenarios.replay import (
    Pace,
    ReplayServer,
    parse_tcp_address,
    replay,
    replay_lines,
    replay_to_tcp,
)
from parley.tracks.readers.sbs import read_sbs
from parley.tracks.sources import Backoff, TcpSource

LOCAL = "127.0.0.1"


def test_sbs_replays_its_own_lines_in_time_order(test_data: Path) -> None:
    source = replay_lines(test_data / "sbs_sample.txt")
    assert source.format_name == "sbs"
    assert source.header is None
    texts = source.lines["text"].to_list()
    assert texts[0].startswith("MSG,1,1,1,4CA679,")
    assert source.lines["time"].is_sorted()
    # every non-blank line goes out, broken ones included (the receiver judges them)
    lines = (test_data / "sbs_sample.txt").read_text().splitlines()
    assert len(texts) == len([line for line in lines if line.strip()])


def test_replay_paces_ticks_by_speed(test_data: Path) -> None:
    source = replay_lines(test_data / "sbs_sample.txt")
    sent: list[list[str]] = []
    waits: list[float] = []

    async def emit(texts: list[str]) -> None:
        sent.append(texts)

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    count = asyncio.run(replay(source, emit, Pace(speed=20.0, tick_s=10.0), sleep))
    assert count == source.lines.height == sum(len(t) for t in sent)
    span = source.lines["time"].max() - source.lines["time"].min()  # type: ignore[operator]
    assert sum(waits) == pytest.approx(span.total_seconds() / 20.0, abs=10.0 / 20.0)
    assert max(waits) == pytest.approx(0.5)


def test_canonical_replay_into_a_tcp_source_gives_the_same_rows(test_data: Path) -> None:
    source = replay_lines(test_data / "sbs_sample.txt", "sbs")
    csv = replay_lines(test_data / "sbs_sample.txt", as_csv=True)
    assert csv.header is not None
    assert csv.header.startswith("time,track,side,domain,lat,lon")

    async def main() -> pl.DataFrame:
        received: list[bytes] = []
        done = asyncio.Event()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            received.append(await reader.read())
            writer.close()
            done.set()

        server = await asyncio.start_server(handle, LOCAL, 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            await replay_to_tcp(csv, f"tcp://{LOCAL}:{port}", Pace(speed=1e6, max_gap_s=0.0))
            await done.wait()
        # what was sent reads back through the canonical stream parser
        feed = await asyncio.start_server(_send(received[0]), LOCAL, 0)
        async with feed:
            client = TcpSource(LOCAL, feed.sockets[0].getsockname()[1], "csv", max_connections=1)
            frames = [frame async for frame in client.batches()]
        return pl.concat(frames)

    rows = asyncio.run(asyncio.wait_for(main(), 60))
    archive = read_sbs(test_data / "sbs_sample.txt").frame
    assert source.lines.height > rows.height == archive.height == 300
    assert sorted(rows["track"].unique()) == sorted(archive["track"].unique())
    assert rows["time"].sort().to_list() == archive["time"].sort().to_list()


def _send(data: bytes) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(data)
        await writer.drain()
        writer.close()

    return handle


def test_replay_server_feeds_a_connected_source(test_data: Path) -> None:
    source = replay_lines(test_data / "sbs_sample.txt")

    async def main() -> tuple[pl.DataFrame, int]:
        server = ReplayServer(source, LOCAL, 0)
        port = await server.start()
        client = TcpSource(LOCAL, port, "sbs", backoff=Backoff(0.01), max_connections=1)
        running = asyncio.create_task(server.run(Pace(speed=1e6, max_gap_s=0.0)))
        frames = [frame async for frame in client.batches()]
        return pl.concat(frames), await running

    rows, sent = asyncio.run(asyncio.wait_for(main(), 60))
    assert sent == source.lines.height
    assert rows.height == 300


def test_bad_addresses_and_speeds_are_one_line(
    capsys: pytest.CaptureFixture[str], test_data: Path
) -> None:
    with pytest.raises(InputError, match="expected tcp://HOST:PORT"):
        parse_tcp_address("udp://x:1")
    assert parse_tcp_address("tcp://127.0.0.1:30003") == ("127.0.0.1", 30003)
    assert run(["replay", str(test_data / "sbs_sample.txt"), "--speed", "0"]) == 1
    assert "--speed and --tick must be positive" in capsys.readouterr().err


def test_cli_prints_the_lines(capsys: pytest.CaptureFixture[str], test_data: Path) -> None:
    path = test_data / "sbs_sample.txt"
    assert run(["replay", str(path), "--speed", "1e6", "--max-gap", "0", "--print"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0].startswith("MSG,1,1,1,4CA679,")
    assert len(captured.out.splitlines()) == replay_lines(path).lines.height
    assert "sbs lines replayed" in captured.err
