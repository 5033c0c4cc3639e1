"""The FastAPI application of one node: the peer protocol, the officers' API, the event stream,
and, while it runs, replication and the node's timers (escalation, hourly test, joint checkpoints,
the event watcher)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI

from parley import __version__
from parley.hotline.events import EventBus
from parley.hotline.msgid import Clock
from parley.hotline.node import load_node
from parley.hotline.peer_auth import MAX_SKEW_S, RequestVerifier
from parley.hotline.replication import ReplicationSettings, Replicator
from parley.hotline.users import SessionSettings, UserStore
from parley.web import activities_api, api, desk, events, incidents_api, live_api, peer, roster_api
from parley.web.live import live_service
from parley.web.state import NodeState
from parley.web.timers import NodeTimers, TimerSettings


def create_app(
    node_dir: Path,
    replication: ReplicationSettings | None = None,
    *,
    replicate: bool = True,
    max_skew_s: float = MAX_SKEW_S,
    transport: httpx.BaseTransport | None = None,
    sessions: SessionSettings | None = None,
    timers: TimerSettings | None = None,
    run_timers: bool | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """The app serving the node in ``node_dir`` (which must trust a peer).

    With ``replicate`` the replication thread runs while the app does (its lifespan);
    ``transport`` replaces the network for tests; ``sessions`` sets how long officers' sessions
    live (default 8 h, 30 min idle). ``timers`` sets the node's periodic tasks, which run while
    the app does when ``run_timers`` (default: with ``replicate``); ``clock`` replaces the node's
    clock (tests). The event bus is ``app.state.events``.
    """
    node = load_node(Path(node_dir)) if clock is None else load_node(Path(node_dir), clock=clock)
    try:
        users = UserStore(node.engine, node.clock, sessions)
        state = NodeState(node, RequestVerifier(node.peer.identity, max_skew_s), users)
        if replicate:
            state.replicator = Replicator(node, replication, transport)
        bus = EventBus(clock=node.clock)
        node_timers = NodeTimers(state, bus, timers, transport)
        live = live_service(node, bus.publish)
    except BaseException:
        node.close()
        raise

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if state.replicator is not None:
            state.replicator.start()
        if replicate if run_timers is None else run_timers:
            node_timers.start()
        await live.start()
        try:
            yield
        finally:
            await live.stop()
            node_timers.stop()
            if state.replicator is not None:
                state.replicator.stop()
            node.close()

    app = FastAPI(
        title=f"Parley node {node.config.party}",
        version=__version__,
        description="The hotline node: the signed peer protocol and the officers' API.",
        lifespan=lifespan,
    )
    app.state.parley = state
    app.state.events = bus
    app.state.timers = node_timers
    app.state.live = live
    app.include_router(peer.router)
    app.include_router(api.session_router)
    app.include_router(api.router)
    app.include_router(activities_api.router)
    app.include_router(incidents_api.router)
    app.include_router(roster_api.router)
    app.include_router(events.router)
    app.include_router(live_api.router)
    app.include_router(desk.router)
    app.mount(desk.STATIC_PATH, desk.static_files(), name="desk-static")
    return app


__all__ = ["create_app"]
