"""The officers' API for incidents (``/api/v1/incidents``): list, show, open, ingest, notify,
accounts, clarification requests, close and reopen.

Reading needs the ``read-incidents`` action, every change ``manage-incidents`` (see
:data:`parley.hotline.users.PERMISSIONS`). The routes' actions are added to
:data:`parley.web.api.ROUTE_ACTIONS` when this module is imported, so the officers' API keeps one
table of who may do what. Every route first attaches the hotline messages that arrived since
(:meth:`IncidentRegistry.sync`); changes are published on the app's event bus as
``incident.opened`` and ``incident.changed``.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from parley.errors import ParleyError
from parley.hotline.resync import ResyncingError
from parley.hotline.users import Action, User
from parley.incidents.checks import UnknownIncidentError
from parley.incidents.registry import IncidentRegistry, detect_records
from parley.web.api import PREFIX, ROUTE_ACTIONS, authorize
from parley.web.state import incident_registry, node_state

BASE = f"{PREFIX}/incidents"
ONE = f"{BASE}/{{incident_id}}"
INCIDENT_ROUTE_ACTIONS = {
    ("GET", BASE): Action.READ_INCIDENTS,
    ("POST", BASE): Action.MANAGE_INCIDENTS,
    ("POST", f"{BASE}/ingest"): Action.MANAGE_INCIDENTS,
    ("GET", ONE): Action.READ_INCIDENTS,
    ("POST", f"{ONE}/notify"): Action.MANAGE_INCIDENTS,
    ("POST", f"{ONE}/account"): Action.MANAGE_INCIDENTS,
    ("POST", f"{ONE}/clarification"): Action.MANAGE_INCIDENTS,
    ("POST", f"{ONE}/close"): Action.MANAGE_INCIDENTS,
    ("POST", f"{ONE}/reopen"): Action.MANAGE_INCIDENTS,
}
ROUTE_ACTIONS.update(INCIDENT_ROUTE_ACTIONS)

router = APIRouter(prefix=BASE, tags=["incidents"])
Officer = Annotated[User, Depends(authorize)]
Result = TypeVar("Result")


class OpenRequest(BaseModel):
    """An incident opened by hand: from encounters of a detect document, or from a report."""

    detect: dict[str, Any] | None = Field(
        default=None, description="parley detect --json output (with --evidence for positions)."
    )
    encounters: list[str] = Field(
        default_factory=list, description="Encounter ids of `detect` to open it from."
    )
    our_track: str | None = Field(default=None, max_length=64)
    their_track: str | None = Field(default=None, max_length=64)
    time: datetime | None = Field(default=None, description="UTC time of the closest approach.")
    severity: str | None = Field(default=None, description="routine, serious or high-risk.")
    summary: str = Field(default="", max_length=4000)
    lat: float | None = None
    lon: float | None = None
    closest_m: float | None = Field(default=None, ge=0)
    kind: str = Field(default="", max_length=16)


class NotifyRequest(BaseModel):
    severity: str | None = Field(default=None, description="Our class; default: our account's.")
    summary: str | None = Field(default=None, max_length=4000)


class AccountRequest(BaseModel):
    """Our account: our class and our words; ``send`` makes it travel to the other party."""

    classification: str = Field(description="routine, serious or high-risk.")
    text: str = Field(max_length=4000)
    nature: str | None = Field(default=None, description="unintentional, routine-activity, …")
    send: bool = Field(default=False, description="Send it through the hotline.")
    reply_to: str | None = Field(default=None, description="The msg_id a clarification answers.")


class ClarificationRequest(BaseModel):
    question: str = Field(max_length=4000)
    reply_to: str | None = None


class Reason(BaseModel):
    reason: str = Field(default="", max_length=4000)


async def _run(request: Request, work: Callable[[IncidentRegistry], Result]) -> Result:
    """Sync the registry with the logs, then do ``work``; errors become 400/404/503."""
    registry = incident_registry(request)

    def synced() -> Result:
        registry.sync()
        return work(registry)

    try:
        result = await run_in_threadpool(synced)
    except UnknownIncidentError as exc:
        raise HTTPException(404, str(exc)) from None
    except ResyncingError as exc:
        raise HTTPException(503, str(exc)) from None
    except ParleyError as exc:
        raise HTTPException(400, str(exc)) from None
    node_state(request).wake()
    return result


@router.get("", summary="The incidents, filtered by state and class")
async def list_incidents(
    request: Request, _: Officer, state: str | None = None, severity: str | None = None
) -> list[dict[str, Any]]:
    found = await _run(request, lambda r: r.list(state=state, severity=severity))
    return [incident.to_json() for incident in found]


@router.post("", summary="Open an incident by hand")
async def open_incident(request: Request, user: Officer, body: OpenRequest) -> dict[str, Any]:
    def work(registry: IncidentRegistry) -> dict[str, Any]:
        if body.detect is not None:
            records = detect_records(body.detect, "detect")
            if body.encounters:
                records = [r for r in records if r["id"] in set(body.encounters)]
            return registry.open_from_encounters(records, user.name, body.summary).to_json()
        if not (body.our_track and body.their_track and body.time and body.severity):
            raise HTTPException(
                422, "give detect (and encounters), or our_track, their_track, time, severity"
            )
        return registry.open_by_hand(
            our_track=body.our_track,
            their_track=body.their_track,
            time=body.time,
            severity=body.severity,
            summary=body.summary,
            actor=user.name,
            lat=body.lat,
            lon=body.lon,
            closest_m=body.closest_m,
            kind=body.kind,
        ).to_json()

    return await _run(request, work)


@router.post("/ingest", summary="Open incidents from parley detect --json output (policy classes)")
async def ingest(
    request: Request, user: Officer, document: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    def work(registry: IncidentRegistry) -> dict[str, Any]:
        return registry.ingest(detect_records(document, "detect"), user.name).to_json()

    return await _run(request, work)


@router.get("/{incident_id}", summary="One incident: both accounts, history, messages, evidence")
async def show(request: Request, _: Officer, incident_id: str) -> dict[str, Any]:
    return await _run(request, lambda r: r.detail(incident_id).to_json())


@router.post("/{incident_id}/notify", summary="Send the incident notification to the other party")
async def notify(
    request: Request, user: Officer, incident_id: str, body: NotifyRequest | None = None
) -> dict[str, Any]:
    given = body or NotifyRequest()

    def work(registry: IncidentRegistry) -> dict[str, Any]:
        msg_id = registry.notify(incident_id, user.name, given.severity, given.summary)
        return {"msg_id": msg_id, "incident": registry.get(incident_id).to_json()}

    return await _run(request, work)


@router.post("/{incident_id}/account", summary="Record our account (and send it)")
async def account(
    request: Request, user: Officer, incident_id: str, body: AccountRequest
) -> dict[str, Any]:
    def work(registry: IncidentRegistry) -> dict[str, Any]:
        sent: list[str] = []
        if body.send:
            sent = registry.send_account(
                incident_id, user.name, body.classification, body.text, body.nature, body.reply_to
            )
        else:
            registry.record_account(
                incident_id, user.name, body.classification, body.text, body.nature
            )
        return {"sent": sent, "accounts": registry.side_by_side(incident_id).to_json()}

    return await _run(request, work)


@router.post("/{incident_id}/clarification", summary="Ask the other party a question")
async def clarification(
    request: Request, user: Officer, incident_id: str, body: ClarificationRequest
) -> dict[str, Any]:
    def work(registry: IncidentRegistry) -> dict[str, Any]:
        msg_id = registry.request_clarification(
            incident_id, user.name, body.question, body.reply_to
        )
        return {"msg_id": msg_id}

    return await _run(request, work)


@router.post("/{incident_id}/close", summary="Close the incident")
async def close(
    request: Request, user: Officer, incident_id: str, body: Reason | None = None
) -> dict[str, Any]:
    reason = (body or Reason()).reason
    return await _run(request, lambda r: r.close_incident(incident_id, user.name, reason).to_json())


@router.post("/{incident_id}/reopen", summary="Reopen a closed incident")
async def reopen(
    request: Request, user: Officer, incident_id: str, body: Reason | None = None
) -> dict[str, Any]:
    reason = (body or Reason()).reason
    return await _run(
        request, lambda r: r.reopen_incident(incident_id, user.name, reason).to_json()
    )


__all__ = [
    "INCIDENT_ROUTE_ACTIONS",
    "AccountRequest",
    "ClarificationRequest",
    "NotifyRequest",
    "OpenRequest",
    "Reason",
    "router",
]
