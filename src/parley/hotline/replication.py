"""Replication with the peer node: a background thread of the server process.

At start the node first **resyncs**: it asks the peer for the peer's copy of our own log and takes
back any of our entries it lacks (a node restored from a backup must not fork its own log). Until
that has succeeded, :attr:`Replicator.resynced` is clear and the server refuses new messages with a
"resyncing" error. Then, forever:

- **push**: while our outbox holds entries no receipt covers (or we owe the peer a receipt), send
  the bundle of our entries after the last receipt; the answer is the peer's cosignature over our
  checkpoint, kept as the delivery receipt;
- **pull**: every ``pull_interval_s``, ask for the peer's entries after the last one we hold (the
  fallback when the peer cannot reach us), then push once so that our receipt travels back. A
  pull that cannot bring anything is skipped: the interval starts again whenever the peer has
  just pushed to us (:meth:`Replicator.peer_pushed`: it reaches us) or a push's answer says the
  peer's log holds no more than we do; when the answer says it holds more, we pull at once. So a
  busy link carries no pulls, and a pull (its round trip and its import's write transaction)
  never delays the push of a message that arrives meanwhile, while a peer that cannot reach us
  is still pulled from every interval.

Every failure (peer down, refused request) is retried forever with capped, jittered exponential
backoff (``initial_backoff_s`` doubling up to ``max_backoff_s``). A database failure stops the
thread (:class:`parley.store.engine.StorageError`): the process must be restarted so that recovery
runs.
"""

import json
import logging
import random
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from parley.hotline.bundle import accept_receipt, import_bundle_bytes
from parley.hotline.errors import HotlineError
from parley.hotline.msgid import format_utc_ms
from parley.hotline.peer_auth import sign_request
from parley.hotline.peer_sync import own_log_size, peer_log_size, push_body, recover_own_log
from parley.hotline.resync import clear_resyncing, mark_resyncing
from parley.hotline.tls import peer_client_verify
from parley.store.engine import StorageError

if TYPE_CHECKING:
    from parley.hotline.node import Node

log = logging.getLogger(__name__)

PEER_PREFIX = "/peer/v1"


@dataclass(frozen=True, slots=True)
class ReplicationSettings:
    """Timing of replication, in seconds (tests shrink them)."""

    initial_backoff_s: float = 0.2
    max_backoff_s: float = 30.0
    pull_interval_s: float = 10.0
    poll_interval_s: float = 0.5
    request_timeout_s: float = 10.0


class ReplicationError(HotlineError):
    """The peer refused a request or answered something we cannot use."""


def backoff_delay(failures: int, settings: ReplicationSettings, rng: random.Random) -> float:
    """Seconds to wait after ``failures`` consecutive failures: capped, doubling, jittered."""
    exponent = min(failures - 1, 32)
    ceiling = min(settings.max_backoff_s, settings.initial_backoff_s * 2.0**exponent)
    return float(ceiling * (0.5 + rng.random() / 2))


class PeerClient:
    """Signed HTTP requests to the peer node."""

    def __init__(
        self, node: "Node", timeout_s: float, transport: httpx.BaseTransport | None = None
    ):
        self.node = node
        peer, pinned = node.peer, node.peer.pinned_certificate
        # https:// peers: present our certificate, accept only the peer's pinned one (tls.py)
        verify = True if transport else peer_client_verify(node.directory, peer.url, pinned)
        self._client = httpx.Client(
            base_url=peer.url.rstrip("/"), timeout=timeout_s, transport=transport, verify=verify
        )

    def close(self) -> None:
        self._client.close()

    def request(self, method: str, target: str, body: bytes = b"") -> httpx.Response:
        headers = sign_request(self.node.key, method, target, body, self.node.clock())
        if body:
            headers["Content-Type"] = "application/json"
        response = self._client.request(method, target, content=body, headers=headers)
        if response.status_code != 200:
            raise ReplicationError(
                f"{method} {target}: the peer answered {response.status_code}: {_detail(response)}"
            )
        return response

    def push(self) -> dict[str, Any]:
        return _json(self.request("POST", f"{PEER_PREFIX}/entries", push_body(self.node)))

    def pull(self, after_seq: int) -> bytes:
        return self.request("GET", f"{PEER_PREFIX}/log?after={after_seq}").content

    def copy_of_our_log(self, after_seq: int) -> dict[str, Any]:
        return _json(self.request("GET", f"{PEER_PREFIX}/copy?after={after_seq}"))


