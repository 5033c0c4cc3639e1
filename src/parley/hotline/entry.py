"""One entry of a party's hotline log: its fields, its exact signed bytes and its wire form.

**Signed bytes** (what the Ed25519 signature covers, what ``prev_hash`` and the Merkle leaf hash)::

    parley-hotline-entry/v1\\n{canonical JSON of the twelve fields}

The JSON is the canonical encoding of :mod:`parley.hotline.canonical` (sorted keys, no whitespace,
UTF-8, integers only), so it never holds a raw newline.

**Wire and storage form**: three lines, each ending in ``\\n``: the header, the JSON body, and the
signature in padded standard base64 (88 characters)::

    parley-hotline-entry/v1\\n{...}\\n<base64 of the 64-byte signature>\\n

:func:`parse_signed_entry` refuses anything but that exact form: more than 64 KiB, a missing
header, a missing or extra line, bytes after the signature line, a signature that is not the
canonical base64 of 64 bytes, a body that is not canonical JSON (it is re-encoded and compared byte
for byte), unknown or missing fields, wrong types. It never re-serialises: the signature is checked
over the bytes as received. ``entry_hash`` is the hex SHA-256 of the signed bytes.
"""

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from parley.hotline.canonical import (
    MAX_SAFE_INTEGER,
    CanonicalJSONError,
    decode_canonical,
    encode_canonical,
)
from parley.hotline.errors import MalformedError, SignatureError
from parley.hotline.keys import SIGNATURE_SIZE, PartyKey, PublicIdentity
from parley.hotline.msgid import is_msg_id, parse_utc_ms

ENTRY_HEADER = b"parley-hotline-entry/v1\n"
MAX_ENTRY_BYTES = 64 * 1024
ZERO_HASH = "0" * 64
ENTRY_TYPES = ("message", "ack", "unacknowledged", "test", "catalogue", "key-rotation")
LANGUAGES = ("en", "ru")
FIELD_NAMES = (
    "catalogue_version",
    "fields",
    "in_reply_to",
    "language",
    "log_id",
    "msg_id",
    "peer_ref",
    "prev_hash",
    "seq",
    "template",
    "time",
    "type",
)
MAX_TEMPLATE_ID = 999

_SIGNATURE_B64_SIZE = 88
_HEX_HASH = re.compile(r"[0-9a-f]{64}")
_PARTY = re.compile(r"[A-Za-z0-9._-]{1,64}")
_LOG_ID = re.compile(r"parley/[A-Za-z0-9._-]{1,64}/[0-9a-f]{16}")
_VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z.+-]{0,31}")
_FIELD_KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")
_DEFAULTS: dict[str, object] = {
    "in_reply_to": None,
    "peer_ref": None,
    "language": None,
    "template": None,
    "fields": {},
}


class MalformedEntryError(MalformedError):
    """Bytes or values that are not a well-formed hotline entry; the message says which part."""


class EntrySignatureError(SignatureError):
    """An entry is not signed by the key of the log it claims to belong to."""


@dataclass(frozen=True, slots=True)
class PeerRef:
    """The size and root (hex) of the other party's log as verified when an entry was written."""

    size: int
    root: str

    def to_json(self) -> dict[str, object]:
        return {"size": self.size, "root": self.root}


@dataclass(frozen=True, slots=True)
class Entry:
    """The fields of one log entry, validated (build one with :meth:`from_json`)."""

    log_id: str
    seq: int
    prev_hash: str
    msg_id: str
    time: str
    type: str
    template: int | None
    catalogue_version: str
    in_reply_to: str | None
    peer_ref: PeerRef | None
    language: str | None
    fields: Mapping[str, str] = field(hash=False)

    @classmethod
    def from_json(cls, body: object) -> "Entry":
        """Validate a parsed JSON body; :class:`MalformedEntryError` names the first bad field."""
        if not isinstance(body, dict):
            raise MalformedEntryError(f"the body is a JSON {_json_kind(body)}, not an object")
        unknown = sorted(set(body) - set(FIELD_NAMES))
        if unknown:
            raise MalformedEntryError(f"unknown field {unknown[0]!r}")
        missing = [name for name in FIELD_NAMES if name not in body]
        if missing:
            raise MalformedEntryError(f"missing field {missing[0]!r}")
        values = {name: _VALIDATORS[name](body[name]) for name in FIELD_NAMES}
        entry = cls(**values)
        entry._check_across_fields()
        return entry

    def to_json(self) -> dict[str, object]:
        return {
            "catalogue_version": self.catalogue_version,
            "fields": dict(self.fields),
            "in_reply_to": self.in_reply_to,
            "language": self.language,
            "log_id": self.log_id,
            "msg_id": self.msg_id,
            "peer_ref": None if self.peer_ref is None else self.peer_ref.to_json(),
            "prev_hash": self.prev_hash,
            "seq": self.seq,
            "template": self.template,
            "time": self.time,
            "type": self.type,
        }

    def signed_bytes(self) -> bytes:
        """The exact bytes a signature over this entry covers."""
        return ENTRY_HEADER + encode_canonical(self.to_json())

    def _check_across_fields(self) -> None:
        if (self.seq == 0) != (self.prev_hash == ZERO_HASH):
            raise MalformedEntryError(
                "field 'prev_hash': must be 64 zeros for seq 0 and only for seq 0"
            )
        if self.in_reply_to == self.msg_id:
            raise MalformedEntryError("field 'in_reply_to': an entry cannot reply to itself")


