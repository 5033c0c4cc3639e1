"""A party's log as a chain: verifying a whole log, and a replica that takes entries one at a time.

Rules of a log (each broken rule is reported with the entry's seq and a reason):

* every entry parses (:func:`parley.hotline.entry.parse_signed_entry`) and is signed by the log
  owner's key for the owner's ``log_id``;
* ``seq`` runs 0, 1, 2… without gaps, repeats or reordering;
* ``prev_hash`` is the ``entry_hash`` of the entry before (64 zeros for seq 0);
* ``msg_id`` is unique within the log;
* ``in_reply_to``, when set, names an earlier message of this log or, through a lookup the
  caller passes, a message of the other log (without a lookup, references to the other log are
  not checked);
* ``peer_ref.size`` never goes back, and when the caller can say what the other log's root was at
  that size, ``peer_ref.root`` equals it.

The Merkle tree (RFC 9162, leaf = the entry's signed bytes) is built over the verified prefix.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from parley.hotline.entry import (
    ZERO_HASH,
    Entry,
    EntrySignatureError,
    MalformedEntryError,
    SignedEntry,
    log_id_for,
    parse_signed_entry,
)
from parley.hotline.keys import PublicIdentity
from parley.hotline.merkle import MerkleTree

#: Whether a msg_id exists in the other party's log.
MsgIdLookup = Callable[[str], bool]
#: The other log's root (hex) at a size, or None when that size is not known (yet).
RootLookup = Callable[[int], str | None]


@dataclass(frozen=True, slots=True)
class Problem:
    """One broken rule: where (position in the given sequence, and seq when it parsed) and why."""

    position: int
    seq: int | None
    reason: str

    def __str__(self) -> str:
        where = f"seq {self.seq}" if self.seq is not None else f"entry #{self.position}"
        return f"{where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class VerificationReport:
    """What :func:`verify_log` found. ``verified_size`` entries from seq 0 passed every check."""

    log_id: str
    checked: int
    verified_size: int
    problems: tuple[Problem, ...]
    tree: MerkleTree = field(repr=False, compare=False)
    msg_ids: frozenset[str] = field(repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return not self.problems and self.verified_size == self.checked

    @property
    def root(self) -> str:
        """The Merkle root (hex) of the verified prefix."""
        return self.tree.root().hex()

    def root_at(self, size: int) -> str | None:
        """The root (hex) of the first ``size`` entries, or None beyond the verified prefix."""
        return self.tree.root(size).hex() if 0 <= size <= self.tree.size else None


def verify_log(
    entries: Iterable[bytes],
    identity: PublicIdentity,
    *,
    peer_msg_ids: MsgIdLookup | None = None,
    peer_root_at: RootLookup | None = None,
) -> VerificationReport:
    """Check a whole log (raw entries in storage order) and list every problem found.

    After a gap the check resynchronises on the seq found, so one dropped entry is one problem.
    """
    log_id = log_id_for(identity)
    problems: list[Problem] = []
    hash_by_seq: dict[int, str] = {}
    msg_ids: dict[str, int] = {}
    tree = MerkleTree()
    last_peer_size = 0
    expected = 0
    position = -1
    prefix_intact = True
    for position, raw in enumerate(entries):
        try:
            signed = parse_signed_entry(raw)
        except MalformedEntryError as exc:
            problems.append(Problem(position, None, f"malformed: {exc}"))
            prefix_intact, expected = False, expected + 1
            continue
        entry = signed.entry
        reasons = _authorship_problems(signed, identity, log_id)
        reasons += _order_problems(entry, expected, hash_by_seq)
        reasons += _content_problems(entry, msg_ids, last_peer_size, peer_msg_ids, peer_root_at)
        problems.extend(Problem(position, entry.seq, reason) for reason in reasons)
        prefix_intact = prefix_intact and not reasons
        if prefix_intact:
            tree.append_entry(signed.signed_bytes)
        hash_by_seq.setdefault(entry.seq, signed.entry_hash)
        msg_ids.setdefault(entry.msg_id, entry.seq)
        if entry.peer_ref is not None:
            last_peer_size = max(last_peer_size, entry.peer_ref.size)
        expected = max(expected, entry.seq + 1)
    return VerificationReport(
        log_id, position + 1, tree.size, tuple(problems), tree, frozenset(msg_ids)
    )


def verify_pair(
    entries_a: Iterable[bytes],
    identity_a: PublicIdentity,
    entries_b: Iterable[bytes],
    identity_b: PublicIdentity,
) -> tuple[VerificationReport, VerificationReport]:
    """Verify both parties' logs, each against the other: replies must name a message of either
    log, and every ``peer_ref`` must match the other log's root at that size."""
    raws_a, raws_b = list(entries_a), list(entries_b)
    first_a, first_b = verify_log(raws_a, identity_a), verify_log(raws_b, identity_b)
    report_a = verify_log(
        raws_a,
        identity_a,
        peer_msg_ids=first_b.msg_ids.__contains__,
        peer_root_at=first_b.root_at,
    )
    report_b = verify_log(
        raws_b,
        identity_b,
        peer_msg_ids=first_a.msg_ids.__contains__,
        peer_root_at=first_a.root_at,
    )
    return report_a, report_b


