"""``parley`` with timestamps along a message's path to the peer and back (benchmark only).

``python bench/hotline_trace.py TRACE_FILE serve DIR …`` runs the ``parley`` command after
wrapping a few functions of the hotline and the web app so that each writes one line
``<time> <event> <thread>`` to ``TRACE_FILE`` (``time.perf_counter``: CLOCK_MONOTONIC on Linux,
the same clock in every process, so the lines of both servers and of the benchmark line up).
Nothing in ``src/`` knows about it. :func:`read_trace` reads such files back.

Events: ``send.start``/``send.done`` (``Node.send``), ``wake`` (the replicator told a message was
recorded), ``cycle.start``/``cycle.done``, ``push.built`` (the bundle document), ``push.request``/
``push.answer`` (the HTTP request), ``receipt.start``/``receipt.done`` (our receipt stored),
``pull.request``/``pull.done``, and on the receiving side ``peer.authenticated`` (the request
body read and its signature checked), ``import.start``/``import.done`` (verify, store, cosign),
plus ``tx.begin``/``tx.commit``/``tx.end`` of every write transaction (the write lock taken,
COMMIT issued, COMMIT returned: the fsyncs) with the thread that ran it.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_lock = threading.Lock()
_out: Any = None


def mark(event: str) -> None:
    line = f"{time.perf_counter():.6f} {event} {threading.current_thread().name}\n"
    with _lock:
        _out.write(line)


def _around(owner: Any, name: str, start: str | None, done: str | None) -> None:
    original: Callable[..., Any] = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if start:
            mark(start)
        try:
            return original(*args, **kwargs)
        finally:
            if done:
                mark(done)

    setattr(owner, name, wrapper)


def _trace_transactions(module: Any) -> None:
    """Mark the write lock taken and the commit (with its fsyncs) of ``module.write``."""
    original = module.write

    @contextmanager
    def write(engine: Any) -> Iterator[Any]:
        with original(engine) as connection:
            mark("tx.begin")
            yield connection
            mark("tx.commit")
        mark("tx.end")

    module.write = write


def install(trace_file: Path) -> None:
    global _out
    _out = open(trace_file, "a", buffering=1)  # noqa: SIM115  (line-buffered, kept open)
    from parley.hotline import (
        bundle,
        escalation,
        joint,
        node,
        node_events,
        peer_sync,
        replication,
        users,
    )
    from parley.hotline.peer_auth import RequestVerifier
    from parley.web import peer

    _around(node.Node, "send", "send.start", "send.done")
    _around(replication.Replicator, "wake", "wake", None)
    _around(replication.Replicator, "cycle", "cycle.start", "cycle.done")
    _around(replication, "push_body", None, "push.built")
    _around(replication.PeerClient, "pull", "pull.request", "pull.done")
    _around(replication, "accept_receipt", "receipt.start", "receipt.done")
    _around(RequestVerifier, "verify", None, "peer.authenticated")
    _around(peer, "answer_push", "import.start", "import.done")
    original_request = replication.PeerClient.request

    def request(self: Any, method: str, target: str, body: bytes = b"") -> Any:
        pushing = target.endswith("/entries")
        if pushing:
            mark("push.request")
        try:
            return original_request(self, method, target, body)
        finally:
            if pushing:
                mark("push.answer")

    replication.PeerClient.request = request  # type: ignore[method-assign]
    for module in (node, bundle, peer_sync, escalation, joint, node_events, users):
        if hasattr(module, "write"):
            _trace_transactions(module)


#: Leaf functions of a thread that waits (for a lock, a queue, a socket, a timer): not CPU.
IDLE_LEAVES = frozenset(
    {"wait", "select", "get", "_wait_for_tstate_lock", "sleep", "accept", "recv_into", "acquire"}
)


def start_sampler(output: Path, interval_s: float = 0.002) -> None:
    """Every ``interval_s``, the Python stack of each busy thread (a poor man's py-spy); at exit
    the functions seen most often (inclusive and as the leaf) go to ``output``."""
    import atexit
    from collections import Counter

    inclusive: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    busy = [0]
    me = 0

    def where(frame: Any) -> str:
        code = frame.f_code
        return f"{Path(code.co_filename).name}:{code.co_name}"

    def sample() -> None:
        while True:
            time.sleep(interval_s)
            for ident, leaf in sys._current_frames().items():
                if ident == me or leaf.f_code.co_name in IDLE_LEAVES:
                    continue
                busy[0] += 1
                leaves[where(leaf)] += 1
                seen = set()
                frame: Any = leaf
                while frame is not None:
                    name = where(frame)
                    if name not in seen:
                        seen.add(name)
                        inclusive[name] += 1
                    frame = frame.f_back

    def dump() -> None:
        total = max(busy[0], 1)

        def rows(counts: Counter[str], top: int) -> list[str]:
            return [f"{n:7d} {100 * n / total:5.1f}% {k}" for k, n in counts.most_common(top)]

        lines = [f"busy samples {busy[0]}", "", "inclusive:", *rows(inclusive, 80)]
        lines += ["", "leaf:", *rows(leaves, 40)]
        output.write_text("\n".join(lines) + "\n")

    thread = threading.Thread(target=sample, name="bench-sampler", daemon=True)
    thread.start()
    me = thread.ident or 0
    atexit.register(dump)


def read_trace(path: Path) -> list[tuple[float, str, str]]:
    """The lines of a trace file: (time, event, thread)."""
    events = []
    if path.exists():
        for line in path.read_text().splitlines():
            at, event, thread = line.split(" ", 2)
            events.append((float(at), event, thread))
    return events


def main() -> None:
    install(Path(sys.argv[1]))
    sample_to = os.environ.get("PARLEY_BENCH_SAMPLE")
    if sample_to:
        start_sampler(Path(f"{sample_to}.{os.getpid()}"))
    sys.argv = ["parley", *sys.argv[2:]]
    from parley.cli.main import entry

    entry()


if __name__ == "__main__":
    main()
