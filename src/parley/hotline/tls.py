"""Mutual TLS between the two nodes, with each node's certificate pinned at pairing.

Every node holds a TLS credential next to its Ed25519 party key: an ECDSA P-256 key
(``tls-key.pem``, 0600) and a self-signed X.509 certificate (``tls-cert.pem``). The certificate
travels in the public identity and its digest is part of the identity fingerprint the officers
compare out of band, so ``parley node trust`` pins exactly that certificate.

The TLS contexts here trust exactly one certificate, the peer's pinned one, and nothing else: no
certificate authority, no system store, no host name check (the peer's address may be an IP or
change; what matters is that it holds the pinned key). Both sides require TLS 1.3.
"""

import hashlib
import ipaddress
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from parley.errors import ConfigError

TLS_KEY_FILE = "tls-key.pem"
TLS_CERT_FILE = "tls-cert.pem"
#: A renewal is a new identity exchange, so the certificate is long-lived.
CERTIFICATE_VALIDITY = timedelta(days=20 * 365)
LOOPBACK_NAMES = frozenset({"localhost"})


@dataclass(frozen=True, slots=True)
class TlsCredential:
    """A node's TLS private key and self-signed certificate, both PEM."""

    key_pem: bytes
    certificate_pem: bytes


def generate_credential(party: str, now: datetime | None = None) -> TlsCredential:
    """A new P-256 key and a self-signed certificate naming the party."""
    key = ec.generate_private_key(ec.SECP256R1())
    start = (now or datetime.now(UTC)) - timedelta(days=1)  # tolerate a peer's clock behind ours
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"parley node {party}")])
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + CERTIFICATE_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return TlsCredential(key_pem, certificate.public_bytes(serialization.Encoding.PEM))


def parse_certificate(pem: bytes) -> x509.Certificate:
    """The one certificate in ``pem``; :class:`ConfigError` if it is not a PEM certificate."""
    try:
        certificates = x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        raise ConfigError(f"not a PEM X.509 certificate ({exc})") from None
    if len(certificates) != 1:
        raise ConfigError(f"expected one certificate, found {len(certificates)}")
    return certificates[0]


def normalise_certificate(pem: bytes) -> bytes:
    """The certificate re-encoded as canonical PEM (what identities carry and compare)."""
    return parse_certificate(pem).public_bytes(serialization.Encoding.PEM)


def certificate_digest(pem: bytes) -> bytes:
    """SHA-256 of the certificate's DER encoding (32 bytes)."""
    return hashlib.sha256(parse_certificate(pem).public_bytes(serialization.Encoding.DER)).digest()


def certificate_fingerprint(pem: bytes) -> str:
    """The certificate's SHA-256 fingerprint as ``openssl x509 -fingerprint -sha256`` shows it."""
    return ":".join(f"{byte:02X}" for byte in certificate_digest(pem))


def check_credential(credential: TlsCredential) -> None:
    """:class:`ConfigError` unless the key is the private half of the certificate's public key."""
    try:
        key = serialization.load_pem_private_key(credential.key_pem, password=None)
    except ValueError as exc:
        raise ConfigError(f"not a PEM private key ({exc})") from None
    certificate = parse_certificate(credential.certificate_pem)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or _public_der(
        key.public_key()
    ) != _public_der(certificate.public_key()):
        raise ConfigError("the TLS key does not belong to the TLS certificate")


def _public_der(public: object) -> bytes:
    if not isinstance(public, ec.EllipticCurvePublicKey):
        return b""
    return public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` (a name or an address, IPv6 with or without brackets) is this machine."""
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_peer_url(url: str, peer_certificate: bytes | None) -> None:
    """:class:`ConfigError` unless ``url`` is a usable peer link.

    ``https://`` (mutual TLS) needs the peer's certificate; plain ``http://`` is allowed only to
    a loopback address (tests and demonstrations on one machine).
    """
    parts = urlsplit(url)
    if parts.scheme == "https":
        if peer_certificate is None:
            raise ConfigError(
                f"{url}: the peer's identity has no TLS certificate (made by an older Parley?): "
                "ask the peer for a new identity file"
            )
    elif parts.scheme == "http":
        if not is_loopback_host(parts.hostname or ""):
            raise ConfigError(
                f"{url}: plain http:// is only for a peer on loopback; use https:// (mutual TLS)"
            )
    else:
        raise ConfigError(
            f"{url}: the peer's URL must start with https:// (or http:// on loopback)"
        )
    if not parts.hostname:
        raise ConfigError(f"{url}: the peer's URL has no host")


def uses_tls(url: str) -> bool:
    return urlsplit(url).scheme == "https"


def credential_files(directory: Path) -> tuple[Path, Path]:
    """The node's certificate and key files; :class:`ConfigError` if either is missing."""
    files = (directory / TLS_CERT_FILE, directory / TLS_KEY_FILE)
    for path in files:
        if not path.is_file():
            raise ConfigError(
                f"{path}: no such file (a node made before mutual TLS? see parley node tls)"
            )
    return files


def server_context(directory: Path, pinned_certificate: bytes) -> ssl.SSLContext:
    """The peer port's context: our certificate, and the peer's pinned one required of clients."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    return _configure(context, directory, pinned_certificate)


def client_context(directory: Path, pinned_certificate: bytes) -> ssl.SSLContext:
    """The replication client's context: present our certificate, accept only the pinned one."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False  # pinned: the certificate itself is the identity
    return _configure(context, directory, pinned_certificate)


def peer_client_verify(
    directory: Path, url: str, pinned_certificate: bytes | None
) -> ssl.SSLContext | bool:
    """What ``httpx.Client(verify=…)`` needs for the peer at ``url``: a pinning context for
    ``https://``; for plain ``http://`` (loopback) nothing is verified, so ``True``."""
    if not uses_tls(url):
        return True
    if pinned_certificate is None:
        raise ConfigError(f"{url}: no TLS certificate pinned for the peer (see parley node trust)")
    return client_context(directory, pinned_certificate)


def _configure(context: ssl.SSLContext, directory: Path, pinned: bytes) -> ssl.SSLContext:
    certificate_file, key_file = credential_files(directory)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.verify_mode = ssl.CERT_REQUIRED
    try:
        context.load_cert_chain(certificate_file, key_file)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or exc
        raise ConfigError(f"{certificate_file}, {key_file}: cannot load ({reason})") from None
    try:
        context.load_verify_locations(cadata=normalise_certificate(pinned).decode("ascii"))
    except ssl.SSLError as exc:
        raise ConfigError(f"the peer's pinned certificate cannot be used ({exc})") from None
    return context


__all__ = [
    "CERTIFICATE_VALIDITY",
    "TLS_CERT_FILE",
    "TLS_KEY_FILE",
    "TlsCredential",
    "certificate_digest",
    "certificate_fingerprint",
    "check_credential",
    "check_peer_url",
    "client_context",
    "credential_files",
    "generate_credential",
    "is_loopback_host",
    "normalise_certificate",
    "parse_certificate",
    "peer_client_verify",
    "server_context",
    "uses_tls",
]
