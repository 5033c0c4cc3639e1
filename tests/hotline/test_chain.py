"""A log as a chain: whole-log verification, and a replica fed one entry at a time."""

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from parley.hotline.chain import (
    Accepted,
    Duplicate,
    Equivocation,
    EquivocationEvidence,
    LogReplica,
    OfferResult,
    Rejected,
    verify_log,
    verify_pair,
)
from parley.hotline.entry import (
    ENTRY_HEADER,
    ZERO_HASH,
    MalformedEntryError,
    PeerRef,
    SignedEntry,
    log_id_for,
    sign_entry,
)
from parley.hotline.keys import PartyKey
from parley.hotline.msgid import MsgIdGenerator

NATO = PartyKey.from_seed("nato", bytes(range(32)))
RUSSIA = PartyKey.from_seed("russia", bytes(range(32, 64)))
T0 = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)


def message_ids(seed: int) -> MsgIdGenerator:
    ticks = iter(range(10**6))
    return MsgIdGenerator(
        lambda: T0 + timedelta(seconds=next(ticks)),
        lambda n: hashlib.sha256(bytes([seed])).digest()[:n],
    )


def build_log(
    key: PartyKey,
    size: int,
    changes: dict[int, dict[str, Any]] | None = None,
    ids: MsgIdGenerator | None = None,
) -> list[SignedEntry]:
    """A valid log of test messages; ``changes[seq]`` overrides fields of one entry."""
    ids = ids or message_ids(len(key.party))
    log: list[SignedEntry] = []
    prev_hash = ZERO_HASH
    for seq in range(size):
        msg_id, time = ids.stamp()
        fields: dict[str, Any] = {
            "seq": seq,
            "prev_hash": prev_hash,
            "msg_id": msg_id,
            "time": time,
            "type": "test",
            "template": 6,
            "catalogue_version": "1.0",
            "fields": {"sequence": str(seq)},
        }
        fields.update((changes or {}).get(seq, {}))
        log.append(sign_entry(key, **fields))
        prev_hash = log[-1].entry_hash
    return log


def raws(log: list[SignedEntry]) -> list[bytes]:
    return [signed.raw for signed in log]


def rfc9162_root(entries: list[bytes]) -> str:
    """MTH of RFC 9162 §2.1.1, written out recursively as an independent check."""

    def mth(items: list[bytes]) -> bytes:
        if not items:
            return hashlib.sha256(b"").digest()
        if len(items) == 1:
            return hashlib.sha256(b"\x00" + items[0]).digest()
        split = 1 << ((len(items) - 1).bit_length() - 1)
        return hashlib.sha256(b"\x01" + mth(items[:split]) + mth(items[split:])).digest()

    return mth(entries).hex()


def reasons(problems: Any) -> list[tuple[int | None, str]]:
    return [(problem.seq, problem.reason) for problem in problems]


def tamper_text(raw: bytes, seq: int) -> bytes:
    """Change a field value in place: still canonical, but no longer what was signed."""
    changed = raw.replace(f'"sequence":"{seq}"'.encode(), f'"sequence":"{seq + 100}"'.encode())
    assert changed != raw
    return changed


# ---------------------------------------------------------------- whole-log verification


def test_a_valid_log_verifies_and_has_the_rfc9162_root() -> None:
    log = build_log(NATO, 7)
    report = verify_log(raws(log), NATO.identity)
    assert report.ok
    assert (report.checked, report.verified_size, report.problems) == (7, 7, ())
    signed = [entry.signed_bytes for entry in log]
    assert report.root == rfc9162_root(signed)
    assert [report.root_at(size) for size in range(8)] == [
        rfc9162_root(signed[:n]) for n in range(8)
    ]
    assert report.root_at(8) is None
    assert report.log_id == log_id_for(NATO.identity)


def test_an_empty_log_verifies() -> None:
    report = verify_log([], NATO.identity)
    assert report.ok
    assert report.root == hashlib.sha256(b"").hexdigest()


def test_an_altered_entry_in_the_middle() -> None:
    log = raws(build_log(NATO, 6))
    log[3] = tamper_text(log[3], 3)
    report = verify_log(log, NATO.identity)
    assert not report.ok
    assert reasons(report.problems) == [
        (3, "bad signature (not nato's key, or altered bytes)"),
        (4, "broken chain: prev_hash is not the hash of seq 3"),
    ]
    assert report.verified_size == 3
    assert str(report.problems[0]) == "seq 3: bad signature (not nato's key, or altered bytes)"