class Replicator:
    """The replication loop; :meth:`start` runs it in a daemon thread until :meth:`stop`."""

    def __init__(
        self,
        node: "Node",
        settings: ReplicationSettings | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.node = node
        self.settings = settings or ReplicationSettings()
        self.resynced = threading.Event()
        self.last_error: str | None = None
        self.failed = False
        self._client = PeerClient(node, self.settings.request_timeout_s, transport)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self.run, name="parley-replication", daemon=True)
        self._owe_receipt = True
        self._last_pull = float("-inf")
        self._rng = random.Random()

    def start(self) -> None:
        mark_resyncing(self.node.directory)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        self._client.close()

    def wake(self) -> None:
        """Replicate now (a message was just recorded)."""
        self._wake.set()

    def peer_pushed(self) -> None:
        """The peer's push was just imported: it reaches us, so a pull waits another interval."""
        self._last_pull = time.monotonic()

    def status(self) -> dict[str, Any]:
        return {
            "peer": self.node.peer.url,
            "resynced": self.resynced.is_set(),
            "failed": self.failed,
            "last_error": self.last_error,
            "outbox": len(self.node.outbox()),
        }

    def run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            # Cleared before the cycle, not after the wait: a message recorded while the cycle
            # runs sets it again, and the wait below returns at once instead of polling.
            self._wake.clear()
            try:
                if not self.resynced.is_set():
                    self.resync()
                moved = self.cycle()
                failures, self.last_error = 0, None
                wait = 0.0 if moved else self.settings.poll_interval_s
            except StorageError as exc:
                self.failed, self.last_error = True, str(exc)
                log.critical("replication stopped: %s", exc)
                return
            except (httpx.HTTPError, HotlineError, ValueError) as exc:
                failures += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                wait = backoff_delay(failures, self.settings, self._rng)
                log.warning("replication: %s (retry in %.1f s)", self.last_error, wait)
            self._wake.wait(wait)

    def resync(self) -> None:
        """Take back our own entries the peer holds and we lack, before we write anything."""
        copy = self._client.copy_of_our_log(own_log_size(self.node) - 1)
        recovered = recover_own_log(self.node, copy)
        if recovered:
            log.warning("resync: took back %d of our own entries from the peer", recovered)
        clear_resyncing(self.node.directory)
        self.resynced.set()

    def cycle(self) -> bool:
        """One round of push and pull; whether anything moved."""
        moved = False
        if self._owe_receipt or self.node.outbox():
            answer = self._client.push()
            receipt = answer.get("receipt")
            if isinstance(receipt, str):
                accept_receipt(self.node, receipt)
            self._owe_receipt = False
            moved = int(answer.get("accepted", 0)) > 0
            self._plan_pull(answer.get("log_size"))
        if time.monotonic() - self._last_pull >= self.settings.pull_interval_s:
            self._last_pull = time.monotonic()
            summary = import_bundle_bytes(
                self.node,
                self._client.pull(peer_log_size(self.node) - 1),
                f"pull from {self.node.peer.url} at {format_utc_ms(self.node.clock())}",
            )
            if summary.accepted:
                self._owe_receipt = moved = True
                self._last_pull = float("-inf")  # there may be more: pull again at once
        return moved

    def _plan_pull(self, peer_size: object) -> None:
        """Pull at once when the peer's log holds entries we lack, later when it holds none."""
        if not isinstance(peer_size, int) or isinstance(peer_size, bool):
            return  # an older peer: pull every interval, as before
        if peer_size > peer_log_size(self.node):
            self._last_pull = float("-inf")
        else:
            self._last_pull = max(self._last_pull, time.monotonic())


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ReplicationError(f"{response.request.url}: the peer's answer is not JSON") from None
    if not isinstance(data, dict):
        raise ReplicationError(f"{response.request.url}: the peer's answer is not a JSON object")
    return data


def _detail(response: httpx.Response) -> str:
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return response.text[:200]
    if isinstance(data, dict) and "detail" in data:
        return str(data["detail"])
    return str(data)[:200]


__all__ = [
    "PEER_PREFIX",
    "PeerClient",
    "ReplicationError",
    "ReplicationSettings",
    "Replicator",
    "backoff_delay",
]
