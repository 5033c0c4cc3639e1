"""The replication loop against a peer reached through an in-memory transport: push and receipt,
the pull fallback, the receipt owed after a pull, retries while the peer is down, and the start-up
resync of a node restored from a backup."""

import json
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from parley.hotline.bundle import BundleError
from parley.hotline.keys import PartyKey
from parley.hotline.node import Node, init_node, load_node
from parley.hotline.peer_auth import PeerAuthError, RequestVerifier
from parley.hotline.peer_sync import answer_push, copy_of_peer_log, pull_body
from parley.hotline.replication import ReplicationError, ReplicationSettings, Replicator
from parley.hotline.resync import RESYNC_MARKER

FAST = ReplicationSettings(initial_backoff_s=0.01, max_backoff_s=0.02, pull_interval_s=0.0)


class FakePeer:
    """russia's side of the protocol, called in process; ``down`` makes it unreachable."""

    def __init__(self, node: Node, sender: Node) -> None:
        self.node = node
        self.verifier = RequestVerifier(sender.identity())
        self.down = False
        self.requests: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        target = request.url.raw_path.decode()
        body = request.read()
        try:
            self.verifier.verify(request.method, target, request.headers, body, self.node.clock())
        except PeerAuthError as exc:
            return httpx.Response(401, json={"detail": str(exc)})
        self.requests.append(f"{request.method} {request.url.path}")
        after = int(parse_qs(request.url.query.decode()).get("after", ["-1"])[0])
        if request.url.path == "/peer/v1/entries":
            try:
                answer = answer_push(self.node, body, "push")
            except BundleError as exc:
                return httpx.Response(400, json={"detail": str(exc)})
            return httpx.Response(200, json=answer.to_json())
        if request.url.path == "/peer/v1/log":
            return httpx.Response(200, content=pull_body(self.node, after))
        assert request.url.path == "/peer/v1/copy"
        return httpx.Response(200, content=json.dumps(copy_of_peer_log(self.node, after)))


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    nato, russia = init_node(tmp_path / "nato", "nato"), init_node(tmp_path / "russia", "russia")
    nato.trust(russia.identity_json(), "http://russia.test")
    russia.trust(nato.identity_json(), "http://nato.test")
    yield nato, russia
    nato.close()
    russia.close()


def _replicator(node: Node, peer: FakePeer) -> Replicator:
    return Replicator(node, FAST, httpx.MockTransport(peer))


def test_push_delivers_and_the_pull_fallback_brings_the_peers_messages(
    pair: tuple[Node, Node],
) -> None:
    nato, russia = pair
    peer = FakePeer(russia, nato)
    replicator = _replicator(nato, peer)
    replicator.resync()
    sent = nato.send(6, {"sequence": "1"})
    assert replicator.cycle() is True
    assert [view.msg_id for view in russia.inbox()] == [sent]
    assert nato.outbox() == []
    assert nato.log().own[-1].states == ("recorded", "delivered")

    # russia cannot reach nato: nato pulls its ack; nato's next push carries the receipt
    ack = russia.ack(sent)
    replicator.cycle()
    assert [view.msg_id for view in nato.inbox()] == [ack]
    assert nato.log().own[-1].states == ("recorded", "delivered", "acknowledged")
    assert ack in {view.msg_id for view in nato.log().peer}
    replicator.cycle()
    assert russia.outbox() == []  # russia holds nato's cosignature over its log
    replicator.stop()


def test_the_loop_retries_while_the_peer_is_down(pair: tuple[Node, Node]) -> None:
    nato, russia = pair
    peer = FakePeer(russia, nato)
    peer.down = True
    replicator = _replicator(nato, peer)
    replicator.start()
    try:
        assert (nato.directory / RESYNC_MARKER).exists()
        _wait(lambda: replicator.last_error is not None)
        assert "connection refused" in str(replicator.last_error)
        assert not replicator.resynced.is_set()
        peer.down = False
        _wait(replicator.resynced.is_set)
        assert not (nato.directory / RESYNC_MARKER).exists()
        msg_id = nato.send(6, {"sequence": "2"})
        replicator.wake()
        _wait(lambda: not nato.outbox())
        assert [view.msg_id for view in russia.inbox()] == [msg_id]
    finally:
        replicator.stop()


