"""Hourly test messages: every hour one side sends a test (template 6), alternating sides.

The rule, which both nodes compute alike without talking: number the hours since the Unix epoch
(UTC); of the two parties' names in alphabetical order, the first sends in even hours, the second
in odd hours. The test's ``sequence`` field is that hour number, so each test names its own hour
and a node sends at most one per hour (it looks for that sequence among its own tests). The
peer's acknowledgement of the test, and its escalation when none comes, prove the whole path.
"""

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from parley.hotline import records
from parley.hotline.entry import parse_signed_entry
from parley.store.engine import read

if TYPE_CHECKING:
    from parley.hotline.node import Node

TEST_TEMPLATE = 6


def hour_number(now: datetime) -> int:
    """Whole hours since 1970-01-01T00:00Z."""
    return int(now.astimezone(UTC).timestamp()) // 3600


def hourly_sender(parties: tuple[str, str], now: datetime) -> str:
    """The party that sends the test of the hour holding ``now``."""
    first, second = sorted(parties)
    return first if hour_number(now) % 2 == 0 else second


def due_test_message(node: "Node", now: datetime) -> str | None:
    """Send this hour's test through :meth:`Node.send` if it is our turn and not yet sent.

    Returns the test's msg_id, or None when it is the peer's turn or ours is already sent."""
    parties = (node.config.party, node.peer.identity.party)
    if hourly_sender(parties, now) != node.config.party:
        return None
    sequence = str(hour_number(now))
    if sequence in _sent_sequences(node):
        return None
    return node.send(TEST_TEMPLATE, {"sequence": sequence})


def _sent_sequences(node: "Node") -> set[str]:
    with read(node.engine) as connection:
        tests = [e for e in records.stored_entries(connection, node.log_id) if e.type == "test"]
    return {parse_signed_entry(e.raw).entry.fields.get("sequence", "") for e in tests}


__all__ = ["TEST_TEMPLATE", "due_test_message", "hour_number", "hourly_sender"]
