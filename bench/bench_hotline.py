"""The hotline's durability costs: durable send latency, send-to-receipt latency, messages/s.

Part 1 times ``Node.send`` in this process on a node in a temporary directory on disk (SQLite,
WAL, ``synchronous=FULL``): each send's latency (p50, p99, max, per block of sends as the log
grows) and the sequential rate. ``--profile`` adds a cProfile of the sends (top functions).

Part 2 starts two real ``parley serve`` processes (nato, russia) on loopback and, through nato's
officers' API: sends one message at a time and waits until russia's receipt (its cosignature
covering the message) is stored in nato's database, read with a read-only SQLite connection
polled every millisecond; then sends as fast as one client can, sequentially, and times how long
the receipts take to catch up. Every process started is stopped in a ``finally`` block.

Targets (issue 4): recorded p99 < 20 ms, delivered p99 < 100 ms, >= 500 messages/s.

    .venv/bin/python bench/bench_hotline.py            # about 3 minutes
    .venv/bin/python bench/bench_hotline.py --sends 2000 --profile
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

import benchlib
from benchlib import markdown_table
from parley.hotline.node import Node, init_node

OFFICER, PASSWORD = "bench-officer", "bench password 1234"
WAIT_S = 30.0
POLL_S = 0.001
PARLEY = (sys.executable, "-m", "parley")
ADD_OPTIONS = ("--role", "duty-officer", "--password-stdin")


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


@contextmanager
def running_servers(directories: Sequence[Path], ports: Sequence[int]) -> Iterator[None]:
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for directory, port in zip(directories, ports, strict=True):
            command = [*PARLEY, "serve", str(directory), "--port", str(port)]
            command += ["--retry-initial", "0.05", "--retry-max", "0.5", "--pull-interval", "1"]
            command += ["--no-hourly-test"]
            log = open(directory.parent / f"{directory.name}.log", "ab")  # noqa: SIM115
            with log:
                processes.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))
        yield
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


def wait_for(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(POLL_S)
    raise SystemExit(f"timed out after {WAIT_S} s waiting for {what}")


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
        self.db = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=WAIT_S)
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


def part_loopback(root: Path, one_by_one: int, burst: int) -> dict[str, Any]:
    ports = free_port(), free_port()
    nato_dir, russia_dir = make_pair(root, *(f"http://127.0.0.1:{p}" for p in ports))
    sign_in = all([add_officer(nato_dir), add_officer(russia_dir)])
    with running_servers((nato_dir, russia_dir), ports):
        officer = Officer(ports[0], sign_in)
        wait_for(officer.ready, "nato resynced")
        log_id = str(officer.api.get("/api/v1/identity").json()["log_id"])
        receipts = Receipts(nato_dir / "node.db", log_id)
        try:
            for warm in range(10):
                seq = receipts.seq(officer.send(warm))
                wait_for(receipts.covering(seq), "a warm-up receipt")
            recorded, delivered = [], []
            for sequence in range(10, 10 + one_by_one):
                start = time.perf_counter()
                msg_id = officer.send(sequence)
                recorded.append(time.perf_counter() - start)
                seq = receipts.seq(msg_id)
                wait_for(receipts.covering(seq), f"the receipt of {msg_id}")
                delivered.append(time.perf_counter() - start)
            start = time.perf_counter()
            last = ""
            for sequence in range(10 + one_by_one, 10 + one_by_one + burst):
                last = officer.send(sequence)
            sent_s = time.perf_counter() - start
            seq = receipts.seq(last)
            wait_for(receipts.covering(seq), "the burst's receipts")
            drained_s = time.perf_counter() - start
        finally:
            receipts.close()
            officer.api.close()
    return {
        "signed_in": sign_in,
        "latency_rows": [
            latency_row("POST /api/v1/messages (recorded)", recorded),
            latency_row("send to receipt stored (delivered)", delivered),
        ],
        "recorded_p99_ms": percentile(recorded, 0.99) * 1000,
        "delivered_p99_ms": percentile(delivered, 0.99) * 1000,
        "burst": burst,
        "burst_rate": burst / sent_s,
        "burst_receipted_rate": burst / drained_s,
    }


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
    args = parser.parse_args(argv)
    facts = benchlib.machine()
    benchlib.WORKDIR.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="hotline-", dir=benchlib.WORKDIR))
    try:
        send = part_send(root / "send", args.sends, args.profile)
        loopback = part_loopback(root / "loopback", args.one_by_one, args.burst)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(report(facts, send, loopback))
    if send["profile"]:
        print("\ncProfile of 300 sends (cumulative):\n")
        print(send["profile"])
    (benchlib.WORKDIR / "hotline.json").write_text(
        json.dumps({"machine": facts, "send": send, "loopback": loopback}, indent=2)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
