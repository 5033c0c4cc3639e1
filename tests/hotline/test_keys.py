"""Party keys: sign, verify, identities that survive a round trip, fingerprints to read aloud."""

import pytest

from parley.errors import ConfigError
from parley.hotline.keys import PartyKey, PublicIdentity, fingerprint, verify_signature

SEED = bytes(range(32))


def test_signatures_verify_only_for_the_signed_bytes_and_key() -> None:
    key = PartyKey.from_seed("nato", SEED)
    other = PartyKey.from_seed("russia", bytes(32))
    signature = key.sign(b"message")
    assert verify_signature(key.public_key, signature, b"message")
    assert not verify_signature(key.public_key, signature, b"messagE")
    assert not verify_signature(other.public_key, signature, b"message")
    assert not verify_signature(key.public_key, signature[:-1], b"message")
    assert not verify_signature(b"short", signature, b"message")


def test_identity_round_trip_and_fingerprint() -> None:
    key = PartyKey.from_seed("nato", SEED)
    identity = PublicIdentity.from_json(key.identity.to_json())
    assert identity == key.identity
    assert identity.fingerprint == fingerprint(key.public_key)
    groups = identity.fingerprint.split(" ")
    assert len(groups) == 16
    assert all(len(g) == 4 for g in groups)


def test_pem_round_trip() -> None:
    key = PartyKey.generate("russia")
    again = PartyKey.from_pem("russia", key.to_pem())
    assert again.public_key == key.public_key


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"party": "nato"},
        {"party": "nato", "public_key": "not base64!"},
        {"party": "nato", "public_key": "AAAA"},
        {"party": "", "public_key": "A" * 44},
    ],
)
def test_invalid_identities_are_refused(data: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="invalid identity"):
        PublicIdentity.from_json(data)