def test_an_entry_altered_into_garbage_is_reported_by_position() -> None:
    log = raws(build_log(NATO, 5))
    log[2] = log[2].replace(b'"seq":2', b'"seq": 2')
    report = verify_log(log, NATO.identity)
    assert [(p.position, p.seq) for p in report.problems] == [(2, None)]
    assert report.problems[0].reason.startswith("malformed: body: not the canonical encoding")
    assert str(report.problems[0]).startswith("entry #2: malformed")
    assert report.verified_size == 2


def test_a_dropped_entry_is_one_gap() -> None:
    log = raws(build_log(NATO, 6))
    del log[2]
    report = verify_log(log, NATO.identity)
    assert reasons(report.problems) == [(3, "gap: expected seq 2, found seq 3")]
    assert (report.checked, report.verified_size) == (5, 2)


def test_a_dropped_last_entry_is_invisible_without_a_checkpoint() -> None:
    # a truncated log is still a valid log; only the peer's cosigned checkpoint reveals it
    log = build_log(NATO, 6)
    report = verify_log(raws(log)[:5], NATO.identity)
    assert report.ok
    assert report.root != rfc9162_root([entry.signed_bytes for entry in log])


def test_a_reordered_pair() -> None:
    log = raws(build_log(NATO, 6))
    log[2], log[3] = log[3], log[2]
    report = verify_log(log, NATO.identity)
    assert reasons(report.problems) == [
        (3, "gap: expected seq 2, found seq 3"),
        (2, "out of order: seq 2 after seq 3"),
    ]
    assert report.verified_size == 2


def test_a_repeated_entry() -> None:
    log = raws(build_log(NATO, 4))
    log.insert(2, log[1])
    report = verify_log(log, NATO.identity)
    assert reasons(report.problems) == [
        (1, "seq 1 appears twice"),
        (1, f"duplicate msg_id {build_log(NATO, 2)[1].msg_id} (already seq 1)"),
    ]


def test_an_entry_forged_with_another_key() -> None:
    log = build_log(NATO, 5)
    # the forger copies the body, nato's log id included, and signs with its own key
    forged = (
        log[2].signed_bytes + b"\n" + base64.b64encode(RUSSIA.sign(log[2].signed_bytes)) + b"\n"
    )
    entries = raws(log)
    entries[2] = forged
    report = verify_log(entries, NATO.identity)
    assert reasons(report.problems) == [(2, "bad signature (not nato's key, or altered bytes)")]
    # an entry of russia's own log slipped into nato's
    entries[2] = build_log(RUSSIA, 3)[2].raw
    report = verify_log(entries, NATO.identity)
    assert report.problems[0].seq == 2
    assert report.problems[0].reason.startswith("entry of log 'parley/russia/")


def test_a_whole_log_signed_by_the_wrong_party() -> None:
    report = verify_log(raws(build_log(RUSSIA, 3)), NATO.identity)
    assert [p.seq for p in report.problems] == [0, 1, 2]
    assert report.verified_size == 0


def test_a_duplicate_msg_id() -> None:
    first = build_log(NATO, 5)
    log = build_log(NATO, 5, changes={4: {"msg_id": first[2].msg_id}})
    report = verify_log(raws(log), NATO.identity)
    assert reasons(report.problems) == [(4, f"duplicate msg_id {first[2].msg_id} (already seq 2)")]
    assert report.verified_size == 4


def test_replies_must_name_a_known_message() -> None:
    peer = build_log(RUSSIA, 2)
    own = build_log(NATO, 1)
    log = build_log(
        NATO,
        4,
        changes={
            1: {"in_reply_to": own[0].msg_id},  # an earlier message of the same log
            2: {"in_reply_to": peer[1].msg_id},  # a message of the other log
            3: {"in_reply_to": peer[1].msg_id[:-1] + "0"},  # nobody's message
        },
    )
    known = {entry.msg_id for entry in peer}
    report = verify_log(raws(log), NATO.identity, peer_msg_ids=known.__contains__)
    assert reasons(report.problems) == [
        (3, f"in_reply_to {peer[1].msg_id[:-1]}0 names no message of either log")
    ]
    # without a lookup into the other log, such references cannot be checked
    assert verify_log(raws(log), NATO.identity).ok


