"""``parley hotline escalate`` and ``parley roster check``: escalation steps and the duty roster."""

from datetime import UTC, datetime
from pathlib import Path

import typer

from parley.cli.render import print_json, stdout_console
from parley.errors import InputError
from parley.hotline.escalation import run_due
from parley.hotline.node import load_node
from parley.hotline.roster import ROSTER_FILE, check, read_roster

roster_app = typer.Typer(help="The duty roster of a node (roster.toml).", no_args_is_help=True)

DIR_ARGUMENT: Path = typer.Argument(..., help="The node directory.")
JSON_OPTION: bool = typer.Option(False, "--json", help="Print as JSON.")


def escalate(
    directory: Path = DIR_ARGUMENT,
    now: str | None = typer.Option(
        None, "--now", help="Run as of this UTC time (ISO 8601; default: the clock)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Fire every escalation step that is due, once, and print what fired."""
    moment = _parse_time("--now", now) if now else datetime.now(UTC)
    with load_node(directory) as node:
        notifications = run_due(node, moment)
    if as_json:
        print_json([n.to_json() for n in notifications])
        return
    for notification in notifications:
        stdout_console.print(f"{notification.kind.upper()} {notification.text}", markup=False)
    if not notifications:
        stdout_console.print("nothing due", markup=False)


@roster_app.command("check")
def roster_check(
    directory: Path = DIR_ARGUMENT,
    start: str | None = typer.Option(
        None, "--start", help="First day checked, UTC (ISO 8601; default: today)."
    ),
    days: int = typer.Option(7, "--days", min=1, max=366, help="How many days to check."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Check the roster for gaps, overlaps and shifts without an English–Russian officer.
    Exits non-zero on any problem."""
    begin = _parse_time("--start", start) if start else _today()
    path = directory / ROSTER_FILE
    if not path.exists():
        raise InputError(f"{path}: no such file (write the roster: see docs/hotline.md)")
    problems = check(read_roster(path), begin, days)
    if as_json:
        print_json([problem.to_json() for problem in problems])
    else:
        for problem in problems:
            stdout_console.print(f"{problem.kind}: {problem.text}", markup=False)
        stdout_console.print(
            f"{len(problems)} problems" if problems else f"ok: {days} days from {begin:%Y-%m-%d}",
            markup=False,
        )
    if problems:
        raise typer.Exit(1)


def _parse_time(option: str, text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{option} {text!r}: not an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _today() -> datetime:
    now = datetime.now(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


__all__ = ["escalate", "roster_app", "roster_check"]