def test_a_restored_node_takes_back_its_own_entries_before_writing(
    pair: tuple[Node, Node], tmp_path: Path
) -> None:
    nato, russia = pair
    shutil.copytree(tmp_path / "nato", tmp_path / "nato-backup")
    replicator = _replicator(nato, FakePeer(russia, nato))
    replicator.resync()
    sent = [nato.send(6, {"sequence": str(n)}) for n in (1, 2, 3)]
    replicator.cycle()
    russia_says = russia.send(6, {"sequence": "10"})
    replicator.cycle()  # nato pulls it and cosigns russia's log: the backup holds none of that
    replicator.cycle()  # and pushes its receipt
    assert russia.outbox() == []
    with load_node(tmp_path / "nato-backup") as restored:
        again = _replicator(restored, FakePeer(russia, restored))
        again.resync()
        assert [view.msg_id for view in restored.log().own[1:]] == sent
        fourth = restored.send(6, {"sequence": "4"})  # seq 4, not a second seq 1
        again.cycle()
        assert [view.msg_id for view in russia.inbox()] == [*sent, fourth]
        assert [view.msg_id for view in restored.inbox()] == [russia_says]
        assert restored.verify().ok
        assert russia.verify().ok


def test_a_refusal_names_the_peers_reason(pair: tuple[Node, Node]) -> None:
    nato, russia = pair
    peer = FakePeer(russia, nato)
    peer.verifier = RequestVerifier(PartyKey.generate("nato").identity)  # trusts another key
    nato.send(6, {"sequence": "1"})
    with pytest.raises(ReplicationError, match="answered 401: the request signature is not nato"):
        _replicator(nato, peer).cycle()
    assert nato.outbox() == [0, 1]  # nothing delivered


def _wait(condition: Callable[[], object]) -> bool:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
    return True


#: Pulls only when the interval has passed or a push's answer says the peer holds more.
SLOW_PULLS = ReplicationSettings(initial_backoff_s=0.01, max_backoff_s=0.02, pull_interval_s=60.0)


def _pulls(peer: FakePeer) -> int:
    return peer.requests.count("GET /peer/v1/log")


def test_a_push_whose_answer_shows_nothing_new_skips_the_pull(pair: tuple[Node, Node]) -> None:
    nato, russia = pair
    peer = FakePeer(russia, nato)
    interval = ReplicationSettings(pull_interval_s=0.3)
    replicator = Replicator(nato, interval, httpx.MockTransport(peer))
    replicator.resync()
    replicator.cycle()  # the push's answer: russia's log holds its seq 0, which nato lacks
    assert _pulls(peer) == 1
    for sequence in ("1", "2"):
        time.sleep(0.4)  # a pull is due by the interval
        nato.send(6, {"sequence": sequence})
        assert replicator.cycle() is True
    assert _pulls(peer) == 1  # both answers said russia's log holds nothing nato lacks
    assert peer.requests[-2:] == ["POST /peer/v1/entries", "POST /peer/v1/entries"]
    assert nato.outbox() == []


def test_a_push_whose_answer_shows_the_peers_new_entries_pulls_them_at_once(
    pair: tuple[Node, Node],
) -> None:
    nato, russia = pair
    peer = FakePeer(russia, nato)
    replicator = Replicator(nato, SLOW_PULLS, httpx.MockTransport(peer))
    replicator.resync()
    replicator.cycle()
    nato.send(6, {"sequence": "1"})
    replicator.cycle()
    assert _pulls(peer) == 1  # russia's seq 0, at the first cycle
    russia_says = russia.send(6, {"sequence": "10"})  # russia cannot reach nato
    nato.send(6, {"sequence": "2"})
    replicator.cycle()  # long before the interval: the answer's log_size (2 > 1) asks for a pull
    assert _pulls(peer) == 2
    assert [view.msg_id for view in nato.inbox()] == [russia_says]
    replicator.cycle()  # the receipt owed for what the pull brought
    assert russia.outbox() == []


def test_a_push_from_the_peer_postpones_the_pull(pair: tuple[Node, Node]) -> None:
    nato, russia = pair
    peer = FakePeer(russia, nato)
    interval = ReplicationSettings(pull_interval_s=0.5)
    replicator = Replicator(nato, interval, httpx.MockTransport(peer))
    replicator.resync()
    replicator._owe_receipt = False  # nothing to push: only the pull's timing is looked at
    replicator.cycle()
    assert _pulls(peer) == 1  # due at start
    replicator.peer_pushed()
    replicator.cycle()
    assert _pulls(peer) == 1  # the peer reaches us: nothing to pull for another interval
    time.sleep(0.6)
    replicator.cycle()
    assert _pulls(peer) == 2  # the fallback still runs every interval
