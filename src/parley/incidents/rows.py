"""Reading and writing the registry's rows; every function works inside the caller's transaction.

SQLite hands back naive datetimes from ``DateTime(timezone=True)`` columns: every time read here is
made UTC-aware again, so callers always see tz-aware UTC.
"""

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, and_, insert, or_, select, update

from parley.incidents.model import (
    Account,
    AccountSide,
    HistoryEvent,
    Incident,
    IncidentState,
    Origin,
    Position,
)
from parley.store import schema

_I = schema.incidents


def utc(moment: datetime) -> datetime:
    """A database time as tz-aware UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace: one text per value, so hashes of it are stable."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def insert_incident(connection: Connection, incident: Incident) -> None:
    values = {
        column: getattr(incident, column)
        for column in _I.columns.keys()  # noqa: SIM118 (a ColumnCollection, not a dict)
    }
    connection.execute(insert(_I).values(**values))


def update_incident(connection: Connection, incident_id: str, **values: Any) -> None:
    connection.execute(update(_I).where(_I.c.id == incident_id).values(**values))


def _incident(row: Mapping[str, Any], encounter_ids: tuple[str, ...]) -> Incident:
    return Incident(
        id=row["id"],
        state=cast(IncidentState, row["state"]),
        origin=cast(Origin, row["origin"]),
        severity=row["severity"],
        kind=row["kind"],
        track_a=row["track_a"],
        track_b=row["track_b"],
        our_track=row["our_track"],
        their_track=row["their_track"],
        start=utc(row["start"]),
        end=utc(row["end"]),
        cpa_time=utc(row["cpa_time"]),
        lat=row["lat"],
        lon=row["lon"],
        min_slant_m=row["min_slant_m"],
        opened_at=utc(row["opened_at"]),
        opened_by=row["opened_by"],
        updated_at=utc(row["updated_at"]),
        notified_by=row["notified_by"],
        notification_msg_id=row["notification_msg_id"],
        peer_incident_id=row["peer_incident_id"],
        summary=row["summary"],
        encounter_ids=encounter_ids,
    )


def _encounter_ids(connection: Connection, incident_ids: Sequence[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {incident_id: [] for incident_id in incident_ids}
    if not incident_ids:
        return found
    table = schema.incident_encounters
    rows = connection.execute(
        select(table.c.incident_id, table.c.encounter_id)
        .where(table.c.incident_id.in_(incident_ids))
        .order_by(table.c.encounter_id)
    )
    for incident_id, encounter_id in rows:
        found[incident_id].append(encounter_id)
    return found


def incidents(connection: Connection, *conditions: Any) -> list[Incident]:
    """The incidents matching ``conditions`` (columns of ``schema.incidents``), oldest first."""
    query = select(_I).order_by(_I.c.start, _I.c.id)
    if conditions:
        query = query.where(and_(*conditions))
    rows = [dict(row) for row in connection.execute(query).mappings()]
    encounters = _encounter_ids(connection, [row["id"] for row in rows])
    return [_incident(row, tuple(encounters[row["id"]])) for row in rows]


def incident(connection: Connection, incident_id: str) -> Incident | None:
    """The incident known here by ``incident_id``, or by the peer's id for it."""
    found = incidents(connection, or_(_I.c.id == incident_id, _I.c.peer_incident_id == incident_id))
    exact = [item for item in found if item.id == incident_id]
    chosen = exact or found
    return chosen[0] if chosen else None


def pair_incidents(connection: Connection, track_a: str, track_b: str) -> list[Incident]:
    return incidents(connection, _I.c.track_a == track_a, _I.c.track_b == track_b)


def add_history(connection: Connection, event: HistoryEvent) -> None:
    connection.execute(
        insert(schema.incident_history).values(
            incident_id=event.incident_id,
            time=event.time,
            actor=event.actor,
            action=event.action,
            from_state=event.from_state,
            to_state=event.to_state,
            detail=event.detail,
            msg_id=event.msg_id,
        )
    )


def history(connection: Connection, incident_id: str) -> list[HistoryEvent]:
    table = schema.incident_history
    rows = connection.execute(
        select(table).where(table.c.incident_id == incident_id).order_by(table.c.id)
    ).mappings()
    return [
        HistoryEvent(
            incident_id=row["incident_id"],
            time=utc(row["time"]),
            actor=row["actor"],
            action=row["action"],
            from_state=row["from_state"],
            to_state=row["to_state"],
            detail=row["detail"],
            msg_id=row["msg_id"],
        )
        for row in rows
    ]


def add_account(connection: Connection, account: Account) -> None:
    connection.execute(
        insert(schema.incident_accounts).values(
            incident_id=account.incident_id,
            side=account.side,
            party=account.party,
            classification=account.classification,
            nature=account.nature,
            text=account.text,
            recorded_at=account.recorded_at,
            recorded_by=account.recorded_by,
            msg_id=account.msg_id,
        )
    )


