"""The incident registry's contract, run on SQLite and PostgreSQL through the same code: what is
stored comes back exactly (times UTC-aware, floats, nulls, JSON records, Russian text), the
migration adds and removes the registry's tables, and two desks on any mix of engines exchange an
incident and hold both accounts side by side."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import inspect

from parley.hotline.node import Node, init_node
from parley.incidents.checks import IncidentError
from parley.incidents.registry import IncidentRegistry
from parley.store.engine import read, write
from parley.store.migrate import alembic_config, upgrade_to_head

MakeDatabase = Callable[[str], str]
REGISTRY_TABLES = {
    "incidents",
    "incident_history",
    "incident_accounts",
    "incident_encounters",
    "incident_positions",
    "incident_messages",
}
T0 = datetime(2016, 4, 12, 15, 44, 0, 123000, tzinfo=UTC)
RUSSIAN = "Плановый учебный полёт над нейтральными водами; меры безопасности соблюдены."


def _positions(track: str, lat0: float, alt_m: float | None, count: int) -> list[dict[str, Any]]:
    return [
        {
            "time": (T0 + timedelta(seconds=second)).isoformat().replace("+00:00", "Z"),
            "lat": lat0 + second * 1e-4,
            "lon": 18.9 + second * 1e-4,
            "alt_m": alt_m,
            "speed_mps": None if alt_m is None else 220.0,
            "course_deg": 70.0,
        }
        for second in range(count)
    ]


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _record(number: int, severity: str, offset_h: float) -> dict[str, Any]:
    start = T0 + timedelta(hours=offset_h)
    return {
        "id": f"enc-00000000000{number}",
        "a": "sim:ddg75",
        "b": "sim:su24-1",
        "sides": ["nato", "russia"],
        "kind": "air-sea",
        "start": _iso(start),
        "end": _iso(start + timedelta(seconds=30)),
        "cpa_time": _iso(start + timedelta(seconds=10)),
        "min_slant_m": 22.37 + number,
        "min_horizontal_m": 9.01,
        "vertical_m": 20.0,
        "max_closure_mps": 220.41,
        "passes": 6,
        "orbits": 0,
        "overflight": False,
        "low_fast_pass": severity == "high-risk",
        "civil_safety": False,
        "severity": severity,
        "reasons": ["low-fast-pass" if severity == "high-risk" else "low-close-pass"],
        "evidence": {
            "window_s": 60.0,
            "a": _positions("sim:ddg75", 55.3, 0.0, 30) if number == 1 else [],
            "b": _positions("sim:su24-1", 55.29, 20.0 if number == 1 else None, 30),
        },
    }


def _node(tmp_path: Path, make_database: MakeDatabase, engine_name: str, party: str) -> Node:
    if engine_name == "sqlite":
        return init_node(tmp_path / party, party)
    return init_node(tmp_path / party, party, database=make_database(engine_name))


def test_the_registry_round_trips_exactly(
    tmp_path: Path, make_database: MakeDatabase, engine_name: str
) -> None:
    with _node(tmp_path, make_database, engine_name, "nato") as node:
        registry = IncidentRegistry(node)
        first, second = _record(1, "serious", 0), _record(2, "high-risk", 2)
        summary = registry.ingest([first, second], "ivanova")
        assert len(summary.opened) == 1
        assert len(summary.merged) == 1  # 2 h apart: within the default 6 h
        (incident,) = registry.list()
        assert incident.severity == "high-risk"
        assert incident.start == T0
        assert incident.start.tzinfo is not None
        assert incident.end == T0 + timedelta(hours=2, seconds=30)
        assert incident.min_slant_m == 24.37
        evidence = registry.evidence(incident.id)
        stored = [{k: v for k, v in r.items() if k != "evidence"} for r in (first, second)]
        assert evidence.encounters == stored
        su24 = evidence.positions["sim:su24-1"]
        assert len(su24) == 30  # the same times twice are kept once
        assert su24[0].time == T0
        assert (su24[0].lat, su24[0].alt_m) == (55.29, 20.0)
        assert len(evidence.positions["sim:ddg75"]) == 30
        registry.record_account(incident.id, "petrov", "routine", RUSSIAN, side="theirs")
        registry.record_account(incident.id, "ivanova", "high-risk", "x" * 4000)
        both = registry.side_by_side(incident.id)
        assert both.theirs is not None
        assert both.ours is not None
        assert both.theirs.text == RUSSIAN
        assert both.ours.text == "x" * 4000
        assert both.ours.recorded_at.tzinfo is not None
        registry.close_incident(incident.id, "ivanova", "reviewed")
        actions = [h.action for h in registry.history(incident.id)]
        assert actions == ["opened", "merged", "account", "account", "closed"]
        # a closed incident takes no more encounters: the pair seen again opens a new one
        assert len(registry.ingest([_record(3, "serious", 3)], "ivanova").opened) == 1
        with pytest.raises(IncidentError, match="already in incident"):
            registry.open_from_encounters([first], "ivanova")


def test_the_migration_adds_and_removes_the_registry_tables(
    tmp_path: Path, make_database: MakeDatabase, engine_name: str
) -> None:
    with _node(tmp_path, make_database, engine_name, "nato") as node:
        with read(node.engine) as connection:
            assert set(inspect(connection).get_table_names()) >= REGISTRY_TABLES
        with write(node.engine) as connection:
            command.downgrade(alembic_config(connection), "0004")
        with read(node.engine) as connection:
            assert not REGISTRY_TABLES & set(inspect(connection).get_table_names())
            assert "entries" in inspect(connection).get_table_names()
        upgrade_to_head(node.engine, create=False)
        IncidentRegistry(node).ingest([_record(1, "serious", 0)], "ivanova")
        assert len(IncidentRegistry(node).list()) == 1


@pytest.mark.parametrize(
    ("nato_engine", "russia_engine"),
    [
        ("sqlite", "sqlite"),
        ("sqlite", "postgres"),
        ("postgres", "sqlite"),
        ("postgres", "postgres"),
    ],
)
def test_two_desks_on_any_engines_hold_both_accounts(
    tmp_path: Path, make_database: MakeDatabase, nato_engine: str, russia_engine: str
) -> None:
    nato_node = _node(tmp_path, make_database, nato_engine, "nato")
    russia_node = _node(tmp_path, make_database, russia_engine, "russia")
    with nato_node, russia_node:
        nato_node.trust(russia_node.identity_json(), "https://russia.example")
        russia_node.trust(nato_node.identity_json(), "https://nato.example")
        nato, russia = IncidentRegistry(nato_node), IncidentRegistry(russia_node)
        (incident_id,) = nato.ingest([_record(1, "high-risk", 0)], "ivanova").opened
        notification = nato.notify(incident_id, "ivanova")
        nato_node.export_bundle(tmp_path / "1.bundle")
        russia_node.import_bundle(tmp_path / "1.bundle")
        russia.sync()
        russia_node.ack(notification)
        russia.send_account(incident_id, "petrov", "routine", RUSSIAN, "routine-activity")
        russia_node.export_bundle(tmp_path / "2.bundle")
        nato_node.import_bundle(tmp_path / "2.bundle")
        nato.sync()
        for registry, ours, theirs in (
            (nato, "high-risk", "routine"),
            (russia, "routine", "high-risk"),
        ):
            assert registry.get(incident_id).state == "clarified"
            both = registry.side_by_side(incident_id)
            assert both.ours is not None
            assert both.theirs is not None
            assert (both.ours.classification, both.theirs.classification) == (ours, theirs)
        assert nato.side_by_side(incident_id).theirs.text == RUSSIAN  # type: ignore[union-attr]
        assert nato.sync() == 0  # every message is applied once
