"""``verify``: everything a node holds, checked again from the raw bytes.

For each of the two logs: every entry's signature, seq, hash chain, references and ``peer_ref``
(:func:`parley.hotline.chain.verify_pair`); the columns stored beside each entry agree with its
signed bytes; every stored checkpoint is signed by the log's owner and its root is the Merkle root
of the entries at its size; successive checkpoints are consistent (RFC 9162 proofs); every
cosignature verifies and covers a root the log really had; the latest own checkpoint is at the
log's size; every joint checkpoint is signed by both parties over roots both logs really had.
Held equivocation evidence is a problem too, until a person has decided.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from parley.hotline import records
from parley.hotline.chain import VerificationReport, verify_log, verify_pair
from parley.hotline.checkpoint import NoteVerifier, open_note, parse_checkpoint
from parley.hotline.entry import log_id_for, parse_signed_entry
from parley.hotline.errors import HotlineError
from parley.hotline.joint import joint_problems
from parley.hotline.keys import PublicIdentity
from parley.hotline.merkle import MerkleTree, verify_consistency
from parley.hotline.templates import CATALOGUE_VERSION, catalogue_hash
from parley.store.engine import read

if TYPE_CHECKING:
    from parley.hotline.node import Node


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """Every problem found (empty when all is well) and the verified size of each log."""

    problems: tuple[str, ...]
    sizes: dict[str, int]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "sizes": self.sizes, "problems": list(self.problems)}


def verify_node(node: "Node") -> VerifyReport:
    own = node.identity()
    peer = node.config.peer.identity if node.config.peer is not None else None
    problems: list[str] = []
    sizes: dict[str, int] = {}
    with read(node.engine) as connection:
        rows = {log_id_for(own): records.stored_entries(connection, log_id_for(own))}
        if peer is not None:
            rows[log_id_for(peer)] = records.stored_entries(connection, log_id_for(peer))
        reports = _chain_reports(own, peer, rows)
        identities = [own] if peer is None else [own, peer]
        for identity, report in zip(identities, reports, strict=True):
            log_id = log_id_for(identity)
            sizes[log_id] = report.verified_size
            where = f"{identity.party}'s log"
            problems += [f"{where}: {problem}" for problem in report.problems]
            problems += [f"{where}: {p}" for p in _column_problems(rows[log_id])]
            problems += [f"{where}: {p}" for p in _catalogue_problems(rows[log_id])]
            problems += [
                f"{where}: {p}" for p in _checkpoint_problems(connection, identity, report)
            ]
            signers = {log_id_for(i): i for i in identities}
            problems += [
                f"{where}: {p}" for p in _cosignature_problems(connection, log_id, signers, report)
            ]
        own_head = records.latest_checkpoint(connection, log_id_for(own))
        own_size = len(rows[log_id_for(own)])
        if own_head is None or own_head.size != own_size:
            held = "none" if own_head is None else f"size {own_head.size}"
            problems.append(f"{own.party}'s log: {own_size} entries, latest checkpoint {held}")
        problems += [
            f"equivocation held: {evidence.describe()} (log frozen until a person decides)"
            for evidence in records.equivocations(connection)
        ]
        trees = {log_id_for(i): r.tree for i, r in zip(identities, reports, strict=True)}
        problems += joint_problems(connection, identities, trees)
    return VerifyReport(tuple(problems), sizes)


def _chain_reports(
    own: PublicIdentity, peer: PublicIdentity | None, rows: dict[str, list[records.StoredEntry]]
) -> list[VerificationReport]:
    own_raws = [row.raw for row in rows[log_id_for(own)]]
    if peer is None:
        return [verify_log(own_raws, own)]
    peer_raws = [row.raw for row in rows[log_id_for(peer)]]
    return list(verify_pair(own_raws, own, peer_raws, peer))


def _column_problems(rows: list[records.StoredEntry]) -> list[str]:
    problems: list[str] = []
    for row in rows:
        try:
            signed = parse_signed_entry(row.raw)
        except HotlineError:
            continue  # the chain check reports it
        entry = signed.entry
        stored = (row.log_id, row.seq, row.entry_hash, row.msg_id, row.type, row.template)
        actual = (entry.log_id, entry.seq, signed.entry_hash, entry.msg_id, entry.type)
        if stored != (*actual, entry.template) or row.in_reply_to != entry.in_reply_to:
            problems.append(f"row seq {row.seq}: stored columns differ from the signed bytes")
    return problems


def _catalogue_problems(rows: list[records.StoredEntry]) -> list[str]:
    """Catalogue entries naming texts other than ours: the two sides would not render alike."""
    problems: list[str] = []
    for row in rows:
        if row.type != "catalogue":
            continue
        try:
            fields = parse_signed_entry(row.raw).entry.fields
        except HotlineError:
            continue
        if fields.get("catalogue_sha256") != catalogue_hash():
            problems.append(
                f"seq {row.seq}: catalogue {fields.get('catalogue_version')} "
                f"{fields.get('catalogue_sha256')} differs from ours {CATALOGUE_VERSION} "
                f"{catalogue_hash()}"
            )
    return problems


def _checkpoint_problems(
    connection: Connection, identity: PublicIdentity, report: VerificationReport
) -> list[str]:
    log_id = log_id_for(identity)
    verifier = NoteVerifier.signer(log_id, identity.public_key)
    problems: list[str] = []
    previous: tuple[int, bytes] | None = None
    for stored in records.checkpoints(connection, log_id):
        where = f"checkpoint {stored.size}"
        try:
            checkpoint = parse_checkpoint(open_note(stored.note, [verifier]).body)
        except HotlineError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if (checkpoint.origin, checkpoint.size) != (log_id, stored.size):
            problems.append(f"{where}: the note is of {checkpoint.origin} size {checkpoint.size}")
            continue
        if checkpoint.root.hex() != stored.root:
            problems.append(f"{where}: the stored root differs from the signed one")
        problem = _root_problem(report.tree, checkpoint.size, checkpoint.root)
        if problem:
            problems.append(f"{where}: {problem}")
            continue
        if previous is not None:
            old_size, old_root = previous
            proof = report.tree.consistency_proof(old_size, checkpoint.size)
            if not verify_consistency(old_size, checkpoint.size, old_root, checkpoint.root, proof):
                problems.append(f"{where}: not consistent with checkpoint {old_size}")
        previous = (checkpoint.size, checkpoint.root)
    return problems


def _cosignature_problems(
    connection: Connection,
    log_id: str,
    signers: dict[str, PublicIdentity],
    report: VerificationReport,
) -> list[str]:
    problems: list[str] = []
    for stored in records.cosignatures(connection, log_id):
        where = f"cosignature by {stored.cosigner} at size {stored.size}"
        cosigner = signers.get(stored.cosigner)
        if cosigner is None:
            problems.append(f"{where}: unknown cosigner")
            continue
        verifier = NoteVerifier.cosigner(stored.cosigner, cosigner.public_key)
        try:
            opened = open_note(stored.note, [verifier])
            checkpoint = parse_checkpoint(opened.body)
        except HotlineError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if (checkpoint.origin, checkpoint.size) != (log_id, stored.size):
            problems.append(f"{where}: the note is of {checkpoint.origin} size {checkpoint.size}")
            continue
        problem = _root_problem(report.tree, checkpoint.size, checkpoint.root)
        if problem:
            problems.append(f"{where}: {problem}")
    return problems


def _root_problem(tree: MerkleTree, size: int, root: bytes) -> str | None:
    if size > tree.size:
        return f"covers {size} entries, only {tree.size} verify"
    if tree.root(size) != root:
        return f"its root is not the Merkle root of the first {size} entries"
    return None


__all__ = ["VerifyReport", "verify_node"]
