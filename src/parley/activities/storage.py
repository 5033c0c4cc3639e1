"""Activities in the node's database (table ``activities`` of :mod:`parley.store.schema`).

Functions take a connection, so a caller composes them inside one :func:`parley.store.engine.write`
transaction. An activity is keyed by its origin (``own`` or ``peer``) and its id: both parties may
use the same id.
"""

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, and_, insert, select, update

from parley.activities.area import area_from_json_text
from parley.activities.model import (
    FORCE_NAMES,
    Activity,
    ActivityError,
    Forces,
    Kind,
    Notice,
    Origin,
    UnknownActivityError,
)
from parley.store.schema import activities as table


def save_activity(connection: Connection, activity: Activity, now: datetime) -> bool:
    """Insert the activity, or replace the stored one of the same origin and id (observed
    figures given by neither are kept). True when it was new."""
    values = _row(activity)
    stored = get_activity(connection, activity.id, activity.origin)
    if stored is None:
        connection.execute(insert(table).values(**values, created_at=now, updated_at=now))
        return True
    if activity.observed.is_empty():
        for name in FORCE_NAMES:
            values[f"observed_{name}"] = stored.observed.figure(name)
    connection.execute(
        update(table).where(_key(activity.id, activity.origin)).values(**values, updated_at=now)
    )
    return False


def set_observed(
    connection: Connection, activity_id: str, origin: Origin, observed: Forces, now: datetime
) -> Activity:
    """Record observed figures (each given figure replaces the one held); the activity."""
    stored = require_activity(connection, activity_id, origin)
    merged = stored.observed.merged(observed)
    connection.execute(
        update(table)
        .where(_key(activity_id, origin))
        .values(
            **{f"observed_{n}": merged.figure(n) for n in FORCE_NAMES},
            observed_at=now,
            updated_at=now,
        )
    )
    return require_activity(connection, activity_id, origin)


def set_notified(
    connection: Connection,
    activity_id: str,
    origin: Origin,
    notified_at: datetime,
    msg_id: str,
    now: datetime,
) -> None:
    """Record the hotline message that notified the activity, and when."""
    connection.execute(
        update(table)
        .where(_key(activity_id, origin))
        .values(notified_at=notified_at, msg_id=msg_id, updated_at=now)
    )


def get_activity(connection: Connection, activity_id: str, origin: Origin) -> Activity | None:
    row = connection.execute(select(table).where(_key(activity_id, origin))).mappings().first()
    return None if row is None else _activity(row)


def require_activity(connection: Connection, activity_id: str, origin: Origin) -> Activity:
    found = get_activity(connection, activity_id, origin)
    if found is None:
        raise UnknownActivityError(f"no {origin} activity {activity_id!r}")
    return found


def find_activity(connection: Connection, activity_id: str, origin: Origin | None) -> Activity:
    """The activity with this id: of ``origin`` when given, else the only one of either origin."""
    if origin is not None:
        return require_activity(connection, activity_id, origin)
    found = [a for o in ("own", "peer") if (a := get_activity(connection, activity_id, o))]
    if not found:
        raise UnknownActivityError(f"no activity {activity_id!r}")
    if len(found) > 1:
        raise ActivityError(f"both parties have an activity {activity_id!r}: say which origin")
    return found[0]


def list_activities(connection: Connection, origin: Origin | None = None) -> list[Activity]:
    """Stored activities, by start then origin and id."""
    query = select(table).order_by(table.c.start_at, table.c.origin, table.c.id)
    if origin is not None:
        query = query.where(table.c.origin == origin)
    return [_activity(row) for row in connection.execute(query).mappings()]


def activity_with_msg_id(connection: Connection, msg_id: str) -> Activity | None:
    row = connection.execute(select(table).where(table.c.msg_id == msg_id)).mappings().first()
    return None if row is None else _activity(row)


def _key(activity_id: str, origin: str) -> Any:
    return and_(table.c.origin == origin, table.c.id == activity_id)


def _row(activity: Activity) -> dict[str, Any]:
    return {
        "origin": activity.origin,
        "id": activity.id,
        "party": activity.party,
        "name": activity.name,
        "kind": activity.kind,
        "notice": activity.notice,
        "area": json.dumps(activity.area.to_geojson(), separators=(",", ":")),
        "start_at": activity.start,
        "end_at": activity.end,
        **{f"declared_{n}": activity.declared.figure(n) for n in FORCE_NAMES},
        **{f"observed_{n}": activity.observed.figure(n) for n in FORCE_NAMES},
        "notified_at": activity.notified_at,
        "msg_id": activity.msg_id,
    }


def _activity(row: RowMapping) -> Activity:
    origin: Origin = "own" if row["origin"] == "own" else "peer"
    kind: Kind = "flight" if row["kind"] == "flight" else "exercise"
    notice: Notice = "snap" if row["notice"] == "snap" else "planned"
    return Activity(
        id=row["id"],
        party=row["party"],
        origin=origin,
        kind=kind,
        notice=notice,
        area=area_from_json_text(row["area"], f"stored activity {row['id']}"),
        start=_utc(row["start_at"]),
        end=_utc(row["end_at"]),
        declared=Forces(**{n: row[f"declared_{n}"] for n in FORCE_NAMES}),
        observed=Forces(**{n: row[f"observed_{n}"] for n in FORCE_NAMES}),
        name=row["name"],
        notified_at=None if row["notified_at"] is None else _utc(row["notified_at"]),
        msg_id=row["msg_id"],
    )


def _utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; the node stores UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


__all__ = [
    "activity_with_msg_id",
    "find_activity",
    "get_activity",
    "list_activities",
    "require_activity",
    "save_activity",
    "set_notified",
    "set_observed",
]
