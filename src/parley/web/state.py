"""What the routes share: the opened node, the request verifier, the users and the replicator."""

from dataclasses import dataclass

from fastapi import Request

from parley.hotline.node import Node
from parley.hotline.peer_auth import RequestVerifier
from parley.hotline.replication import Replicator
from parley.hotline.users import UserStore
from parley.incidents.registry import IncidentRegistry


@dataclass(slots=True)
class NodeState:
    node: Node
    verifier: RequestVerifier
    users: UserStore
    replicator: Replicator | None = None

    def resynced(self) -> bool:
        """Whether the node may write (no replicator: it is not waiting for the peer)."""
        return self.replicator is None or self.replicator.resynced.is_set()

    def wake(self) -> None:
        if self.replicator is not None:
            self.replicator.wake()

    def peer_pushed(self) -> None:
        """The peer's push was imported: replication need not pull until the next interval."""
        if self.replicator is not None:
            self.replicator.peer_pushed()


def node_state(request: Request) -> NodeState:
    state = request.app.state.parley
    assert isinstance(state, NodeState)
    return state


def incident_registry(request: Request) -> IncidentRegistry:
    """The node's incidents, announcing their changes on the app's event bus (if it has one)."""
    bus = getattr(request.app.state, "events", None)
    publish = None if bus is None else bus.publish
    return IncidentRegistry(node_state(request).node, publish=publish)


__all__ = ["NodeState", "incident_registry", "node_state"]