def test_a_reply_to_a_later_message_of_the_same_log_is_unknown() -> None:
    later = build_log(NATO, 3)[2].msg_id
    log = build_log(NATO, 3, changes={1: {"in_reply_to": later}})
    report = verify_log(raws(log), NATO.identity, peer_msg_ids=lambda msg_id: False)
    assert reasons(report.problems) == [(1, f"in_reply_to {later} names no message of either log")]


def test_peer_refs_never_go_back_and_match_the_other_log() -> None:
    peer = build_log(RUSSIA, 3)
    peer_report = verify_log(raws(peer), RUSSIA.identity)
    roots = {size: peer_report.root_at(size) for size in range(4)}
    log = build_log(
        NATO,
        4,
        changes={
            0: {"peer_ref": PeerRef(0, str(roots[0]))},
            1: {"peer_ref": PeerRef(2, str(roots[2]))},
            2: {"peer_ref": PeerRef(1, str(roots[1]))},  # went back
            3: {"peer_ref": PeerRef(3, str(roots[2]))},  # the root of another size
        },
    )
    report = verify_log(raws(log), NATO.identity, peer_root_at=peer_report.root_at)
    assert reasons(report.problems) == [
        (2, "peer_ref went back from size 2 to 1"),
        (3, "peer_ref root is not the other log's root at size 3"),
    ]


def test_verify_pair_checks_each_log_against_the_other() -> None:
    russia = build_log(RUSSIA, 2)
    russia_roots = verify_log(raws(russia), RUSSIA.identity)
    nato = build_log(
        NATO,
        3,
        changes={
            1: {"peer_ref": PeerRef(1, str(russia_roots.root_at(1)))},
            2: {"in_reply_to": russia[1].msg_id, "peer_ref": PeerRef(2, russia_roots.root)},
        },
    )
    reply = build_log(
        RUSSIA, 3, changes={2: {"in_reply_to": nato[2].msg_id, "type": "ack", "template": 5}}
    )
    report_nato, report_russia = verify_pair(
        raws(nato), NATO.identity, raws(reply), RUSSIA.identity
    )
    assert report_nato.ok
    assert report_russia.ok
    wrong = build_log(NATO, 3, changes={2: {"peer_ref": PeerRef(2, "0" * 64)}})
    report_nato, _ = verify_pair(raws(wrong), NATO.identity, raws(reply), RUSSIA.identity)
    assert reasons(report_nato.problems) == [
        (2, "peer_ref root is not the other log's root at size 2")
    ]


# ---------------------------------------------------------------- the replica


def test_replica_accepts_in_order_and_ignores_duplicates() -> None:
    log = build_log(NATO, 4)
    replica = LogReplica(NATO.identity)
    assert [replica.offer(e.raw) for e in log] == [Accepted(seq) for seq in range(4)]
    assert replica.offer(log[1].raw) == Duplicate(1)
    assert replica.size == 4
    assert replica.root == rfc9162_root([e.signed_bytes for e in log])
    assert replica.root_at(2) == rfc9162_root([e.signed_bytes for e in log[:2]])
    assert replica.root_at(5) is None
    assert replica.entries == tuple(log)
    assert replica.raw_after(1) == raws(log)[2:]
    assert replica.raw_after(-1) == raws(log)
    assert replica.has_msg_id(log[3].msg_id)
    assert not replica.frozen


def test_replica_rejects_gaps_and_bad_entries_with_a_reason() -> None:
    log = build_log(NATO, 4)
    replica = LogReplica(NATO.identity)
    assert replica.offer(log[2].raw) == Rejected("gap: expected seq 0")
    replica.offer(log[0].raw)
    assert replica.offer(tamper_text(log[1].raw, 1)) == Rejected(
        "seq 1: bad signature (not nato's key, or altered bytes)"
    )
    result = replica.offer(log[1].raw + b"!")
    assert isinstance(result, Rejected)
    assert result.reason == "1 bytes after the signature line"
    result = replica.offer(build_log(RUSSIA, 2)[1].raw)
    assert isinstance(result, Rejected)
    assert result.reason.startswith("seq 1: entry of log 'parley/russia/")
    duplicate_id = build_log(NATO, 2, changes={1: {"msg_id": log[0].msg_id}})[1]
    assert replica.offer(duplicate_id.raw) == Rejected(
        f"duplicate msg_id {log[0].msg_id} (already seq 0)"
    )
    assert replica.size == 1


