"""``parley activity``: notifications of military activities, their thresholds, observations."""

from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from parley.activities.files import activities_to_geojson, read_activity_file
from parley.activities.model import ORIGINS, Activity, ActivityError, Forces, Origin
from parley.activities.policy import ActivityPolicy
from parley.activities.thresholds import assess, assessed_json
from parley.cli.render import print_json, stdout_console
from parley.hotline.node import load_node
from parley.incidents.activity_link import (
    add_activities,
    node_activity_policy,
    notify_activity,
    observe_activity,
    stored_activities,
    stored_activity,
)

app = typer.Typer(
    help="Notified military activities: exercises and flights, Vienna Document thresholds.",
    no_args_is_help=True,
)

DIR_ARGUMENT: Path = typer.Argument(..., help="The node directory.")
ID_ARGUMENT: str = typer.Argument(..., help="The activity id.")
JSON_OPTION: bool = typer.Option(False, "--json", help="Print as JSON.")
POLICY_OPTION: Path | None = typer.Option(
    None, "--policy", help="TOML file overriding the thresholds (default: the Vienna Document)."
)
ORIGIN_OPTION: str | None = typer.Option(
    None, "--origin", help="own or peer, when both parties use the id."
)


@app.command("add")
def add(
    directory: Path = DIR_ARGUMENT,
    file: Path = typer.Argument(..., help="An activity file (JSON, GeoJSON or TOML)."),
    policy_file: Path | None = POLICY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Record our activities from a file (not yet notified; see parley activity notify)."""
    with load_node(directory) as node:
        activities = read_activity_file(file, party=node.config.party)
        created = add_activities(node, activities)
        policy, now = node_activity_policy(directory, policy_file), node.clock()
        stored = [stored_activity(node, a.id, "own") for a in activities]
    if as_json:
        print_json(
            [
                {**assessed_json(a, policy, now), "created": new}
                for a, new in zip(stored, created, strict=True)
            ]
        )
        return
    for activity, new in zip(stored, created, strict=True):
        flags = ", ".join(assess(activity, policy, now).flags) or "not notifiable"
        verb = "added" if new else "replaced"
        stdout_console.print(f"{verb} {activity.id}: {flags}", markup=False)


@app.command("list")
def list_(
    directory: Path = DIR_ARGUMENT,
    origin: str | None = ORIGIN_OPTION,
    policy_file: Path | None = POLICY_OPTION,
    as_json: bool = JSON_OPTION,
    geojson: bool = typer.Option(False, "--geojson", help="Print a GeoJSON FeatureCollection."),
) -> None:
    """Both parties' activities with their thresholds and flags (the peer's synced first)."""
    with load_node(directory) as node:
        activities = stored_activities(node, _origin(origin))
        policy, now = node_activity_policy(directory, policy_file), node.clock()
    if geojson:
        collection = activities_to_geojson(activities)
        for feature, activity in zip(collection["features"], activities, strict=True):
            feature["properties"]["assessment"] = assess(activity, policy, now).to_json()
        print_json(collection)
        return
    if as_json:
        print_json([assessed_json(a, policy, now) for a in activities])
        return
    _table(activities, policy, now)


@app.command("show")
def show(
    directory: Path = DIR_ARGUMENT,
    activity_id: str = ID_ARGUMENT,
    origin: str | None = ORIGIN_OPTION,
    policy_file: Path | None = POLICY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """One activity: area, window, declared and observed forces, thresholds and flags."""
    with load_node(directory) as node:
        activity = stored_activity(node, activity_id, _origin(origin))
        policy, now = node_activity_policy(directory, policy_file), node.clock()
    document = assessed_json(activity, policy, now)
    if as_json:
        print_json(document)
        return
    _details(document)


@app.command("notify")
def notify(
    directory: Path = DIR_ARGUMENT,
    activity_id: str = ID_ARGUMENT,
    policy_file: Path | None = POLICY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Send our activity's notification to the peer through the hotline (template 4)."""
    with load_node(directory) as node:
        activity = notify_activity(node, activity_id)
        policy, now = node_activity_policy(directory, policy_file), node.clock()
    result = assess(activity, policy, now)
    if as_json:
        print_json(assessed_json(activity, policy, now))
        return
    late = f", {result.days_late} days late" if result.late else ""
    stdout_console.print(
        f"notified {activity.id} with message {activity.msg_id}{late}", markup=False
    )


