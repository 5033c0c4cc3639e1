"""The start-up resync guard: a node writes nothing until it has its own log back from the peer.

``parley serve`` creates the file ``resyncing`` in the node directory before it starts and removes
it once the peer's copy of our log has been taken back (:mod:`.replication`). While the file is
there every write of a message, by the API or by ``parley hotline send`` beside the server, is
refused. A server killed during the resync leaves the file: the next start resyncs again.
"""

from pathlib import Path

from parley.hotline.errors import HotlineError

RESYNC_MARKER = "resyncing"


class ResyncingError(HotlineError):
    """The node has not yet taken back its own log from the peer."""


def mark_resyncing(directory: Path) -> None:
    (directory / RESYNC_MARKER).write_text(
        "parley serve is fetching this node's own log back from the peer\n", encoding="utf-8"
    )


def clear_resyncing(directory: Path) -> None:
    (directory / RESYNC_MARKER).unlink(missing_ok=True)


def require_resynced(directory: Path) -> None:
    """Raise :class:`ResyncingError` while the start-up resync has not succeeded."""
    if (directory / RESYNC_MARKER).exists():
        raise ResyncingError(
            f"{directory}: resyncing: the node has not yet fetched its own log back from the "
            "peer; nothing is written until it has (is the peer reachable?). If this node was "
            f"not restored from a backup and must write without its server, delete {RESYNC_MARKER}"
        )


__all__ = [
    "RESYNC_MARKER",
    "ResyncingError",
    "clear_resyncing",
    "mark_resyncing",
    "require_resynced",
]
