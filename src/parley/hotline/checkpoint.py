"""Signed checkpoints, cosignatures and joint checkpoints, in the C2SP formats.

* A **signed note** (c2sp.org/signed-note) is a text ending in a newline, a blank line, and one or
  more lines ``— <key name> <base64(4-byte key ID ‖ signature)>``. The key ID is the first four
  bytes of SHA-256(key name ‖ 0x0A ‖ signature type ‖ public key); type 0x01 is Ed25519 over the
  text.
* A **checkpoint** (c2sp.org/tlog-checkpoint) is a note whose text is ``<origin>\\n<size>\\n<base64
  root>\\n``: the head of one party's log, signed by that party (type 0x01).
* A **cosignature** (c2sp.org/tlog-cosignature, type 0x04) is the witness's signature over
  ``cosignature/v1\\ntime <POSIX seconds>\\n`` followed by the checkpoint text, written as
  base64(key ID ‖ 8-byte big-endian time ‖ Ed25519 signature). On the hotline it is the delivery
  receipt: the peer stored everything up to this checkpoint.
* A **joint checkpoint** (Parley's own) holds both logs' heads in one text, signed by both parties
  with ordinary type 0x01 signatures: the record both sides agree on, for the political level.

Everything here is a note: a cosigned checkpoint is the checkpoint text with the witness's line,
and :func:`merge_notes` gathers the lines of several notes over the same text into one.

Deliberate tightenings of the C2SP formats (every note we write is still a valid C2SP note):

* a note text may not contain an empty line (C2SP allows them); so a doubled blank line before the
  signatures is reported as malformed instead of silently becoming part of the text;
* base64 must be canonical (the one encoding of its bytes), so a note has one spelling;
* :func:`sign_note` refuses a text that starts with ``cosignature/v1``: each party uses one Ed25519
  key for its checkpoints (0x01) and its cosignatures (0x04), and this keeps the two kinds of
  signed message apart (the domain separation the signed-note spec asks for when a key is reused).
"""

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from parley.hotline.errors import MalformedError, SignatureError
from parley.hotline.keys import PUBLIC_KEY_SIZE, SIGNATURE_SIZE, PartyKey, verify_signature
from parley.hotline.merkle import HASH_SIZE, MAX_TREE_SIZE

SIGNATURE_TYPE_ED25519 = 0x01
SIGNATURE_TYPE_COSIGNATURE = 0x04
COSIGNATURE_HEADER = "cosignature/v1"
JOINT_CHECKPOINT_HEADER = "parley/joint-checkpoint/v1"
#: The signed-note spec asks verifiers to accept at least 16 signatures; Go's note package caps 100.
MAX_SIGNATURES = 100
MAX_NOTE_BYTES = 64 * 1024
#: Cosignature timestamps are at most 2**63 - 1 (tlog-cosignature).
MAX_TIMESTAMP = 2**63 - 1

_SIGNATURE_PREFIX = "— "
_KEY_ID_SIZE = 4
_TIMESTAMP_SIZE = 8
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


def key_id(key_name: str, public_key: bytes, signature_type: int) -> bytes:
    """The 4-byte key ID: SHA-256(key name ‖ 0x0A ‖ signature type ‖ public key)[:4]."""
    material = key_name.encode("utf-8") + b"\n" + bytes([signature_type]) + public_key
    return hashlib.sha256(material).digest()[:_KEY_ID_SIZE]


def _check_key_name(key_name: str) -> None:
    if not key_name or "+" in key_name or any(ch.isspace() for ch in key_name):
        raise MalformedError(f"invalid key name {key_name!r} (non-empty, no spaces, no '+')")
    if _CONTROL.search(key_name) or "\n" in key_name:
        raise MalformedError(f"invalid key name {key_name!r} (control characters)")


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64decode(text: str, what: str) -> bytes:
    """Strict, canonical standard base64 (RFC 4648 §4)."""
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError) as exc:
        raise MalformedError(f"{what} is not valid base64") from exc
    if _b64encode(data) != text:
        raise MalformedError(f"{what} is not canonical base64")
    return data


