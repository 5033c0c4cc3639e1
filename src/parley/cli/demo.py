"""``parley demo``: the whole arrangement at work, on two desks, with the April 2016 scenario.

Two nodes (a NATO desk and a Russia desk) are created, paired and served on loopback; the
``baltic-2016`` scenario is replayed into both pictures in accelerated time (quiet periods
skipped); each desk's live detector warns and detects; the NATO desk notifies the incidents its
picture opens, the Russia desk acknowledges and answers with its own account, as in a drill.
"""

from pathlib import Path

import typer

from parley.errors import InputError


def demo(
    speed: float = typer.Option(60.0, "--speed", help="Data seconds replayed per wall second."),
    max_gap: float = typer.Option(
        10.0, "--max-gap", help="Quiet periods longer than this (data s) are skipped."
    ),
    until_end: bool = typer.Option(
        False, "--until-end", help="Stop by itself once the replay and the exchanges are done."
    ),
    directory: Path | None = typer.Option(
        None, "--dir", help="Keep the two nodes in this new directory (default: a temporary one)."
    ),
    tick: float = typer.Option(0.25, "--tick", help="Wall seconds between batches."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only the summary."),
) -> None:
    """Run the arrangement on two desks with the April 2016 scenario (Ctrl-C stops cleanly)."""
    if speed <= 0 or max_gap <= 0 or tick <= 0:
        raise InputError("--speed, --max-gap and --tick must be positive")
    if directory is not None and directory.exists() and any(directory.iterdir()):
        raise InputError(f"--dir {directory}: not empty (give a new or empty directory)")
    # imported here: the web stack is loaded only when the demo runs
    from parley.cli.demo_run import run_demo

    if not run_demo(directory, speed, max_gap, tick, until_end, quiet):
        raise typer.Exit(1)


__all__ = ["demo"]
