"""``parley user``: the node's users and their roles (who may do what on the officers' API)."""

import getpass
import sys
from pathlib import Path

import typer

from parley.cli.render import print_json, stdout_console
from parley.errors import InputError
from parley.hotline.node import load_node
from parley.hotline.users import Role, UserStore, check_password, parse_role

app = typer.Typer(help="The node's users, one role each.", no_args_is_help=True)

DIR_ARGUMENT: Path = typer.Argument(..., help="The node directory.")
NAME_ARGUMENT: str = typer.Argument(..., help="The user's name.")
ROLES = ", ".join(role.value for role in Role)


@app.command("add")
def add(
    directory: Path = DIR_ARGUMENT,
    name: str = NAME_ARGUMENT,
    role: str = typer.Option(..., "--role", help=f"One of: {ROLES}."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of stdin."
    ),
) -> None:
    """Add a user with a role; the password (12 characters or more) is asked without echo."""
    chosen = parse_role(role)
    password = _read_password(password_stdin)
    with load_node(directory) as node:
        UserStore(node.engine, node.clock).add_user(name, chosen, password, _actor())
    stdout_console.print(f"user {name} added as {chosen}", markup=False)


@app.command("list")
def list_users(
    directory: Path = DIR_ARGUMENT,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List the users, their roles and whether they are disabled."""
    with load_node(directory) as node:
        users = UserStore(node.engine, node.clock).users()
    if as_json:
        print_json([user.to_json() for user in users])
        return
    for user in users:
        state = "disabled" if user.disabled else "active"
        stdout_console.print(f"{user.name}\t{user.role}\t{state}", markup=False)


@app.command("disable")
def disable(directory: Path = DIR_ARGUMENT, name: str = NAME_ARGUMENT) -> None:
    """Disable a user: no more sign-ins, and their open sessions end."""
    with load_node(directory) as node:
        UserStore(node.engine, node.clock).disable_user(name, _actor())
    stdout_console.print(f"user {name} disabled", markup=False)


def _actor() -> str:
    """Who ran the command, for the audit log: the operating-system user."""
    try:
        return f"cli:{getpass.getuser()}"[:64]
    except (OSError, KeyError):
        return "cli"


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise InputError("no password given")
    check_password(password)
    return password


__all__ = ["add", "app", "disable", "list_users"]