def test_replica_detects_equivocation_keeps_evidence_and_freezes() -> None:
    log = build_log(NATO, 4)
    fake = build_log(NATO, 3, changes={2: {"fields": {"sequence": "two"}}})[2]
    replica = LogReplica(NATO.identity)
    for entry in log[:3]:
        replica.offer(entry.raw)
    result = replica.offer(fake.raw)
    assert isinstance(result, Equivocation)
    evidence = result.evidence
    assert (evidence.seq, evidence.kind, evidence.held, evidence.offered) == (
        2,
        "conflicting-entries",
        log[2].raw,
        fake.raw,
    )
    assert evidence.verify(NATO.identity)
    assert not evidence.verify(RUSSIA.identity)
    assert "two different entries signed with seq 2" in evidence.describe()
    assert replica.frozen
    assert replica.offer(log[3].raw) == Rejected(
        f"frozen: equivocation in log {replica.log_id} awaits a decision"
    )
    assert replica.offer(log[1].raw) == Duplicate(1)  # still harmless
    assert isinstance(replica.offer(fake.raw), Equivocation)  # still detected, recorded once
    assert replica.evidence == (evidence,)
    assert replica.resolve_freeze() == (evidence,)
    assert replica.offer(log[3].raw) == Accepted(3)
    assert replica.evidence == (evidence,)


def test_replica_detects_a_forked_chain() -> None:
    log = build_log(NATO, 4)
    fake = build_log(NATO, 3, changes={2: {"fields": {"sequence": "two"}}})[2]
    replica = LogReplica(NATO.identity)
    for raw in [*raws(log[:2]), fake.raw]:
        assert isinstance(replica.offer(raw), Accepted)
    result = replica.offer(log[3].raw)  # chains onto the true seq 2, not the one held
    assert isinstance(result, Equivocation)
    assert (result.evidence.kind, result.evidence.seq) == ("forked-chain", 3)
    assert (result.evidence.held, result.evidence.offered) == (fake.raw, log[3].raw)
    assert result.evidence.verify(NATO.identity)
    assert "seq 3 is signed onto a seq 2 other than the one held" in result.evidence.describe()
    assert replica.frozen


def test_evidence_that_is_not_evidence() -> None:
    log = build_log(NATO, 3)
    same = EquivocationEvidence(
        log_id_for(NATO.identity), 1, "conflicting-entries", log[1].raw, log[1].raw
    )
    chained = EquivocationEvidence(
        log_id_for(NATO.identity), 2, "forked-chain", log[1].raw, log[2].raw
    )
    garbage = EquivocationEvidence(
        log_id_for(NATO.identity), 1, "conflicting-entries", b"x", log[1].raw
    )
    assert not any(e.verify(NATO.identity) for e in (same, chained, garbage))


def test_replica_restore() -> None:
    log = build_log(NATO, 3)
    replica = LogReplica.restore(NATO.identity, raws(log))
    assert replica.size == 3
    with pytest.raises(
        MalformedEntryError, match=r"stored log parley/nato/.*: gap: expected seq 1"
    ):
        LogReplica.restore(NATO.identity, [log[0].raw, log[2].raw])
    with pytest.raises(MalformedEntryError, match="seq 0 is stored twice"):
        LogReplica.restore(NATO.identity, [log[0].raw, log[0].raw])


def test_replica_checks_peer_refs_against_what_it_knows() -> None:
    peer = build_log(RUSSIA, 2)
    peer_replica = LogReplica.restore(RUSSIA.identity, raws(peer))
    log = build_log(
        NATO, 2, changes={1: {"peer_ref": PeerRef(2, "1" * 64), "in_reply_to": peer[0].msg_id}}
    )
    replica = LogReplica(
        NATO.identity, peer_msg_ids=peer_replica.has_msg_id, peer_root_at=peer_replica.root_at
    )
    replica.offer(log[0].raw)
    assert replica.offer(log[1].raw) == Rejected(
        "peer_ref root is not the other log's root at size 2"
    )


# ---------------------------------------------------------- the replica under random schedules

