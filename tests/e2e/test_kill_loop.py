"""kill -9 while sending, 200 times: nothing reported "recorded" is ever lost, nothing half-written.

A sender process (``kill_loop_sender.py``, forked from a server that imported the node code once,
so a new sender starts in milliseconds) sends test messages in a loop and prints each msg_id only
after ``Node.send`` returned. The test kills it with SIGKILL at a random moment (sometimes before
its first send returns, usually 2-100 ms after), remembers every msg_id it was told, and starts
the next. At the end the node must hold every reported message in a gap-free, verifiable log
where every entry has its checkpoint, outbox row, audit row and escalation timers, and nothing
else exists. The seed is in the failure message; ``PARLEY_KILL_SEED`` replays it.
"""

import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Connection, func, select

from parley.hotline import records
from parley.hotline.node import Node, init_node, load_node
from parley.store import schema

pytestmark = pytest.mark.slow

KILLS = 200
SENDER = Path(__file__).with_name("kill_loop_sender.py")
LINE_TIMEOUT_S = 20.0
#: Share of kills aimed before the sender's first send returns (while it opens the node or sends).
EARLY_KILL_SHARE = 0.2
#: Test messages take an acknowledgement: delivery and acknowledgement escalate.
TRACKS_PER_MESSAGE = 2


@dataclass
class KillLoop:
    """What the loop saw: every msg_id reported recorded, and how the kills fell."""

    seed: int
    reported: list[str] = field(default_factory=list)
    early_kills: int = 0
    kills_after_send: int = 0

    @property
    def kills(self) -> int:
        return self.early_kills + self.kills_after_send


