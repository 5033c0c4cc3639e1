"""Signed bundles: a log carried on removable media while the link is cut.

A bundle is one UTF-8 JSON file::

    {"format": "parley-hotline-bundle/v1", "manifest": "<signed note>", "payload": "<base64>"}

``payload`` is the canonical JSON (:mod:`.canonical`) of::

    {"log_id": …, "after_seq": N, "entries": [base64 of each entry's wire form, seq N+1…],
     "checkpoint": "<the exporter's latest signed checkpoint note>",
     "consistency": {"from_size": m, "proof": [hex…]},   # from the size the importer last cosigned
     "receipt": "<the exporter's cosignature over the importer's checkpoint>" or null,
     "exported_at": "<UTC time>"}

``manifest`` is a C2SP signed note by the exporter's key (key name: its log id) over::

    parley-hotline-bundle/v1
    <log id>
    entries <first seq> <count>
    checkpoint <size>
    sha256 <hex SHA-256 of the payload bytes>

Importing verifies everything before storing anything, in one transaction: the manifest signature
with the trusted peer key, the payload hash, each entry through a :class:`LogReplica` of the stored
log (signature, chain, seq, references), the templates, the checkpoint's signature and its root
over the entries, the consistency proof from what we held, and the receipt's cosignature and root
over our own log. The replica is kept between imports (:class:`PeerReplicaCache`), so an import
verifies only the entries it brings, and a push reads only the entries after the last receipt:
replication costs what it carries, not the size of the logs. Then it stores the new entries and
the checkpoint and writes our cosignature over that checkpoint: the delivery receipt that travels
back in our next bundle.
Entries already held are harmless duplicates. Equivocation stores only the evidence, freezes the
peer's log and writes an alarm to the audit log.
"""

import base64
import binascii
import hashlib
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from parley.hotline import records
from parley.hotline.canonical import decode_canonical, encode_canonical
from parley.hotline.chain import (
    Accepted,
    Duplicate,
    Equivocation,
    EquivocationEvidence,
    LogReplica,
    Rejected,
)
from parley.hotline.checkpoint import (
    Checkpoint,
    NoteVerifier,
    cosign_note,
    open_note,
    parse_checkpoint,
    sign_note,
)
from parley.hotline.entry import MalformedEntryError, SignedEntry, log_id_for
from parley.hotline.errors import HotlineError
from parley.hotline.keys import PublicIdentity
from parley.hotline.merkle import MerkleTree, verify_consistency
from parley.hotline.msgid import format_utc_ms
from parley.hotline.templates import TemplateError, check_entry
from parley.store.engine import read, write

if TYPE_CHECKING:
    from parley.hotline.node import Node

BUNDLE_FORMAT = "parley-hotline-bundle/v1"
MAX_BUNDLE_BYTES = 256 * 1024 * 1024


class BundleError(HotlineError):
    """A bundle was refused (nothing of it stored); the message says why."""


class EquivocationError(HotlineError):
    """The peer signed two different histories: evidence kept, its log frozen, alarm raised."""


@dataclass(frozen=True, slots=True)
class ExportSummary:
    path: Path
    first_seq: int
    count: int
    checkpoint_size: int
    receipt_size: int | None


@dataclass(frozen=True, slots=True)
class ImportSummary:
    accepted: int
    duplicates: int
    peer_size: int
    delivered_size: int | None


def export_bundle(node: "Node", path: Path, after_seq: int | None = None) -> ExportSummary:
    """Write our log's entries after ``after_seq`` (default: after the last receipt) as a bundle."""
    data, summary = build_bundle(node, after_seq)
    _write_file(Path(path), data)
    with write(node.engine) as connection:
        records.add_audit(
            connection,
            node.clock(),
            node.config.party,
            "export",
            f"{path}: seqs {summary.first_seq}..{summary.first_seq + summary.count - 1}, "
            f"checkpoint {summary.checkpoint_size}",
        )
    return ExportSummary(
        Path(path), summary.first_seq, summary.count, summary.checkpoint_size, summary.receipt_size
    )


