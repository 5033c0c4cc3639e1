"""TLS credentials of a node: generated at init, carried and fingerprinted in the identity, pinned
in node.toml, and the contexts that trust exactly the pinned certificate."""

import hashlib
import ssl
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from parley.errors import ConfigError
from parley.hotline.config import read_config, read_key, read_tls
from parley.hotline.keys import PartyKey, PublicIdentity, fingerprint
from parley.hotline.node import init_node, load_node
from parley.hotline.tls import (
    TLS_CERT_FILE,
    TLS_KEY_FILE,
    check_peer_url,
    client_context,
    generate_credential,
    is_loopback_host,
    peer_client_verify,
    server_context,
)


def test_init_writes_a_p256_key_0600_and_a_self_signed_certificate(tmp_path: Path) -> None:
    init_node(tmp_path / "n", "nato").close()
    key_file, cert_file = tmp_path / "n" / TLS_KEY_FILE, tmp_path / "n" / TLS_CERT_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    certificate = x509.load_pem_x509_certificate(cert_file.read_bytes())
    assert certificate.subject == certificate.issuer
    assert certificate.subject.rfc4514_string() == "CN=parley node nato"
    public = certificate.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    assert public.curve.name == "secp256r1"
    assert (certificate.not_valid_after_utc - certificate.not_valid_before_utc).days >= 20 * 365
    private = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    assert private.public_key().public_numbers() == public.public_numbers()


def test_the_identity_carries_the_certificate_and_its_fingerprint_covers_it(
    tmp_path: Path,
) -> None:
    with init_node(tmp_path / "n", "nato") as node:
        data = node.identity_json()
        signing_key = node.key.public_key
    pem = (tmp_path / "n" / TLS_CERT_FILE).read_bytes()
    der = x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
    digest = hashlib.sha256(der)
    assert data["tls_certificate"] == pem.decode()
    assert data["tls_fingerprint"] == ":".join(f"{b:02X}" for b in digest.digest())
    assert data["fingerprint"] == fingerprint(signing_key + digest.digest())
    assert data["fingerprint"] != fingerprint(signing_key)
    identity = PublicIdentity.from_json(data)
    assert identity.tls_certificate == pem
    assert identity.fingerprint == data["fingerprint"]
    with load_node(tmp_path / "n") as again:
        assert again.identity_json() == data


def test_an_identity_without_a_certificate_stays_readable() -> None:
    old = PartyKey.from_seed("nato", bytes(range(32))).identity.to_json()
    assert "tls_certificate" not in old
    identity = PublicIdentity.from_json(old)
    assert identity.tls_certificate is None
    assert identity.tls_fingerprint is None
    assert identity.fingerprint == fingerprint(identity.public_key)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (42, "must be a PEM string"),
        ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "tls_certificate"),
        ("", "tls_certificate"),
    ],
)
def test_a_malformed_certificate_in_an_identity_is_refused(value: object, reason: str) -> None:
    data = PartyKey.generate("nato").identity.to_json()
    data["tls_certificate"] = value
    with pytest.raises(ConfigError, match=reason):
        PublicIdentity.from_json(data)


def test_trust_pins_the_certificate_in_node_toml(tmp_path: Path) -> None:
    with init_node(tmp_path / "a", "nato") as nato, init_node(tmp_path / "b", "russia") as russia:
        nato.trust(russia.identity_json(), "https://russia.example:8701")
        pinned = russia.identity().tls_certificate
    peer = read_config(tmp_path / "a").peer
    assert peer is not None
    assert pinned is not None
    assert peer.pinned_certificate == pinned
    assert peer.identity.fingerprint == russia.identity().fingerprint
    assert "tls_certificate" in (tmp_path / "a" / "node.toml").read_text()


def test_trusting_the_same_key_with_a_new_certificate_renews_the_pin(tmp_path: Path) -> None:
    with init_node(tmp_path / "a", "nato") as nato, init_node(tmp_path / "b", "russia") as russia:
        nato.trust(russia.identity_json(), "https://russia.example:8701")
        renewed = russia.key.with_tls(generate_credential("russia"))
        nato.trust({**renewed.identity.to_json(), "log_id": russia.log_id}, "https://r.example")
    peer = read_config(tmp_path / "a").peer
    assert peer is not None
    assert renewed.tls is not None
    assert peer.pinned_certificate == renewed.tls.certificate_pem
    assert peer.url == "https://r.example"


