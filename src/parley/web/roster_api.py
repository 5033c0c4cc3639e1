"""The duty roster in the officers' API (``GET /api/v1/roster``): who is on duty now and next.

The roster is the node's ``roster.toml`` (:mod:`parley.hotline.roster`), read again on every
request as the escalation timer does, so an edited roster shows at once. Reading it needs the
``read-log`` action (the officers who follow the hotline; see
:data:`parley.hotline.users.PERMISSIONS`); the route's action is added to
:data:`parley.web.api.ROUTE_ACTIONS` when this module is imported.
"""

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from parley.activities.model import iso_utc
from parley.hotline.roster import (
    ROSTER_FILE,
    Roster,
    RosterError,
    ShiftOccurrence,
    check,
    load_roster,
)
from parley.hotline.users import Action
from parley.web.api import PREFIX, ROUTE_ACTIONS, authorize
from parley.web.state import node_state

BASE = f"{PREFIX}/roster"
ROSTER_ROUTE_ACTIONS = {("GET", BASE): Action.READ_LOG}
ROUTE_ACTIONS.update(ROSTER_ROUTE_ACTIONS)

#: How far ahead the next shift is looked for, and the roster checked for gaps.
LOOKAHEAD = timedelta(days=2)
CHECK_DAYS = 1

router = APIRouter(prefix=BASE, tags=["roster"], dependencies=[Depends(authorize)])


@router.get("", summary="Who is on duty now and in the next shift, and the roster's problems")
async def roster(request: Request) -> dict[str, Any]:
    node = node_state(request).node
    now = node.clock()
    try:
        held = await run_in_threadpool(load_roster, node.directory)
    except RosterError as exc:
        raise HTTPException(500, str(exc)) from None
    return roster_json(held, now)


def roster_json(held: Roster | None, now: datetime) -> dict[str, Any]:
    """The answer of the route: ``configured`` false (and empty lists) without a roster."""
    if held is None:
        return {
            "configured": False,
            "source": ROSTER_FILE,
            "time": iso_utc(now),
            "now": [],
            "next": [],
            "problems": [],
        }
    return {
        "configured": True,
        "source": ROSTER_FILE,
        "time": iso_utc(now),
        "now": [_shift_json(o) for o in current_shifts(held, now)],
        "next": [_shift_json(o) for o in next_shifts(held, now)],
        "problems": [problem.to_json() for problem in check(held, now, CHECK_DAYS)],
    }


def current_shifts(held: Roster, now: datetime) -> list[ShiftOccurrence]:
    """The shifts running at ``now`` (more than one where shifts overlap)."""
    return held.occurrences_between(now, now + timedelta(microseconds=1))


def next_shifts(held: Roster, now: datetime) -> list[ShiftOccurrence]:
    """The shifts starting soonest after ``now`` (all those starting at that moment)."""
    coming = [o for o in held.occurrences_between(now, now + LOOKAHEAD) if o.start > now]
    if not coming:
        return []
    first = min(o.start for o in coming)
    return [o for o in coming if o.start == first]


def _shift_json(occurrence: ShiftOccurrence) -> dict[str, Any]:
    return {
        "name": occurrence.shift.name,
        "start": iso_utc(occurrence.start),
        "end": iso_utc(occurrence.end),
        "officers": [officer.to_json() for officer in occurrence.shift.officers],
    }


__all__ = [
    "ROSTER_ROUTE_ACTIONS",
    "current_shifts",
    "next_shifts",
    "roster_json",
    "router",
]