def build_bundle(
    node: "Node", after_seq: int | None = None, max_entry_bytes: int | None = None
) -> tuple[bytes, ExportSummary]:
    """The bundle document of our log after ``after_seq`` (also the peer protocol's body).

    With ``max_entry_bytes`` it stops at the first held checkpoint past that many bytes of
    entries (at least one entry), so that a long backlog travels in bounded requests.
    """
    peer_log = node.peer_log_id
    with read(node.engine) as connection:
        tree = node.own_tree(connection)
        delivered = records.latest_cosignature(connection, node.log_id)
        checkpoint = records.latest_checkpoint(connection, node.log_id)
        our_receipt = records.latest_cosignature(connection, peer_log)
        delivered_size = 0 if delivered is None else delivered.size
        after = delivered_size - 1 if after_seq is None else after_seq
        if not -1 <= after < tree.size:
            raise BundleError(f"--after {after}: our log holds seqs 0 to {tree.size - 1}")
        # Only the entries after ``after`` are read: a push costs what it carries.
        raws = records.raw_entries(connection, node.log_id, from_seq=after + 1)
        held_checkpoints = records.checkpoints(connection, node.log_id, min_size=after + 2)
    if checkpoint is None or checkpoint.size != tree.size or after + 1 + len(raws) != tree.size:
        raise BundleError(
            "our log has no checkpoint at its current size (run parley hotline verify)"
        )
    if max_entry_bytes is not None and raws:
        checkpoint = _bounded_checkpoint(held_checkpoints, raws, after, max_entry_bytes)
        raws = raws[: checkpoint.size - after - 1]
    from_size = min(delivered_size, checkpoint.size)
    payload = {
        "log_id": node.log_id,
        "after_seq": after,
        "entries": [base64.b64encode(raw).decode("ascii") for raw in raws],
        "checkpoint": checkpoint.note,
        "consistency": {
            "from_size": from_size,
            "proof": [
                node_hash.hex() for node_hash in tree.consistency_proof(from_size, checkpoint.size)
            ],
        },
        "receipt": None if our_receipt is None else our_receipt.note,
        "exported_at": format_utc_ms(node.clock()),
    }
    payload_bytes = encode_canonical(payload)
    count = len(raws)
    manifest = sign_note(
        _manifest_body(node.log_id, after + 1, count, checkpoint.size, payload_bytes),
        node.log_id,
        node.key,
    )
    document = {
        "format": BUNDLE_FORMAT,
        "manifest": manifest,
        "payload": base64.b64encode(payload_bytes).decode("ascii"),
    }
    receipt_size = None if our_receipt is None else our_receipt.size
    data = json.dumps(document, indent=1).encode("utf-8") + b"\n"
    return data, ExportSummary(Path(), after + 1, count, checkpoint.size, receipt_size)


def _bounded_checkpoint(
    held: list[records.StoredNote], raws: list[bytes], after: int, max_entry_bytes: int
) -> records.StoredNote:
    """The largest held checkpoint whose entries (``raws``: seqs ``after + 1`` on) fit
    ``max_entry_bytes``. At least one checkpoint past ``after`` is chosen, however large."""
    by_size = {note.size: note for note in held}
    best: records.StoredNote | None = None
    total = 0
    for size, raw in enumerate(raws, start=after + 2):
        total += len(raw)
        if total > max_entry_bytes and best is not None:
            return best
        best = by_size.get(size, best)
    return held[-1]


