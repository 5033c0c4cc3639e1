"""The peer protocol routes (``/peer/v1/…``): every request signed by the peer's party key.

- ``POST /peer/v1/entries`` (push): the body is a bundle document of the peer's log; answered,
  after it is verified and committed, with our cosignature over the peer's checkpoint (the
  delivery receipt).
- ``GET /peer/v1/log?after=N`` (pull): our entries after N as a bundle document, with our latest
  checkpoint, the consistency proof and our receipt for the peer's log.
- ``GET /peer/v1/copy?after=N``: our copy of the *peer's* log after N (what a node restored from a
  backup takes back before it writes).
- ``GET /peer/v1/checkpoint``: our latest signed checkpoint.
- ``POST /peer/v1/joint``: the peer's signed half of a joint checkpoint of both logs
  (``{"proposal": note}``); answered, once we checked both heads against what we signed and
  stored, with the note signed by both (``{"joint": note}``), which we keep too.

Refused with a reason and nothing stored: an unsigned, forged, stale or replayed request (401), a
body over :data:`MAX_BODY_BYTES` (413), a malformed or unverifiable bundle (400), equivocation
(409, evidence kept), and pushes while we resync (503).
"""

import json
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from parley.hotline.bundle import BundleError, EquivocationError
from parley.hotline.joint import JointError, countersign
from parley.hotline.peer_auth import PeerAuthError
from parley.hotline.peer_sync import answer_push, copy_of_peer_log, own_checkpoint, pull_body
from parley.hotline.replication import PEER_PREFIX
from parley.web.state import NodeState, node_state

#: The largest request body a peer may send.
MAX_BODY_BYTES = 1024 * 1024

router = APIRouter(prefix=PEER_PREFIX, tags=["peer protocol"])

AFTER_QUERY = Query(ge=-1, description="Send the entries after this seq (-1: all).")


async def _authenticated_body(request: Request, state: NodeState) -> bytes:
    """The request body, once its size, signature, date and nonce are accepted."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise HTTPException(413, f"request body over {MAX_BODY_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise HTTPException(413, f"request body over {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    try:
        state.verifier.verify(request.method, target, request.headers, body, state.node.clock())
    except PeerAuthError as exc:
        raise HTTPException(401, str(exc)) from None
    return body


@router.post("/entries", summary="Push: our entries for the peer to verify, store and cosign")
async def push(request: Request) -> dict[str, object]:
    state = node_state(request)
    body = await _authenticated_body(request, state)
    if not state.resynced():
        raise HTTPException(503, "resyncing with the peer: try again shortly")
    source = f"push from {state.node.peer.identity.party}"
    try:
        answer = await run_in_threadpool(answer_push, state.node, body, source)
    except EquivocationError as exc:
        raise HTTPException(409, str(exc)) from None
    except BundleError as exc:
        raise HTTPException(400, str(exc)) from None
    state.peer_pushed()
    state.wake()
    return answer.to_json()


@router.get("/log", summary="Pull: our entries after N as a signed bundle document")
async def pull(request: Request, after: Annotated[int, AFTER_QUERY] = -1) -> Response:
    state = node_state(request)
    await _authenticated_body(request, state)
    try:
        data = await run_in_threadpool(pull_body, state.node, after)
    except BundleError as exc:
        raise HTTPException(400, str(exc)) from None
    return Response(data, media_type="application/json")


@router.get("/copy", summary="Our copy of the caller's log after N (resync after a restore)")
async def copy(request: Request, after: Annotated[int, AFTER_QUERY] = -1) -> dict[str, object]:
    state = node_state(request)
    await _authenticated_body(request, state)
    return await run_in_threadpool(copy_of_peer_log, state.node, after)


@router.get("/checkpoint", summary="Our latest signed checkpoint")
async def checkpoint(request: Request) -> dict[str, object]:
    state = node_state(request)
    await _authenticated_body(request, state)
    return await run_in_threadpool(own_checkpoint, state.node)


@router.post("/joint", summary="Joint checkpoint: countersign the peer's proposal of both heads")
async def joint(request: Request) -> dict[str, object]:
    state = node_state(request)
    body = await _authenticated_body(request, state)
    try:
        proposal = json.loads(body)["proposal"]
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError):
        raise HTTPException(400, 'a joint checkpoint proposal is {"proposal": "<note>"}') from None
    if not isinstance(proposal, str):
        raise HTTPException(400, "the joint checkpoint proposal is not a note text")
    try:
        note = await run_in_threadpool(countersign, state.node, proposal)
    except JointError as exc:
        raise HTTPException(400, str(exc)) from None
    return {"joint": note}


__all__ = ["MAX_BODY_BYTES", "router"]
