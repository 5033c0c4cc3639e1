"""The officers' API for activities (``/api/v1/activities``): list, show, add, notify, observe.

Reading needs the ``read-log`` action (activities are read from the logs); adding, notifying and
recording observations need ``send`` (see :data:`parley.hotline.users.PERMISSIONS`). The routes'
actions are added to :data:`parley.web.api.ROUTE_ACTIONS` when this module is imported, so the
officers' API keeps one table of who may do what.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from parley.activities.files import activities_to_geojson
from parley.activities.model import (
    Activity,
    Forces,
    Origin,
    UnknownActivityError,
    activity_from_mapping,
)
from parley.activities.thresholds import assess, assessed_json
from parley.errors import ParleyError
from parley.hotline.resync import ResyncingError
from parley.hotline.users import Action
from parley.incidents.activity_link import (
    add_activities,
    node_activity_policy,
    notify_activity,
    observe_activity,
    stored_activities,
    stored_activity,
)
from parley.web.api import PREFIX, ROUTE_ACTIONS, authorize
from parley.web.state import NodeState, node_state

BASE = f"{PREFIX}/activities"
ACTIVITY_ROUTE_ACTIONS = {
    ("GET", BASE): Action.READ_LOG,
    ("POST", BASE): Action.SEND,
    ("GET", f"{BASE}/{{activity_id}}"): Action.READ_LOG,
    ("POST", f"{BASE}/{{activity_id}}/notify"): Action.SEND,
    ("POST", f"{BASE}/{{activity_id}}/observe"): Action.SEND,
}
ROUTE_ACTIONS.update(ACTIVITY_ROUTE_ACTIONS)

router = APIRouter(prefix=BASE, tags=["activities"], dependencies=[Depends(authorize)])


class Observed(BaseModel):
    """Observed figures; each given figure replaces the one held."""

    troops: int | None = Field(default=None, ge=0)
    battle_tanks: int | None = Field(default=None, ge=0)
    armoured_combat_vehicles: int | None = Field(default=None, ge=0)
    artillery_pieces: int | None = Field(default=None, ge=0)
    aircraft_sorties: int | None = Field(default=None, ge=0)
    ships: int | None = Field(default=None, ge=0)


@router.get("", summary="Both parties' activities with their thresholds and flags")
async def list_activities(
    request: Request, origin: Origin | None = None, geojson: bool = False
) -> Any:
    state = node_state(request)
    activities = await _call(stored_activities, state.node, origin)
    if geojson:
        collection = activities_to_geojson(activities)
        for feature, activity in zip(collection["features"], activities, strict=True):
            feature["properties"]["assessment"] = _assessment(state, activity)
        return collection
    return [_json(state, activity) for activity in activities]


@router.post("", summary="Record our activities (one object or a list, as in an activity file)")
async def add(request: Request, body: Annotated[Any, Body()]) -> list[dict[str, Any]]:
    state = node_state(request)
    items = body if isinstance(body, list) else [body]
    party = state.node.config.party
    try:
        activities = [
            activity_from_mapping(item, f"body[{i}]", party=party) for i, item in enumerate(items)
        ]
    except ParleyError as exc:
        raise HTTPException(400, str(exc)) from None
    created = await _call(add_activities, state.node, activities)
    stored = [await _call(stored_activity, state.node, a.id, "own") for a in activities]
    return [
        {**_json(state, activity), "created": new}
        for activity, new in zip(stored, created, strict=True)
    ]


@router.get("/{activity_id}", summary="One activity with its thresholds and flags")
async def show(request: Request, activity_id: str, origin: Origin | None = None) -> dict[str, Any]:
    state = node_state(request)
    activity = await _call(stored_activity, state.node, activity_id, origin)
    return _json(state, activity)


@router.post("/{activity_id}/notify", summary="Notify our activity to the peer (template 4)")
async def notify(request: Request, activity_id: str) -> dict[str, Any]:
    state = node_state(request)
    if not state.resynced():
        raise HTTPException(503, "resyncing: the node has not yet fetched its own log back")
    activity = await _call(notify_activity, state.node, activity_id)
    state.wake()
    return _json(state, activity)


@router.post("/{activity_id}/observe", summary="Record observed figures beside the declared")
async def observe(
    request: Request, activity_id: str, observed: Observed, origin: Origin | None = None
) -> dict[str, Any]:
    state = node_state(request)
    forces = Forces(**observed.model_dump())
    activity = await _call(observe_activity, state.node, activity_id, forces, origin)
    return _json(state, activity)


async def _call(function: Any, *args: Any) -> Any:
    """Run ``function`` off the event loop; a user's error becomes 400 (404 for an unknown id)."""
    try:
        return await run_in_threadpool(function, *args)
    except ResyncingError as exc:
        raise HTTPException(503, str(exc)) from None
    except UnknownActivityError as exc:
        raise HTTPException(404, str(exc)) from None
    except ParleyError as exc:
        raise HTTPException(400, str(exc)) from None


def _json(state: NodeState, activity: Activity) -> dict[str, Any]:
    policy = node_activity_policy(state.node.directory)
    return assessed_json(activity, policy, state.node.clock())


def _assessment(state: NodeState, activity: Activity) -> dict[str, Any]:
    policy = node_activity_policy(state.node.directory)
    return assess(activity, policy, state.node.clock()).to_json()


__all__ = ["ACTIVITY_ROUTE_ACTIONS", "BASE", "Observed", "router"]
