"""``parley node``: create a node directory, show its identity, pair it with the peer, renew its
TLS certificate."""

import json
from pathlib import Path
from typing import Any

import typer

from parley.cli.render import print_json, stdout_console
from parley.errors import InputError
from parley.hotline.config import read_config, read_key, write_tls
from parley.hotline.keys import PublicIdentity
from parley.hotline.node import init_node, load_node
from parley.hotline.tls import TLS_CERT_FILE, check_peer_url, generate_credential, uses_tls

app = typer.Typer(help="A party's hotline node: keys, database, pairing.", no_args_is_help=True)

DIR_ARGUMENT: Path = typer.Argument(..., help="The node directory.")


@app.command("init")
def init(
    directory: Path = DIR_ARGUMENT,
    party: str = typer.Option(..., "--party", help="The party's name, such as nato or russia."),
) -> None:
    """Create a node: an Ed25519 key (key.pem, 0600), a TLS key and self-signed certificate
    (tls-key.pem, 0600; tls-cert.pem), node.toml and the database node.db."""
    with init_node(directory, party) as node:
        identity = node.identity()
        stdout_console.print(f"node {node.log_id} created in {directory}", markup=False)
        _print_fingerprints(identity)


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
    """Pair with the peer, pinning its TLS certificate, and print its fingerprint, to compare out
    of band. The URL is https:// (mutual TLS), or http:// for a peer on loopback (tests, demos)."""
    data = _read_identity(peer_identity)
    candidate = PublicIdentity.from_json(data)
    check_peer_url(url, candidate.tls_certificate)
    with load_node(directory) as node:
        if uses_tls(url) and node.key.tls is None:
            raise InputError(
                f"{directory / TLS_CERT_FILE}: this node has no TLS certificate yet "
                "(see parley node tls)"
            )
        node.trust(data, url)
        identity = node.peer.identity
    stdout_console.print(f"trusted {identity.party} at {url}", markup=False)
    _print_fingerprints(identity)
    stdout_console.print("compare it with the peer by an independent channel", markup=False)


@app.command("tls")
def tls(
    directory: Path = DIR_ARGUMENT,
    renew: bool = typer.Option(False, "--renew", help="Replace a TLS certificate the node has."),
) -> None:
    """Give the node a new TLS key and self-signed certificate (a node made before mutual TLS,
    or --renew). The identity fingerprint changes: the peer must trust the new identity."""
    config = read_config(directory)
    key = read_key(directory, config.party)
    if key.tls is not None and not renew:
        raise InputError(
            f"{directory / TLS_CERT_FILE}: the node already has a TLS certificate "
            "(--renew replaces it)"
        )
    credential = generate_credential(config.party)
    write_tls(directory, credential)
    stdout_console.print(f"new TLS certificate in {directory / TLS_CERT_FILE}", markup=False)
    _print_fingerprints(key.with_tls(credential).identity)
    stdout_console.print(
        "give the peer the new identity (parley node identity) to trust, then restart the server",
        markup=False,
    )


def _print_fingerprints(identity: PublicIdentity) -> None:
    stdout_console.print(f"fingerprint {identity.fingerprint}", markup=False)
    if identity.tls_fingerprint is not None:
        stdout_console.print(
            f"tls certificate sha256 {identity.tls_fingerprint}", markup=False, emoji=False
        )


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


__all__ = ["app", "identity", "init", "tls", "trust"]
