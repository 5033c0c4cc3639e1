"""The officers' API (``/api/v1/…``): send, inbox, acknowledge, both logs, verify, identity.

JSON in and out; FastAPI documents it at ``/docs`` and ``/openapi.json``. There are no users or
roles yet: bind the server to the loopback interface (the default) or a trusted network.
"""

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from parley.errors import ParleyError
from parley.hotline.resync import ResyncingError
from parley.web.state import node_state

router = APIRouter(prefix="/api/v1", tags=["officers"])


class SendRequest(BaseModel):
    """A message to record in our log."""

    template: int | str = Field(description="Template number or key, such as 9 or free-text.")
    fields: dict[str, str] = Field(default_factory=dict, description="The template's fields.")
    reply_to: str | None = Field(default=None, description="The msg_id this message answers.")
    language: str | None = Field(default=None, description="Free text's language: en or ru.")


def _refuse_while_resyncing(request: Request) -> None:
    if not node_state(request).resynced():
        raise HTTPException(
            503, "resyncing: the node has not yet fetched its own log back from the peer"
        )


@router.get("/identity", summary="Our public identity and log id")
def identity(request: Request) -> dict[str, Any]:
    return node_state(request).node.identity_json()


@router.post("/messages", summary="Record a message in our log (signed, durable)")
async def send(request: Request, message: SendRequest) -> dict[str, Any]:
    _refuse_while_resyncing(request)
    state = node_state(request)
    try:
        msg_id = await run_in_threadpool(
            state.node.send, message.template, message.fields, message.reply_to, message.language
        )
    except ResyncingError as exc:
        raise HTTPException(503, str(exc)) from None
    except ParleyError as exc:
        raise HTTPException(400, str(exc)) from None
    state.wake()
    return {"msg_id": msg_id, "state": "recorded"}


@router.get("/inbox", summary="The peer's messages with their state")
async def inbox(request: Request) -> list[dict[str, Any]]:
    views = await run_in_threadpool(node_state(request).node.inbox)
    return [view.to_json() for view in views]


@router.post("/inbox/{msg_id}/ack", summary="Acknowledge a message of the peer")
async def ack(request: Request, msg_id: str) -> dict[str, Any]:
    _refuse_while_resyncing(request)
    state = node_state(request)
    try:
        ack_id = await run_in_threadpool(state.node.ack, msg_id)
    except ResyncingError as exc:
        raise HTTPException(503, str(exc)) from None
    except ParleyError as exc:
        raise HTTPException(400, str(exc)) from None
    state.wake()
    return {"msg_id": ack_id, "acknowledges": msg_id}


@router.get("/log", summary="Both logs, each message with its states")
async def log(request: Request) -> dict[str, Any]:
    views = await run_in_threadpool(node_state(request).node.log)
    return views.to_json()


@router.get("/verify", summary="Both logs checked again from the raw bytes")
async def verify(request: Request) -> dict[str, Any]:
    report = await run_in_threadpool(node_state(request).node.verify)
    return report.to_json()


@router.get("/status", summary="Replication: resynced, outbox, last error")
async def status(request: Request) -> dict[str, Any]:
    state = node_state(request)
    if state.replicator is None:
        return {"replication": None, "outbox": len(state.node.outbox())}
    return {"replication": await run_in_threadpool(state.replicator.status)}


__all__ = ["SendRequest", "router"]
