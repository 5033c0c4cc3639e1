"""A party's Ed25519 signing key, its TLS credential and its public identity.

The fingerprint is what duty officers read aloud to each other out of band when pairing nodes, as
16 groups of four hex digits: SHA-256 of the raw 32-byte public key followed by the 32-byte SHA-256
of the node's TLS certificate (DER), so that comparing it pins both. An identity made before mutual
TLS has no certificate; its fingerprint is SHA-256 of the key alone (and it can pair only over
plain HTTP on loopback, see :func:`parley.hotline.tls.check_peer_url`).
"""

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from parley.errors import ConfigError
from parley.hotline.tls import (
    TlsCredential,
    certificate_digest,
    certificate_fingerprint,
    generate_credential,
    normalise_certificate,
)

PUBLIC_KEY_SIZE = 32
SIGNATURE_SIZE = 64


def fingerprint(public_key: bytes) -> str:
    digest = hashlib.sha256(public_key).hexdigest()
    return " ".join(digest[i : i + 4] for i in range(0, len(digest), 4))


@dataclass(frozen=True, slots=True)
class PublicIdentity:
    """What a node tells its peer about itself."""

    party: str
    public_key: bytes
    # Not part of equality: the party is its signing key; trusting the same key again with a new
    # certificate renews the pinned certificate (after the fingerprint is compared again).
    tls_certificate: bytes | None = field(default=None, compare=False)

    @property
    def fingerprint(self) -> str:
        if self.tls_certificate is None:
            return fingerprint(self.public_key)
        return fingerprint(self.public_key + certificate_digest(self.tls_certificate))

    @property
    def tls_fingerprint(self) -> str | None:
        """The certificate's SHA-256 fingerprint (as openssl prints it), if there is one."""
        if self.tls_certificate is None:
            return None
        return certificate_fingerprint(self.tls_certificate)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "party": self.party,
            "public_key": base64.b64encode(self.public_key).decode("ascii"),
            "fingerprint": self.fingerprint,
        }
        if self.tls_certificate is not None:
            data["tls_certificate"] = self.tls_certificate.decode("ascii")
            data["tls_fingerprint"] = self.tls_fingerprint
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "PublicIdentity":
        try:
            key = base64.b64decode(data["public_key"], validate=True)
            party = str(data["party"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"invalid identity ({exc})") from exc
        if len(key) != PUBLIC_KEY_SIZE or not party:
            raise ConfigError("invalid identity (a party name and a 32-byte Ed25519 key)")
        return cls(party, key, _certificate_from_json(data.get("tls_certificate")))

    def verify(self, signature: bytes, data: bytes) -> bool:
        return verify_signature(self.public_key, signature, data)


def _certificate_from_json(value: object) -> bytes | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError("invalid identity (tls_certificate must be a PEM string)")
    try:
        return normalise_certificate(value.encode("ascii"))
    except (ConfigError, UnicodeEncodeError) as exc:
        raise ConfigError(f"invalid identity (tls_certificate: {exc})") from None


class PartyKey:
    """A party's private signing key and, for nodes made since mutual TLS, its TLS credential."""

    def __init__(
        self, party: str, private_key: Ed25519PrivateKey, tls: TlsCredential | None = None
    ) -> None:
        self.party = party
        self.tls = tls
        self._private = private_key

    @classmethod
    def generate(cls, party: str) -> "PartyKey":
        """A new signing key and a new TLS credential (see :mod:`parley.hotline.tls`)."""
        return cls(party, Ed25519PrivateKey.generate(), generate_credential(party))

    @classmethod
    def from_seed(cls, party: str, seed: bytes) -> "PartyKey":
        """A deterministic key from 32 bytes (tests and fixtures only)."""
        return cls(party, Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def from_pem(cls, party: str, pem: bytes, tls: TlsCredential | None = None) -> "PartyKey":
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError("the private key is not an Ed25519 key")
        return cls(party, key, tls)

    def with_tls(self, tls: TlsCredential) -> "PartyKey":
        """The same signing key with another TLS credential (a renewal)."""
        return PartyKey(self.party, self._private, tls)

    def to_pem(self) -> bytes:
        return self._private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def public_key(self) -> bytes:
        return self._private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def identity(self) -> PublicIdentity:
        certificate = None if self.tls is None else self.tls.certificate_pem
        return PublicIdentity(self.party, self.public_key, certificate)

    def sign(self, data: bytes) -> bytes:
        return self._private.sign(data)


def verify_signature(public_key: bytes, signature: bytes, data: bytes) -> bool:
    """Whether ``signature`` is the Ed25519 signature of ``data`` under ``public_key``."""
    if len(public_key) != PUBLIC_KEY_SIZE or len(signature) != SIGNATURE_SIZE:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


__all__ = ["PartyKey", "PublicIdentity", "fingerprint", "verify_signature"]
