"""``parley serve``: run a node's server: the peer protocol, the officers' API, replication.

The trusted peer's URL decides the transport (docs/hotline.md, "Transport security"):

- ``https://`` (a real deployment): two listeners in one process sharing one app. The peer port
  (``--peer-host``/``--peer-port``) serves only ``/peer/v1`` over TLS 1.3 and requires the client
  certificate pinned at ``parley node trust``; the officers' port (``--host``/``--port``) serves
  everything else over plain HTTP, for browsers without client certificates (put it on loopback
  or behind a TLS-terminating proxy).
- ``http://`` (tests and demonstrations on one machine): one plain HTTP listener for both, on a
  loopback address only.
"""

import asyncio
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import typer

from parley.errors import InputError
from parley.hotline.config import read_config
from parley.hotline.replication import ReplicationSettings
from parley.hotline.tls import check_peer_url, is_loopback_host, server_context, uses_tls
from parley.hotline.users import SessionSettings

if TYPE_CHECKING:
    import ssl

    import uvicorn
    from starlette.types import ASGIApp, Receive, Scope, Send

DEFAULTS = ReplicationSettings()
SESSION_DEFAULTS = SessionSettings()
DEFAULT_PEER_PORT = 8701
PEER_PATH_PREFIX = "/peer/"


def serve(
    directory: Path = typer.Argument(..., help="The node directory (paired with its peer)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface of the officers' API."),
    port: int = typer.Option(8700, "--port", help="TCP port of the officers' API."),
    peer_host: str | None = typer.Option(
        None, "--peer-host", help="Interface of the mutual-TLS peer port (default: --host)."
    ),
    peer_port: int = typer.Option(
        DEFAULT_PEER_PORT,
        "--peer-port",
        help="TCP port of the peer protocol over mutual TLS (for an https:// peer).",
    ),
    retry_initial: float = typer.Option(
        DEFAULTS.initial_backoff_s, "--retry-initial", help="First retry delay (s)."
    ),
    retry_max: float = typer.Option(
        DEFAULTS.max_backoff_s, "--retry-max", help="Longest retry delay (s)."
    ),
    pull_interval: float = typer.Option(
        DEFAULTS.pull_interval_s, "--pull-interval", help="Seconds between pulls from the peer."
    ),
    session_lifetime: float = typer.Option(
        SESSION_DEFAULTS.lifetime_s, "--session-lifetime", help="Longest officer session (s)."
    ),
    session_idle: float = typer.Option(
        SESSION_DEFAULTS.idle_s, "--session-idle", help="An unused session ends after (s)."
    ),
    timer_interval: float = typer.Option(
        5.0, "--timer-interval", help="Seconds between escalation and hourly-test runs."
    ),
    hourly_test: bool = typer.Option(
        True, "--hourly-test/--no-hourly-test", help="Send the hourly test when it is our turn."
    ),
) -> None:
    """Serve the node until Ctrl-C: the signed peer protocol (/peer/v1; over mutual TLS on
    --peer-port for an https:// peer), the officers' API (/api/v1, documented at /docs) and
    replication with the peer."""
    for option, number in (("--port", port), ("--peer-port", peer_port)):
        if not 0 < number < 65536:
            raise InputError(f"{option} {number}: not a TCP port")
    if not 0 < retry_initial <= retry_max or pull_interval <= 0:
        raise InputError("retry delays and the pull interval must be positive, initial <= max")
    if session_lifetime <= 0 or session_idle <= 0:
        raise InputError("--session-lifetime and --session-idle must be positive")
    if timer_interval <= 0:
        raise InputError(f"--timer-interval {timer_interval}: must be positive")
    settings = ReplicationSettings(
        initial_backoff_s=retry_initial,
        max_backoff_s=retry_max,
        pull_interval_s=pull_interval,
        poll_interval_s=min(DEFAULTS.poll_interval_s, pull_interval),
    )
    peer_tls = _peer_tls_context(directory, host)
    if peer_tls is not None and peer_port == port and (peer_host or host) == host:
        raise InputError(f"--peer-port {peer_port}: the officers' API already uses it (--port)")
    # imported here so that every other parley command starts without the web stack
    import uvicorn

    from parley.web import create_app

    sessions = SessionSettings(lifetime_s=session_lifetime, idle_s=session_idle)
    from parley.web.timers import TimerSettings

    timers = TimerSettings(escalation_interval_s=timer_interval, hourly_test=hourly_test)
    app = create_app(directory, settings, sessions=sessions, timers=timers)
    if peer_tls is None:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
        return
    api_server, peer_server = tls_servers(app, peer_tls, host, port, peer_host or host, peer_port)
    run_servers([api_server, peer_server])


