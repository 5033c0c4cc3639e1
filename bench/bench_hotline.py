"""The hotline's durability costs: durable send latency, send-to-receipt latency, messages/s.

Part 1 times ``Node.send`` in this process on a node in a temporary directory on disk (SQLite,
WAL, ``synchronous=FULL``): each send's latency (p50, p99, max, per block of sends as the log
grows) and the sequential rate. ``--profile`` adds a cProfile of the sends (top functions).

Part 2 starts two real ``parley serve`` processes (nato, russia) on loopback and, through nato's
officers' API: sends one message at a time and waits until russia's receipt (its cosignature
covering the message) is stored in nato's database, read with a read-only SQLite connection
polled every millisecond; then sends as fast as one client can, sequentially, and times how long
the receipts take to catch up. Every process started is stopped in a ``finally`` block.

Part 3 (``--clients N``, default 8) compares the code before and after group commit in one run:
the same loopback pair, once with the servers importing ``src/`` as committed at ``HEAD`` (copied
out with ``git archive``, read-only; or ``--before-src DIR``) and once with the working tree,
alternating ``--rounds`` times. N clients, each signed in on its own connection, POST
``--per-client`` messages one after the other, all clients at once; a poller stamps when each
receipt arrives. It reports messages/s recorded (until the last POST returned) and delivered
(until the last receipt), recorded and delivered p50/p99, and the CPU seconds both server
processes used per message (``/proc/PID/stat``), the robust figure on a loaded machine.
``--concurrent-only`` runs only this part.

``--trace`` runs only part 2's one-by-one messages, with both servers started through
``hotline_trace.py`` (timestamps along each message's path), and reports each step's p50/p99 and
what both servers did during the slowest messages; with ``--before-src`` it alternates that code
and the working tree ``--rounds`` times.

Targets (issue 4): recorded p99 < 20 ms, delivered p99 < 100 ms, >= 500 messages/s.

    .venv/bin/python bench/bench_hotline.py            # about 3 minutes
    .venv/bin/python bench/bench_hotline.py --sends 2000 --profile
    .venv/bin/python bench/bench_hotline.py --trace --one-by-one 300 --before-src /tmp/old/src
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

import benchlib
from benchlib import markdown_table
from hotline_trace import read_trace
from parley.hotline.node import Node, init_node

OFFICER, PASSWORD = "bench-officer", "bench password 1234"
WAIT_S = 30.0
#: Two servers importing FastAPI, uvicorn and the node code take 15-20 s on a loaded machine.
START_WAIT_S = 180.0
POLL_S = 0.001
PARLEY = (sys.executable, "-m", "parley")
ADD_OPTIONS = ("--role", "duty-officer", "--password-stdin")
TRACER = Path(__file__).with_name("hotline_trace.py")


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of ``samples``."""
    ordered = sorted(samples)
    rank = max(1, round(fraction * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


def latency_row(label: str, samples_s: Sequence[float]) -> list[str]:
    ms = [s * 1000 for s in samples_s]
    return [
        label,
        str(len(ms)),
        f"{percentile(ms, 0.50):.1f}",
        f"{percentile(ms, 0.99):.1f}",
        f"{max(ms):.1f}",
    ]


LATENCY_HEADER = ("what", "n", "p50 ms", "p99 ms", "max ms")


def make_pair(root: Path, nato_url: str, russia_url: str) -> tuple[Path, Path]:
    with init_node(root / "nato", "nato") as nato, init_node(root / "russia", "russia") as ru:
        nato.trust(ru.identity_json(), russia_url)
        ru.trust(nato.identity_json(), nato_url)
    return root / "nato", root / "russia"


def timed_sends(node: Node, count: int, first: int = 0) -> list[float]:
    latencies = []
    for sequence in range(first, first + count):
        start = time.perf_counter()
        node.send("test", {"sequence": str(sequence)})
        latencies.append(time.perf_counter() - start)
    return latencies


def part_send(root: Path, sends: int, profile: bool) -> dict[str, Any]:
    from parley.hotline.node import load_node

    nato_dir, _ = make_pair(root, "http://127.0.0.1:9", "http://127.0.0.1:9")
    with load_node(nato_dir) as node:
        timed_sends(node, 20)  # warm-up: imports, caches, the first pages of the file
        start = time.perf_counter()
        latencies = timed_sends(node, sends, first=20)
        elapsed = time.perf_counter() - start
        profile_text = ""
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            timed_sends(node, 300, first=20 + sends)
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
            profile_text = out.getvalue()
    block = max(1, sends // 4)
    rows = [latency_row(f"Node.send, all {sends}", latencies)]
    for begin in range(0, sends, block):
        part = latencies[begin : begin + block]
        rows.append(latency_row(f"sends {begin + 21}-{begin + 20 + len(part)} of the log", part))
    return {
        "latency_rows": rows,
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "rate": sends / elapsed,
        "sends": sends,
        "elapsed_s": elapsed,
        "profile": profile_text,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def add_officer(directory: Path) -> bool:
    """A duty officer to sign in as; False when this Parley has no users (no sign-in needed)."""
    done = subprocess.run(
        [*PARLEY, "user", "add", str(directory), OFFICER, *ADD_OPTIONS],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode == 0


def trace_file(directory: Path) -> Path:
    """Where ``--trace`` makes the server of ``directory`` write its timestamps."""
    return directory.parent / f"{directory.name}.trace"


@contextmanager
def running_servers(
    directories: Sequence[Path],
    ports: Sequence[int],
    src: Path | None = None,
    trace: bool = False,
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``parley serve`` on each directory; with ``src``, importing that copy of the package;
    with ``trace``, through ``hotline_trace.py`` (timestamps along a message's path)."""
    processes: list[subprocess.Popen[bytes]] = []
    env = None
    if src is not None:
        env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    try:
        for directory, port in zip(directories, ports, strict=True):
            parley = PARLEY
            if trace:
                parley = (sys.executable, str(TRACER), str(trace_file(directory)))
            command = [*parley, "serve", str(directory), "--port", str(port)]
            command += ["--retry-initial", "0.05", "--retry-max", "0.5", "--pull-interval", "1"]
            command += ["--no-hourly-test"]
            log = open(directory.parent / f"{directory.name}.log", "ab")  # noqa: SIM115
            with log:
                processes.append(
                    subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
                )
        yield processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_for(condition: Callable[[], Any], what: str, wait_s: float = WAIT_S) -> Any:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(POLL_S)
    raise SystemExit(f"timed out after {wait_s} s waiting for {what}")


class Officer:
    """An HTTP client on nato's API, signed in when the node has users."""

    def __init__(self, port: int, sign_in: bool) -> None:
        self.api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10.0)
        self.sign_in = sign_in

    def ready(self) -> bool:
        try:
            if self.sign_in and "Authorization" not in self.api.headers:
                answer = self.api.post(
                    "/api/v1/session", json={"name": OFFICER, "password": PASSWORD}
                )
                answer.raise_for_status()
                self.api.headers["Authorization"] = f"Bearer {answer.json()['token']}"
            status = self.api.get("/api/v1/status").json()
        except httpx.TransportError:
            return False
        return bool((status.get("replication") or {}).get("resynced"))

    def send(self, sequence: int) -> str:
        answer = self.api.post(
            "/api/v1/messages", json={"template": "test", "fields": {"sequence": str(sequence)}}
        )
        answer.raise_for_status()
        return str(answer.json()["msg_id"])


class Receipts:
    """nato's database read-only: which own seq a msg_id has, and the receipted size."""

    def __init__(self, database: Path, log_id: str) -> None:
        self.db = sqlite3.connect(
            f"file:{database}?mode=ro", uri=True, timeout=WAIT_S, check_same_thread=False
        )
        self.log_id = log_id

    def seq(self, msg_id: str) -> int:
        row = self.db.execute("SELECT seq FROM entries WHERE msg_id = ?", (msg_id,)).fetchone()
        return int(row[0])

    def receipted_size(self) -> int:
        row = self.db.execute(
            "SELECT max(size) FROM cosignatures WHERE log_id = ?", (self.log_id,)
        ).fetchone()
        return int(row[0] or 0)

    def covering(self, seq: int) -> Callable[[], bool]:
        """A condition: a receipt covers own entry ``seq``."""
        return lambda: self.receipted_size() > seq

    def close(self) -> None:
        self.db.close()


def part_loopback(
    root: Path, one_by_one: int, burst: int, trace: bool = False, src: Path | None = None
) -> dict[str, Any]:
    ports = free_port(), free_port()
    nato_dir, russia_dir = make_pair(root, *(f"http://127.0.0.1:{p}" for p in ports))
    sign_in = all([add_officer(nato_dir), add_officer(russia_dir)])
    timeline: list[tuple[float, float, float]] = []  # POST start, POST end, receipt seen
    with running_servers((nato_dir, russia_dir), ports, src, trace) as processes:
        officer = Officer(ports[0], sign_in)
        wait_for(officer.ready, "nato resynced", START_WAIT_S)
        log_id = str(officer.api.get("/api/v1/identity").json()["log_id"])
        receipts = Receipts(nato_dir / "node.db", log_id)
        try:
            for warm in range(10):
                seq = receipts.seq(officer.send(warm))
                wait_for(receipts.covering(seq), "a warm-up receipt")
            recorded, delivered = [], []
            cpu_before = sum(cpu_seconds(p.pid) for p in processes)
            for sequence in range(10, 10 + one_by_one):
                start = time.perf_counter()
                msg_id = officer.send(sequence)
                recorded.append(time.perf_counter() - start)
                seq = receipts.seq(msg_id)
                wait_for(receipts.covering(seq), f"the receipt of {msg_id}")
                seen = time.perf_counter()
                delivered.append(seen - start)
                timeline.append((start, start + recorded[-1], seen))
            cpu_ms = (sum(cpu_seconds(p.pid) for p in processes) - cpu_before) * 1000 / one_by_one
            start = time.perf_counter()
            last = ""
            for sequence in range(10 + one_by_one, 10 + one_by_one + burst):
                last = officer.send(sequence)
            sent_s = time.perf_counter() - start
            if last:
                wait_for(receipts.covering(receipts.seq(last)), "the burst's receipts")
            drained_s = time.perf_counter() - start
        finally:
            receipts.close()
            officer.api.close()
    steps = ""
    if trace:
        steps = trace_report(
            timeline,
            read_trace(trace_file(nato_dir)),
            read_trace(trace_file(russia_dir)),
        )
    return {
        "signed_in": sign_in,
        "steps": steps,
        "cpu_ms_per_message": cpu_ms,
        "delivered_p50_ms": percentile(delivered, 0.5) * 1000,
        "recorded_p50_ms": percentile(recorded, 0.5) * 1000,
        "latency_rows": [
            latency_row("POST /api/v1/messages (recorded)", recorded),
            latency_row("send to receipt stored (delivered)", delivered),
        ],
        "recorded_p99_ms": percentile(recorded, 0.99) * 1000,
        "delivered_p99_ms": percentile(delivered, 0.99) * 1000,
        "burst": burst,
        "burst_rate": burst / max(sent_s, 1e-9),
        "burst_receipted_rate": burst / max(drained_s, 1e-9),
    }


#: The milestones of one message from the officer's POST to its receipt stored, in order:
#: (process, event of ``hotline_trace.py``); "bench" is this process.
MILESTONES = (
    ("bench", "POST"),
    ("nato", "send.start"),
    ("nato", "send.done"),
    ("nato", "wake"),
    ("nato", "cycle.start"),
    ("nato", "push.built"),
    ("nato", "push.request"),
    ("russia", "peer.authenticated"),
    ("russia", "import.start"),
    ("russia", "tx.begin"),
    ("russia", "tx.commit"),
    ("russia", "tx.end"),
    ("russia", "import.done"),
    ("nato", "push.answer"),
    ("nato", "receipt.start"),
    ("nato", "tx.begin"),
    ("nato", "tx.commit"),
    ("nato", "tx.end"),
    ("nato", "receipt.done"),
    ("bench", "seen"),
)


def message_steps(
    window: tuple[float, float, float], traces: dict[str, list[tuple[float, str, str]]]
) -> list[float] | None:
    """The time of each milestone of one message (None when one is missing from the traces)."""
    start, _, seen = window
    times = [start]
    for process, event in MILESTONES[1:-1]:
        after = times[-1]
        found = next(
            (at for at, name, _ in traces[process] if name == event and after <= at <= seen),
            None,
        )
        if found is None:
            return None
        times.append(found)
    times.append(seen)
    return times


def trace_report(
    timeline: Sequence[tuple[float, float, float]],
    nato: list[tuple[float, str, str]],
    russia: list[tuple[float, str, str]],
) -> str:
    """Each step's p50/p99/max over the messages, and what else ran during the slowest ones."""
    traces = {"nato": nato, "russia": russia}
    per_message = [message_steps(window, traces) for window in timeline]
    complete = [times for times in per_message if times is not None]
    rows = []
    for index in range(1, len(MILESTONES)):
        durations = [(times[index] - times[index - 1]) for times in complete]
        previous, current = MILESTONES[index - 1], MILESTONES[index]
        label = f"{previous[0]} {previous[1]} → {current[0]} {current[1]}"
        rows.append(latency_row(label, durations))
    rows.append(latency_row("total", [times[-1] - times[0] for times in complete]))
    lines = [
        f"Steps of {len(complete)} of {len(timeline)} messages (the others: a milestone missing)",
        "",
        markdown_table(("step", "n", "p50 ms", "p99 ms", "max ms"), rows),
    ]
    slowest = sorted(zip(timeline, per_message, strict=True), key=lambda w: w[0][0] - w[0][2])
    for (start, _, seen), times in slowest[:4]:
        lines += ["", f"slow message: {1000 * (seen - start):.1f} ms"]
        if times is not None:
            lines.append(
                "  "
                + ", ".join(
                    f"{m[1]} +{1000 * (t - start):.1f}"
                    for m, t in zip(MILESTONES, times, strict=True)
                )
            )
        for process, events in traces.items():
            during = [e for e in events if start - 0.002 <= e[0] <= seen]
            lines += [f"  {process} {1000 * (at - start):+.1f} {n} {t}" for at, n, t in during]
    return "\n".join(lines)


def traced_rounds(root: Path, one_by_one: int, rounds: int, before_src: Path | None) -> str:
    """``--trace``: one message at a time, each step timed; with ``before_src``, alternated
    ``rounds`` times with that copy of ``src/`` (a fresh pair of nodes each time)."""
    codes: list[tuple[str, Path | None]] = [("after", None)]
    if before_src is not None:
        codes.insert(0, ("before", before_src))
    rows, details = [], []
    for index in range(rounds if before_src is not None else 1):
        for label, src in codes:
            load = os.getloadavg()[0]
            where = root / f"trace-{label}-{index}"
            result = part_loopback(where, one_by_one, 0, trace=True, src=src)
            rows.append(
                [
                    str(index + 1),
                    label,
                    f"{load:.1f}",
                    f"{result['recorded_p50_ms']:.1f} / {result['recorded_p99_ms']:.1f}",
                    f"{result['delivered_p50_ms']:.1f} / {result['delivered_p99_ms']:.1f}",
                    f"{result['cpu_ms_per_message']:.1f}",
                ]
            )
            details.append(f"### round {index + 1}, {label} (load {load:.1f})\n\n{result['steps']}")
    header = (
        "round",
        "code",
        "load",
        "recorded p50 / p99 ms",
        "delivered p50 / p99 ms",
        "server CPU ms / msg",
    )
    return "\n\n".join([markdown_table(header, rows), *details])


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds a process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ReceiptPoller:
    """A thread reading nato's receipted size every millisecond: when each size first held."""

    def __init__(self, receipts: Receipts) -> None:
        self.receipts = receipts
        self.timeline: list[tuple[float, int]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()

    def _poll(self) -> None:
        while not self.stop.is_set():
            self._read()
            time.sleep(POLL_S)
        self._read()  # a receipt seen by the caller just before it stopped the poller

    def _read(self) -> None:
        now, held = time.perf_counter(), self.receipts.receipted_size()
        if not self.timeline or self.timeline[-1][1] != held:
            self.timeline.append((now, held))

    def delivered_at(self, seq: int) -> float:
        """When a receipt first covered own entry ``seq``."""
        return next(at for at, size in self.timeline if size > seq)

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.receipts.close()


def concurrent_round(
    root: Path, src: Path | None, clients: int, per_client: int
) -> dict[str, float]:
    """N signed-in clients POSTing at once to nato; rates, latencies and server CPU."""
    ports = free_port(), free_port()
    nato_dir, russia_dir = make_pair(root, *(f"http://127.0.0.1:{p}" for p in ports))
    sign_in = all([add_officer(nato_dir), add_officer(russia_dir)])
    with running_servers((nato_dir, russia_dir), ports, src) as processes:
        officers = [Officer(ports[0], sign_in) for _ in range(clients)]
        for officer in officers:
            wait_for(officer.ready, "nato resynced", START_WAIT_S)
        log_id = str(officers[0].api.get("/api/v1/identity").json()["log_id"])
        receipts = Receipts(nato_dir / "node.db", log_id)
        try:
            for warm in range(10):
                wait_for(receipts.covering(receipts.seq(officers[0].send(warm))), "warm-up")
            poller = ReceiptPoller(Receipts(nato_dir / "node.db", log_id))
            sent: list[tuple[str, float, float]] = []  # msg_id, POST start, POST end

            def client(officer: Officer, first: int) -> None:
                for sequence in range(first, first + per_client):
                    start = time.perf_counter()
                    msg_id = officer.send(sequence)
                    sent.append((msg_id, start, time.perf_counter()))

            cpu_before = sum(cpu_seconds(p.pid) for p in processes)
            threads = [
                threading.Thread(target=client, args=(officer, 1000 * (n + 1)))
                for n, officer in enumerate(officers)
            ]
            start = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            recorded_s = time.perf_counter() - start
            last_seq = max(receipts.seq(msg_id) for msg_id, _, _ in sent)
            wait_for(receipts.covering(last_seq), "the receipts of the concurrent sends")
            delivered_s = time.perf_counter() - start
            cpu_s = sum(cpu_seconds(p.pid) for p in processes) - cpu_before
            poller.close()
            recorded = [end - begin for _, begin, end in sent]
            delivered = [poller.delivered_at(receipts.seq(m)) - begin for m, begin, _ in sent]
        finally:
            receipts.close()
            for officer in officers:
                officer.api.close()
    count = len(sent)
    return {
        "messages": count,
        "recorded_rate": count / recorded_s,
        "delivered_rate": count / delivered_s,
        "recorded_p50_ms": percentile(recorded, 0.5) * 1000,
        "recorded_p99_ms": percentile(recorded, 0.99) * 1000,
        "delivered_p50_ms": percentile(delivered, 0.5) * 1000,
        "delivered_p99_ms": percentile(delivered, 0.99) * 1000,
        "cpu_ms_per_message": cpu_s * 1000 / count,
        "load_average": os.getloadavg()[0],
    }


def threads_worker(root: Path, clients: int, per_client: int) -> dict[str, float]:
    """In this process: a fresh pair, then ``clients`` threads calling ``Node.send`` at once."""
    from parley.hotline.node import load_node

    nato_dir, _ = make_pair(root, "http://127.0.0.1:9", "http://127.0.0.1:9")
    with load_node(nato_dir) as node:
        timed_sends(node, 20)
        latencies: list[float] = []

        def client(first: int) -> None:
            latencies.extend(timed_sends(node, per_client, first))

        threads = [threading.Thread(target=client, args=(1000 * (n + 1),)) for n in range(clients)]
        cpu_start, start = time.process_time(), time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed, cpu_s = time.perf_counter() - start, time.process_time() - cpu_start
    return {
        "rate": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "cpu_ms_per_message": cpu_s * 1000 / len(latencies),
        "load_average": os.getloadavg()[0],
    }


def threads_round(root: Path, src: Path | None, clients: int, per_client: int) -> dict[str, Any]:
    """:func:`threads_worker` in a child process importing ``src`` (None: the working tree)."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = f"{src}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"
    command = [sys.executable, __file__, "--threads-worker", str(root)]
    command += ["--clients", str(clients), "--per-client", str(per_client)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def head_source(root: Path) -> Path:
    """``src/`` as committed at HEAD, copied out with ``git archive`` (the repository unchanged)."""
    target = root / "head"
    target.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(benchlib.REPO), "archive", "HEAD", "src"],
        capture_output=True,
        check=True,
    )
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target / "src"


def part_concurrent(
    root: Path, before_src: Path | None, clients: int, per_client: int, rounds: int
) -> dict[str, Any]:
    before = before_src if before_src is not None else head_source(root)
    results: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    threads: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for index in range(rounds):
        for label, src in (("before", before), ("after", None)):
            where = root / f"{label}-{index}"
            threads[label].append(threads_round(where / "threads", src, clients, per_client))
            results[label].append(concurrent_round(where / "api", src, clients, per_client))
    return {"clients": clients, "per_client": per_client, "rounds": results, "threads": threads}


CONCURRENT_HEADER = (
    "round",
    "code",
    "load",
    "recorded /s",
    "delivered /s",
    "recorded p50 / p99 ms",
    "delivered p50 / p99 ms",
    "server CPU ms / msg",
)

THREADS_HEADER = ("round", "code", "load", "sends /s", "p50 / p99 ms", "CPU ms / send")


def concurrent_report(concurrent: dict[str, Any]) -> str:
    rows = []
    rounds = concurrent["rounds"]
    for index in range(len(rounds["after"])):
        for label in ("before", "after"):
            r = rounds[label][index]
            rows.append(
                [
                    str(index + 1),
                    "HEAD (one transaction per send)" if label == "before" else "group commit",
                    f"{r['load_average']:.1f}",
                    f"{r['recorded_rate']:.0f}",
                    f"{r['delivered_rate']:.0f}",
                    f"{r['recorded_p50_ms']:.1f} / {r['recorded_p99_ms']:.1f}",
                    f"{r['delivered_p50_ms']:.1f} / {r['delivered_p99_ms']:.1f}",
                    f"{r['cpu_ms_per_message']:.2f}",
                ]
            )
    title = (
        f"{concurrent['clients']} clients x {concurrent['per_client']} POSTs at once "
        "(load: 1-minute load average after the round)"
    )
    thread_rows = []
    for index in range(len(rounds["after"])):
        for label in ("before", "after"):
            r = concurrent["threads"][label][index]
            thread_rows.append(
                [
                    str(index + 1),
                    "HEAD (one transaction per send)" if label == "before" else "group commit",
                    f"{r['load_average']:.1f}",
                    f"{r['rate']:.0f}",
                    f"{r['p50_ms']:.1f} / {r['p99_ms']:.1f}",
                    f"{r['cpu_ms_per_message']:.2f}",
                ]
            )
    threads_title = (
        f"{concurrent['clients']} threads x {concurrent['per_client']} Node.send at once, "
        "in one process"
    )
    return "\n\n".join(
        [
            threads_title,
            markdown_table(THREADS_HEADER, thread_rows),
            title,
            markdown_table(CONCURRENT_HEADER, rows),
        ]
    )


def verdict(met: bool) -> str:
    return "met" if met else "**missed**"


def report(facts: dict[str, Any], send: dict[str, Any], loopback: dict[str, Any]) -> str:
    lines = [
        f"Machine: {facts['cpu']}, {facts['nproc']} cores, {facts['memory_gib']} GiB, "
        f"Python {facts['python']}, load average at start {facts['load_average']}; "
        f"{facts['date']}.",
        "",
        markdown_table(LATENCY_HEADER, send["latency_rows"] + loopback["latency_rows"]),
        "",
        markdown_table(
            ("rate", "messages/s"),
            [
                [f"sequential Node.send ({send['sends']} sends)", f"{send['rate']:.0f}"],
                [
                    f"sequential POSTs, one client ({loopback['burst']})",
                    f"{loopback['burst_rate']:.0f}",
                ],
                [
                    "the same burst, until its last receipt",
                    f"{loopback['burst_receipted_rate']:.0f}",
                ],
            ],
        ),
        "",
        f"- recorded p99 < 20 ms: {verdict(send['p99_ms'] < 20)} ({send['p99_ms']:.1f} ms "
        f"in-process; {loopback['recorded_p99_ms']:.1f} ms through the API)",
        f"- delivered p99 < 100 ms: {verdict(loopback['delivered_p99_ms'] < 100)} "
        f"({loopback['delivered_p99_ms']:.1f} ms)",
        f"- >= 500 messages/s: {verdict(send['rate'] >= 500)} in-process ({send['rate']:.0f}), "
        f"{verdict(loopback['burst_rate'] >= 500)} through the API ({loopback['burst_rate']:.0f})",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sends", type=int, default=1000, help="timed Node.send calls")
    parser.add_argument("--one-by-one", type=int, default=300, help="messages timed to receipt")
    parser.add_argument("--burst", type=int, default=500, help="messages POSTed back to back")
    parser.add_argument("--profile", action="store_true", help="cProfile 300 more sends")
    parser.add_argument("--clients", type=int, default=8, help="concurrent API clients (0: skip)")
    parser.add_argument("--per-client", type=int, default=50, help="POSTs by each client")
    parser.add_argument("--rounds", type=int, default=2, help="before/after pairs, alternated")
    parser.add_argument("--before-src", type=Path, help="src/ of the code before (default HEAD)")
    parser.add_argument("--concurrent-only", action="store_true", help="only the clients part")
    parser.add_argument(
        "--trace", action="store_true", help="only part 2, with each step of each message timed"
    )
    parser.add_argument("--threads-worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.threads_worker is not None:
        print(json.dumps(threads_worker(args.threads_worker, args.clients, args.per_client)))
        return 0
    facts = benchlib.machine()
    benchlib.WORKDIR.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="hotline-", dir=benchlib.WORKDIR))
    results: dict[str, Any] = {"machine": facts}
    try:
        if args.trace:
            print(traced_rounds(root, args.one_by_one, args.rounds, args.before_src))
            return 0
        if not args.concurrent_only:
            results["send"] = part_send(root / "send", args.sends, args.profile)
            results["loopback"] = part_loopback(root / "loopback", args.one_by_one, args.burst)
        if args.clients > 0:
            results["concurrent"] = part_concurrent(
                root / "concurrent", args.before_src, args.clients, args.per_client, args.rounds
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if "send" in results:
        print(report(facts, results["send"], results["loopback"]))
        if results["send"]["profile"]:
            print("\ncProfile of 300 sends (cumulative):\n")
            print(results["send"]["profile"])
    if "concurrent" in results:
        print(f"\nload average at start {facts['load_average']}; {facts['date']}\n")
        print(concurrent_report(results["concurrent"]))
    (benchlib.WORKDIR / "hotline.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