@dataclass(frozen=True, slots=True)
class EquivocationEvidence:
    """Two entries, both signed by the log's owner, that cannot both belong to one log.

    ``conflicting-entries``: the same seq with different signed bytes.
    ``forked-chain``: ``offered`` (seq n) names a predecessor other than ``held`` (seq n − 1).
    """

    log_id: str
    seq: int
    kind: Literal["conflicting-entries", "forked-chain"]
    held: bytes
    offered: bytes

    def describe(self) -> str:
        if self.kind == "conflicting-entries":
            return f"log {self.log_id}: two different entries signed with seq {self.seq}"
        return (
            f"log {self.log_id}: seq {self.seq} is signed onto a seq {self.seq - 1} "
            "other than the one held"
        )

    def verify(self, identity: PublicIdentity) -> bool:
        """Whether this is genuine evidence against ``identity``: anyone can check it."""
        try:
            held, offered = parse_signed_entry(self.held), parse_signed_entry(self.offered)
            held.require_signed_by(identity)
            offered.require_signed_by(identity)
        except (MalformedEntryError, EntrySignatureError):
            return False
        if self.kind == "conflicting-entries":
            return held.seq == offered.seq == self.seq and held.signed_bytes != offered.signed_bytes
        return (
            offered.seq == self.seq == held.seq + 1 and offered.entry.prev_hash != held.entry_hash
        )


@dataclass(frozen=True, slots=True)
class Accepted:
    seq: int


@dataclass(frozen=True, slots=True)
class Duplicate:
    """The entry is already held, byte for byte: harmless, nothing changes."""

    seq: int


@dataclass(frozen=True, slots=True)
class Equivocation:
    evidence: EquivocationEvidence


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: str


OfferResult = Accepted | Duplicate | Equivocation | Rejected


class LogReplica:
    """This node's copy of one party's log, grown only by verified, in-order entries.

    :meth:`offer` never raises for bad input: it answers what happened. An entry whose signed bytes
    equal the held entry of its seq is a harmless duplicate (even under another signature, which
    only the owner could make). An entry ahead of the next
    seq is rejected (``gap: expected seq N``: the caller asks for everything after N − 1).
    Equivocation is kept as evidence and freezes the replica: it accepts nothing new until a person
    has decided and called :meth:`resolve_freeze`. Conflicts with held entries are still detected
    and recorded while frozen.
    """

    def __init__(
        self,
        identity: PublicIdentity,
        *,
        peer_msg_ids: MsgIdLookup | None = None,
        peer_root_at: RootLookup | None = None,
    ) -> None:
        self.identity = identity
        self.log_id = log_id_for(identity)
        self._peer_msg_ids = peer_msg_ids
        self._peer_root_at = peer_root_at
        self._entries: list[SignedEntry] = []
        self._msg_ids: dict[str, int] = {}
        self._tree = MerkleTree()
        self._last_peer_size = 0
        self._evidence: list[EquivocationEvidence] = []
        self._frozen = False

    @classmethod
    def restore(
        cls,
        identity: PublicIdentity,
        entries: Iterable[bytes],
        *,
        peer_msg_ids: MsgIdLookup | None = None,
        peer_root_at: RootLookup | None = None,
    ) -> "LogReplica":
        """A replica rebuilt from stored entries, re-verified; raises on the first bad one."""
        replica = cls(identity, peer_msg_ids=peer_msg_ids, peer_root_at=peer_root_at)
        for raw in entries:
            result = replica.offer(raw)
            if not isinstance(result, Accepted):
                raise MalformedEntryError(f"stored log {replica.log_id}: {_describe(result)}")
        return replica

    @property
    def size(self) -> int:
        return len(self._entries)

    @property
    def frozen(self) -> bool:
        return self._frozen

    @property
    def evidence(self) -> tuple[EquivocationEvidence, ...]:
        return tuple(self._evidence)

    @property
    def entries(self) -> tuple[SignedEntry, ...]:
        return tuple(self._entries)

    @property
    def head(self) -> SignedEntry | None:
        """The last entry held (``entries[-1]`` without copying the whole log)."""
        return self._entries[-1] if self._entries else None

    @property
    def root(self) -> str:
        return self._tree.root().hex()

    def root_at(self, size: int) -> str | None:
        return self._tree.root(size).hex() if 0 <= size <= self.size else None

    def has_msg_id(self, msg_id: str) -> bool:
        return msg_id in self._msg_ids

    def raw_after(self, seq: int) -> list[bytes]:
        """The stored bytes of every entry after ``seq`` (all of them for seq −1)."""
        return [signed.raw for signed in self._entries[max(seq + 1, 0) :]]

    def offer(self, raw: bytes) -> OfferResult:
        try:
            signed = parse_signed_entry(raw)
            signed.require_signed_by(self.identity)
        except (MalformedEntryError, EntrySignatureError) as exc:
            return Rejected(str(exc))
        seq = signed.seq
        if seq < self.size:
            held = self._entries[seq]
            if held.signed_bytes == signed.signed_bytes:
                return Duplicate(seq)
            return self._equivocation(seq, "conflicting-entries", held, signed)
        if self._frozen:
            return Rejected(f"frozen: equivocation in log {self.log_id} awaits a decision")
        if seq > self.size:
            return Rejected(f"gap: expected seq {self.size}")
        if seq > 0 and signed.entry.prev_hash != self._entries[-1].entry_hash:
            return self._equivocation(seq, "forked-chain", self._entries[-1], signed)
        reasons = _content_problems(
            signed.entry,
            self._msg_ids,
            self._last_peer_size,
            self._peer_msg_ids,
            self._peer_root_at,
        )
        if reasons:
            return Rejected(reasons[0])
        self._append(signed)
        return Accepted(seq)

    def resolve_freeze(self) -> tuple[EquivocationEvidence, ...]:
        """A person has decided: accept entries again. The evidence stays; it is returned."""
        self._frozen = False
        return self.evidence

    def _append(self, signed: SignedEntry) -> None:
        self._entries.append(signed)
        self._msg_ids[signed.msg_id] = signed.seq
        self._tree.append_entry(signed.signed_bytes)
        if signed.entry.peer_ref is not None:
            self._last_peer_size = signed.entry.peer_ref.size

    def _equivocation(
        self,
        seq: int,
        kind: Literal["conflicting-entries", "forked-chain"],
        held: SignedEntry,
        offered: SignedEntry,
    ) -> Equivocation:
        evidence = EquivocationEvidence(self.log_id, seq, kind, held.raw, offered.raw)
        if evidence not in self._evidence:
            self._evidence.append(evidence)
        self._frozen = True
        return Equivocation(evidence)


