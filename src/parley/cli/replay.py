"""``parley replay``: a track file as a live feed, in accelerated time."""

import asyncio
import sys
from pathlib import Path

import typer

from parley.cli.options import FORMAT_OPTION, format_choice
from parley.cli.render import stderr_console
from parley.errors import InputError
from parley.scenarios.replay import (
    Pace,
    ReplayLines,
    ReplayServer,
    parse_tcp_address,
    replay,
    replay_lines,
    replay_to_tcp,
)


async def _print_lines(texts: list[str]) -> None:
    sys.stdout.write("\n".join(texts) + "\n")
    sys.stdout.flush()


async def _serve(source: ReplayLines, address: str, pace: Pace) -> int:
    host, port = parse_tcp_address(address)
    server = ReplayServer(source, host, port)
    try:
        bound = await server.start()
    except OSError as exc:
        raise InputError(f"{address}: cannot listen ({exc.strerror or exc})") from exc
    stderr_console.print(f"serving on tcp://{host}:{bound}; waiting for a client", markup=False)
    return await server.run(pace)


def replay_command(
    path: Path = typer.Argument(..., help="A track file, any supported format."),
    speed: float = typer.Option(20.0, "--speed", help="Times faster than recorded."),
    format_name: str = FORMAT_OPTION,
    to: str | None = typer.Option(
        None, "--to", help="Connect to tcp://HOST:PORT and send the lines there."
    ),
    serve: str | None = typer.Option(
        None, "--serve", help="Listen on tcp://HOST:PORT and send to every client connected."
    ),
    print_lines: bool = typer.Option(False, "--print", help="Print the lines (the default)."),
    max_gap: float | None = typer.Option(
        None, "--max-gap", help="Cut quiet spells to this many recorded seconds."
    ),
    tick: float = typer.Option(1.0, "--tick", help="Recorded seconds sent at a time."),
    as_csv: bool = typer.Option(
        False, "--csv", help="Send canonical CSV even for NMEA and SBS files."
    ),
) -> None:
    """Replay a track file as a feed: NMEA or SBS lines as recorded, other formats as canonical
    CSV; rows keep their recorded times."""
    if sum(x is not None for x in (to, serve)) + print_lines > 1:
        raise InputError("give one of --to, --serve and --print")
    if speed <= 0 or tick <= 0:
        raise InputError("--speed and --tick must be positive")
    source = replay_lines(path, format_choice(format_name), as_csv=as_csv)
    pace = Pace(speed, tick, max_gap)
    try:
        if to is not None:
            sent = asyncio.run(replay_to_tcp(source, to, pace))
        elif serve is not None:
            sent = asyncio.run(_serve(source, serve, pace))
        else:
            sent = asyncio.run(replay(source, _print_lines, pace))
    except KeyboardInterrupt:
        stderr_console.print("replay stopped", markup=False)
        return
    stderr_console.print(f"{sent} {source.format_name} lines replayed", markup=False)


__all__ = ["replay_command"]
