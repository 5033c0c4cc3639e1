"""The ``parley`` command: the front door to every capability."""

import logging
import sys
from collections.abc import Sequence

import typer
from typer.exceptions import Abort, TyperException

from parley import __version__
from parley.cli import activity as activity_commands
from parley.cli import demo as demo_commands
from parley.cli import detect as detect_commands
from parley.cli import escalation as escalation_commands
from parley.cli import hotline as hotline_commands
from parley.cli import incident as incident_commands
from parley.cli import node as node_commands
from parley.cli import replay as replay_commands
from parley.cli import report as report_commands
from parley.cli import scenario as scenario_commands
from parley.cli import serve as serve_commands
from parley.cli import tracks as tracks_commands
from parley.cli import users as user_commands
from parley.cli.render import error_line
from parley.errors import ParleyError

app = typer.Typer(
    name="parley",
    help="Parley: the track picture, near misses between opposing sides, and the hotline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(tracks_commands.app, name="tracks")
app.add_typer(detect_commands.policy_app, name="policy")
app.command("detect")(detect_commands.detect)
app.add_typer(node_commands.app, name="node")
app.add_typer(hotline_commands.app, name="hotline")
hotline_commands.app.command("escalate")(escalation_commands.escalate)
app.add_typer(escalation_commands.roster_app, name="roster")
app.command("serve")(serve_commands.serve)
app.command("report")(report_commands.report)
app.add_typer(user_commands.app, name="user")
app.add_typer(activity_commands.app, name="activity")
app.add_typer(incident_commands.app, name="incident")
app.add_typer(scenario_commands.app, name="scenario")
app.command("demo")(demo_commands.demo)
app.command("replay")(replay_commands.replay_command)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"parley {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress details to stderr."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Parley's command line."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def run(argv: Sequence[str] | None = None) -> int:
    """Entry point: a user error is one line on stderr and a non-zero exit, never a traceback."""
    command = typer.main.get_command(app)
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        result = command.main(args=args, prog_name="parley", standalone_mode=False)
    except ParleyError as exc:
        error_line(str(exc))
        return 1
    except TyperException as exc:
        # typer's parser errors: a usage error (exit code 2) names the command to get help on
        context = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and context is not None:
            sys.stdout.write(context.get_help() + "\n")
            return 0
        message = exc.format_message()
        if exc.exit_code == 2 and context is not None:
            message += f" (see: {context.command_path} --help)"
        error_line(message)
        return exc.exit_code or 1
    except Abort:
        error_line("aborted")
        return 130
    except KeyboardInterrupt:
        error_line("interrupted")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug, not bad input: still one line, the traceback in the log
        logging.getLogger("parley").info("unexpected error", exc_info=True)
        error_line(
            f"internal error: {type(exc).__name__}: {exc} (a bug in Parley; run with --verbose "
            "for the traceback and report it)"
        )
        return 70
    if isinstance(result, int):
        return result
    return 0


def entry() -> None:
    sys.exit(run())


__all__ = ["app", "entry", "run"]
