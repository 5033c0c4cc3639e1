"""Two real nodes under a faulty link, property-based: nothing lost, nothing twice, both converge.

Each side is what ``parley serve`` runs: the FastAPI app of a node directory (SQLite in a temporary
directory) serving the signed peer routes, and a :class:`Replicator` on that app's own ``Node``.
The replicator's HTTP requests go through an in-memory link to the other side's app; the link
drops requests, loses answers after the peer has committed, duplicates requests (the copy is a
replay the peer refuses), holds requests back and delivers them later (out of order), answers
with an older answer than the request's (a stale pull or receipt), and is cut for whole stretches.
Hypothesis draws the schedule: sends and acknowledgements on both sides, replication cycles, cuts
and late deliveries. After the link heals and the held requests arrive, both nodes must hold
byte-identical copies of both logs, every message exactly once in the other's inbox, a receipt
covering each whole log, no equivocation, and ``verify`` clean on both.
"""

import random
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parley.hotline import records
from parley.hotline.errors import HotlineError
from parley.hotline.node import Node, init_node
from parley.hotline.replication import ReplicationSettings, Replicator
from parley.hotline.templates import template
from parley.store.engine import read
from parley.web import create_app
from parley.web.state import NodeState

pytestmark = pytest.mark.slow

#: Every cycle pulls; no backoff sleeps: the test drives the cycles itself.
CYCLES = ReplicationSettings(pull_interval_s=0.0, request_timeout_s=5.0)
FAULTS = ("deliver", "drop-request", "drop-answer", "duplicate", "hold", "stale-answer")
#: Cycles allowed after healing for both sides to converge (each needs a push and a pull).
HEAL_ROUNDS = 8

ACTIONS = ("send", "send", "ack", "cycle", "cycle", "cycle", "cut", "mend", "late")
steps_strategy = st.lists(
    st.tuples(st.sampled_from(ACTIONS), st.integers(0, 1), st.integers(0, 15)),
    min_size=1,
    max_size=40,
)
weights_strategy = st.tuples(st.integers(1, 4), *(st.integers(0, 4) for _ in FAULTS[1:]))


@dataclass(frozen=True)
class Answer:
    """What the peer app answered, kept to hand back later (a stale answer)."""

    status: int
    content: bytes
    content_type: str


@dataclass
class Link:
    """One direction of the network: requests of one side's replicator to the other side's app."""

    peer_app: TestClient
    rng: random.Random
    weights: tuple[int, ...]
    cut: bool = False
    faulty: bool = True
    held: list[httpx.Request] = field(default_factory=list)
    answers: dict[str, list[Answer]] = field(default_factory=dict)
    faults: dict[str, int] = field(default_factory=dict)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        if self.cut:
            raise httpx.ConnectError("link cut", request=request)
        fault = self.rng.choices(FAULTS, self.weights)[0] if self.faulty else "deliver"
        self.faults[fault] = self.faults.get(fault, 0) + 1
        if fault == "drop-request":
            raise httpx.ConnectError("request lost", request=request)
        if fault == "hold":
            self.held.append(request)
            raise httpx.ReadTimeout("request held back", request=request)
        answer = self.deliver(request)
        if fault == "duplicate":
            self.deliver(request)  # the same signed request again: a replay, refused
        if fault == "drop-answer":
            raise httpx.ReadTimeout("answer lost", request=request)
        older = self.answers.get(_route(request), [])
        if fault == "stale-answer" and len(older) > 1:
            answer = older[self.rng.randrange(len(older) - 1)]
        return httpx.Response(
            answer.status,
            content=answer.content,
            headers={"content-type": answer.content_type},
            request=request,
        )

    def deliver(self, request: httpx.Request) -> Answer:
        """The request through the peer app's real routes (the same signed bytes, headers)."""
        headers = {
            name: value
            for name, value in request.headers.items()
            if name.lower().startswith("parley-") or name.lower() == "content-type"
        }
        target = request.url.raw_path.decode("ascii")
        got = self.peer_app.request(
            request.method, target, content=request.content, headers=headers
        )
        answer = Answer(got.status_code, got.content, got.headers.get("content-type", ""))
        if answer.status == 200:
            self.answers.setdefault(_route(request), []).append(answer)
        return answer

    def deliver_held(self, index: int) -> None:
        if self.held:
            self.deliver(self.held.pop(index % len(self.held)))


def _route(request: httpx.Request) -> str:
    return f"{request.method} {request.url.path}"


@dataclass
class Side:
    node: Node
    replicator: Replicator
    link: Link
    recorded: list[str] = field(default_factory=list)

    def cycle(self) -> None:
        """One replication cycle; failures are what the server's loop retries, not errors."""
        try:
            self.replicator.cycle()
        except (httpx.HTTPError, HotlineError) as exc:
            self.replicator.last_error = str(exc)


