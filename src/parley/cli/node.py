"""``parley node``: create a node directory, show its identity, pair it with the peer."""

import json
from pathlib import Path
from typing import Any

import typer

from parley.cli.render import print_json, stdout_console
from parley.errors import InputError
from parley.hotline.node import init_node, load_node

app = typer.Typer(help="A party's hotline node: keys, database, pairing.", no_args_is_help=True)

DIR_ARGUMENT: Path = typer.Argument(..., help="The node directory.")


@app.command("init")
def init(
    directory: Path = DIR_ARGUMENT,
    party: str = typer.Option(..., "--party", help="The party's name, such as nato or russia."),
) -> None:
    """Create a node: an Ed25519 key (key.pem, 0600), node.toml and the database node.db."""
    with init_node(directory, party) as node:
        identity = node.identity()
        stdout_console.print(f"node {node.log_id} created in {directory}", markup=False)
        stdout_console.print(f"fingerprint {identity.fingerprint}", markup=False)


@app.command("identity")
def identity(directory: Path = DIR_ARGUMENT) -> None:
    """Print the node's public identity as JSON (party, public key, fingerprint, log id)."""
    with load_node(directory) as node:
        print_json(node.identity_json())


@app.command("trust")
def trust(
    directory: Path = DIR_ARGUMENT,
    peer_identity: Path = typer.Argument(..., help="The peer's identity JSON file."),
    url: str = typer.Option(..., "--url", help="The peer node's URL."),
) -> None:
    """Pair with the peer and print its fingerprint, to compare out of band."""
    data = _read_identity(peer_identity)
    with load_node(directory) as node:
        fingerprint = node.trust(data, url)
        party = node.peer.identity.party
    stdout_console.print(f"trusted {party} at {url}", markup=False)
    stdout_console.print(f"fingerprint {fingerprint}", markup=False)
    stdout_console.print("compare it with the peer by an independent channel", markup=False)


def _read_identity(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not an identity JSON file ({exc})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: not an identity JSON object")
    return data


__all__ = ["app", "identity", "init", "trust"]
