"""``/api/v1/picture``: the node's live picture, and positions pushed into it without a socket.

- ``GET /api/v1/picture`` (``read-picture``): every track's latest position (side, domain, type,
  course, speed), the warnings in force, the encounters open, and the feeds' counters: what a
  dashboard paints first, before following ``GET /api/v1/events``; ``?form=columns`` gives the
  tracks in the columnar form of ``picture.updated`` (:mod:`parley.web.picture_wire`).
- ``POST /api/v1/picture/positions`` (``feed-positions``): canonical rows as CSV (the header line
  first, as ``parley tracks convert`` writes) or JSON (a list of row objects, or
  ``{"positions": [...]}``), taken as one batch of the live detector. A request with any row that
  cannot be read (an unparsable number or time, a missing field, a position off the globe) is
  refused whole with 422 and one line per bad row: nothing of it is taken, so it can be fixed and
  sent again. ``?end_of_data=true`` closes every open encounter after the batch (the end of a
  replay).

The routes' actions are added to :data:`parley.web.api.ROUTE_ACTIONS` on import.
"""

import csv
import io
import json
from collections import Counter
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from starlette.concurrency import run_in_threadpool

from parley.errors import InputError
from parley.hotline.users import Action, User
from parley.tracks.readers.base import Rejection
from parley.tracks.readers.canonical import decode_canonical_csv
from parley.tracks.schema import CANONICAL_COLUMNS
from parley.web.api import PREFIX, ROUTE_ACTIONS, authorize
from parley.web.live import LiveService

BASE: Final = f"{PREFIX}/picture"
POSITIONS: Final = f"{BASE}/positions"
LIVE_ROUTE_ACTIONS: Final = {
    ("GET", BASE): Action.READ_PICTURE,
    ("POST", POSITIONS): Action.FEED_POSITIONS,
}
ROUTE_ACTIONS.update(LIVE_ROUTE_ACTIONS)
#: The largest request body taken (larger: 413; send it in several batches).
MAX_BODY_BYTES: Final = 16 * 1024 * 1024
#: How many bad rows a refusal lists.
MAX_REASONS: Final = 50
_LABEL: Final = "api"

router = APIRouter(prefix=BASE, tags=["picture"])
Officer = Annotated[User, Depends(authorize)]


def live_service(request: Request) -> LiveService:
    service = request.app.state.live
    assert isinstance(service, LiveService)
    return service


@router.get("", summary="The live picture: tracks, warnings in force, open encounters, feeds")
async def picture(
    request: Request,
    _: Officer,
    form: Annotated[
        Literal["rows", "columns"],
        Query(description="rows: a list of track objects; columns: the picture.updated form"),
    ] = "rows",
) -> dict[str, Any]:
    service = live_service(request)
    read = service.picture.to_json if form == "rows" else service.picture.to_columns
    body = await run_in_threadpool(read)
    body["feeds"] = service.to_json()
    return body


@router.post("/positions", summary="Push positions (canonical CSV or JSON rows) into the picture")
async def positions(
    request: Request,
    _: Officer,
    end_of_data: Annotated[
        bool, Query(description="After this batch, close every open encounter.")
    ] = False,
) -> dict[str, Any]:
    data = await request.body()
    if len(data) > MAX_BODY_BYTES:
        raise HTTPException(413, f"more than {MAX_BODY_BYTES} bytes: send several batches")
    if not data.strip():
        raise HTTPException(422, "no positions: send canonical CSV (header first) or JSON rows")
    as_json = "json" in request.headers.get("content-type", "") or data.lstrip()[:1] in (b"[", b"{")
    text, unit = (rows_to_csv(data), "row") if as_json else (data, "line")
    try:
        raw = decode_canonical_csv(text, Path(_LABEL))
    except InputError as exc:
        raise HTTPException(422, str(exc).replace(f"{_LABEL}: ", "", 1)) from None
    service = live_service(request)
    clean, dropped = await run_in_threadpool(service.picture.prepare, raw.frame, _LABEL)
    refused = [*raw.rejections, *(r for r in dropped if r.rule == "malformed")]
    if refused:
        raise HTTPException(422, _refusal(refused, raw.frame.height + len(raw.rejections), unit))
    events = await run_in_threadpool(service.picture.feed, clean)
    if end_of_data:
        events += await run_in_threadpool(service.picture.finish)
    return {
        "accepted": clean.height,
        "dropped": [_where(r, unit) for r in dropped],
        "events": dict(Counter(event.type for event in events)),
    }


def rows_to_csv(data: bytes) -> bytes:
    """JSON rows (a list of objects, or ``{"positions": [...]}``) as canonical CSV text."""
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HTTPException(400, f"not JSON: {exc}") from None
    rows = document.get("positions") if isinstance(document, dict) else document
    if not isinstance(rows, list):
        raise HTTPException(422, 'expected a list of rows or {"positions": [...]}')
    names: set[str] = set()
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise HTTPException(422, f"row {number}: an object of canonical fields expected")
        unknown = sorted(set(row) - set(CANONICAL_COLUMNS))
        if unknown:
            raise HTTPException(422, f"row {number}: unknown field {unknown[0]!r}")
        names |= set(row)
    header = [name for name in CANONICAL_COLUMNS if name in names]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for number, row in enumerate(rows, start=1):
        writer.writerow([_cell(row.get(name), number, name) for name in header])
    return out.getvalue().encode("utf-8")


def _cell(value: object, number: int, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise HTTPException(422, f"row {number}: {name}: a number or text expected, got {value!r}")
    return str(value)


def _where(rejection: Rejection, unit: str) -> str:
    """One line naming the row: CSV lines count the header, JSON rows start at 1."""
    line = rejection.line
    if line is None:
        return rejection.reason
    return f"{unit} {line - 1 if unit == 'row' else line}: {rejection.reason}"


def _refusal(refused: list[Rejection], total: int, unit: str) -> list[str]:
    ordered = sorted(refused, key=lambda r: r.line or 0)
    lines = [f"{len(refused)} of {total} {unit}s refused; nothing was taken"]
    lines += [_where(r, unit) for r in ordered[:MAX_REASONS]]
    if len(ordered) > MAX_REASONS:
        lines.append(f"… and {len(ordered) - MAX_REASONS} more")
    return lines


__all__ = ["BASE", "LIVE_ROUTE_ACTIONS", "MAX_BODY_BYTES", "POSITIONS", "router", "rows_to_csv"]