def import_bundle(node: "Node", path: Path) -> ImportSummary:
    """Verify a bundle from the peer and store it; :class:`BundleError` says why one is refused."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BundleError(f"{path}: cannot read ({exc.strerror})") from None
    return import_bundle_bytes(node, data, str(path))


class _OwnLog:
    """Our log as the running import's transaction sees it: what the peer's entries refer to."""

    def __init__(self, log_id: str) -> None:
        self.log_id = log_id
        self.connection: Connection | None = None
        self.tree = MerkleTree()

    def has_msg_id(self, msg_id: str) -> bool:
        if self.connection is None:
            raise HotlineError("the peer's log is checked only inside an import")
        return records.msg_id_log(self.connection, msg_id) == self.log_id

    def root_at(self, size: int) -> str | None:
        return self.tree.root(size).hex() if 0 <= size <= self.tree.size else None


class PeerReplicaCache:
    """The peer's log as last verified and stored, kept between imports (one per node).

    An import then verifies only the entries it brings instead of re-reading and re-verifying
    the whole stored log. Each use first checks the cache against the database, inside the
    import's transaction: the stored entry at the cache's last seq must be the very bytes held;
    entries stored since (by another process) are offered to it; anything else (a shorter or
    different stored log) rebuilds it from the stored entries, verifying each. An import that
    fails, or finds equivocation, drops the cache: entries were offered to it but not stored.
    ``verify`` always checks the stored bytes from scratch.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._replica: LogReplica | None = None
        self._own: _OwnLog | None = None

    def drop(self) -> None:
        self._replica = None

    def open(
        self, connection: Connection, peer: PublicIdentity, own_log_id: str, own_tree: MerkleTree
    ) -> tuple[LogReplica, _OwnLog]:
        """The replica of the peer's log as stored, and our log's lookups, for one import."""
        if self._own is None or self._own.log_id != own_log_id:
            self._own, self._replica = _OwnLog(own_log_id), None
        own = self._own
        own.connection, own.tree = connection, own_tree
        replica = self._replica
        if replica is None or replica.frozen or not _extend(replica, connection):
            replica = LogReplica.restore(
                peer,
                records.raw_entries(connection, log_id_for(peer)),
                peer_msg_ids=own.has_msg_id,
                peer_root_at=own.root_at,
            )
        self._replica = replica
        return replica, own


def _extend(replica: LogReplica, connection: Connection) -> bool:
    """Bring a cached replica up to the stored log; False when it no longer matches it."""
    if replica.size == 0:
        return False
    rows = records.raw_entries(connection, replica.log_id, from_seq=replica.size - 1)
    if not rows or replica.head is None or rows[0] != replica.head.raw:
        return False
    return all(isinstance(replica.offer(raw), Accepted) for raw in rows[1:])


def import_bundle_bytes(node: "Node", data: bytes, source: str) -> ImportSummary:
    """Verify a bundle document (``source`` names it in messages) and store it, as above."""
    cache = node.peer_replica
    try:
        return _import(node, cache, data, source)
    except BaseException:
        cache.drop()  # entries were offered to it and not stored (or not committed)
        raise


def _import(node: "Node", cache: PeerReplicaCache, data: bytes, source: str) -> ImportSummary:
    path = source
    peer = node.peer.identity
    peer_log = node.peer_log_id
    payload = _open_bundle(data, path, peer_log, peer.public_key)
    checkpoint_note = _text(payload, "checkpoint")
    checkpoint = _open_checkpoint(checkpoint_note, peer_log, peer.public_key, "checkpoint")
    now = node.clock()
    with write(node.engine) as connection:
        if records.log_frozen(connection, peer_log):
            raise BundleError(f"{path}: {peer_log} is frozen: an equivocation awaits a decision")
        own_tree = node.own_tree(connection)
        # Taken inside the transaction, never while waiting for the database's lock.
        with cache.lock:
            try:
                replica, own = cache.open(connection, peer, node.log_id, own_tree)
            except MalformedEntryError as exc:
                raise BundleError(f"our copy of {peer_log} fails verification: {exc}") from None
            accepted, duplicates, evidence = _offer_all(path, replica, payload, own.has_msg_id)
            own.connection = None
        if evidence is not None:
            _keep_evidence(node, connection, evidence)
        else:
            _check_head(path, replica, checkpoint, payload)
            delivered = _store_receipt(node, connection, payload, own_tree, now)
            for signed in accepted:
                records.insert_entry(connection, signed, now)
            _store_checkpoint(node, connection, checkpoint, checkpoint_note, now)
            records.add_audit(
                connection,
                now,
                node.config.party,
                "import",
                f"{path}: {len(accepted)} new, {duplicates} duplicates, {peer_log} size "
                f"{replica.size}, receipt {delivered}",
            )
    if evidence is not None:
        raise EquivocationError(
            f"{path}: EQUIVOCATION: {evidence.describe()}; evidence kept, log frozen"
        )
    return ImportSummary(len(accepted), duplicates, replica.size, delivered)


def _manifest_body(log_id: str, first: int, count: int, size: int, payload: bytes) -> str:
    return (
        f"{BUNDLE_FORMAT}\n{log_id}\nentries {first} {count}\ncheckpoint {size}\n"
        f"sha256 {hashlib.sha256(payload).hexdigest()}\n"
    )


