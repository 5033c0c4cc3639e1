"""Signed requests between the two nodes: no bearer tokens, every request carries a signature.

The sender signs, with its party key, the text::

    parley-peer-request/v1
    <METHOD>
    <path and query, exactly as sent>
    <Parley-Date: UTC time YYYY-MM-DDTHH:MM:SS.mmmZ>
    <Parley-Nonce: 32 hex digits, fresh for every request>
    <hex SHA-256 of the body>

and sends it in the headers ``Parley-Date``, ``Parley-Nonce`` and ``Parley-Signature`` (base64).
The receiver verifies the signature with the trusted peer key, refuses a date more than
``max_skew_s`` away from its own clock, and refuses a nonce it has already seen within that window
(a replayed request).
"""

import base64
import binascii
import hashlib
import re
import secrets
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta

from parley.hotline.errors import HotlineError
from parley.hotline.keys import PartyKey, PublicIdentity
from parley.hotline.msgid import format_utc_ms, parse_utc_ms

REQUEST_CONTEXT = "parley-peer-request/v1"
DATE_HEADER = "Parley-Date"
NONCE_HEADER = "Parley-Nonce"
SIGNATURE_HEADER = "Parley-Signature"
#: Seconds a request's date may differ from the receiver's clock.
MAX_SKEW_S = 120.0

_NONCE = re.compile(r"[0-9a-f]{32}")


class PeerAuthError(HotlineError):
    """A peer request failed authentication; the message says why."""


def request_message(method: str, target: str, date: str, nonce: str, body: bytes) -> bytes:
    """The exact bytes a request signature covers."""
    digest = hashlib.sha256(body).hexdigest()
    return f"{REQUEST_CONTEXT}\n{method.upper()}\n{target}\n{date}\n{nonce}\n{digest}\n".encode()


def sign_request(
    key: PartyKey, method: str, target: str, body: bytes, now: datetime
) -> dict[str, str]:
    """The headers that authenticate one request (``target``: path and query as sent)."""
    date = format_utc_ms(now)
    nonce = secrets.token_hex(16)
    signature = key.sign(request_message(method, target, date, nonce, body))
    return {
        DATE_HEADER: date,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: base64.b64encode(signature).decode("ascii"),
    }


class RequestVerifier:
    """Checks the peer's request signatures and remembers recent nonces (thread-safe)."""

    def __init__(self, peer: PublicIdentity, max_skew_s: float = MAX_SKEW_S) -> None:
        self.peer = peer
        self.max_skew = timedelta(seconds=max_skew_s)
        self._seen: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def verify(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes,
        now: datetime,
    ) -> None:
        """Raise :class:`PeerAuthError` unless the request is signed, fresh and not replayed."""
        date, nonce, signature = _auth_headers(headers)
        try:
            sent_at = parse_utc_ms(date)
        except ValueError:
            raise PeerAuthError(f"{DATE_HEADER} {date!r} is not a UTC time") from None
        if abs(now - sent_at) > self.max_skew:
            raise PeerAuthError(
                f"stale request: {DATE_HEADER} {date} is more than "
                f"{self.max_skew.total_seconds():g} s from our clock"
            )
        message = request_message(method, target, date, nonce, body)
        if not self.peer.verify(signature, message):
            raise PeerAuthError(f"the request signature is not {self.peer.party}'s signature")
        with self._lock:
            self._forget_before(now - self.max_skew)
            if nonce in self._seen:
                raise PeerAuthError(f"replayed request: nonce {nonce} was already used")
            self._seen[nonce] = sent_at

    def _forget_before(self, limit: datetime) -> None:
        for nonce in [n for n, sent_at in self._seen.items() if sent_at < limit]:
            del self._seen[nonce]


def _auth_headers(headers: Mapping[str, str]) -> tuple[str, str, bytes]:
    missing = [h for h in (DATE_HEADER, NONCE_HEADER, SIGNATURE_HEADER) if not headers.get(h)]
    if missing:
        raise PeerAuthError(f"unsigned request: missing header {', '.join(missing)}")
    nonce = headers[NONCE_HEADER]
    if not _NONCE.fullmatch(nonce):
        raise PeerAuthError(f"{NONCE_HEADER} is not 32 lower-case hex digits")
    try:
        signature = base64.b64decode(headers[SIGNATURE_HEADER], validate=True)
    except (binascii.Error, ValueError):
        raise PeerAuthError(f"{SIGNATURE_HEADER} is not base64") from None
    return headers[DATE_HEADER], nonce, signature


__all__ = [
    "DATE_HEADER",
    "MAX_SKEW_S",
    "NONCE_HEADER",
    "SIGNATURE_HEADER",
    "PeerAuthError",
    "RequestVerifier",
    "request_message",
    "sign_request",
]
