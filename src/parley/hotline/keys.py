"""A party's Ed25519 signing key and its public identity.

The fingerprint is what duty officers read aloud to each other out of band when pairing nodes:
SHA-256 of the raw 32-byte public key, as 16 groups of four hex digits.
"""

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from parley.errors import ConfigError

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

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)

    def to_json(self) -> dict[str, Any]:
        return {
            "party": self.party,
            "public_key": base64.b64encode(self.public_key).decode("ascii"),
            "fingerprint": self.fingerprint,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "PublicIdentity":
        try:
            key = base64.b64decode(data["public_key"], validate=True)
            party = str(data["party"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"invalid identity ({exc})") from exc
        if len(key) != PUBLIC_KEY_SIZE or not party:
            raise ConfigError("invalid identity (a party name and a 32-byte Ed25519 key)")
        return cls(party, key)

    def verify(self, signature: bytes, data: bytes) -> bool:
        return verify_signature(self.public_key, signature, data)


class PartyKey:
    """A party's private signing key."""

    def __init__(self, party: str, private_key: Ed25519PrivateKey) -> None:
        self.party = party
        self._private = private_key

    @classmethod
    def generate(cls, party: str) -> "PartyKey":
        return cls(party, Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, party: str, seed: bytes) -> "PartyKey":
        """A deterministic key from 32 bytes (tests and fixtures only)."""
        return cls(party, Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def from_pem(cls, party: str, pem: bytes) -> "PartyKey":
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError("the private key is not an Ed25519 key")
        return cls(party, key)

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
        return PublicIdentity(self.party, self.public_key)

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