def _open_bundle(data: bytes, path: str, peer_log: str, public_key: bytes) -> dict[str, Any]:
    """The verified payload: signed manifest, payload hash, canonical JSON, the right log."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise BundleError(f"{path}: larger than {MAX_BUNDLE_BYTES} bytes")
    try:
        document = json.loads(data.decode("utf-8"))
        if document["format"] != BUNDLE_FORMAT:
            raise BundleError(f"{path}: format {document['format']!r}, expected {BUNDLE_FORMAT}")
        manifest, encoded = str(document["manifest"]), str(document["payload"])
        payload_bytes = base64.b64decode(encoded, validate=True)
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise BundleError(f"{path}: not a hotline bundle ({type(exc).__name__}: {exc})") from None
    try:
        body = open_note(manifest, [NoteVerifier.signer(peer_log, public_key)]).body
    except HotlineError as exc:
        raise BundleError(f"{path}: bundle signature: {exc}") from None
    lines = body.splitlines()
    if len(lines) != 5 or lines[0] != BUNDLE_FORMAT or lines[1] != peer_log:
        raise BundleError(f"{path}: the signed manifest is not a bundle of {peer_log}")
    if lines[4] != f"sha256 {hashlib.sha256(payload_bytes).hexdigest()}":
        raise BundleError(f"{path}: the payload does not match its signed SHA-256 (altered)")
    try:
        payload = decode_canonical(payload_bytes)
    except HotlineError as exc:
        raise BundleError(f"{path}: payload: {exc}") from None
    if not isinstance(payload, dict) or payload.get("log_id") != peer_log:
        raise BundleError(f"{path}: the payload is not a bundle of {peer_log}")
    return payload


def _text(payload: dict[str, Any], key: str) -> str:
    value = payload.get(key)
    if not isinstance(value, str):
        raise BundleError(f"bundle payload: {key!r} is not a text")
    return value


def _open_checkpoint(note: str, log_id: str, public_key: bytes, what: str) -> Checkpoint:
    try:
        checkpoint = parse_checkpoint(
            open_note(note, [NoteVerifier.signer(log_id, public_key)]).body
        )
    except HotlineError as exc:
        raise BundleError(f"bundle {what}: {exc}") from None
    if checkpoint.origin != log_id:
        raise BundleError(f"bundle {what} is of {checkpoint.origin}, expected {log_id}")
    return checkpoint


def _offer_all(
    path: str, replica: LogReplica, payload: dict[str, Any], is_ours: Callable[[str], bool]
) -> tuple[list[SignedEntry], int, EquivocationEvidence | None]:
    entries = payload.get("entries")
    if not isinstance(entries, list):
        raise BundleError(f"{path}: 'entries' is not a list")
    accepted: list[SignedEntry] = []
    duplicates = 0
    for position, encoded in enumerate(entries):
        try:
            raw = base64.b64decode(str(encoded), validate=True)
        except (binascii.Error, ValueError):
            raise BundleError(f"{path}: entry #{position} is not base64") from None
        result = replica.offer(raw)
        if isinstance(result, Equivocation):
            return accepted, duplicates, result.evidence
        if isinstance(result, Rejected):
            raise BundleError(f"{path}: entry #{position}: {result.reason}")
        if isinstance(result, Duplicate):
            duplicates += 1
            continue
        assert isinstance(result, Accepted)
        assert replica.head is not None
        signed = replica.head
        try:
            check_entry(signed.entry)
        except TemplateError as exc:
            raise BundleError(f"{path}: entry #{position}: {exc}") from None
        if is_ours(signed.msg_id):
            raise BundleError(f"{path}: seq {signed.seq}: msg_id {signed.msg_id} is one of ours")
        accepted.append(signed)
    return accepted, duplicates, None


def _check_head(
    path: str, replica: LogReplica, checkpoint: Checkpoint, payload: dict[str, Any]
) -> None:
    if replica.size < checkpoint.size:
        raise BundleError(
            f"{path}: the checkpoint covers {checkpoint.size} entries, "
            f"we hold {replica.size} after this bundle"
        )
    if replica.root_at(checkpoint.size) != checkpoint.root.hex():
        raise BundleError(f"{path}: the checkpoint root is not the root of the entries")
    from_size, proof = _consistency(path, payload.get("consistency"), checkpoint.size)
    old_root = bytes.fromhex(replica.root_at(from_size) or "")
    if not verify_consistency(from_size, checkpoint.size, old_root, checkpoint.root, proof):
        raise BundleError(
            f"{path}: the consistency proof from size {from_size} to {checkpoint.size} fails"
        )


def _consistency(path: str, value: object, size: int) -> tuple[int, list[bytes]]:
    if isinstance(value, dict) and isinstance(value.get("proof"), list):
        from_size = value.get("from_size")
        try:
            proof = [bytes.fromhex(node_hash) for node_hash in value["proof"]]
        except (TypeError, ValueError):
            proof = None
        if isinstance(from_size, int) and 0 <= from_size <= size and proof is not None:
            return from_size, proof
    raise BundleError(f"{path}: the consistency proof is malformed")


def accept_receipt(node: "Node", note: str) -> int | None:
    """Verify and keep the peer's cosignature over our log (a push's answer); the size covered."""
    now = node.clock()
    with write(node.engine) as connection:
        own_tree = node.own_tree(connection)
        return _store_receipt(node, connection, {"receipt": note}, own_tree, now)


def _store_receipt(
    node: "Node",
    connection: Connection,
    payload: dict[str, Any],
    own_tree: MerkleTree,
    now: datetime,
) -> int | None:
    """Verify and keep the peer's cosignature over our log; the size it covers."""
    note = payload.get("receipt")
    if note is None:
        return None
    if not isinstance(note, str):
        raise BundleError("bundle receipt: not a text")
    peer_log, public_key = node.peer_log_id, node.peer.identity.public_key
    try:
        opened = open_note(
            note, [NoteVerifier.cosigner(peer_log, public_key)], now=int(now.timestamp())
        )
        checkpoint = parse_checkpoint(opened.body)
    except HotlineError as exc:
        raise BundleError(f"bundle receipt: {exc}") from None
    if checkpoint.origin != node.log_id or peer_log not in opened.cosigned_at:
        raise BundleError(f"bundle receipt: not a cosignature over {node.log_id}")
    if checkpoint.size > own_tree.size or own_tree.root(checkpoint.size) != checkpoint.root:
        raise BundleError("bundle receipt: it cosigns a checkpoint our log never had")
    stored = records.StoredNote(
        node.log_id,
        checkpoint.size,
        note,
        checkpoint.root.hex(),
        peer_log,
        opened.cosigned_at[peer_log],
    )
    records.insert_cosignature(connection, stored, now)
    records.clear_outbox(connection, node.log_id, checkpoint.size)
    return checkpoint.size