def _describe(result: OfferResult) -> str:
    if isinstance(result, Rejected):
        return result.reason
    if isinstance(result, Equivocation):
        return result.evidence.describe()
    return f"seq {result.seq} is stored twice"


def _authorship_problems(signed: SignedEntry, identity: PublicIdentity, log_id: str) -> list[str]:
    if signed.entry.log_id != log_id:
        return [f"entry of log {signed.entry.log_id!r}, expected {log_id!r}"]
    if not signed.verify(identity):
        return [f"bad signature (not {identity.party}'s key, or altered bytes)"]
    return []


def _order_problems(entry: Entry, expected: int, hash_by_seq: Mapping[int, str]) -> list[str]:
    reasons: list[str] = []
    if entry.seq in hash_by_seq:
        reasons.append(f"seq {entry.seq} appears twice")
    elif entry.seq > expected:
        reasons.append(f"gap: expected seq {expected}, found seq {entry.seq}")
    elif entry.seq < expected:
        reasons.append(f"out of order: seq {entry.seq} after seq {expected - 1}")
    previous = ZERO_HASH if entry.seq == 0 else hash_by_seq.get(entry.seq - 1)
    if previous is not None and entry.prev_hash != previous:
        reasons.append(f"broken chain: prev_hash is not the hash of seq {entry.seq - 1}")
    return reasons


def _content_problems(
    entry: Entry,
    own_msg_ids: Mapping[str, int],
    last_peer_size: int,
    peer_msg_ids: MsgIdLookup | None,
    peer_root_at: RootLookup | None,
) -> list[str]:
    reasons: list[str] = []
    if entry.msg_id in own_msg_ids:
        reasons.append(f"duplicate msg_id {entry.msg_id} (already seq {own_msg_ids[entry.msg_id]})")
    reply = entry.in_reply_to
    unknown_here = reply is not None and reply not in own_msg_ids
    if reply is not None and unknown_here and peer_msg_ids is not None and not peer_msg_ids(reply):
        reasons.append(f"in_reply_to {reply} names no message of either log")
    if entry.peer_ref is not None:
        size, root = entry.peer_ref.size, entry.peer_ref.root
        if size < last_peer_size:
            reasons.append(f"peer_ref went back from size {last_peer_size} to {size}")
        known = None if peer_root_at is None else peer_root_at(size)
        if known is not None and known != root:
            reasons.append(f"peer_ref root is not the other log's root at size {size}")
    return reasons


__all__ = [
    "Accepted",
    "Duplicate",
    "Equivocation",
    "EquivocationEvidence",
    "LogReplica",
    "MsgIdLookup",
    "OfferResult",
    "Problem",
    "Rejected",
    "RootLookup",
    "VerificationReport",
    "verify_log",
    "verify_pair",
]
