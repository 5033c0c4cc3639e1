"""The FastAPI application of one node: the peer protocol and the officers' API."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI

from parley import __version__
from parley.hotline.node import load_node
from parley.hotline.peer_auth import MAX_SKEW_S, RequestVerifier
from parley.hotline.replication import ReplicationSettings, Replicator
from parley.hotline.users import SessionSettings, UserStore
from parley.web import api, peer
from parley.web.state import NodeState


def create_app(
    node_dir: Path,
    replication: ReplicationSettings | None = None,
    *,
    replicate: bool = True,
    max_skew_s: float = MAX_SKEW_S,
    transport: httpx.BaseTransport | None = None,
    sessions: SessionSettings | None = None,
) -> FastAPI:
    """The app serving the node in ``node_dir`` (which must trust a peer).

    With ``replicate`` the replication thread runs while the app does (its lifespan);
    ``transport`` replaces the network for tests; ``sessions`` sets how long officers' sessions
    live (default 8 h, 30 min idle).
    """
    node = load_node(Path(node_dir))
    try:
        users = UserStore(node.engine, node.clock, sessions)
        state = NodeState(node, RequestVerifier(node.peer.identity, max_skew_s), users)
        if replicate:
            state.replicator = Replicator(node, replication, transport)
    except BaseException:
        node.close()
        raise

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if state.replicator is not None:
            state.replicator.start()
        try:
            yield
        finally:
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
    app.include_router(peer.router)
    app.include_router(api.session_router)
    app.include_router(api.router)
    return app


__all__ = ["create_app"]