def _store_checkpoint(
    node: "Node", connection: Connection, checkpoint: Checkpoint, note: str, now: datetime
) -> None:
    """Keep the peer's checkpoint if it is new, and cosign it: our receipt for the peer."""
    peer_log = node.peer_log_id
    held = records.latest_checkpoint(connection, peer_log)
    if held is not None and held.size >= checkpoint.size:
        return
    records.insert_checkpoint(
        connection, peer_log, checkpoint.size, checkpoint.root.hex(), note, now
    )
    timestamp = int(now.timestamp())
    cosignature = cosign_note(checkpoint.body(), node.log_id, node.key, timestamp)
    stored = records.StoredNote(
        peer_log, checkpoint.size, cosignature, checkpoint.root.hex(), node.log_id, timestamp
    )
    records.insert_cosignature(connection, stored, now)


def _keep_evidence(node: "Node", connection: Connection, evidence: EquivocationEvidence) -> None:
    now = node.clock()
    records.insert_equivocation(connection, evidence, now)
    records.set_frozen(connection, evidence.log_id, True)
    records.add_audit(connection, now, "system", "ALARM equivocation", evidence.describe())


def _write_file(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        raise BundleError(f"{path}: cannot write ({exc.strerror})") from None


__all__ = [
    "BUNDLE_FORMAT",
    "MAX_BUNDLE_BYTES",
    "BundleError",
    "EquivocationError",
    "ExportSummary",
    "ImportSummary",
    "accept_receipt",
    "build_bundle",
    "export_bundle",
    "import_bundle",
    "import_bundle_bytes",
]