@dataclass(frozen=True, slots=True)
class SignedEntry:
    """An entry with its exact signed bytes, its signature and its wire form.

    Made by :func:`sign_entry` or :func:`parse_signed_entry`, never by hand: the three byte
    strings must agree.
    """

    entry: Entry
    signed_bytes: bytes
    signature: bytes
    raw: bytes
    entry_hash: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "entry_hash", hashlib.sha256(self.signed_bytes).hexdigest())

    @property
    def seq(self) -> int:
        return self.entry.seq

    @property
    def msg_id(self) -> str:
        return self.entry.msg_id

    def verify(self, identity: PublicIdentity) -> bool:
        """Whether the signature over the received bytes is ``identity``'s."""
        return identity.verify(self.signature, self.signed_bytes)

    def require_signed_by(self, identity: PublicIdentity) -> None:
        """Raise :class:`EntrySignatureError` unless ``identity`` signed this entry for its log."""
        expected = log_id_for(identity)
        if self.entry.log_id != expected:
            raise EntrySignatureError(
                f"seq {self.seq}: entry of log {self.entry.log_id!r}, expected {expected!r}"
            )
        if not self.verify(identity):
            raise EntrySignatureError(
                f"seq {self.seq}: bad signature (not {identity.party}'s key, or altered bytes)"
            )


def log_id_for(identity: PublicIdentity) -> str:
    """The id of a party's log: ``parley/<party>/<first 16 hex digits of SHA-256(public key)>``."""
    if not _PARTY.fullmatch(identity.party):
        raise MalformedEntryError(
            f"party name {identity.party!r} must be 1–64 letters, digits, '.', '_' or '-'"
        )
    return f"parley/{identity.party}/{hashlib.sha256(identity.public_key).hexdigest()[:16]}"


def sign(key: PartyKey, entry: Entry) -> SignedEntry:
    """Sign an entry of ``key``'s own log."""
    expected = log_id_for(key.identity)
    if entry.log_id != expected:
        raise MalformedEntryError(
            f"field 'log_id': {entry.log_id!r} is not this key's log ({expected!r})"
        )
    signed = entry.signed_bytes()
    signature = key.sign(signed)
    raw = signed + b"\n" + base64.b64encode(signature) + b"\n"
    if len(raw) > MAX_ENTRY_BYTES:
        raise MalformedEntryError(f"oversized: {len(raw)} bytes (limit {MAX_ENTRY_BYTES})")
    return SignedEntry(entry, signed, signature, raw)


def sign_entry(key: PartyKey, **values: Any) -> SignedEntry:
    """Build, validate and sign an entry from keyword fields.

    ``log_id`` defaults to the key's log; ``template``, ``in_reply_to``, ``peer_ref`` and
    ``language`` to null; ``fields`` to ``{}``. ``peer_ref`` may be a :class:`PeerRef` or a dict.
    """
    body: dict[str, object] = {**_DEFAULTS, "log_id": log_id_for(key.identity), **values}
    if isinstance(body["peer_ref"], PeerRef):
        body["peer_ref"] = body["peer_ref"].to_json()
    if isinstance(body["fields"], Mapping):
        body["fields"] = dict(body["fields"])
    return sign(key, Entry.from_json(body))


