"""What a running node does by itself, on timers, beside serving requests.

Four periodic tasks, each in its own daemon thread so that a slow peer never delays a deadline:

- **escalation** (every ``escalation_interval_s``): :func:`parley.hotline.escalation.run_due` at the
  node's clock with the node's roster, then this hour's test message when it is our turn
  (:func:`parley.hotline.hourly_test.due_test_message`). Each step is claimed in the database, so
  two servers on one database, or a restart, never fire a step twice; the notifications go to the
  event bus.
- **events** (every ``events_interval_s``): the database watcher publishes what changed
  (:class:`parley.hotline.node_events.NodeWatcher`), and the replicator's link status when it
  changes.
- **joint** (every ``joint_interval_s``): propose a joint checkpoint of both logs to the peer when
  there is something new to agree on (:mod:`parley.hotline.joint`).

A storage error stops the task that met it (the process must be restarted, as for replication);
any other error is logged and the task runs again at the next tick.
"""

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from parley.errors import ParleyError
from parley.hotline import joint
from parley.hotline.escalation import Notification, run_due
from parley.hotline.events import EventBus
from parley.hotline.hourly_test import due_test_message
from parley.hotline.node_events import NodeWatcher
from parley.hotline.replication import PEER_PREFIX, PeerClient, ReplicationError
from parley.store.engine import StorageError
from parley.web.state import NodeState

log = logging.getLogger(__name__)

#: The event type of each kind of escalation notification.
ESCALATION_EVENTS = {
    "escalation": "escalation.notice",
    "no-one-on-duty": "escalation.no-one-on-duty",
    "unacknowledged": "escalation.unacknowledged",
}
#: The other types the timers publish.
TIMER_EVENT_TYPES = frozenset({*ESCALATION_EVENTS.values(), "link.status"})


@dataclass(frozen=True, slots=True)
class TimerSettings:
    """How often each task runs, in seconds, and whether this node sends hourly tests."""

    escalation_interval_s: float = 5.0
    events_interval_s: float = 0.25
    joint_interval_s: float = 10.0
    hourly_test: bool = True

    def __post_init__(self) -> None:
        intervals = (self.escalation_interval_s, self.events_interval_s, self.joint_interval_s)
        if min(intervals) <= 0:
            raise ValueError("timer intervals must be positive")


class PeriodicTask:
    """Calls ``task`` every ``interval_s`` in a daemon thread until :meth:`stop`."""

    def __init__(self, name: str, interval_s: float, task: Callable[[], object]) -> None:
        self.name = name
        self.interval_s = interval_s
        self.task = task
        self.last_error: str | None = None
        self.failed = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"parley-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.task()
                self.last_error = None
            except StorageError as exc:
                self.failed, self.last_error = True, str(exc)
                log.critical("%s stopped: %s", self.name, exc)
                return
            except (ParleyError, httpx.HTTPError, ValueError) as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("%s: %s", self.name, self.last_error)
            except Exception as exc:  # a bug must not silently end the node's deadlines
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("%s: unexpected error (retrying)", self.name)
            self._stop.wait(self.interval_s)


class NodeTimers:
    """The periodic tasks of one served node; :meth:`start` with the app, :meth:`stop` after."""

    def __init__(
        self,
        state: NodeState,
        bus: EventBus,
        settings: TimerSettings | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.state = state
        self.bus = bus
        self.settings = settings or TimerSettings()
        self.watcher = NodeWatcher(state.node, bus)
        self._transport = transport
        self._client: PeerClient | None = None
        self._link: tuple[str, str | None] | None = None
        self.tasks = [
            PeriodicTask("escalation", self.settings.escalation_interval_s, self.escalate),
            PeriodicTask("events", self.settings.events_interval_s, self.watch),
        ]
        if state.replicator is not None:
            self.tasks.append(PeriodicTask("joint", self.settings.joint_interval_s, self.agree))

    def start(self) -> None:
        for task in self.tasks:
            task.start()

    def stop(self) -> None:
        for task in self.tasks:
            task.stop()
        if self._client is not None:
            self._client.close()

    def status(self) -> dict[str, Any]:
        return {
            task.name: {"failed": task.failed, "last_error": task.last_error} for task in self.tasks
        }

    def escalate(self) -> list[Notification]:
        """Fire the due escalation steps and send this hour's test if it is our turn."""
        node = self.state.node
        if node.config.peer is None or not self.state.resynced():
            return []
        notifications = run_due(node, node.clock())
        for notification in notifications:
            self.bus.publish(ESCALATION_EVENTS[notification.kind], notification.to_json())
        wrote = any(n.entry_msg_id is not None for n in notifications)
        if self.settings.hourly_test and due_test_message(node, node.clock()) is not None:
            wrote = True
        if wrote:
            self.state.wake()
        return notifications

    def watch(self) -> int:
        """Publish what changed in the database and the link status; how many events."""
        published = self.watcher.poll()
        replicator = self.state.replicator
        if replicator is None:
            return published
        error = replicator.last_error
        link = (_link_status(replicator.resynced.is_set(), replicator.failed, error), error)
        if link != self._link:
            self._link = link
            self.bus.publish("link.status", {"status": link[0], "last_error": link[1]})
            published += 1
        return published

    def agree(self) -> joint.JointCheckpoint | None:
        """Propose a joint checkpoint of the current heads to the peer; the one agreed."""
        if not self.state.resynced():
            return None
        node = self.state.node
        proposal = joint.propose(node)
        if proposal is None:
            return None
        if self._client is None:
            self._client = PeerClient(node, 10.0, self._transport)
        body = json.dumps({"proposal": proposal}).encode("utf-8")
        answer = self._client.request("POST", f"{PEER_PREFIX}/joint", body)
        try:
            note = answer.json().get("joint")
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
            note = None
        if not isinstance(note, str):
            raise ReplicationError("the peer's joint checkpoint answer holds no note")
        return joint.accept(node, note)


def _link_status(resynced: bool, failed: bool, last_error: str | None) -> str:
    if failed:
        return "failed"
    if not resynced:
        return "resyncing"
    return "down" if last_error is not None else "up"


__all__ = ["ESCALATION_EVENTS", "TIMER_EVENT_TYPES", "NodeTimers", "PeriodicTask", "TimerSettings"]
