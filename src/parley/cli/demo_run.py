"""The run behind ``parley demo``: the arrangement at work on two desks, April 2016 replayed.

Two nodes (a NATO desk and a Russia desk) are created, paired and served on loopback; the
``baltic-2016`` scenario is replayed into both pictures in accelerated time (quiet periods
skipped); each desk's live detector warns and detects; the NATO desk notifies the incidents its
picture opens, the Russia desk acknowledges and answers with its own account, as in a drill.
"""

import logging
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import numpy as np
import polars as pl
from rich.console import Console

from parley.cli import demo_desks
from parley.cli.demo_desks import TECHNICIAN, DemoError, Desk, EventListener
from parley.cli.demo_drill import Drill
from parley.cli.demo_summary import DemoOutcome, outcome_of, render_outcome, wait_for_exchange
from parley.cli.render import stderr_console, stdout_console
from parley.scenarios import build_scenario, expected_encounters

_log = logging.getLogger(__name__)
SCENARIO = "baltic-2016"
PARTIES = ("nato", "russia")
DATA_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%.6fZ"


@contextmanager
def _workdir(directory: Path | None) -> Iterator[Path]:
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
        yield directory
        return
    made = Path(tempfile.mkdtemp(prefix="parley-demo-"))
    try:
        yield made
    finally:
        shutil.rmtree(made, ignore_errors=True)


def _run(
    workdir: Path,
    speed: float,
    max_gap: float,
    tick: float,
    until_end: bool,
    quiet: bool,
    console: Console,
) -> DemoOutcome:
    def say(party: str, line: str) -> None:
        if not quiet:
            console.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] [cyan]{party:>6}[/cyan] {line}")

    if not logging.getLogger().isEnabledFor(logging.INFO):
        # both desks start at once: each retries until the other answers, which is expected here
        logging.getLogger("parley.hotline.replication").setLevel(logging.ERROR)
    table = build_scenario(SCENARIO).sort("time")
    expected = expected_encounters(SCENARIO)
    nato, russia = demo_desks.create_desks(workdir, PARTIES)
    drill = Drill(nato, russia, say)
    with ExitStack() as running:
        for desk in (nato, russia):
            running.callback(demo_desks.stop, desk)
            demo_desks.start(desk)
            listener = EventListener(desk, drill.on_event)
            running.callback(listener.stop)
            listener.start()
        _introduce(nato, russia, workdir, table, speed, console)
        # a Ctrl-C during the replay makes an incomplete run; after it, the run stands
        replayed_s, settled = -1.0, False
        try:
            replayed_s = _replay(table, (nato, russia), speed, max_gap, tick)
            settled = wait_for_exchange(drill, nato, russia, timeout_s=60.0)
            if not until_end:
                say("demo", "replay done; the desks stay up until Ctrl-C")
                while True:
                    time.sleep(1.0)
        except KeyboardInterrupt:
            stderr_console.print("parley demo: stopped (Ctrl-C); stopping both desks")
        return outcome_of(drill, nato, russia, expected, replayed_s, settled)


def _introduce(
    nato: Desk, russia: Desk, workdir: Path, table: pl.DataFrame, speed: float, console: Console
) -> None:
    console.print(
        f"[bold]parley demo[/bold]: scenario {SCENARIO} ({table.height:,} positions, "
        f"{table['track'].n_unique()} tracks), replayed at {speed:g}x into two desks"
    )
    for desk in (nato, russia):
        console.print(
            f"  {desk.party:>6} desk: {desk.url}/desk  (API {desk.url}/docs; sign in as "
            f"{demo_desks.OFFICER} / {desk.passwords[demo_desks.OFFICER]})"
        )
    console.print(f"  nodes in {workdir}")


def _interrupt(_signal: int, _frame: object) -> None:
    raise KeyboardInterrupt


def batch_bounds(times_us: np.ndarray, step_us: int, max_gap_us: int) -> Iterator[tuple[int, int]]:
    """Row ranges [i, j) of consecutive batches of ``step_us`` data time; gaps over
    ``max_gap_us`` without a report are skipped (the next batch starts at the next report)."""
    count = len(times_us)
    start_row = 0
    cursor = int(times_us[0]) if count else 0
    while start_row < count:
        end_row = int(np.searchsorted(times_us, cursor + step_us, side="left"))
        yield start_row, end_row
        start_row = end_row
        cursor += step_us
        if start_row < count and int(times_us[start_row]) - cursor > max_gap_us:
            cursor = int(times_us[start_row])


def _replay(
    table: pl.DataFrame, desks: tuple[Desk, ...], speed: float, max_gap: float, tick: float
) -> float:
    """Push the table into every desk's picture, ``tick`` wall seconds a batch; data seconds."""
    times_us = table["time"].dt.epoch("us").to_numpy()
    step_us = int(speed * tick * 1e6)
    replayed_us = 0
    started = time.monotonic()
    for number, (i, j) in enumerate(batch_bounds(times_us, step_us, int(max_gap * 1e6))):
        batch = table.slice(i, j - i)
        last = j >= len(times_us)
        if batch.height or last:
            body = _csv(batch)
            for desk in desks:
                desk.call(
                    "POST",
                    "/api/v1/picture/positions",
                    user=TECHNICIAN,
                    params={"end_of_data": "true"} if last else None,
                    content=body,
                    headers={"Content-Type": "text/csv"},
                )
        replayed_us += step_us
        lag = started + (number + 1) * tick - time.monotonic()
        if lag > 0:
            time.sleep(lag)
    return replayed_us / 1e6


def _csv(batch: pl.DataFrame) -> bytes:
    text = batch.with_columns(pl.col("time").dt.strftime(DATA_TIME_FORMAT)).write_csv()
    return text.encode("utf-8")


def run_demo(
    directory: Path | None,
    speed: float,
    max_gap: float,
    tick: float,
    until_end: bool,
    quiet: bool,
) -> bool:
    """Run the demo; whether everything happened as the record says."""
    if threading.current_thread() is threading.main_thread():
        # a service manager's stop (SIGTERM) ends the demo as cleanly as Ctrl-C does
        signal.signal(signal.SIGTERM, _interrupt)
    console = stdout_console
    with _workdir(directory) as workdir:
        outcome = _run(workdir, speed, max_gap, tick, until_end, quiet, console)
    render_outcome(outcome, console)
    return outcome.ok


__all__ = ["DemoError", "batch_bounds", "run_demo"]
