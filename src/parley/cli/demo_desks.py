"""The two desks of ``parley demo``: paired nodes served on loopback, and officers signed in.

Each desk is a real node (its own directory and SQLite database, its own keys) served by uvicorn
in a thread of this process, so that stopping the demo stops everything it started. The officers
work through the officers' HTTP API, as the dashboard does; the events they react to come from
the node's server-sent event stream.
"""

import json
import logging
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from parley.errors import ParleyError
from parley.hotline.node import init_node, load_node
from parley.hotline.replication import ReplicationSettings
from parley.hotline.users import Role, UserStore
from parley.web import create_app

_log = logging.getLogger(__name__)

#: Quick retries on loopback: the demo's link is never down for long.
DEMO_REPLICATION = ReplicationSettings(
    initial_backoff_s=0.2, max_backoff_s=2.0, pull_interval_s=1.0, poll_interval_s=0.1
)
OFFICER = "duty-officer"
TECHNICIAN = "comms-technician"


class DemoError(ParleyError):
    """The demo could not set up or run its desks."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(slots=True)
class Desk:
    """One party's node, its server and its signed-in officers."""

    party: str
    directory: Path
    port: int
    passwords: dict[str, str] = field(default_factory=dict)
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None
    clients: dict[str, httpx.Client] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, user: str = OFFICER) -> httpx.Client:
        return self.clients[user]

    def call(self, method: str, path: str, user: str = OFFICER, **kwargs: Any) -> Any:
        """One API call as ``user``; a refusal is a :class:`DemoError` naming the route."""
        response = self.client(user).request(method, path, **kwargs)
        if response.status_code >= 400:
            raise DemoError(
                f"{self.party} desk: {method} {path} refused ({response.status_code}: "
                f"{response.text[:200]})"
            )
        return response.json() if response.content else None


def create_desks(workdir: Path, parties: tuple[str, str]) -> tuple[Desk, Desk]:
    """Two new nodes under ``workdir``, paired with each other, each with two officers."""
    desks = tuple(Desk(party, workdir / party, free_port()) for party in parties)
    first, second = desks
    for desk in desks:
        with init_node(desk.directory, desk.party) as node:
            users = UserStore(node.engine, node.clock)
            officers = ((OFFICER, Role.DUTY_OFFICER), (TECHNICIAN, Role.COMMUNICATIONS_TECHNICIAN))
            for name, role in officers:
                desk.passwords[name] = secrets.token_urlsafe(12)
                users.add_user(name, role, desk.passwords[name], actor="parley demo")
    for desk, peer in ((first, second), (second, first)):
        with load_node(peer.directory) as peer_node:
            identity = peer_node.identity_json()
        with load_node(desk.directory) as node:
            node.trust(identity, peer.url)
    return first, second


def start(desk: Desk, timeout_s: float = 60.0) -> None:
    """Serve the desk's node in a thread; return when it answers and has resynced."""
    app = create_app(desk.directory, DEMO_REPLICATION)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=desk.port, log_level="warning", access_log=False
    )
    desk.server = uvicorn.Server(config)
    desk.thread = threading.Thread(target=desk.server.run, name=f"desk-{desk.party}", daemon=True)
    desk.thread.start()
    deadline = time.monotonic() + timeout_s
    while not desk.server.started:
        if not desk.thread.is_alive() or time.monotonic() > deadline:
            raise DemoError(f"{desk.party} desk: the server did not start on port {desk.port}")
        time.sleep(0.05)
    for name, password in desk.passwords.items():
        client = httpx.Client(base_url=desk.url, timeout=30.0)
        response = client.post("/api/v1/session", json={"name": name, "password": password})
        if response.status_code != 200:
            raise DemoError(f"{desk.party} desk: {name} cannot sign in ({response.text[:200]})")
        client.headers["Authorization"] = f"Bearer {response.json()['token']}"
        desk.clients[name] = client


def stop(desk: Desk, timeout_s: float = 20.0) -> None:
    """Close the officers' clients and stop the server (its replication thread with it)."""
    for client in desk.clients.values():
        client.close()
    desk.clients.clear()
    if desk.server is not None:
        desk.server.should_exit = True
    if desk.thread is not None:
        desk.thread.join(timeout_s)


@dataclass(slots=True)
class EventListener:
    """Follows a desk's event stream in a thread and hands each event to ``on_event``."""

    desk: Desk
    on_event: Callable[[Desk, dict[str, Any]], None]
    stopping: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    ready: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        self.thread = threading.Thread(
            target=self._run, name=f"events-{self.desk.party}", daemon=True
        )
        self.thread.start()
        if not self.ready.wait(30.0):
            raise DemoError(f"{self.desk.party} desk: the event stream did not open")

    def stop(self) -> None:
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(5.0)

    def _run(self) -> None:
        last_id: str | None = None
        token = self.desk.client(OFFICER).headers["Authorization"]
        while not self.stopping.is_set():
            headers = {"Authorization": token, **({"Last-Event-ID": last_id} if last_id else {})}
            try:
                with httpx.stream(
                    "GET",
                    f"{self.desk.url}/api/v1/events",
                    headers=headers,
                    timeout=httpx.Timeout(5.0, read=1.0),
                ) as response:
                    self.ready.set()
                    for event_id, data in _sse_events(response.iter_lines(), self.stopping):
                        last_id = event_id or last_id
                        self.on_event(self.desk, data)
            except httpx.ReadTimeout:
                continue  # no event in the last second: look at the stop flag, then follow on
            except httpx.HTTPError as exc:
                if self.stopping.is_set():
                    return
                _log.info("%s desk: event stream: %s; reconnecting", self.desk.party, exc)
                time.sleep(0.2)


def _sse_events(lines: Iterator[str], stopping: threading.Event) -> Iterator[tuple[str, Any]]:
    """(id, data) of each event of a ``text/event-stream`` body."""
    event_id, data = "", ""
    for line in lines:
        if stopping.is_set():
            return
        if line.startswith("id:"):
            event_id = line[3:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()
        elif line == "" and data:
            yield event_id, json.loads(data)
            event_id, data = "", ""


__all__ = [
    "OFFICER",
    "TECHNICIAN",
    "DemoError",
    "Desk",
    "EventListener",
    "create_desks",
    "start",
    "stop",
]
