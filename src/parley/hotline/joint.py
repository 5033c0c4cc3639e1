"""Joint checkpoints: both logs' heads in one note, signed by both parties.

A joint checkpoint is the record both sides agree on as of a moment, for the political level. Its
text is :func:`.checkpoint.joint_checkpoint_body` (a header line, then origin, size and root of
each log in origin order) and it carries two ordinary Ed25519 note signatures, one under each
log id, in origin order, so that both nodes hold byte-identical notes.

The exchange (``POST /peer/v1/joint``) is one round trip:

1. the **proposer** signs the heads it can vouch for: its own latest checkpoint, once the peer's
   receipt covers it (the peer holds all of it), and the peer's latest checkpoint it holds
   (:func:`propose`);
2. the **countersigner** accepts only heads it signed or stored itself (its own checkpoint at that
   size with that root, and the proposer's checkpoint it stored at that size), adds its
   signature, stores the note and answers it (:func:`countersign`);
3. the proposer checks both signatures and the same heads again and stores it (:func:`accept`).

Either side may propose; two proposals of the same heads give the same note (Ed25519 signatures
are deterministic), so the exchange needs no coordination. ``verify`` checks every stored joint
checkpoint against the logs (:func:`joint_problems`).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select

from parley.hotline.checkpoint import (
    Checkpoint,
    NoteVerifier,
    joint_checkpoint_body,
    merge_notes,
    open_note,
    parse_joint_checkpoint,
    sign_note,
    split_note,
)
from parley.hotline.entry import log_id_for
from parley.hotline.errors import HotlineError
from parley.hotline.keys import PublicIdentity
from parley.hotline.merkle import MerkleTree
from parley.store import schema
from parley.store.engine import read, write

if TYPE_CHECKING:
    from parley.hotline.node import Node


class JointError(HotlineError):
    """A joint checkpoint proposal or answer we refuse; the message says why."""


@dataclass(frozen=True, slots=True)
class JointCheckpoint:
    """A stored joint checkpoint: both heads (in origin order) and the note signed by both."""

    first: Checkpoint
    second: Checkpoint
    note: str

    def to_json(self) -> dict[str, Any]:
        return {
            "logs": [
                {"log_id": head.origin, "size": head.size, "root": head.root.hex()}
                for head in (self.first, self.second)
            ],
            "note": self.note,
        }


def propose(node: "Node") -> str | None:
    """Our signed half of a joint checkpoint over the current heads, or None when there is
    nothing new to agree on (no receipt covering our head yet, or these heads already agreed)."""
    with read(node.engine) as connection:
        own = _latest_head(connection, node.log_id)
        peer = _latest_head(connection, node.peer_log_id)
        if own is None or peer is None:
            return None
        if _receipt_size(connection, node.log_id, node.peer_log_id) != own.size:
            return None
        if _held(connection, own, peer) is not None:
            return None
    return sign_note(joint_checkpoint_body(own, peer), node.log_id, node.key)


def countersign(node: "Node", proposal: str) -> str:
    """Check the peer's proposal against what we signed and stored, sign it, store the note
    signed by both; that note (the answer to the peer)."""
    try:
        body, lines = split_note(proposal)
        opened = open_note(proposal, [_verifier(node.peer.identity)])
        first, second = parse_joint_checkpoint(opened.body)
    except HotlineError as exc:
        raise JointError(f"the joint checkpoint proposal: {exc}") from None
    if len(lines) != 1:
        raise JointError("a joint checkpoint proposal carries exactly the proposer's signature")
    own_half = sign_note(body, node.log_id, node.key)
    note = _in_origin_order(node, own_half, proposal)
    with write(node.engine) as connection:
        _check_heads(connection, node, first, second)
        _store(connection, first, second, note, node.clock())
    return note


def accept(node: "Node", answer: str) -> JointCheckpoint:
    """Check the note the peer answered (both signatures, heads we hold) and store it."""
    first, second = _open_joint(node, answer)
    with write(node.engine) as connection:
        _check_heads(connection, node, first, second)
        _store(connection, first, second, answer, node.clock())
    return JointCheckpoint(first, second, answer)


def latest_joint(node: "Node") -> JointCheckpoint | None:
    """The joint checkpoint over the longest logs we hold, if any."""
    with read(node.engine) as connection:
        return latest_joint_checkpoint(connection)


def latest_joint_checkpoint(connection: Connection) -> JointCheckpoint | None:
    table = schema.joint_checkpoints
    note = connection.execute(
        select(table.c.note)
        .order_by((table.c.first_size + table.c.second_size).desc(), table.c.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if note is None:
        return None
    first, second = parse_joint_checkpoint(split_note(note)[0])
    return JointCheckpoint(first, second, note)


def joint_problems(
    connection: Connection, identities: list[PublicIdentity], trees: dict[str, MerkleTree]
) -> list[str]:
    """Every stored joint checkpoint checked again: both signatures, and each head's root is the
    Merkle root of that log at that size (``trees``: each log's verified tree by log id)."""
    verifiers = [_verifier(identity) for identity in identities]
    table = schema.joint_checkpoints
    problems: list[str] = []
    for note in connection.execute(select(table.c.note).order_by(table.c.id)).scalars():
        try:
            opened = open_note(note, verifiers)
            heads = parse_joint_checkpoint(opened.body)
        except HotlineError as exc:
            problems.append(f"joint checkpoint: {exc}")
            continue
        where = "joint checkpoint " + " ".join(f"{h.origin}@{h.size}" for h in heads)
        missing = {v.key_name for v in verifiers} - set(opened.signers)
        if len(verifiers) < 2 or missing:
            problems.append(f"{where}: not signed by {', '.join(sorted(missing)) or 'the peer'}")
        for head in heads:
            tree = trees.get(head.origin)
            if tree is None:
                problems.append(f"{where}: {head.origin} is neither log")
            elif head.size > tree.size:
                problems.append(
                    f"{where}: covers {head.size} entries of {head.origin}, we hold {tree.size}"
                )
            elif tree.root(head.size) != head.root:
                problems.append(f"{where}: the root of {head.origin} is not its Merkle root")
    return problems


def _verifier(identity: PublicIdentity) -> NoteVerifier:
    return NoteVerifier.signer(log_id_for(identity), identity.public_key)


def _open_joint(node: "Node", note: str) -> tuple[Checkpoint, Checkpoint]:
    try:
        _, lines = split_note(note)
        opened = open_note(note, [_verifier(node.identity()), _verifier(node.peer.identity)])
        heads = parse_joint_checkpoint(opened.body)
    except HotlineError as exc:
        raise JointError(f"the joint checkpoint: {exc}") from None
    if len(lines) != 2 or sorted(opened.signers) != sorted((node.log_id, node.peer_log_id)):
        raise JointError("the joint checkpoint is not signed by both parties, once each")
    if [line.key_name for line in lines] != sorted(opened.signers):
        raise JointError("the joint checkpoint's signatures are not in origin order")
    return heads


def _in_origin_order(node: "Node", own_half: str, peer_half: str) -> str:
    halves = sorted(((node.log_id, own_half), (node.peer_log_id, peer_half)))
    return merge_notes(*(half for _, half in halves))


def _check_heads(
    connection: Connection, node: "Node", first: Checkpoint, second: Checkpoint
) -> None:
    """Both heads are checkpoints we hold: ours signed by us, the peer's stored from the peer."""
    if {first.origin, second.origin} != {node.log_id, node.peer_log_id}:
        raise JointError(f"the joint checkpoint is of {first.origin} and {second.origin}")
    for head in (first, second):
        held = _checkpoint_root(connection, head.origin, head.size)
        if held is None:
            raise JointError(f"we hold no checkpoint of {head.origin} at size {head.size}")
        if held != head.root.hex():
            raise JointError(f"the root of {head.origin} at size {head.size} differs from ours")


def _store(
    connection: Connection, first: Checkpoint, second: Checkpoint, note: str, now: datetime
) -> None:
    if _held(connection, first, second) is not None:
        return
    connection.execute(
        insert(schema.joint_checkpoints).values(
            first_log=first.origin,
            first_size=first.size,
            second_log=second.origin,
            second_size=second.size,
            note=note,
            stored_at=now,
        )
    )


def _held(connection: Connection, a: Checkpoint, b: Checkpoint) -> str | None:
    first, second = sorted((a, b), key=lambda head: head.origin)
    table = schema.joint_checkpoints
    found = connection.execute(
        select(table.c.note).where(
            table.c.first_log == first.origin,
            table.c.first_size == first.size,
            table.c.second_log == second.origin,
            table.c.second_size == second.size,
        )
    ).scalar_one_or_none()
    return None if found is None else str(found)


def _latest_head(connection: Connection, log_id: str) -> Checkpoint | None:
    table = schema.checkpoints
    row = connection.execute(
        select(table.c.size, table.c.root)
        .where(table.c.log_id == log_id)
        .order_by(table.c.size.desc())
        .limit(1)
    ).first()
    return None if row is None else Checkpoint(log_id, int(row[0]), bytes.fromhex(row[1]))


def _checkpoint_root(connection: Connection, log_id: str, size: int) -> str | None:
    table = schema.checkpoints
    found = connection.execute(
        select(table.c.root).where(table.c.log_id == log_id, table.c.size == size)
    ).scalar_one_or_none()
    return None if found is None else str(found)


def _receipt_size(connection: Connection, log_id: str, cosigner: str) -> int:
    table = schema.cosignatures
    found = connection.execute(
        select(table.c.size)
        .where(table.c.log_id == log_id, table.c.cosigner == cosigner)
        .order_by(table.c.size.desc())
        .limit(1)
    ).scalar_one_or_none()
    return -1 if found is None else int(found)


__all__ = [
    "JointCheckpoint",
    "JointError",
    "accept",
    "countersign",
    "joint_problems",
    "latest_joint",
    "latest_joint_checkpoint",
    "propose",
]
