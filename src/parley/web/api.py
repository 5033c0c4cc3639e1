"""The officers' API (``/api/v1/…``): send, inbox, acknowledge, both logs, verify, identity.

JSON in and out; FastAPI documents it at ``/docs`` and ``/openapi.json``. Sign in with
``POST /api/v1/session`` (name and password); the token comes back in the body and as an
HttpOnly cookie, and is sent back as that cookie or as ``Authorization: Bearer …``. Every other
route needs a live session (else 401) and a role that may do the route's action in
:data:`parley.hotline.users.PERMISSIONS` (else 403, audited); :data:`ROUTE_ACTIONS` names each
route's action, and a route missing from it is refused to everyone.

Every request is audited (user, action, method and path): by :func:`authorize` in a transaction of
its own, except for the actions in :data:`AUDITED_BY_ACTION` (send, ack), whose row the node writes
in the action's own transaction (so it is there exactly when the action committed), or the route
on its own when the action fails.
"""

import logging
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from parley.errors import ParleyError
from parley.hotline.node import AuditRow
from parley.hotline.resync import ResyncingError
from parley.hotline.templates import CATALOGUE, CATALOGUE_VERSION, catalogue_hash
from parley.hotline.users import Action, AuthError, User, may
from parley.web.state import incident_registry, node_state

_log = logging.getLogger(__name__)

PREFIX = "/api/v1"
SESSION_COOKIE = "parley_session"

#: The action each officers' route performs, by (method, path template).
ROUTE_ACTIONS: dict[tuple[str, str], Action] = {
    ("GET", f"{PREFIX}/identity"): Action.READ_IDENTITY,
    ("POST", f"{PREFIX}/messages"): Action.SEND,
    ("GET", f"{PREFIX}/inbox"): Action.READ_INBOX,
    ("POST", f"{PREFIX}/inbox/{{msg_id}}/ack"): Action.ACK,
    ("GET", f"{PREFIX}/log"): Action.READ_LOG,
    ("GET", f"{PREFIX}/verify"): Action.VERIFY,
    ("GET", f"{PREFIX}/status"): Action.READ_STATUS,
    ("GET", f"{PREFIX}/users"): Action.MANAGE_USERS,
    ("GET", f"{PREFIX}/audit"): Action.READ_AUDIT,
    ("GET", f"{PREFIX}/events"): Action.READ_EVENTS,
    ("DELETE", f"{PREFIX}/session"): Action.SIGN_OUT,
    ("GET", f"{PREFIX}/templates"): Action.READ_LOG,
}


#: Actions whose audit row is written with the action's own write (or alone when it fails).
AUDITED_BY_ACTION = frozenset({Action.SEND, Action.ACK})


def session_token(request: Request) -> str | None:
    """The session token of a request: the bearer header, else the cookie."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(SESSION_COOKIE)


def route_action(request: Request) -> Action | None:
    route = request.scope.get("route")
    return ROUTE_ACTIONS.get((request.method, str(getattr(route, "path", ""))))


async def authorize(request: Request) -> User:
    """The signed-in user, once the role may do this route's action (401 / 403 otherwise)."""
    users = node_state(request).users
    token = session_token(request)
    if token is None:
        raise HTTPException(401, "sign in first: POST /api/v1/session")
    try:
        user = await run_in_threadpool(users.authenticate, token)
    except AuthError as exc:
        raise HTTPException(401, str(exc)) from None
    action = route_action(request)
    where = f"{request.method} {request.url.path}"
    if action is None or not may(user.role, action):
        await run_in_threadpool(users.audit, user.name, "refused", f"{where} as {user.role}")
        raise HTTPException(403, f"a {user.role} may not {action or 'use this route'}")
    if action not in AUDITED_BY_ACTION:
        await run_in_threadpool(users.audit, user.name, str(action), where)
    return user


def _audit_row(request: Request, user: User, action: Action) -> AuditRow:
    return (user.name, str(action), f"{request.method} {request.url.path}")


async def _audit_alone(request: Request, row: AuditRow) -> None:
    """The audit row of an action that failed: nothing was written with it."""
    await run_in_threadpool(node_state(request).users.audit, *row)


CurrentUser = Annotated[User, Depends(authorize)]

router = APIRouter(prefix=PREFIX, tags=["officers"], dependencies=[Depends(authorize)])
session_router = APIRouter(prefix=PREFIX, tags=["sessions"])


class SignIn(BaseModel):
    name: str = Field(max_length=64, description="The user name.")
    password: str = Field(max_length=1024, description="The password.")


