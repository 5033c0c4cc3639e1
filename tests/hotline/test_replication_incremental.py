"""Replication costs what it carries: a push reads only the entries after the receipt, an import
verifies only the entries it brings, and the peer's log kept between imports never hides a
refused bundle or entries stored by another process."""

import base64
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from parley.hotline import bundle, records
from parley.hotline.bundle import BundleError, build_bundle, import_bundle_bytes
from parley.hotline.canonical import decode_canonical, encode_canonical
from parley.hotline.chain import LogReplica
from parley.hotline.node import Node, init_node, load_node
from parley.hotline.peer_sync import answer_push, peer_log_size, pull_body, push_body
from parley.store.engine import read


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    nato, russia = init_node(tmp_path / "nato", "nato"), init_node(tmp_path / "russia", "russia")
    nato.trust(russia.identity_json(), "http://russia.test")
    russia.trust(nato.identity_json(), "http://nato.test")
    yield nato, russia
    nato.close()
    russia.close()


def _deliver(sender: Node, receiver: Node) -> int:
    """One push and its receipt, in process; how many entries the receiver took."""
    answer = answer_push(receiver, push_body(sender), "push")
    assert answer.receipt is not None
    bundle.accept_receipt(sender, answer.receipt)
    return answer.summary.accepted


def _send(node: Node, count: int) -> list[str]:
    return [node.send(6, {"sequence": str(n)}) for n in range(count)]


