"""Fixtures of the hotline tests: fixed party keys and a message-id generator on a fake clock."""

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from parley.hotline.keys import PartyKey
from parley.hotline.msgid import MsgIdGenerator

T0 = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)


def fake_clock(
    start: datetime = T0, step: timedelta = timedelta(seconds=1)
) -> Callable[[], datetime]:
    """A clock that returns ``start`` and then moves on by ``step`` at every reading."""
    state = {"now": start - step}

    def clock() -> datetime:
        state["now"] += step
        return state["now"]

    return clock


def seeded_randomness(seed: int) -> Callable[[int], bytes]:
    generator = random.Random(seed)
    return generator.randbytes


@pytest.fixture
def nato() -> PartyKey:
    return PartyKey.from_seed("nato", bytes(range(32)))


@pytest.fixture
def russia() -> PartyKey:
    return PartyKey.from_seed("russia", bytes(range(32, 64)))


@pytest.fixture
def ids() -> MsgIdGenerator:
    return MsgIdGenerator(fake_clock(), seeded_randomness(7))
