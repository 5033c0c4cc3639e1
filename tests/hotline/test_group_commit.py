"""Group commit: sends arriving while another is written go together in one transaction with one
checkpoint, each caller told its msg_id only once the batch is durable, each message keeping its
own signature, chain link, outbox row, audit row and escalation timers."""

import itertools
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import func, select

from parley.hotline import bundle, records
from parley.hotline.entry import verify_signed_entry
from parley.hotline.node import GroupCommit, Node, NodeError, PendingSend, init_node
from parley.hotline.peer_sync import answer_push, push_body
from parley.hotline.template_model import TemplateError
from parley.store import schema
from parley.store.engine import read, write

WAIT_S = 30.0


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    nato, russia = init_node(tmp_path / "nato", "nato"), init_node(tmp_path / "russia", "russia")
    nato.trust(russia.identity_json(), "http://russia.test")
    russia.trust(nato.identity_json(), "http://nato.test")
    yield nato, russia
    nato.close()
    russia.close()


class Outcomes:
    """Calls run in threads, each one's result or exception kept by its index."""

    def __init__(self) -> None:
        self.results: dict[int, object] = {}
        self.threads: list[threading.Thread] = []

    def start(self, index: int, call: Callable[[], object]) -> None:
        def run() -> None:
            try:
                self.results[index] = call()
            except Exception as exc:  # kept for the test to assert on
                self.results[index] = exc

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        self.threads.append(thread)

    def join(self) -> None:
        for thread in self.threads:
            thread.join(WAIT_S)
            assert not thread.is_alive()


def _wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def _waiting(node: Node) -> int:
    return len(node._group_commit._waiting)


def _send_while_locked(node: Node, sends: Sequence[Callable[[], object]]) -> Outcomes:
    """Start ``sends`` while another transaction holds the write lock, so that the first leads a
    batch of one (it waits for the lock) and the others queue up behind it; then release."""
    outcomes = Outcomes()
    with write(node.engine) as blocker:
        blocker.execute(select(1))
        outcomes.start(0, sends[0])
        _wait_until(lambda: node._group_commit._writing and _waiting(node) == 0)
        for index, send in enumerate(sends[1:], start=1):
            outcomes.start(index, send)
            _wait_until(lambda n=index: _waiting(node) == n)  # type: ignore[misc]
        time.sleep(0.05)
        assert outcomes.results == {}  # nobody is told a msg_id before its batch commits
    outcomes.join()
    return outcomes


def _checkpoint_sizes(node: Node) -> list[int]:
    with read(node.engine) as connection:
        return [note.size for note in records.checkpoints(connection, node.log_id)]


def _count(node: Node, table: str, **where: object) -> int:
    rows = schema.metadata.tables[table]
    query = select(func.count()).select_from(rows)
    for column, value in where.items():
        query = query.where(rows.c[column] == value)
    with read(node.engine) as connection:
        return int(connection.execute(query).scalar_one())


def test_concurrent_sends_share_one_transaction_and_one_checkpoint(
    pair: tuple[Node, Node],
) -> None:
    nato, _ = pair
    sends = [(lambda n=n: nato.send(6, {"sequence": str(n)})) for n in range(8)]
    outcomes = _send_while_locked(nato, sends)
    msg_ids = [outcomes.results[n] for n in range(8)]
    assert all(isinstance(msg_id, str) for msg_id in msg_ids)
    assert len(set(msg_ids)) == 8
    # seq 0 is the catalogue (checkpoint 1); the first send alone, then the seven queued behind it.
    assert _checkpoint_sizes(nato) == [1, 2, 9]
    with read(nato.engine) as connection:
        stored = records.stored_entries(connection, nato.log_id)
        assert records.outbox_seqs(connection, nato.log_id) == list(range(9))
    assert [entry.seq for entry in stored] == list(range(9))
    assert {entry.msg_id for entry in stored[1:]} == set(msg_ids)
    for previous, entry in itertools.pairwise(stored):
        signed = verify_signed_entry(entry.raw, nato.identity())
        assert signed.entry.prev_hash == previous.entry_hash
    assert _count(nato, "audit", action="send") == 8
    assert _count(nato, "escalation_policies", log_id=nato.log_id) == 8
    # a test message escalates on delivery and acknowledgement: every message got its ladders
    for msg_id in msg_ids:
        tracks = _tracks(nato, str(msg_id))
        assert tracks == {"delivery", "acknowledgement"}
    assert nato.verify().ok


def _tracks(node: Node, msg_id: str) -> set[str]:
    steps = schema.escalation_steps
    with read(node.engine) as connection:
        found = connection.execute(select(steps.c.track).where(steps.c.msg_id == msg_id))
        return {str(track) for track in found.scalars()}