def _count_offers(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    offered: list[int] = []
    original = LogReplica.offer

    def counting(self: LogReplica, raw: bytes) -> object:
        offered.append(1)
        return original(self, raw)

    monkeypatch.setattr(LogReplica, "offer", counting)
    return offered


def test_an_import_verifies_only_the_entries_it_brings(
    pair: tuple[Node, Node], monkeypatch: pytest.MonkeyPatch
) -> None:
    nato, russia = pair
    _send(nato, 60)
    assert _deliver(nato, russia) == 61  # the catalogue entry and 60 messages
    offered = _count_offers(monkeypatch)
    _send(nato, 2)
    assert _deliver(nato, russia) == 2
    assert len(offered) == 2  # not the 63 entries of the whole log again
    assert russia.verify().ok


def test_a_push_reads_only_the_entries_after_the_receipt(
    pair: tuple[Node, Node], monkeypatch: pytest.MonkeyPatch
) -> None:
    nato, russia = pair
    _send(nato, 40)
    _deliver(nato, russia)
    _send(nato, 3)
    read_from: list[int] = []
    original = records.raw_entries

    def recording(connection: object, log_id: str, from_seq: int = 0) -> list[bytes]:
        if log_id == nato.log_id:
            read_from.append(from_seq)
        return original(connection, log_id, from_seq)  # type: ignore[arg-type]

    monkeypatch.setattr(records, "raw_entries", recording)
    payload = _payload(push_body(nato))
    assert payload["after_seq"] == 40
    entries = payload["entries"]
    assert isinstance(entries, list)
    assert len(entries) == 3
    assert min(read_from) >= 40  # the last receipted entry at most, never the whole log


def test_a_refused_bundle_leaves_no_trace_in_the_kept_log(pair: tuple[Node, Node]) -> None:
    nato, russia = pair
    _deliver(nato, russia)
    sent = _send(nato, 3)
    data, _ = build_bundle(nato)
    payload = _payload(data)
    tampered = _with_payload(nato, data, {**payload, "consistency": {"from_size": 1, "proof": []}})
    with pytest.raises(BundleError, match="consistency proof"):
        import_bundle_bytes(russia, tampered, "tampered")
    # The three entries were offered to the kept replica before the proof failed: none stored,
    # and the next honest bundle must still be taken whole.
    assert [view.msg_id for view in russia.inbox()] == []
    assert _deliver(nato, russia) == 3
    assert [view.msg_id for view in russia.inbox()] == sent
    assert russia.verify().ok


def test_entries_stored_by_another_process_extend_the_kept_log(
    pair: tuple[Node, Node], tmp_path: Path
) -> None:
    nato, russia = pair
    _deliver(nato, russia)  # russia now keeps nato's log in memory
    first = _send(nato, 2)
    with load_node(tmp_path / "russia") as beside:  # e.g. ``parley hotline import``
        import_bundle_bytes(beside, push_body(nato), "bundle on a USB stick")
    second = _send(nato, 2)
    assert _deliver(nato, russia) == 2
    assert [view.msg_id for view in russia.inbox()] == first + second
    assert russia.verify().ok


def test_a_restored_database_rebuilds_the_kept_trees(
    pair: tuple[Node, Node], tmp_path: Path
) -> None:
    nato, russia = pair
    _send(nato, 2)
    _deliver(nato, russia)
    russia.engine.dispose()  # a clean copy of the database file (no write-ahead log left)
    backup = (tmp_path / "russia" / "node.db").read_bytes()
    _send(nato, 3)
    _deliver(nato, russia)
    _send(russia, 2)  # russia's kept tree of its own log is now at 3 entries
    russia.engine.dispose()
    for suffix in ("-wal", "-shm"):
        (tmp_path / "russia" / f"node.db{suffix}").unlink(missing_ok=True)
    (tmp_path / "russia" / "node.db").write_bytes(backup)
    # The restored copy lacks three of nato's entries: a pull after what it holds takes them.
    pulled = import_bundle_bytes(russia, pull_body(nato, peer_log_size(russia) - 1), "pull")
    assert pulled.accepted == 3
    russia.send(6, {"sequence": "9"})  # seq 1 of the restored log, on a rebuilt tree
    assert russia.verify().ok
    with read(russia.engine) as connection:
        assert records.log_size(connection, russia.log_id) == 2


def _payload(data: bytes) -> dict[str, object]:
    document = json.loads(data)
    payload = decode_canonical(base64.b64decode(document["payload"]))
    assert isinstance(payload, dict)
    return payload


def _with_payload(node: Node, data: bytes, payload: dict[str, object]) -> bytes:
    """The bundle with another payload, re-signed by its exporter (only the proof is wrong)."""
    from parley.hotline.checkpoint import sign_note

    payload_bytes = encode_canonical(payload)
    entries = payload["entries"]
    assert isinstance(entries, list)
    body = bundle._manifest_body(
        node.log_id,
        int(str(payload["after_seq"])) + 1,
        len(entries),
        _checkpoint_size(data),
        payload_bytes,
    )
    document = {
        "format": bundle.BUNDLE_FORMAT,
        "manifest": sign_note(body, node.log_id, node.key),
        "payload": base64.b64encode(payload_bytes).decode("ascii"),
    }
    return json.dumps(document).encode()


def _checkpoint_size(data: bytes) -> int:
    manifest = str(json.loads(data)["manifest"])
    line = next(line for line in manifest.splitlines() if line.startswith("checkpoint "))
    return int(line.split()[1])


def test_sends_beside_pushes_in_another_thread_never_stall(pair: tuple[Node, Node]) -> None:
    """A server sends (API threads) while its replicator pushes: the kept trees' locks are never
    held while waiting for the database's write lock, which the other thread may hold."""
    nato, russia = pair
    stop = threading.Event()
    failures: list[BaseException] = []
    slowest = [0.0]

    def push_forever() -> None:
        while not stop.is_set():
            started = time.monotonic()
            try:
                _deliver(nato, russia)
            except BaseException as exc:  # reported by the test below
                failures.append(exc)
                return
            slowest[0] = max(slowest[0], time.monotonic() - started)

    pusher = threading.Thread(target=push_forever, daemon=True)
    pusher.start()
    try:
        sent = []
        for number in range(40):
            started = time.monotonic()
            sent.append(nato.send(6, {"sequence": str(number)}))
            slowest[0] = max(slowest[0], time.monotonic() - started)
    finally:
        stop.set()
        pusher.join(60)
    assert failures == []
    assert slowest[0] < 5.0, f"a send or push waited {slowest[0]:.1f} s"
    _deliver(nato, russia)
    assert [view.msg_id for view in russia.inbox()] == sent
    assert nato.outbox() == []