class SenderServer:
    """The fork server, with a thread turning its stdout into a queue of lines."""

    def __init__(self, directory: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(SENDER), str(directory)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put("eof")

    def fork(self) -> int:
        assert self.process.stdin is not None
        self.process.stdin.write("fork\n")
        self.process.stdin.flush()
        kind, value = self.next_line(LINE_TIMEOUT_S)
        assert kind == "pid", f"expected the sender's pid, got {kind} {value}"
        return int(value)

    def next_line(self, timeout_s: float) -> tuple[str, str]:
        """The next line as (kind, value); ("", "") when none came within the timeout."""
        try:
            line = self.lines.get(timeout=max(timeout_s, 0.0))
        except queue.Empty:
            return "", ""
        kind, _, value = line.partition(" ")
        assert kind != "error", f"the sender failed: {value}"
        assert kind != "eof", "the fork server died"
        return kind, value

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.write("quit\n")
            self.process.stdin.flush()
            try:
                self.process.wait(timeout=LINE_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


def _kill_once(server: SenderServer, loop: KillLoop, rng: random.Random) -> None:
    """Fork a sender, SIGKILL it at a random moment, collect every msg_id it reported."""
    early = rng.random() < EARLY_KILL_SHARE
    pid = server.fork()
    if early:
        deadline = time.monotonic() + rng.uniform(0.0, 0.03)
    else:
        kind, value = server.next_line(LINE_TIMEOUT_S)
        assert kind == "recorded", f"expected a first recorded message, got {kind!r} {value}"
        loop.reported.append(value)
        deadline = time.monotonic() + rng.uniform(0.002, 0.1)
    while (remaining := deadline - time.monotonic()) > 0:
        kind, value = server.next_line(remaining)
        if kind == "recorded":
            loop.reported.append(value)
    os.kill(pid, signal.SIGKILL)
    while True:
        kind, value = server.next_line(LINE_TIMEOUT_S)
        if kind == "recorded":
            loop.reported.append(value)
        elif kind == "exited":
            break
        else:
            raise AssertionError(f"the sender's exit was not reported (got {kind!r} {value})")
    status = int(value)
    assert os.WIFSIGNALED(status), status
    assert os.WTERMSIG(status) == signal.SIGKILL, status
    if early:
        loop.early_kills += 1
    else:
        loop.kills_after_send += 1


@pytest.fixture
def node_dir(tmp_path: Path) -> Path:
    with (
        init_node(tmp_path / "nato", "nato") as nato,
        init_node(tmp_path / "russia", "russia") as russia,
    ):
        nato.trust(russia.identity_json(), "http://127.0.0.1:9")  # never contacted
    return tmp_path / "nato"


def _count(connection: Connection, table: str, **where: object) -> int:
    rows = schema.metadata.tables[table]
    query = select(func.count()).select_from(rows)
    for column, value in where.items():
        query = query.where(rows.c[column] == value)
    return int(connection.execute(query).scalar_one())


def _half_written(node: Node, connection: Connection) -> list[str]:
    """Every send whose rows are not all there, and every row without its send."""
    entries = schema.entries
    own = connection.execute(
        select(entries.c.seq, entries.c.msg_id)
        .where(entries.c.log_id == node.log_id)
        .order_by(entries.c.seq)
    ).all()
    size = len(own)
    problems: list[str] = []
    checkpoint_sizes = connection.execute(
        select(schema.checkpoints.c.size).where(schema.checkpoints.c.log_id == node.log_id)
    ).scalars()
    if sorted(int(s) for s in checkpoint_sizes) != list(range(1, size + 1)):
        problems.append(f"checkpoints are not exactly one per size 1..{size}")
    outbox = records.outbox_seqs(connection, node.log_id)
    if outbox != list(range(size)):  # nothing is delivered: no peer ever answers
        problems.append(f"outbox {outbox[:3]}…{outbox[-3:]} is not seqs 0..{size - 1}")
    audit = _count(connection, "audit", action="send")
    if audit != size - 1:
        problems.append(f"{audit} send audit rows for {size - 1} messages")
    policies = set(connection.execute(select(schema.escalation_policies.c.msg_id)).scalars())
    messages = {msg_id for seq, msg_id in own if seq > 0}
    if policies != messages:
        problems.append(f"escalation policies differ from messages: {policies ^ messages}")
    steps = connection.execute(
        select(
            schema.escalation_steps.c.msg_id,
            func.count(func.distinct(schema.escalation_steps.c.track)),
        ).group_by(schema.escalation_steps.c.msg_id)
    ).all()
    tracks = {msg_id: int(count) for msg_id, count in steps}
    if tracks != dict.fromkeys(messages, TRACKS_PER_MESSAGE):
        problems.append("some messages lack escalation timers, or timers lack a message")
    return problems


def test_kill_9_while_sending_loses_nothing_recorded(node_dir: Path) -> None:
    seed = int(os.environ.get("PARLEY_KILL_SEED", random.randrange(2**32)))
    loop = KillLoop(seed)
    rng = random.Random(seed)
    server = SenderServer(node_dir)
    try:
        for _ in range(KILLS):
            _kill_once(server, loop, rng)
    except AssertionError as exc:
        raise AssertionError(f"kill loop (PARLEY_KILL_SEED={seed}): {exc}") from exc
    finally:
        server.close()
    context = f"PARLEY_KILL_SEED={seed}, {loop.kills} kills ({loop.early_kills} early)"

    assert loop.kills == KILLS, context
    assert loop.early_kills > 0, context
    assert loop.kills_after_send > KILLS // 2, context
    assert len(set(loop.reported)) == len(loop.reported) >= KILLS, context
    with load_node(node_dir) as node:
        report = node.verify()
        assert report.ok, f"{context}: {report.problems}"
        with node.engine.connect() as connection:
            rows = connection.execute(
                select(schema.entries.c.seq, schema.entries.c.msg_id)
                .where(schema.entries.c.log_id == node.log_id)
                .order_by(schema.entries.c.seq)
            ).all()
            problems = _half_written(node, connection)
    seqs = [int(seq) for seq, _ in rows]
    assert seqs == list(range(len(seqs))), f"{context}: the log's seqs have gaps"
    lost = set(loop.reported) - {msg_id for _, msg_id in rows}
    assert not lost, f"{context}: {len(lost)} recorded messages lost, e.g. {sorted(lost)[:3]}"
    # Sends that committed but were killed before they could print are in the log, unreported.
    assert len(rows) - 1 >= len(loop.reported), context
    assert not problems, f"{context}: half-written sends: {problems}"
