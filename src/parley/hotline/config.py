"""A node directory: ``node.toml`` (who we are, whom we trust), ``key.pem`` (0600), ``node.db``,
and the node's TLS credential ``tls-key.pem`` (0600) and ``tls-cert.pem`` (see :mod:`.tls`).

``node.toml``::

    party = "nato"
    log_id = "parley/nato/0123456789abcdef"
    database = "node.db"          # a path relative to the directory, or a SQLAlchemy URL

    [peer]                        # once `parley node trust` has run
    party = "russia"
    public_key = "<base64 Ed25519 key>"
    fingerprint = "…"
    url = "https://…"
    tls_certificate = "-----BEGIN CERTIFICATE-----\n…"   # the pinned certificate
"""

import base64
import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from parley.errors import ConfigError
from parley.hotline.keys import PartyKey, PublicIdentity
from parley.hotline.tls import (
    TLS_CERT_FILE,
    TLS_KEY_FILE,
    TlsCredential,
    check_credential,
    normalise_certificate,
)

CONFIG_FILE = "node.toml"
KEY_FILE = "key.pem"
DATABASE_FILE = "node.db"


@dataclass(frozen=True, slots=True)
class PeerConfig:
    identity: PublicIdentity
    url: str

    @property
    def pinned_certificate(self) -> bytes | None:
        """The peer's TLS certificate, pinned at ``parley node trust`` (PEM)."""
        return self.identity.tls_certificate


@dataclass(frozen=True, slots=True)
class NodeConfig:
    party: str
    log_id: str
    database: str
    peer: PeerConfig | None = None

    def database_location(self, directory: Path) -> str:
        """The database URL, or its file path resolved against the node directory."""
        if "://" in self.database:
            return self.database
        return str(directory / self.database)


def read_config(directory: Path) -> NodeConfig:
    path = directory / CONFIG_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such file (is {directory} a node? see parley node init)"
        ) from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    try:
        peer_data = data.get("peer")
        peer = None
        if peer_data is not None:
            peer = PeerConfig(PublicIdentity.from_json(peer_data), str(peer_data["url"]))
        return NodeConfig(
            str(data["party"]), str(data["log_id"]), str(data.get("database", DATABASE_FILE)), peer
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"{path}: missing or invalid setting {exc}") from None
    except ConfigError as exc:
        raise ConfigError(f"{path}: [peer]: {exc}") from None


def write_config(directory: Path, config: NodeConfig) -> None:
    lines = [
        f"party = {_toml_string(config.party)}",
        f"log_id = {_toml_string(config.log_id)}",
        f"database = {_toml_string(config.database)}",
    ]
    if config.peer is not None:
        identity = config.peer.identity
        lines += [
            "",
            "[peer]",
            f"party = {_toml_string(identity.party)}",
            f"public_key = {_toml_string(base64.b64encode(identity.public_key).decode())}",
            f"fingerprint = {_toml_string(identity.fingerprint)}",
            f"url = {_toml_string(config.peer.url)}",
        ]
        if identity.tls_certificate is not None:
            certificate = identity.tls_certificate.decode("ascii")
            lines.append(f"tls_certificate = {_toml_string(certificate)}")
    _write_atomically(directory / CONFIG_FILE, ("\n".join(lines) + "\n").encode("utf-8"), 0o644)


def write_key(directory: Path, key: PartyKey) -> None:
    """Write ``key.pem`` and, when the key carries one, the TLS credential."""
    _write_atomically(directory / KEY_FILE, key.to_pem(), 0o600)
    if key.tls is not None:
        write_tls(directory, key.tls)


def write_tls(directory: Path, credential: TlsCredential) -> None:
    """Write ``tls-key.pem`` (0600) then ``tls-cert.pem`` (0644), replacing any held."""
    _write_atomically(directory / TLS_KEY_FILE, credential.key_pem, 0o600)
    _write_atomically(directory / TLS_CERT_FILE, credential.certificate_pem, 0o644)


def read_key(directory: Path, party: str) -> PartyKey:
    """The party key with its TLS credential (none for a node made before mutual TLS)."""
    path = directory / KEY_FILE
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the node's key ({exc.strerror})") from None
    tls = read_tls(directory)
    try:
        return PartyKey.from_pem(party, pem, tls)
    except ValueError as exc:
        raise ConfigError(f"{path}: not a PEM private key ({exc})") from None


def read_tls(directory: Path) -> TlsCredential | None:
    """The node's TLS credential; ``None`` if the directory holds neither of its files."""
    key_path, certificate_path = directory / TLS_KEY_FILE, directory / TLS_CERT_FILE
    if not key_path.exists() and not certificate_path.exists():
        return None
    contents: list[bytes] = []
    for path in (key_path, certificate_path):
        try:
            contents.append(path.read_bytes())
        except FileNotFoundError:
            raise ConfigError(
                f"{path}: no such file (the node's TLS credential is incomplete)"
            ) from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the node's TLS file ({exc.strerror})") from None
    try:
        certificate = normalise_certificate(contents[1])
    except ConfigError as exc:
        raise ConfigError(f"{certificate_path}: {exc}") from None
    credential = TlsCredential(contents[0], certificate)
    try:
        check_credential(credential)
    except ConfigError as exc:
        raise ConfigError(f"{key_path}: {exc}") from None
    return credential


def _toml_string(value: str) -> str:
    # A JSON string with non-ASCII escaped is a valid TOML basic string.
    return json.dumps(value, ensure_ascii=True)


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(descriptor, data)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    os.chmod(temporary, mode)
    os.replace(temporary, path)


__all__ = [
    "CONFIG_FILE",
    "DATABASE_FILE",
    "KEY_FILE",
    "NodeConfig",
    "PeerConfig",
    "read_config",
    "read_key",
    "read_tls",
    "write_config",
    "write_key",
    "write_tls",
]