def accounts(connection: Connection, incident_id: str) -> list[Account]:
    """Every account of the incident, in the order recorded."""
    table = schema.incident_accounts
    rows = connection.execute(
        select(table).where(table.c.incident_id == incident_id).order_by(table.c.id)
    ).mappings()
    return [
        Account(
            incident_id=row["incident_id"],
            side=cast(AccountSide, row["side"]),
            party=row["party"],
            classification=row["classification"],
            nature=row["nature"],
            text=row["text"],
            recorded_at=utc(row["recorded_at"]),
            recorded_by=row["recorded_by"],
            msg_id=row["msg_id"],
        )
        for row in rows
    ]


def encounter_incident(connection: Connection, encounter_id: str) -> str | None:
    table = schema.incident_encounters
    return connection.execute(
        select(table.c.incident_id).where(table.c.encounter_id == encounter_id)
    ).scalar_one_or_none()


def add_encounter(
    connection: Connection, incident_id: str, record: Mapping[str, Any], now: datetime
) -> None:
    kept = {key: value for key, value in record.items() if key != "evidence"}
    connection.execute(
        insert(schema.incident_encounters).values(
            encounter_id=str(record["id"]),
            incident_id=incident_id,
            severity=str(record["severity"]),
            record=canonical_json(kept),
            added_at=now,
        )
    )


def encounter_records(connection: Connection, incident_id: str) -> list[dict[str, Any]]:
    """The incident's encounters as JSON contract v1 records, by closest approach."""
    table = schema.incident_encounters
    rows = connection.execute(
        select(table.c.record).where(table.c.incident_id == incident_id)
    ).scalars()
    records = [cast(dict[str, Any], json.loads(text)) for text in rows]
    return sorted(records, key=lambda record: (str(record.get("cpa_time")), str(record["id"])))


def add_positions(connection: Connection, incident_id: str, positions: Iterable[Position]) -> int:
    """Store positions not yet held (by track and time); how many were new."""
    table = schema.incident_positions
    held = {
        (track, utc(time))
        for track, time in connection.execute(
            select(table.c.track, table.c.time).where(table.c.incident_id == incident_id)
        )
    }
    new: dict[tuple[str, datetime], Position] = {}
    for position in positions:
        key = (position.track, position.time)
        if key not in held:
            new[key] = position
    if new:
        connection.execute(
            insert(table),
            [
                {
                    "incident_id": incident_id,
                    "track": p.track,
                    "time": p.time,
                    "lat": p.lat,
                    "lon": p.lon,
                    "alt_m": p.alt_m,
                    "speed_mps": p.speed_mps,
                    "course_deg": p.course_deg,
                }
                for p in new.values()
            ],
        )
    return len(new)


def positions(connection: Connection, incident_id: str) -> dict[str, list[Position]]:
    table = schema.incident_positions
    rows = connection.execute(
        select(table)
        .where(table.c.incident_id == incident_id)
        .order_by(table.c.track, table.c.time)
    ).mappings()
    found: dict[str, list[Position]] = {}
    for row in rows:
        position = Position(
            track=row["track"],
            time=utc(row["time"]),
            lat=row["lat"],
            lon=row["lon"],
            alt_m=row["alt_m"],
            speed_mps=row["speed_mps"],
            course_deg=row["course_deg"],
        )
        found.setdefault(position.track, []).append(position)
    return found


def link_message(
    connection: Connection, msg_id: str, incident_id: str, direction: str, role: str, now: datetime
) -> None:
    connection.execute(
        insert(schema.incident_messages).values(
            msg_id=msg_id, incident_id=incident_id, direction=direction, role=role, linked_at=now
        )
    )


def linked_messages(connection: Connection) -> dict[str, tuple[str, str]]:
    """Every linked msg_id: its incident and role."""
    table = schema.incident_messages
    return {
        msg_id: (incident_id, role)
        for msg_id, incident_id, role in connection.execute(
            select(table.c.msg_id, table.c.incident_id, table.c.role)
        )
    }


def incident_message_ids(connection: Connection, incident_id: str) -> dict[str, str]:
    """The msg_ids linked to an incident, with their roles."""
    table = schema.incident_messages
    return {
        msg_id: role
        for msg_id, role in connection.execute(
            select(table.c.msg_id, table.c.role).where(table.c.incident_id == incident_id)
        )
    }


def with_state(incident: Incident, state: IncidentState, now: datetime) -> Incident:
    return replace(incident, state=state, updated_at=now)


__all__ = [
    "accounts",
    "add_account",
    "add_encounter",
    "add_history",
    "add_positions",
    "canonical_json",
    "encounter_incident",
    "encounter_records",
    "history",
    "incident",
    "incident_message_ids",
    "incidents",
    "insert_incident",
    "link_message",
    "linked_messages",
    "pair_incidents",
    "positions",
    "update_incident",
    "utc",
    "with_state",
]