def test_a_refused_send_does_not_stop_the_rest_of_its_batch(pair: tuple[Node, Node]) -> None:
    nato, _ = pair
    first = nato.send(6, {"sequence": "0"})
    sends: list[Callable[[], object]] = [
        lambda: nato.send(6, {"sequence": "1"}),
        lambda: nato.send(9, {"text": "x"}, reply_to="no-such-message", language="en"),
        lambda: nato.send(6, {"sequence": "2"}),
        lambda: nato.send(2, {"reference": first, "question": "?"}),
        lambda: nato.send(6, {"sequence": "not a number"}),
    ]
    outcomes = _send_while_locked(nato, sends)
    assert isinstance(outcomes.results[1], NodeError)
    assert "no-such-message" in str(outcomes.results[1])
    assert isinstance(outcomes.results[4], TemplateError)
    written = [outcomes.results[n] for n in (0, 2, 3)]
    assert all(isinstance(msg_id, str) for msg_id in written), outcomes.results
    # the catalogue, the first send, the leader alone, then two of the three queued: the refused
    # ones took no seq
    assert _checkpoint_sizes(nato) == [1, 2, 3, 5]
    with read(nato.engine) as connection:
        assert records.log_size(connection, nato.log_id) == 5
    assert nato.verify().ok


def test_a_failed_transaction_fails_every_send_of_its_batch_and_stores_none(
    pair: tuple[Node, Node], monkeypatch: pytest.MonkeyPatch
) -> None:
    nato, _ = pair
    original = records.add_audits

    def failing(*args: object, **kwargs: object) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(records, "add_audits", failing)
    sends = [(lambda n=n: nato.send(6, {"sequence": str(n)})) for n in range(4)]
    outcomes = _send_while_locked(nato, sends)
    assert all(isinstance(outcomes.results[n], OSError) for n in range(4))
    assert _checkpoint_sizes(nato) == [1]
    assert _count(nato, "entries", log_id=nato.log_id) == 1
    assert _count(nato, "escalation_steps") == 0
    monkeypatch.setattr(records, "add_audits", original)
    nato.send(6, {"sequence": "99"})  # the committer is not left stuck
    assert _checkpoint_sizes(nato) == [1, 2]
    assert nato.verify().ok


def test_a_batch_is_delivered_and_receipted_like_single_sends(pair: tuple[Node, Node]) -> None:
    nato, russia = pair
    sends = [(lambda n=n: nato.send(6, {"sequence": str(n)})) for n in range(5)]
    _send_while_locked(nato, sends)
    answer = answer_push(russia, push_body(nato), "push")
    assert answer.receipt is not None
    assert answer.summary.accepted == 6
    bundle.accept_receipt(nato, answer.receipt)
    assert nato.outbox() == []
    assert [view.states for view in nato.log().own][1:] == [("recorded", "delivered")] * 5
    assert len(russia.inbox()) == 5
    assert nato.verify().ok
    assert russia.verify().ok


def test_many_threads_sending_at_once_lose_and_duplicate_nothing(
    pair: tuple[Node, Node],
) -> None:
    nato, _ = pair
    outcomes = Outcomes()
    for thread in range(8):
        outcomes.start(
            thread,
            lambda t=thread: [nato.send(6, {"sequence": str(100 * t + n)}) for n in range(10)],  # type: ignore[misc]
        )
    outcomes.join()
    sent = [msg_id for result in outcomes.results.values() for msg_id in result]  # type: ignore[attr-defined]
    assert len(sent) == 80 == len(set(sent))
    with read(nato.engine) as connection:
        stored = records.stored_entries(connection, nato.log_id)
    assert {entry.msg_id for entry in stored[1:]} == set(sent)
    seqs = {entry.msg_id: entry.seq for entry in stored}
    for result in outcomes.results.values():  # each thread's sends in the order it made them
        thread_seqs = [seqs[msg_id] for msg_id in result]  # type: ignore[attr-defined]
        assert thread_seqs == sorted(thread_seqs)
    assert _checkpoint_sizes(nato)[-1] == 81
    assert nato.verify().ok


def test_group_commit_hands_the_lead_on_and_bounds_the_batch() -> None:
    batches: list[list[int]] = []
    release = threading.Event()

    def write_batch(batch: Sequence[PendingSend]) -> None:
        if not batches:
            release.wait(WAIT_S)
        batches.append([int(p.values["n"]) for p in batch])
        for pending in batch:
            pending.signed = object()  # type: ignore[assignment]

    committer = GroupCommit(write_batch, max_batch=3)
    outcomes = Outcomes()
    for n in range(7):
        outcomes.start(n, lambda n=n: committer.submit(PendingSend({"n": n})))  # type: ignore[misc]
        _wait_until(lambda n=n: committer._writing and len(committer._waiting) == n)  # type: ignore[misc]
    release.set()
    outcomes.join()
    assert batches == [[0], [1, 2, 3], [4, 5, 6]]
    assert not committer._writing