def test_an_old_node_without_tls_files_loads_without_a_credential(tmp_path: Path) -> None:
    init_node(tmp_path / "n", "nato").close()
    (tmp_path / "n" / TLS_KEY_FILE).unlink()
    (tmp_path / "n" / TLS_CERT_FILE).unlink()
    with load_node(tmp_path / "n") as node:
        assert node.key.tls is None
        assert "tls_certificate" not in node.identity_json()


def test_missing_or_broken_tls_files_are_one_line_errors(tmp_path: Path) -> None:
    init_node(tmp_path / "n", "nato").close()
    directory = tmp_path / "n"
    cert = directory / TLS_CERT_FILE
    good = cert.read_bytes()
    cert.unlink()
    with pytest.raises(ConfigError, match=r"tls-cert\.pem: no such file") as missing:
        read_key(directory, "nato")
    assert "\n" not in str(missing.value)
    cert.write_bytes(b"not a certificate")
    with pytest.raises(ConfigError, match=r"tls-cert\.pem: not a PEM X\.509 certificate"):
        read_tls(directory)
    cert.write_bytes(generate_credential("nato").certificate_pem)
    with pytest.raises(ConfigError, match=r"tls-key\.pem: the TLS key does not belong"):
        read_tls(directory)
    cert.write_bytes(good)
    cert.chmod(0)
    try:
        if cert.exists() and not _readable(cert):
            with pytest.raises(ConfigError, match=r"tls-cert\.pem: cannot read"):
                read_tls(directory)
    finally:
        cert.chmod(0o644)


def _readable(path: Path) -> bool:
    try:
        path.read_bytes()
    except PermissionError:
        return False
    return True


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://hotline.example.ru:8701", True),
        ("http://127.0.0.1:8700", True),
        ("http://[::1]:8700", True),
        ("http://localhost:8700", True),
        ("http://10.1.2.3:8700", False),
        ("http://hotline.example.ru", False),
        ("ftp://127.0.0.1", False),
        ("https://", False),
    ],
)
def test_peer_urls_plain_http_only_on_loopback(url: str, ok: bool) -> None:
    certificate = generate_credential("russia").certificate_pem
    if ok:
        check_peer_url(url, certificate)
    else:
        with pytest.raises(ConfigError):
            check_peer_url(url, certificate)


def test_https_needs_the_peers_certificate() -> None:
    with pytest.raises(ConfigError, match="has no TLS certificate"):
        check_peer_url("https://r.example", None)


def test_loopback_hosts() -> None:
    assert is_loopback_host("127.0.0.2")
    assert is_loopback_host("[::1]")
    assert not is_loopback_host("0.0.0.0")
    assert not is_loopback_host("example.org")


def test_contexts_trust_only_the_pinned_certificate(tmp_path: Path) -> None:
    init_node(tmp_path / "n", "nato").close()
    pinned = generate_credential("russia").certificate_pem
    for context in (server_context(tmp_path / "n", pinned), client_context(tmp_path / "n", pinned)):
        assert context.verify_mode == ssl.CERT_REQUIRED
        assert context.minimum_version == ssl.TLSVersion.TLSv1_3
        # one trusted certificate, the pinned one, and no CA (not even the system store)
        assert context.cert_store_stats() == {"x509": 1, "crl": 0, "x509_ca": 0}
    assert not client_context(tmp_path / "n", pinned).check_hostname
    assert peer_client_verify(tmp_path / "n", "http://127.0.0.1:1", None) is True
    with pytest.raises(ConfigError, match="no TLS certificate pinned"):
        peer_client_verify(tmp_path / "n", "https://r.example", None)


def test_a_context_for_a_node_without_tls_files_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "n").mkdir()
    pinned = generate_credential("russia").certificate_pem
    with pytest.raises(ConfigError, match=r"tls-cert\.pem: no such file .*parley node tls"):
        server_context(tmp_path / "n", pinned)