@app.command("observe")
def observe(
    directory: Path = DIR_ARGUMENT,
    activity_id: str = ID_ARGUMENT,
    origin: str | None = ORIGIN_OPTION,
    troops: int | None = typer.Option(None, "--troops", min=0),
    battle_tanks: int | None = typer.Option(None, "--battle-tanks", min=0),
    armoured_combat_vehicles: int | None = typer.Option(None, "--armoured-combat-vehicles", min=0),
    artillery_pieces: int | None = typer.Option(None, "--artillery-pieces", min=0),
    aircraft_sorties: int | None = typer.Option(None, "--aircraft-sorties", min=0),
    ships: int | None = typer.Option(None, "--ships", min=0),
    policy_file: Path | None = POLICY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Record observed figures beside the declared ones (each given figure replaces ours)."""
    observed = Forces(
        troops, battle_tanks, armoured_combat_vehicles, artillery_pieces, aircraft_sorties, ships
    )
    with load_node(directory) as node:
        activity = observe_activity(node, activity_id, observed, _origin(origin))
        policy, now = node_activity_policy(directory, policy_file), node.clock()
    if as_json:
        print_json(assessed_json(activity, policy, now))
        return
    flags = ", ".join(assess(activity, policy, now).flags) or "not notifiable"
    stdout_console.print(f"observed {activity.id}: {flags}", markup=False)


def _origin(value: str | None) -> Origin | None:
    if value is None:
        return None
    if value not in ORIGINS:
        raise ActivityError(f"--origin {value!r}: expected own or peer")
    return "own" if value == "own" else "peer"


def _figures(forces: dict[str, Any]) -> str:
    return ", ".join(f"{name} {value:,}" for name, value in forces.items() if value is not None)


def _table(activities: list[Activity], policy: ActivityPolicy, now: datetime) -> None:
    table = Table(
        "origin",
        "id",
        "party",
        "kind",
        "notice",
        "start (UTC)",
        "end (UTC)",
        "troops",
        "notified",
        "flags",
        title="activities",
    )
    for activity in activities:
        result = assess(activity, policy, now)
        troops = activity.declared.troops
        flags = list(result.flags)
        if result.late:
            flags[flags.index("late")] = f"late {result.days_late} d"
        table.add_row(
            activity.origin,
            activity.id,
            activity.party,
            activity.kind,
            activity.notice,
            f"{activity.start:%Y-%m-%d %H:%M}",
            f"{activity.end:%Y-%m-%d %H:%M}",
            "" if troops is None else f"{troops:,}",
            "" if activity.notified_at is None else f"{activity.notified_at:%Y-%m-%d %H:%M}",
            ", ".join(flags),
        )
    stdout_console.print(table)


def _details(document: dict[str, Any]) -> None:
    assessment = document["assessment"]
    lines = [
        f"{document['origin']} activity {document['id']} of {document['party']}"
        + (f": {document['name']}" if document["name"] else ""),
        f"{document['notice']} {document['kind']} from {document['start']} to {document['end']}",
        f"declared: {_figures(document['declared']) or 'no figures'}",
        f"observed: {_figures(document['observed']) or 'no figures'}",
        f"notified: {document['notified_at'] or 'not yet'} (due by {assessment['due']})"
        + (f", message {document['msg_id']}" if document["msg_id"] else ""),
        f"flags: {', '.join(assessment['flags']) or 'none (not notifiable)'}"
        + (f"; {assessment['days_late']} days late" if assessment["late"] else ""),
    ]
    for line in lines:
        stdout_console.print(line, markup=False)


__all__ = ["add", "app", "list_", "notify", "observe", "show"]
