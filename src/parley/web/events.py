"""``GET /api/v1/events``: the node's events as a server-sent event stream (``text/event-stream``).

Each event is written as::

    id: <epoch>-<n>
    event: <type>
    data: {"type": …, "time": …, "payload": {…}}

A client that reconnects sends the last id it saw as ``Last-Event-ID`` (browsers' EventSource do
this by themselves) or as ``?last_event_id=``, and gets every event after it. When those events are
no longer held (the server restarted, or the client fell more than the bus's capacity behind) the
stream starts with a ``stream.reset`` event: reload the state from the API, then follow. Without an
id the stream starts at the next event. ``?follow=false`` writes the events held after the id and
ends (for scripts and tests). A comment line keeps an idle connection open.
"""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse

from parley.hotline.events import Event, EventBus
from parley.web.api import PREFIX, authorize

#: Seconds between keep-alive comments on an idle stream.
HEARTBEAT_S = 15.0
#: The client's reconnection delay, in milliseconds, sent at the start of every stream.
RETRY_MS = 2000
#: The event that tells a client it missed events and must reload its state.
RESET_EVENT = "stream.reset"

router = APIRouter(prefix=PREFIX, tags=["events"], dependencies=[Depends(authorize)])


def event_bus(request: Request) -> EventBus:
    """The app's event bus (publish on it with ``event_bus(request).publish(type, payload)``)."""
    bus = request.app.state.events
    assert isinstance(bus, EventBus)
    return bus


def format_event(bus: EventBus, event: Event) -> str:
    """One event in the text/event-stream format."""
    data = json.dumps(event.to_json(), ensure_ascii=False, separators=(",", ":"))
    return f"id: {bus.event_id(event)}\nevent: {event.type}\ndata: {data}\n\n"


def _reset(bus: EventBus) -> str:
    data = json.dumps({"type": RESET_EVENT, "payload": {"reason": "events were missed"}})
    return f"id: {bus.epoch}-{bus.last_number}\nevent: {RESET_EVENT}\ndata: {data}\n\n"


async def stream_events(
    request: Request, bus: EventBus, last_event_id: str | None, follow: bool
) -> AsyncIterator[str]:
    """The text of the stream: events after ``last_event_id``, then live ones when ``follow``."""
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()

    def wake_up() -> None:
        with contextlib.suppress(RuntimeError):  # the loop has closed: the client is gone
            loop.call_soon_threadsafe(wake.set)

    unsubscribe = bus.subscribe(wake_up)
    try:
        yield f"retry: {RETRY_MS}\n\n"
        after = bus.resume_after(last_event_id)
        while True:
            wake.clear()
            batch = None if after is None else bus.since(after)
            if batch is None:
                after = bus.last_number
                yield _reset(bus)
                continue
            for event in batch:
                yield format_event(bus, event)
                after = event.number
            if not follow:
                return
            if not batch:
                try:
                    await asyncio.wait_for(wake.wait(), HEARTBEAT_S)
                except TimeoutError:
                    yield ": keep-alive\n\n"
            if await request.is_disconnected():
                return
    finally:
        unsubscribe()


@router.get(
    "/events",
    summary="The node's events (server-sent events): messages, receipts, escalation, link",
    response_class=StreamingResponse,
)
async def events(
    request: Request,
    last_event_id: Annotated[
        str | None, Header(description="The last id seen: resume after it.")
    ] = None,
    resume: Annotated[
        str | None, Query(alias="last_event_id", description="As the Last-Event-ID header.")
    ] = None,
    follow: Annotated[bool, Query(description="Keep streaming new events (false: end).")] = True,
) -> StreamingResponse:
    bus = event_bus(request)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(
        stream_events(request, bus, last_event_id or resume, follow),
        media_type="text/event-stream",
        headers=headers,
    )


__all__ = ["HEARTBEAT_S", "RESET_EVENT", "event_bus", "format_event", "router", "stream_events"]
