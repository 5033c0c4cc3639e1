"""The node's side of the peer protocol: what it sends and how it takes in what it receives.

Everything that crosses the network is a signed bundle document (:mod:`.bundle`) or a signed note,
so every byte received goes through the same verification as a bundle carried on removable media:

- a **push** is the bundle of our entries after the last receipt; the peer answers with its
  cosignature over our checkpoint (:func:`answer_push` on its side, :func:`.bundle.accept_receipt`
  on ours);
- a **pull** asks for the peer's log after N and gets the same bundle document;
- a **copy** asks the peer for *its copy of our log*: what a node restored from a backup pulls back
  (:func:`recover_own_log`) before it writes anything.
"""

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from parley.hotline import records
from parley.hotline.bundle import (
    BundleError,
    ImportSummary,
    accept_receipt,
    build_bundle,
    import_bundle_bytes,
)
from parley.hotline.chain import Accepted, Duplicate, Equivocation, LogReplica, Rejected
from parley.hotline.checkpoint import NoteVerifier, open_note, parse_checkpoint
from parley.hotline.entry import MalformedEntryError, SignedEntry
from parley.hotline.errors import HotlineError
from parley.store.engine import read, write

if TYPE_CHECKING:
    from parley.hotline.node import Node


class RecoveryError(HotlineError):
    """The peer's copy of our log could not be taken back; the message says why."""


@dataclass(frozen=True, slots=True)
class PushAnswer:
    """What a push's receiver answers once it has committed."""

    summary: ImportSummary
    receipt: str | None
    #: How many entries the receiver's own log holds: tells the sender whether a pull would
    #: bring anything (a hint only; what a pull brings is verified as always).
    log_size: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "accepted": self.summary.accepted,
            "duplicates": self.summary.duplicates,
            "size": self.summary.peer_size,
            "receipt": self.receipt,
            "log_size": self.log_size,
        }


#: Bytes of entries in one push or pull answer: the document stays well under the peer's 1 MiB
#: limit (base64 twice makes it about 1.8 times larger); the rest follows in the next request.
MAX_ENTRY_BYTES = 384 * 1024


def push_body(node: "Node", max_entry_bytes: int = MAX_ENTRY_BYTES) -> bytes:
    """Our entries after the last receipt, a checkpoint over them, and our receipt for the peer."""
    data, _ = build_bundle(node, max_entry_bytes=max_entry_bytes)
    return data


def pull_body(node: "Node", after_seq: int, max_entry_bytes: int = MAX_ENTRY_BYTES) -> bytes:
    """Our entries after ``after_seq`` as a bundle document (the answer to a pull)."""
    data, _ = build_bundle(node, after_seq, max_entry_bytes)
    return data


def answer_push(node: "Node", body: bytes, source: str) -> PushAnswer:
    """Verify and store a push from the peer; our cosignature over its checkpoint."""
    summary = import_bundle_bytes(node, body, source)
    with read(node.engine) as connection:
        receipt = records.latest_cosignature(connection, node.peer_log_id)
        log_size = records.log_size(connection, node.log_id)
    return PushAnswer(summary, None if receipt is None else receipt.note, log_size)


def peer_log_size(node: "Node") -> int:
    """How many entries of the peer's log we hold."""
    with read(node.engine) as connection:
        return records.log_size(connection, node.peer_log_id)


def own_log_size(node: "Node") -> int:
    with read(node.engine) as connection:
        return records.log_size(connection, node.log_id)


def own_checkpoint(node: "Node") -> dict[str, Any]:
    """Our latest signed checkpoint."""
    with read(node.engine) as connection:
        held = records.latest_checkpoint(connection, node.log_id)
    return {
        "size": 0 if held is None else held.size,
        "checkpoint": None if held is None else held.note,
    }