@contextmanager
def two_sides(weights: tuple[int, ...], seed: int) -> Iterator[tuple[Side, Side]]:
    with tempfile.TemporaryDirectory(prefix="parley-two-nodes-") as temporary, ExitStack() as stack:
        root = Path(temporary)
        with init_node(root / "nato", "nato") as nato, init_node(root / "russia", "russia") as ru:
            nato.trust(ru.identity_json(), "http://russia.test")
            ru.trust(nato.identity_json(), "http://nato.test")
        apps = [
            stack.enter_context(TestClient(create_app(root / name, replicate=False)))
            for name in ("nato", "russia")
        ]
        sides = []
        for number, app in enumerate(apps):
            state = app.app.state.parley  # type: ignore[attr-defined]
            assert isinstance(state, NodeState)
            link = Link(apps[1 - number], random.Random(seed + number), weights, faulty=False)
            state.replicator = Replicator(state.node, CYCLES, link.transport())
            sides.append(Side(state.node, state.replicator, link))
        for side in sides:
            side.replicator.resync()  # as the server does before anything else
            side.link.faulty = True
        yield sides[0], sides[1]


def _act(action: str, side: Side, other: Side, argument: int) -> None:
    if action == "send":
        side.recorded.append(side.node.send(6, {"sequence": str(len(side.recorded))}))
    elif action == "ack":
        waiting = [
            view.msg_id
            for view in side.node.inbox()
            if view.template is not None
            and template(view.template).requires_ack
            and "acknowledged" not in view.states
        ]
        if waiting:
            side.recorded.append(side.node.ack(waiting[argument % len(waiting)]))
    elif action == "cycle":
        side.cycle()
    elif action == "cut":
        side.link.cut = other.link.cut = True
    elif action == "mend":
        side.link.cut = other.link.cut = False
    else:
        side.link.deliver_held(argument)


def _heal(nato: Side, russia: Side) -> None:
    """Mend the link, deliver everything held back (late), then cycle until both have settled."""
    for side in (nato, russia):
        side.link.cut = side.link.faulty = False
        while side.link.held:
            side.link.deliver_held(0)
    for _ in range(HEAL_ROUNDS):
        for side in (nato, russia):
            side.replicator.cycle()  # a healthy link: any error here is a failure
        if _settled(nato, russia):
            return


def _settled(nato: Side, russia: Side) -> bool:
    sizes = [_sizes(side.node) for side in (nato, russia)]
    return (
        not nato.node.outbox()
        and not russia.node.outbox()
        and sizes[0] == tuple(reversed(sizes[1]))
    )


def _sizes(node: Node) -> tuple[int, int]:
    with read(node.engine) as connection:
        return (
            records.log_size(connection, node.log_id),
            records.log_size(connection, node.peer_log_id),
        )


def _raws(node: Node, log_id: str) -> list[bytes]:
    with read(node.engine) as connection:
        return records.raw_entries(connection, log_id)


def _check_converged(nato: Side, russia: Side) -> None:
    for side, other in ((nato, russia), (russia, nato)):
        node, peer = side.node, other.node
        own = _raws(node, node.log_id)
        assert own == _raws(peer, node.log_id), f"{node.config.party}'s log differs at the peer"
        inbox = [view.msg_id for view in peer.inbox()]
        assert inbox == side.recorded, f"{node.config.party}'s messages in the peer's inbox"
        assert node.outbox() == []
        with read(node.engine) as connection:
            receipt = records.latest_cosignature(connection, node.log_id)
            assert records.equivocations(connection) == []
            assert not records.log_frozen(connection, node.peer_log_id)
        assert receipt is not None
        assert receipt.size == len(own), "the receipt covers the whole log"
        report = node.verify()
        assert report.ok, report
        acked = {view.in_reply_to or "" for view in peer.log().own if view.type == "ack"}
        states = {view.msg_id: view.states for view in node.log().own}
        assert all("acknowledged" in states[msg_id] for msg_id in acked)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(steps=steps_strategy, weights=weights_strategy, seed=st.integers(0, 2**32))
def test_two_nodes_converge_under_a_faulty_link(
    steps: list[tuple[str, int, int]], weights: tuple[int, ...], seed: int
) -> None:
    with two_sides(weights, seed) as (nato, russia):
        sides = (nato, russia)
        for action, number, argument in steps:
            _act(action, sides[number], sides[1 - number], argument)
        _heal(nato, russia)
        assert _settled(nato, russia), "not settled after healing"
        _check_converged(nato, russia)


def test_the_link_really_misbehaves() -> None:
    """The faults above happen: a fixed schedule that sends through every kind of fault."""
    with two_sides((1, 1, 1, 1, 1, 1), seed=4) as (nato, russia):
        for number in range(12):
            _act("send", nato, russia, number)
            _act("send", russia, nato, number)
            _act("cycle", nato, russia, number)
            _act("ack", russia, nato, number)
            _act("cycle", russia, nato, number)
        faults = {
            name: nato.link.faults.get(name, 0) + russia.link.faults.get(name, 0) for name in FAULTS
        }
        assert all(faults[name] > 0 for name in FAULTS), faults
        _heal(nato, russia)
        assert _settled(nato, russia)
        _check_converged(nato, russia)
        assert len(nato.recorded) == 12
        assert len(russia.recorded) > 12  # its sends and at least one acknowledgement
