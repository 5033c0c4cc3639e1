"""The activities' storage contract, run on SQLite and PostgreSQL through the same code."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import Engine, inspect

from parley.activities.area import area_from_geojson
from parley.activities.model import Activity, ActivityError, Forces, UnknownActivityError
from parley.activities.storage import (
    activity_with_msg_id,
    find_activity,
    get_activity,
    list_activities,
    save_activity,
    set_notified,
    set_observed,
)
from parley.store.engine import read, write
from parley.store.migrate import alembic_config, current_revision, upgrade_to_head

NOW = datetime(2026, 5, 1, 12, 30, tzinfo=UTC)
START = datetime(2026, 9, 14, 6, 0, tzinfo=UTC)
MSG_ID = "01HXAMPLE0000000000000000A"
#: Concave, across the antimeridian: what the GeoJSON column must give back exactly.
AREA = area_from_geojson(
    {
        "type": "Polygon",
        "coordinates": [[[175, 60], [-170, 60], [-170, 65], [-175, 62.5], [175, 65], [175, 60]]],
    }
)


def _activity(activity_id: str = "zapad-26", origin: str = "peer", **changes: object) -> Activity:
    activity = Activity(
        id=activity_id,
        party="russia" if origin == "peer" else "nato",
        origin="peer" if origin == "peer" else "own",
        kind="exercise",
        notice="planned",
        area=AREA,
        start=START,
        end=START + timedelta(days=7),
        declared=Forces(troops=12_700, battle_tanks=240, ships=0),
        name="Zapad 2026",
        notified_at=START - timedelta(days=29, microseconds=1_000),
        msg_id=MSG_ID,
    )
    return replace(activity, **changes)  # type: ignore[arg-type]


def test_an_activity_comes_back_as_saved(engine: Engine) -> None:
    upgrade_to_head(engine)
    saved = _activity()
    with write(engine) as connection:
        assert save_activity(connection, saved, NOW) is True
    with read(engine) as connection:
        loaded = get_activity(connection, "zapad-26", "peer")
        assert get_activity(connection, "zapad-26", "own") is None
        assert activity_with_msg_id(connection, MSG_ID) == saved
    assert loaded == saved
    assert loaded is not None
    assert loaded.start.tzinfo is not None
    assert loaded.declared.artillery_pieces is None  # not given stays unknown, not 0
    assert loaded.declared.ships == 0
    assert loaded.area.contains([62.0, 64.0], [-179.0, -174.0]).tolist() == [True, False]


def test_observed_figures_stay_beside_the_declared(engine: Engine) -> None:
    upgrade_to_head(engine)
    with write(engine) as connection:
        save_activity(connection, _activity(), NOW)
        set_observed(connection, "zapad-26", "peer", Forces(troops=14_000), NOW)
        observed = set_observed(connection, "zapad-26", "peer", Forces(battle_tanks=310), NOW)
    assert observed.declared == Forces(troops=12_700, battle_tanks=240, ships=0)
    assert observed.observed == Forces(troops=14_000, battle_tanks=310)
    amended = _activity(declared=Forces(troops=8_000))
    with write(engine) as connection:
        assert save_activity(connection, amended, NOW + timedelta(days=1)) is False
        kept = get_activity(connection, "zapad-26", "peer")
    assert kept is not None
    assert kept.declared == Forces(troops=8_000)
    assert kept.observed == Forces(troops=14_000, battle_tanks=310)  # an amendment keeps ours


def test_both_parties_may_use_one_id(engine: Engine) -> None:
    upgrade_to_head(engine)
    ours = _activity(origin="own", notified_at=None, msg_id=None, start=START - timedelta(days=1))
    with write(engine) as connection:
        save_activity(connection, _activity(), NOW)
        save_activity(connection, ours, NOW)
        save_activity(connection, _activity("later", start=START + timedelta(days=1)), NOW)
    with read(engine) as connection:
        assert [(a.origin, a.id) for a in list_activities(connection)] == [
            ("own", "zapad-26"),
            ("peer", "zapad-26"),
            ("peer", "later"),
        ]
        assert [a.id for a in list_activities(connection, "own")] == ["zapad-26"]
        assert find_activity(connection, "later", None).origin == "peer"
        with pytest.raises(ActivityError, match="both parties have an activity 'zapad-26'"):
            find_activity(connection, "zapad-26", None)
        with pytest.raises(UnknownActivityError, match="no own activity 'later'"):
            find_activity(connection, "later", "own")
    with write(engine) as connection:
        set_notified(connection, "zapad-26", "own", NOW, "01HXAMPLE0000000000000000B", NOW)
    with read(engine) as connection:
        notified = get_activity(connection, "zapad-26", "own")
    assert notified is not None
    assert (notified.notified_at, notified.msg_id) == (NOW, "01HXAMPLE0000000000000000B")


def test_revision_0005_adds_and_removes_the_table(engine: Engine) -> None:
    upgrade_to_head(engine)
    with write(engine) as connection:
        assert current_revision(connection) == "0005"
        command.downgrade(alembic_config(connection), "-1")
        assert "activities" not in inspect(connection).get_table_names()
        command.upgrade(alembic_config(connection), "head")
        columns = {c["name"] for c in inspect(connection).get_columns("activities")}
    assert {"declared_troops", "observed_ships", "area", "notified_at"} <= columns