@dataclass(frozen=True, slots=True)
class NoteVerifier:
    """A trusted key: a key name, an Ed25519 public key and the signature type it is trusted for
    (0x01 for a log's own signatures, 0x04 for a witness's cosignatures)."""

    key_name: str
    public_key: bytes
    signature_type: int = SIGNATURE_TYPE_ED25519
    key_id: bytes = field(init=False)

    def __post_init__(self) -> None:
        _check_key_name(self.key_name)
        if len(self.public_key) != PUBLIC_KEY_SIZE:
            raise MalformedError(f"the key of {self.key_name} is not a 32-byte Ed25519 key")
        if self.signature_type not in (SIGNATURE_TYPE_ED25519, SIGNATURE_TYPE_COSIGNATURE):
            raise MalformedError(f"unsupported signature type {self.signature_type:#04x}")
        kid = key_id(self.key_name, self.public_key, self.signature_type)
        object.__setattr__(self, "key_id", kid)

    @classmethod
    def signer(cls, key_name: str, public_key: bytes) -> "NoteVerifier":
        """Trust ``public_key`` for ordinary note signatures (checkpoints, joint checkpoints)."""
        return cls(key_name, public_key, SIGNATURE_TYPE_ED25519)

    @classmethod
    def cosigner(cls, key_name: str, public_key: bytes) -> "NoteVerifier":
        """Trust ``public_key`` for timestamped cosignatures (delivery receipts)."""
        return cls(key_name, public_key, SIGNATURE_TYPE_COSIGNATURE)

    @classmethod
    def from_vkey(cls, vkey: str) -> "NoteVerifier":
        """Parse the signed-note verifier key text ``<name>+<hex key ID>+<base64(type ‖ key)>``."""
        parts = vkey.split("+", 2)
        if len(parts) != 3:
            raise MalformedError("a verifier key is <name>+<hex key ID>+<base64 key>")
        name, kid_hex, material_b64 = parts
        material = _b64decode(material_b64, f"the verifier key of {name}")
        if not material:
            raise MalformedError(f"the verifier key of {name} is empty")
        verifier = cls(name, material[1:], material[0])
        if kid_hex != verifier.key_id.hex():
            raise MalformedError(f"the verifier key of {name} has the wrong key ID {kid_hex}")
        return verifier

    def vkey(self) -> str:
        """The verifier key text, for configuration and out-of-band comparison."""
        material = bytes([self.signature_type]) + self.public_key
        return f"{self.key_name}+{self.key_id.hex()}+{_b64encode(material)}"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The head of one log: its origin (log identity), size (number of entries) and root."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin or _CONTROL.search(self.origin):
            raise MalformedError(f"invalid checkpoint origin {self.origin!r}")
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise MalformedError(f"the checkpoint size must be an integer, got {self.size!r}")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise MalformedError(f"the checkpoint size {self.size} is out of range")
        if not isinstance(self.root, bytes) or len(self.root) != HASH_SIZE:
            raise MalformedError(f"the checkpoint root must be {HASH_SIZE} bytes")
        for line in self.extensions:
            if not line or "\n" in line or _CONTROL.search(line):
                raise MalformedError(f"invalid checkpoint extension line {line!r}")

    def body(self) -> str:
        """The note text: ``<origin>\\n<size>\\n<base64 root>\\n`` and any extension lines."""
        lines = [self.origin, str(self.size), _b64encode(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines)


def _body_lines(body: str, what: str) -> list[str]:
    if not body.endswith("\n"):
        raise MalformedError(f"{what} does not end with a newline")
    lines = body[:-1].split("\n")
    if any(not line for line in lines):
        raise MalformedError(f"{what} has an empty line")
    return lines


def _parse_size(text: str, what: str) -> int:
    if not _DECIMAL.fullmatch(text) or int(text) > MAX_TREE_SIZE:
        raise MalformedError(f"{what} {text!r} is not a decimal tree size")
    return int(text)


def _parse_root(text: str, what: str) -> bytes:
    root = _b64decode(text, what)
    if len(root) != HASH_SIZE:
        raise MalformedError(f"{what} is {len(root)} bytes, not {HASH_SIZE}")
    return root


def parse_checkpoint(body: str) -> Checkpoint:
    """The checkpoint in a note text (after :func:`open_note` has verified it)."""
    lines = _body_lines(body, "the checkpoint")
    if len(lines) < 3:
        raise MalformedError("a checkpoint has an origin, a size and a root line")
    size = _parse_size(lines[1], "the checkpoint size")
    root = _parse_root(lines[2], "the checkpoint root")
    return Checkpoint(lines[0], size, root, tuple(lines[3:]))


def joint_checkpoint_body(a: Checkpoint, b: Checkpoint) -> str:
    """The text both parties sign for a joint checkpoint: a header line, then origin, size and
    root of each log, ordered by origin so both parties write the very same bytes."""
    if a.origin == b.origin:
        raise MalformedError(f"a joint checkpoint needs two logs, both are {a.origin!r}")
    if a.extensions or b.extensions:
        raise MalformedError("a joint checkpoint holds checkpoints without extension lines")
    first, second = sorted((a, b), key=lambda checkpoint: checkpoint.origin)
    return JOINT_CHECKPOINT_HEADER + "\n" + first.body() + second.body()


def parse_joint_checkpoint(body: str) -> tuple[Checkpoint, Checkpoint]:
    """The two checkpoints of a joint checkpoint text, in origin order."""
    lines = _body_lines(body, "the joint checkpoint")
    if len(lines) != 7 or lines[0] != JOINT_CHECKPOINT_HEADER:
        raise MalformedError(
            f"a joint checkpoint is the line {JOINT_CHECKPOINT_HEADER!r} and two checkpoints"
        )
    heads = tuple(
        Checkpoint(
            lines[i],
            _parse_size(lines[i + 1], "a joint checkpoint size"),
            _parse_root(lines[i + 2], "a joint checkpoint root"),
        )
        for i in (1, 4)
    )
    if not heads[0].origin < heads[1].origin:
        raise MalformedError("the logs of a joint checkpoint must be in origin order, once each")
    return heads[0], heads[1]


class SignatureLine(NamedTuple):
    """One parsed signature line (not yet verified)."""

    key_name: str
    key_id: bytes
    payload: bytes

    def text(self) -> str:
        return f"{_SIGNATURE_PREFIX}{self.key_name} {_b64encode(self.key_id + self.payload)}\n"


class OpenedNote(NamedTuple):
    """A note whose signatures were checked: its text, the key names whose signatures verified
    (in note order, each once) and, for each verified cosigner, its POSIX timestamp."""

    body: str
    signers: list[str]
    cosigned_at: dict[str, int]


def _check_text(body: str) -> None:
    if _CONTROL.search(body):
        raise MalformedError("the note contains a control character")
    if not body or body == "\n":
        raise MalformedError("the note text is empty")
    try:
        body.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise MalformedError("the note text is not valid Unicode text") from exc
    _body_lines(body, "the note text")


def _parse_signature_line(line: str, number: int) -> SignatureLine:
    where = f"signature line {number}"
    if not line.startswith(_SIGNATURE_PREFIX):
        raise MalformedError(f"{where} does not start with '— ' (em dash, space)")
    parts = line[len(_SIGNATURE_PREFIX) :].split(" ")
    if len(parts) != 2:
        raise MalformedError(f"{where} is not '— <key name> <base64 signature>'")
    name, encoded = parts
    _check_key_name(name)
    blob = _b64decode(encoded, f"the signature of {name} ({where})")
    if len(blob) <= _KEY_ID_SIZE:
        raise MalformedError(f"the signature of {name} ({where}) is too short")
    return SignatureLine(name, blob[:_KEY_ID_SIZE], blob[_KEY_ID_SIZE:])


def split_note(note_text: str | bytes) -> tuple[str, list[SignatureLine]]:
    """The text and the parsed signature lines of a note; raises :class:`MalformedError`."""
    if isinstance(note_text, bytes):
        if len(note_text) > MAX_NOTE_BYTES:
            raise MalformedError(f"the note is larger than {MAX_NOTE_BYTES} bytes")
        try:
            note_text = note_text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedError("the note is not valid UTF-8") from exc
    try:
        encoded_size = len(note_text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise MalformedError("the note is not valid Unicode text") from exc
    if encoded_size > MAX_NOTE_BYTES:
        raise MalformedError(f"the note is larger than {MAX_NOTE_BYTES} bytes")
    if _CONTROL.search(note_text):
        raise MalformedError("the note contains a control character")
    split = note_text.rfind("\n\n")
    if split < 0:
        raise MalformedError("the note has no blank line before its signatures")
    body, block = note_text[: split + 1], note_text[split + 2 :]
    if not block:
        raise MalformedError("the note has no signature lines after its blank line")
    if body.endswith("\n\n"):
        raise MalformedError("the note has more than one blank line before its signatures")
    _check_text(body)
    if not block.endswith("\n"):
        raise MalformedError("the note's signatures do not end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedError(f"the note has more than {MAX_SIGNATURES} signatures")
    return body, [_parse_signature_line(line, n) for n, line in enumerate(lines, start=1)]


def _assemble(body: str, lines: Iterable[SignatureLine]) -> str:
    unique = dict.fromkeys(line.text() for line in lines)
    note = body + "\n" + "".join(unique)
    if len(note.encode("utf-8")) > MAX_NOTE_BYTES:
        raise MalformedError(f"the note would be larger than {MAX_NOTE_BYTES} bytes")
    return note


def _cosigned_message(body: str, timestamp: int) -> bytes:
    return f"{COSIGNATURE_HEADER}\ntime {timestamp}\n{body}".encode()


def sign_note(body: str, key_name: str, party_key: PartyKey) -> str:
    """The note of ``body`` signed (Ed25519, type 0x01) by ``party_key`` under ``key_name``."""
    _check_text(body)
    _check_key_name(key_name)
    if body.startswith(COSIGNATURE_HEADER + "\n"):
        raise MalformedError(f"a note text may not start with {COSIGNATURE_HEADER!r}")
    kid = key_id(key_name, party_key.public_key, SIGNATURE_TYPE_ED25519)
    signature = party_key.sign(body.encode("utf-8"))
    return _assemble(body, [SignatureLine(key_name, kid, signature)])


def cosign_note(body: str, key_name: str, party_key: PartyKey, timestamp: int) -> str:
    """The checkpoint text ``body`` with a tlog-cosignature (type 0x04) by ``party_key``, dated
    ``timestamp`` (POSIX seconds): the witness's receipt for everything up to that checkpoint."""
    parse_checkpoint(body)
    _check_key_name(key_name)
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise MalformedError(f"a cosignature timestamp is an integer, got {timestamp!r}")
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise MalformedError(f"the cosignature timestamp {timestamp} is out of range")
    kid = key_id(key_name, party_key.public_key, SIGNATURE_TYPE_COSIGNATURE)
    signature = party_key.sign(_cosigned_message(body, timestamp))
    payload = timestamp.to_bytes(_TIMESTAMP_SIZE, "big") + signature
    return _assemble(body, [SignatureLine(key_name, kid, payload)])


def merge_notes(*notes: str) -> str:
    """One note carrying the signature lines of several notes over the same text (a checkpoint
    and the peer's cosignature; the two halves of a joint checkpoint). Verifies nothing."""
    if not notes:
        raise MalformedError("no notes to merge")
    parsed = [split_note(note) for note in notes]
    body = parsed[0][0]
    if any(other != body for other, _ in parsed[1:]):
        raise MalformedError("only notes over the same text can be merged")
    lines = [line for _, note_lines in parsed for line in note_lines]
    if len(lines) > MAX_SIGNATURES:
        raise MalformedError(f"the merged note would have more than {MAX_SIGNATURES} signatures")
    return _assemble(body, lines)


def _index_verifiers(verifiers: Iterable[NoteVerifier]) -> dict[tuple[str, bytes], NoteVerifier]:
    index: dict[tuple[str, bytes], NoteVerifier] = {}
    for verifier in verifiers:
        slot = (verifier.key_name, verifier.key_id)
        if slot in index and index[slot] != verifier:
            raise SignatureError(f"ambiguous key {verifier.key_name}+{verifier.key_id.hex()}")
        index[slot] = verifier
    return index


def _verify_line(
    body: str, line: SignatureLine, verifier: NoteVerifier, now: int | None, max_future_s: int
) -> int | None:
    """Check one line from a trusted key; return its timestamp for a cosignature."""
    label = f"{line.key_name}+{line.key_id.hex()}"
    if verifier.signature_type == SIGNATURE_TYPE_ED25519:
        if not verify_signature(verifier.public_key, line.payload, body.encode("utf-8")):
            raise SignatureError(f"the signature of {label} does not verify")
        return None
    if len(line.payload) != _TIMESTAMP_SIZE + SIGNATURE_SIZE:
        raise SignatureError(f"the cosignature of {label} has the wrong length")
    timestamp = int.from_bytes(line.payload[:_TIMESTAMP_SIZE], "big")
    signature = line.payload[_TIMESTAMP_SIZE:]
    if timestamp > MAX_TIMESTAMP:
        raise SignatureError(f"the cosignature of {label} has an out-of-range timestamp")
    if not verify_signature(verifier.public_key, signature, _cosigned_message(body, timestamp)):
        raise SignatureError(f"the cosignature of {label} does not verify")
    if now is not None and timestamp > now + max_future_s:
        raise SignatureError(
            f"the cosignature of {label} is dated {timestamp}, "
            f"{timestamp - now} s ahead of this node's clock"
        )
    return timestamp


def _no_trusted_signature(lines: list[SignatureLine], trusted: Iterable[NoteVerifier]) -> str:
    present = ", ".join(f"{line.key_name}+{line.key_id.hex()}" for line in lines)
    known = {verifier.key_name: verifier for verifier in trusted}
    wrong = [line.key_name for line in lines if line.key_name in known]
    hint = f" (a key named {wrong[0]} signed, but not the trusted one)" if wrong else ""
    return f"no signature from a trusted key: the note is signed by {present}{hint}"


def open_note(
    note_text: str | bytes,
    verifiers: Iterable[NoteVerifier],
    *,
    now: int | None = None,
    max_future_s: int = 300,
) -> OpenedNote:
    """Check a note against trusted keys, the signed-note rules: lines from unknown keys are
    ignored; a line from a trusted key that fails rejects the whole note; at least one trusted
    signature must verify. With ``now`` (POSIX seconds), cosignatures dated more than
    ``max_future_s`` ahead of it are rejected. Raises :class:`MalformedError` or
    :class:`SignatureError` with the reason."""
    body, lines = split_note(note_text)
    trusted = _index_verifiers(verifiers)
    signers: dict[str, None] = {}
    cosigned_at: dict[str, int] = {}
    for line in lines:
        verifier = trusted.get((line.key_name, line.key_id))
        if verifier is None:
            continue
        timestamp = _verify_line(body, line, verifier, now, max_future_s)
        signers[line.key_name] = None
        if timestamp is not None:
            cosigned_at[line.key_name] = timestamp
    if not signers:
        raise SignatureError(_no_trusted_signature(lines, trusted.values()))
    return OpenedNote(body, list(signers), cosigned_at)


__all__ = [
    "COSIGNATURE_HEADER",
    "JOINT_CHECKPOINT_HEADER",
    "MAX_NOTE_BYTES",
    "MAX_SIGNATURES",
    "MAX_TIMESTAMP",
    "SIGNATURE_TYPE_COSIGNATURE",
    "SIGNATURE_TYPE_ED25519",
    "Checkpoint",
    "NoteVerifier",
    "OpenedNote",
    "SignatureLine",
    "cosign_note",
    "joint_checkpoint_body",
    "key_id",
    "merge_notes",
    "open_note",
    "parse_checkpoint",
    "parse_joint_checkpoint",
    "sign_note",
    "split_note",
]