@session_router.post("/session", summary="Sign in: a session token (also an HttpOnly cookie)")
async def sign_in(request: Request, response: Response, credentials: SignIn) -> dict[str, Any]:
    users = node_state(request).users
    try:
        token, user = await run_in_threadpool(users.sign_in, credentials.name, credentials.password)
    except AuthError as exc:
        raise HTTPException(401, str(exc)) from None
    max_age = int(users.settings.lifetime_s)
    response.set_cookie(
        SESSION_COOKIE, token, max_age=max_age, httponly=True, samesite="strict", path=PREFIX
    )
    return {"token": token, "name": user.name, "role": str(user.role), "expires_in_s": max_age}


@session_router.delete("/session", summary="Sign out: the session ends")
async def sign_out(request: Request, response: Response, user: CurrentUser) -> dict[str, Any]:
    token = session_token(request)
    assert token is not None  # authorize found one
    await run_in_threadpool(node_state(request).users.sign_out, token, user.name)
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return {"signed_out": user.name}


class SendRequest(BaseModel):
    """A message to record in our log."""

    template: int | str = Field(description="Template number or key, such as 9 or free-text.")
    fields: dict[str, str] = Field(default_factory=dict, description="The template's fields.")
    reply_to: str | None = Field(default=None, description="The msg_id this message answers.")
    language: str | None = Field(default=None, description="Free text's language: en or ru.")


def _http_error(exc: Exception) -> Exception:
    """What a failed send or ack answers: 503 while resyncing, 400 for a refusal."""
    if isinstance(exc, ResyncingError):
        return HTTPException(503, str(exc))
    if isinstance(exc, ParleyError):
        return HTTPException(400, str(exc))
    return exc


def _refuse_while_resyncing(request: Request) -> None:
    if not node_state(request).resynced():
        raise HTTPException(
            503, "resyncing: the node has not yet fetched its own log back from the peer"
        )


@router.get("/identity", summary="Our public identity and log id")
def identity(request: Request) -> dict[str, Any]:
    return node_state(request).node.identity_json()


@router.post("/messages", summary="Record a message in our log (signed, durable)")
async def send(request: Request, message: SendRequest, user: CurrentUser) -> dict[str, Any]:
    state = node_state(request)
    audit = _audit_row(request, user, Action.SEND)
    try:
        _refuse_while_resyncing(request)
        msg_id = await run_in_threadpool(
            partial(state.node.send, audit=audit),
            message.template,
            message.fields,
            message.reply_to,
            message.language,
        )
    except Exception as exc:
        await _audit_alone(request, audit)
        raise _http_error(exc) from None
    state.wake()
    if message.reply_to is not None:
        # A reply may belong to an incident's thread: attach it now, credited to its officer
        # (a later sync would credit it to our party).
        registry = incident_registry(request)
        try:
            await run_in_threadpool(registry.sync, {msg_id: user.name})
        except ParleyError as exc:  # the message is recorded: the next sync attaches it
            _log.warning("reply %s not attached to its incident yet: %s", msg_id, exc)
    return {"msg_id": msg_id, "state": "recorded"}


@router.get("/inbox", summary="The peer's messages with their state")
async def inbox(request: Request) -> list[dict[str, Any]]:
    views = await run_in_threadpool(node_state(request).node.inbox)
    return [view.to_json() for view in views]


@router.post("/inbox/{msg_id}/ack", summary="Acknowledge a message of the peer")
async def ack(request: Request, msg_id: str, user: CurrentUser) -> dict[str, Any]:
    state = node_state(request)
    audit = _audit_row(request, user, Action.ACK)
    try:
        _refuse_while_resyncing(request)
        ack_id = await run_in_threadpool(partial(state.node.ack, audit=audit), msg_id)
    except Exception as exc:
        await _audit_alone(request, audit)
        raise _http_error(exc) from None
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


@router.get("/templates", summary="The message catalogue: each template's fields and texts")
def templates() -> dict[str, Any]:
    """What a form needs to write a message: each field's kind, bounds and choices (with their
    English and Russian labels), and the agreed texts in both languages."""
    return {
        "version": CATALOGUE_VERSION,
        "sha256": catalogue_hash(),
        "templates": [spec.to_json() for spec in CATALOGUE],
    }


@router.get("/users", summary="The node's users and their roles")
async def users(request: Request) -> list[dict[str, object]]:
    found = await run_in_threadpool(node_state(request).users.users)
    return [user.to_json() for user in found]


@router.get("/audit", summary="The audit log: every sign-in and action")
async def audit(request: Request) -> list[dict[str, str]]:
    return await run_in_threadpool(node_state(request).users.audit_log)


__all__ = [
    "AUDITED_BY_ACTION",
    "ROUTE_ACTIONS",
    "SESSION_COOKIE",
    "SendRequest",
    "SignIn",
    "authorize",
    "router",
    "session_router",
]