TRUE_LOG = build_log(NATO, 8)
#: for each seq, another entry the owner signed with that seq and the same predecessor
FAKES = [
    build_log(NATO, seq + 1, changes={seq: {"fields": {"sequence": f"fake {seq}"}}})[seq]
    for seq in range(len(TRUE_LOG))
]
JUNK = [
    tamper_text(TRUE_LOG[3].raw, 3),
    TRUE_LOG[0].raw + b"\n",
    TRUE_LOG[5].raw[:-10],
    build_log(RUSSIA, 2)[1].raw,
    ENTRY_HEADER + b"{}\n" + b"A" * 86 + b"==\n",
]

actions = st.lists(
    st.one_of(
        st.tuples(st.just("true"), st.integers(0, len(TRUE_LOG) - 1)),
        st.tuples(st.just("fake"), st.integers(0, len(TRUE_LOG) - 1)),
        st.tuples(st.just("junk"), st.integers(0, len(JUNK) - 1)),
        st.tuples(st.just("resolve"), st.just(0)),
        st.tuples(st.just("next"), st.just(0)),
        st.tuples(st.just("next"), st.just(0)),
    ),
    min_size=4,
    max_size=40,
)


class Model:
    """What the replica should do, from nothing but the versions it holds."""

    def __init__(self) -> None:
        self.held: list[str] = []  # "true" or "fake", by seq
        self.frozen = False
        self.equivocations = 0

    def expect(self, version: str, seq: int) -> OfferResult | str:
        if seq < len(self.held):
            if self.held[seq] == version:
                return Duplicate(seq)
            self.frozen, self.equivocations = True, self.equivocations + 1
            return "conflicting-entries"
        if self.frozen:
            return "frozen"
        if seq > len(self.held):
            return Rejected(f"gap: expected seq {len(self.held)}")
        # every version of seq n names the true seq n - 1 as its predecessor
        if seq > 0 and self.held[seq - 1] == "fake":
            self.frozen, self.equivocations = True, self.equivocations + 1
            return "forked-chain"
        self.held.append(version)
        return Accepted(seq)


def check_offer(replica: LogReplica, model: Model, version: str, seq: int) -> None:
    raw = (TRUE_LOG if version == "true" else FAKES)[seq].raw
    before = (replica.size, replica.root)
    result = replica.offer(raw)
    expected = model.expect(version, seq)
    event(f"offer: {expected if isinstance(expected, str) else type(expected).__name__}")
    if expected in ("conflicting-entries", "forked-chain"):
        assert isinstance(result, Equivocation)
        assert result.evidence.kind == expected
        assert result.evidence.verify(NATO.identity)
    elif expected == "frozen":
        assert isinstance(result, Rejected)
        assert result.reason.startswith("frozen")
    else:
        assert result == expected
    if not isinstance(result, Accepted):  # duplicates, rejections and evidence change nothing held
        assert (replica.size, replica.root) == before


def check_invariants(replica: LogReplica, model: Model) -> None:
    held = [(TRUE_LOG if v == "true" else FAKES)[seq].raw for seq, v in enumerate(model.held)]
    assert [e.raw for e in replica.entries] == held
    assert [e.seq for e in replica.entries] == list(range(replica.size))  # a gap-free prefix
    assert replica.frozen == model.frozen
    if "fake" not in model.held:
        assert held == raws(TRUE_LOG)[: replica.size]
    assert len(replica.evidence) <= model.equivocations


@settings(max_examples=200, deadline=None)
@given(actions, st.booleans())
def test_replica_under_random_deliveries(schedule: list[tuple[str, int]], inject: bool) -> None:
    replica = LogReplica(NATO.identity)
    model = Model()
    for kind, index in schedule:
        if kind == "fake" and not inject:
            kind = "true"
        if kind == "next":  # the in-order stream a live link delivers
            kind, index = "true", min(replica.size, len(TRUE_LOG) - 1)
        if kind == "junk":
            before = (replica.size, replica.root, replica.frozen)
            assert isinstance(replica.offer(JUNK[index]), Rejected)
            assert (replica.size, replica.root, replica.frozen) == before
        elif kind == "resolve":
            replica.resolve_freeze()
            model.frozen = False
        else:
            check_offer(replica, model, kind, index)
        check_invariants(replica, model)
    # the peer resends everything from the start: any fake held is exposed
    for seq in range(len(TRUE_LOG)):
        check_offer(replica, model, "true", seq)
        check_invariants(replica, model)
    if replica.frozen:
        assert replica.evidence
    else:
        assert raws(list(replica.entries)) == raws(TRUE_LOG)
    if not inject:
        assert not replica.evidence
        assert not replica.frozen