def _peer_tls_context(directory: Path, host: str) -> "ssl.SSLContext | None":
    """The peer port's TLS context for an https:// peer; None for a plain http:// one."""
    peer = read_config(directory).peer
    if peer is None:
        raise InputError(f"{directory}: no peer trusted yet (see parley node trust)")
    check_peer_url(peer.url, peer.pinned_certificate)
    if not uses_tls(peer.url):
        if not is_loopback_host(host):
            raise InputError(
                f"--host {host}: the peer link is plain http://, served on loopback only; "
                "trust the peer with an https:// URL for mutual TLS"
            )
        return None
    assert peer.pinned_certificate is not None  # check_peer_url requires it for https://
    return server_context(directory, peer.pinned_certificate)


class PathGate:
    """ASGI middleware serving either only the peer protocol or everything but it."""

    def __init__(self, app: "ASGIApp", *, peer: bool) -> None:
        self.app = app
        self.peer = peer

    async def __call__(self, scope: "Scope", receive: "Receive", send: "Send") -> None:
        if scope["type"] == "http" and scope["path"].startswith(PEER_PATH_PREFIX) != self.peer:
            from starlette.responses import JSONResponse

            where = "the officers' port" if self.peer else "the mutual-TLS peer port"
            detail = f"not served on this port: see {where}"
            await JSONResponse({"detail": detail}, status_code=404)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def tls_servers(
    app: "ASGIApp",
    peer_tls: "ssl.SSLContext",
    host: str,
    port: int,
    peer_host: str,
    peer_port: int,
) -> tuple["uvicorn.Server", "uvicorn.Server"]:
    """The officers' server (which runs the app's lifespan) and the mutual-TLS peer server."""
    import uvicorn

    class QuietServer(uvicorn.Server):
        @contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield  # run_servers handles the signals of both servers

    api = uvicorn.Config(
        PathGate(app, peer=False), host=host, port=port, log_level="warning", access_log=False
    )
    peer = uvicorn.Config(
        PathGate(app, peer=True),
        host=peer_host,
        port=peer_port,
        lifespan="off",
        ssl_context_factory=lambda _config, _default: peer_tls,
        log_level="warning",
        access_log=False,
    )
    return QuietServer(api), QuietServer(peer)


def run_servers(servers: "list[uvicorn.Server]") -> None:
    """Run the servers in one event loop until SIGINT or SIGTERM, then stop them all."""

    def stop(number: int, frame: FrameType | None) -> None:
        for server in servers:
            server.handle_exit(number, frame)

    previous = {number: signal.signal(number, stop) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        asyncio.run(serve_together(servers))
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


async def serve_together(servers: "list[uvicorn.Server]") -> None:
    """Serve until every server stops; when one stops, the others are told to stop too."""
    tasks = [asyncio.create_task(server.serve()) for server in servers]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for server in servers:
            server.should_exit = True
        await asyncio.gather(*tasks)


__all__ = [
    "DEFAULT_PEER_PORT",
    "PathGate",
    "run_servers",
    "serve",
    "serve_together",
    "tls_servers",
]