def parse_signed_entry(raw: bytes) -> SignedEntry:
    """Parse the wire form; :class:`MalformedEntryError` says what is wrong. The signature is not
    checked here (that needs the log owner's identity): see :func:`verify_signed_entry`."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise MalformedEntryError(f"an entry is bytes, got {type(raw).__name__}")
    raw = bytes(raw)
    if len(raw) > MAX_ENTRY_BYTES:
        raise MalformedEntryError(f"oversized: {len(raw)} bytes (limit {MAX_ENTRY_BYTES})")
    if not raw.startswith(ENTRY_HEADER):
        raise MalformedEntryError("not a hotline entry (no 'parley-hotline-entry/v1' header line)")
    body_end = raw.find(b"\n", len(ENTRY_HEADER))
    signature_end = raw.find(b"\n", body_end + 1) if body_end >= 0 else -1
    if signature_end < 0:
        raise MalformedEntryError("truncated: expected a body line and a signature line")
    if signature_end + 1 != len(raw):
        raise MalformedEntryError(f"{len(raw) - signature_end - 1} bytes after the signature line")
    signature = _decode_signature(raw[body_end + 1 : signature_end])
    signed = raw[:body_end]
    try:
        body = decode_canonical(signed[len(ENTRY_HEADER) :])
    except CanonicalJSONError as exc:
        raise MalformedEntryError(f"body: {exc}") from None
    return SignedEntry(Entry.from_json(body), signed, signature, raw)


def verify_signed_entry(raw: bytes, identity: PublicIdentity) -> SignedEntry:
    """Parse the wire form and require that ``identity`` signed it for its own log."""
    signed = parse_signed_entry(raw)
    signed.require_signed_by(identity)
    return signed


def _decode_signature(line: bytes) -> bytes:
    try:
        signature = base64.b64decode(line, validate=True)
    except (binascii.Error, ValueError):
        signature = b""
    # Re-encoding refuses the unused low bits of the last character being set: one canonical form.
    if len(signature) != SIGNATURE_SIZE or base64.b64encode(signature) != line:
        raise MalformedEntryError(
            f"the signature line is not the base64 of {SIGNATURE_SIZE} bytes "
            f"({_SIGNATURE_B64_SIZE} characters)"
        )
    return signature


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__


def _bad(name: str, expected: str, value: object) -> MalformedEntryError:
    shown = repr(value) if isinstance(value, str | int) else f"a {_json_kind(value)}"
    if isinstance(value, str) and len(shown) > 40:
        shown = shown[:37] + "...'"
    return MalformedEntryError(f"field {name!r}: expected {expected}, got {shown}")


def _text(name: str, pattern: re.Pattern[str], expected: str) -> Callable[[object], str]:
    def check(value: object) -> str:
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise _bad(name, expected, value)
        return value

    return check


def _optional(check: Callable[[object], Any]) -> Callable[[object], Any]:
    return lambda value: None if value is None else check(value)


def _integer(name: str, low: int, high: int) -> Callable[[object], int]:
    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _bad(name, f"an integer from {low} to {high}", value)
        return value

    return check


def _choice(name: str, choices: tuple[str, ...]) -> Callable[[object], str]:
    def check(value: object) -> str:
        if not isinstance(value, str) or value not in choices:
            raise _bad(name, "one of " + ", ".join(choices), value)
        return value

    return check


def _msg_id(name: str) -> Callable[[object], str]:
    def check(value: object) -> str:
        if not isinstance(value, str) or not is_msg_id(value):
            raise _bad(name, "a message id (26 Crockford base32 characters)", value)
        return value

    return check


def _time(value: object) -> str:
    expected = "a UTC time YYYY-MM-DDTHH:MM:SS.mmmZ"
    if not isinstance(value, str):
        raise _bad("time", expected, value)
    try:
        parse_utc_ms(value)
    except ValueError:
        raise _bad("time", expected, value) from None
    return value


def _peer_ref(value: object) -> PeerRef:
    if not isinstance(value, dict) or set(value) != {"size", "root"}:
        raise _bad("peer_ref", 'null or {"size": n, "root": hex}', value)
    size = _integer("peer_ref.size", 0, MAX_SAFE_INTEGER)(value["size"])
    root = _text("peer_ref.root", _HEX_HASH, "64 lower-case hex digits")(value["root"])
    return PeerRef(size, root)


def _fields(value: object) -> Mapping[str, str]:
    if not isinstance(value, dict):
        raise _bad("fields", "an object of strings", value)
    for key, item in value.items():
        if not isinstance(key, str) or not _FIELD_KEY.fullmatch(key):
            raise MalformedEntryError(
                f"field 'fields': key {key!r} is not lower-case letters, digits and '_'"
            )
        if not isinstance(item, str):
            raise _bad(f"fields.{key}", "a string", item)
    return MappingProxyType(dict(value))


_VALIDATORS: dict[str, Callable[[object], Any]] = {
    "catalogue_version": _text("catalogue_version", _VERSION, "a version such as '1.0'"),
    "fields": _fields,
    "in_reply_to": _optional(_msg_id("in_reply_to")),
    "language": _optional(_choice("language", LANGUAGES)),
    "log_id": _text("log_id", _LOG_ID, "'parley/<party>/<16 hex digits>'"),
    "msg_id": _msg_id("msg_id"),
    "peer_ref": _optional(_peer_ref),
    "prev_hash": _text("prev_hash", _HEX_HASH, "64 lower-case hex digits"),
    "seq": _integer("seq", 0, MAX_SAFE_INTEGER),
    "template": _optional(_integer("template", 1, MAX_TEMPLATE_ID)),
    "time": _time,
    "type": _choice("type", ENTRY_TYPES),
}


__all__ = [
    "ENTRY_HEADER",
    "ENTRY_TYPES",
    "FIELD_NAMES",
    "LANGUAGES",
    "MAX_ENTRY_BYTES",
    "ZERO_HASH",
    "Entry",
    "EntrySignatureError",
    "MalformedEntryError",
    "PeerRef",
    "SignedEntry",
    "log_id_for",
    "parse_signed_entry",
    "sign",
    "sign_entry",
    "verify_signed_entry",
]