def copy_of_peer_log(node: "Node", after_seq: int) -> dict[str, Any]:
    """Our copy of the peer's log after ``after_seq``, its checkpoint and our cosignature."""
    peer_log = node.peer_log_id
    with read(node.engine) as connection:
        raws = records.raw_entries(connection, peer_log, from_seq=max(after_seq + 1, 0))
        checkpoint = records.latest_checkpoint(connection, peer_log)
        receipt = records.latest_cosignature(connection, peer_log)
    return {
        "log_id": peer_log,
        "after_seq": after_seq,
        "entries": [base64.b64encode(raw).decode("ascii") for raw in raws],
        "checkpoint": None if checkpoint is None else checkpoint.note,
        "receipt": None if receipt is None else receipt.note,
    }


def recover_own_log(node: "Node", copy: Mapping[str, Any]) -> int:
    """Take back our own entries the peer holds and we lack (a restored backup); how many.

    Each entry must carry our own signature and extend our chain; the checkpoint must be signed by
    our key over exactly those entries. Anything else is refused and nothing is stored.
    """
    if copy.get("log_id") != node.log_id or not isinstance(copy.get("entries"), list):
        raise RecoveryError(f"the peer's copy is not a copy of {node.log_id}")
    now = node.clock()
    with write(node.engine) as connection:
        try:
            replica = LogReplica.restore(
                node.identity(), records.raw_entries(connection, node.log_id)
            )
        except MalformedEntryError as exc:
            raise RecoveryError(f"our own log fails verification: {exc}") from None
        recovered = _offer_own(replica, copy["entries"])
        if not recovered:
            return 0
        _store_own_checkpoint(node, connection, replica, copy.get("checkpoint"), now)
        for signed in recovered:
            records.insert_entry(connection, signed, now)
        records.add_audit(
            connection,
            now,
            "system",
            "resync",
            f"took back seqs {recovered[0].seq}..{recovered[-1].seq} of our log from the peer",
        )
    receipt = copy.get("receipt")
    if isinstance(receipt, str):
        try:
            accept_receipt(node, receipt)
        except BundleError as exc:
            raise RecoveryError(f"the peer's receipt: {exc}") from None
    return len(recovered)


def _offer_own(replica: LogReplica, entries: list[Any]) -> list[SignedEntry]:
    recovered: list[SignedEntry] = []
    for position, encoded in enumerate(entries):
        try:
            raw = base64.b64decode(str(encoded), validate=True)
        except (binascii.Error, ValueError):
            raise RecoveryError(f"copy entry #{position} is not base64") from None
        result = replica.offer(raw)
        if isinstance(result, Duplicate):
            continue
        if isinstance(result, Rejected):
            raise RecoveryError(f"copy entry #{position} refused: {result.reason}")
        if isinstance(result, Equivocation):
            raise RecoveryError(f"copy entry #{position}: {result.evidence.describe()}")
        assert isinstance(result, Accepted)
        assert replica.head is not None
        recovered.append(replica.head)
    return recovered


def _store_own_checkpoint(
    node: "Node", connection: Connection, replica: LogReplica, note: object, now: datetime
) -> None:
    if not isinstance(note, str):
        raise RecoveryError("the peer's copy carries no checkpoint of our log")
    try:
        opened = open_note(note, [NoteVerifier.signer(node.log_id, node.key.public_key)])
        checkpoint = parse_checkpoint(opened.body)
    except HotlineError as exc:
        raise RecoveryError(f"the peer's copy: our checkpoint: {exc}") from None
    if checkpoint.size != replica.size or replica.root_at(checkpoint.size) != checkpoint.root.hex():
        raise RecoveryError("the peer's copy: our checkpoint does not cover exactly its entries")
    records.insert_checkpoint(
        connection, node.log_id, checkpoint.size, checkpoint.root.hex(), note, now
    )


__all__ = [
    "MAX_ENTRY_BYTES",
    "PushAnswer",
    "RecoveryError",
    "answer_push",
    "copy_of_peer_log",
    "own_checkpoint",
    "own_log_size",
    "peer_log_size",
    "pull_body",
    "push_body",
    "recover_own_log",
]
