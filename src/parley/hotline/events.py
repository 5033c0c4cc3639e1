"""The in-process event bus: what a console must show, published once, read by every subscriber.

Any part of the node publishes ``publish(type, payload)``: a dotted lower-case type such as
``message.delivered`` and a JSON-serialisable payload. Each event gets the next id of this bus;
the bus keeps the last ``capacity`` events so that a reader who fell behind, or an event stream
that reconnects with ``Last-Event-ID``, takes up exactly where it stopped (:meth:`EventBus.since`).
Subscribers are woken, never handed the event: they read with :meth:`EventBus.since`, so a slow
reader never blocks a publisher and no event is delivered twice or skipped.

Ids are ``<epoch>-<n>``: the epoch is new each time the bus is made (each server start), so an id
from before a restart is recognised as such (:meth:`EventBus.resume_after` answers None) and the
reader is told to reload its state instead of silently missing what happened meanwhile.

Every event type must be listed in ``docs/events.md`` (a test reads it).
"""

import re
import secrets
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from parley.hotline.errors import HotlineError
from parley.hotline.msgid import Clock, format_utc_ms, utc_now

#: How many past events a bus keeps for readers that fall behind or reconnect.
DEFAULT_CAPACITY = 10_000

_TYPE = re.compile(r"[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*")

Wake = Callable[[], None]


class EventTypeError(HotlineError):
    """An event type that is not a dotted lower-case name."""


@dataclass(frozen=True, slots=True)
class Event:
    """One published event: its number on this bus, type, when (UTC) and payload."""

    number: int
    type: str
    time: datetime
    payload: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "time": format_utc_ms(self.time), "payload": dict(self.payload)}


class EventBus:
    """A thread-safe publisher with a bounded history; see the module docstring."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY, clock: Clock = utc_now) -> None:
        if capacity < 1:
            raise ValueError("an event bus keeps at least one event")
        self.epoch = secrets.token_hex(4)
        self.clock = clock
        self._history: deque[Event] = deque(maxlen=capacity)
        self._last = 0
        self._subscribers: dict[int, Wake] = {}
        self._next_subscriber = 0
        self._lock = threading.Lock()
        self.published_types: set[str] = set()

    @property
    def last_number(self) -> int:
        """The number of the latest event (0 before the first)."""
        with self._lock:
            return self._last

    def publish(self, event_type: str, payload: Mapping[str, Any]) -> Event:
        """Record an event and wake every subscriber; the event."""
        if not _TYPE.fullmatch(event_type):
            raise EventTypeError(f"event type {event_type!r}: dotted lower-case words expected")
        with self._lock:
            self._last += 1
            event = Event(self._last, event_type, self.clock(), dict(payload))
            self._history.append(event)
            self.published_types.add(event_type)
            wakes = list(self._subscribers.values())
        for wake in wakes:
            wake()
        return event

    def since(self, after: int) -> list[Event] | None:
        """The events after number ``after``, oldest first; None when some are no longer held
        (the reader fell more than ``capacity`` events behind) or ``after`` is in the future."""
        with self._lock:
            if after > self._last:
                return None
            if after >= self._last:
                return []
            oldest = self._history[0].number
            if after < oldest - 1:
                return None
            return list(self._history)[after - oldest + 1 :]

    def subscribe(self, wake: Wake) -> Callable[[], None]:
        """Call ``wake`` (from the publisher's thread; keep it short) after every publish;
        returns the function that unsubscribes."""
        with self._lock:
            key = self._next_subscriber
            self._next_subscriber += 1
            self._subscribers[key] = wake

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers.pop(key, None)

        return unsubscribe

    def event_id(self, event: Event) -> str:
        """The id an event stream gives ``event``: ``<epoch>-<number>``."""
        return f"{self.epoch}-{event.number}"

    def resume_after(self, last_event_id: str | None) -> int | None:
        """The number to read after for a reader that last saw ``last_event_id``: the latest
        number without an id (a new reader starts now); None for an id of another epoch (a
        restart) or one this bus cannot place."""
        if last_event_id is None or not last_event_id.strip():
            return self.last_number
        epoch, _, number = last_event_id.strip().partition("-")
        if epoch != self.epoch or not number.isdigit():
            return None
        return int(number)


__all__ = ["DEFAULT_CAPACITY", "Event", "EventBus", "EventTypeError", "Wake"]
