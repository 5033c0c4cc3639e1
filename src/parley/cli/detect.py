"""``parley detect`` and ``parley policy``: near misses in archives."""

import sys
import tomllib
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from parley.cli.options import FORMAT_OPTION, SIDES_OPTION, STRICT_OPTION, format_choice
from parley.cli.render import print_json, stderr_console, stdout_console
from parley.encounters.detector import detect as run_detection
from parley.encounters.output import encounter_records, to_json_document, write_output
from parley.encounters.policy import Policy, load_policy
from parley.errors import InputError
from parley.incidents.activity_link import mark_notified_activities, read_activities_source
from parley.tracks.load import TrackSet, load_tracks
from parley.tracks.sides import load_sides

POLICY_OPTION: Path | None = typer.Option(
    None, "--policy", help="TOML file overriding numbers of the default policy (rules.md)."
)

policy_app = typer.Typer(
    help="The rules of encounters: volumes, features, classes.", no_args_is_help=True
)


def _policy_toml(data: dict[str, Any], prefix: str = "") -> list[str]:
    lines: list[str] = []
    scalars = {k: v for k, v in data.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    if prefix and scalars:
        lines.append(f"[{prefix}]")
    for key, value in scalars.items():
        if isinstance(value, str):
            rendered = f'"{value}"'
        elif isinstance(value, bool):
            rendered = "true" if value else "false"
        elif isinstance(value, list):
            rendered = "[" + ", ".join(f'["{x}", "{y}"]' for x, y in value) + "]"
        else:
            rendered = repr(value)
        lines.append(f"{key} = {rendered}")
    if scalars:
        lines.append("")
    for key, value in tables.items():
        lines += _policy_toml(value, f"{prefix}.{key}" if prefix else key)
    return lines


@policy_app.command("show")
def policy_show(
    policy_file: Path | None = POLICY_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print as JSON instead of TOML."),
) -> None:
    """Print the active policy (the defaults of rules.md, overridden by --policy)."""
    policy = load_policy(policy_file)
    if as_json:
        print_json(policy.to_dict())
        return
    text = "\n".join(_policy_toml(policy.to_dict())).rstrip() + "\n"
    tomllib.loads(text)  # what we print must be a valid policy file
    sys.stdout.write(text)


def _render(records: list[dict[str, Any]], stats: dict[str, Any], rejected: int) -> None:
    console = stdout_console
    if not records:
        console.print(
            f"no encounters among {stats.get('tracks', 0)} tracks "
            f"({stats.get('positions', 0)} positions); {rejected} rows rejected"
        )
        return
    table = Table(
        "severity",
        "kind",
        "a",
        "b",
        "CPA (UTC)",
        "slant m",
        "horiz m",
        "vert m",
        "closure m/s",
        "passes",
        "orbits",
        "reasons",
        box=None,
    )
    colour = {"high-risk": "bold red", "serious": "yellow", "routine": "green"}
    for r in records:
        table.add_row(
            f"[{colour[r['severity']]}]{r['severity']}[/]",
            r["kind"],
            r["a"],
            r["b"],
            r["cpa_time"][:19].replace("T", " "),
            f"{r['min_slant_m']:.0f}",
            f"{r['min_horizontal_m']:.0f}",
            f"{r['vertical_m']:.0f}",
            f"{r['max_closure_mps']:.0f}",
            str(r["passes"]),
            str(r["orbits"]),
            ", ".join(r["reasons"]),
        )
    console.print(table)
    counts = Counter(r["severity"] for r in records)
    console.print(
        f"{len(records)} encounters ({counts['high-risk']} high-risk, {counts['serious']} serious, "
        f"{counts['routine']} routine) among {stats['tracks']} tracks, {stats['positions']} "
        f"positions; {rejected} rows rejected; {stats['seconds']:.2f} s"
    )


def _detect_on_cluster(
    inputs: list[Path],
    load: Callable[[], TrackSet],
    cluster: str,
    partition_s: float,
    cell_degrees: float | None,
    policy: Policy,
    output: Path | None,
    as_json: bool,
    evidence: bool,
    notified: Any,
) -> None:
    """``--cluster``: an archive folder (``tracks convert --partition``) is read by the workers;
    other inputs are read here and their partitions sent to the workers."""
    from parley.encounters.cells import CellGrid
    from parley.encounters.cluster import detect_on_cluster, open_client
    from parley.tracks.archive import is_archive, read_archive

    archive = inputs[0] if len(inputs) == 1 and is_archive(inputs[0]) else None
    tracks = None if archive is not None else load()
    rejected = 0 if tracks is None else tracks.rejected_rows
    with open_client(cluster) as client:
        source = archive if tracks is None else tracks.table
        assert source is not None
        cells = None if cell_degrees is None else CellGrid(cell_degrees)
        detection = detect_on_cluster(client, source, policy, partition_s=partition_s, cells=cells)
    needs_table = evidence or notified is not None or output is not None
    table = tracks.table if tracks is not None else None
    if table is None and archive is not None and needs_table:
        table = read_archive(archive)
    if notified is not None and table is not None:
        detection = mark_notified_activities(detection, table, notified)
    if output is not None and table is not None:
        write_output(output, detection, policy, rejected, table, evidence)
    if as_json:
        print_json(to_json_document(detection, policy, rejected, table if evidence else None))
    elif output is None:
        _render(encounter_records(detection), detection.stats, rejected)
    else:
        stdout_console.print(f"written to {output}", markup=False)


def detect(
    inputs: list[Path] = typer.Argument(..., help="Track files, any supported format."),
    format_name: str = FORMAT_OPTION,
    sides_file: Path | None = SIDES_OPTION,
    policy_file: Path | None = POLICY_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print the JSON document to stdout."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write OUT.json, OUT.geojson, OUT.csv or OUT.parquet."
    ),
    evidence: bool = typer.Option(
        False, "--evidence", help="Include both tracks' positions around each closest approach."
    ),
    activities: Path | None = typer.Option(
        None,
        "--activities",
        help="An activity file, or a node directory (its notified activities): encounters "
        "inside one get the reason notified-activity.",
    ),
    strict: bool = STRICT_OPTION,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    cluster: str | None = typer.Option(
        None,
        "--cluster",
        help="Run on Dask: a scheduler ADDRESS, or local[:N] for N local worker processes.",
    ),
    partition_minutes: int = typer.Option(
        60, "--partition-minutes", min=1, help="With --cluster: the time partition's length."
    ),
    cell_degrees: float | None = typer.Option(
        None,
        "--cell-degrees",
        min=0.5,
        max=180.0,
        help="With --cluster: split each time partition into spatial cells of about D x D "
        "degrees (off by default).",
    ),
) -> None:
    """Find every close encounter between opposing sides, measured exactly and classed."""
    if cell_degrees is not None and cluster is None:
        raise InputError("--cell-degrees applies only with --cluster")
    policy: Policy = load_policy(policy_file)
    sides = load_sides(sides_file)
    notified = None if activities is None else read_activities_source(activities)
    if cluster is not None:
        _detect_on_cluster(
            inputs,
            lambda: load_tracks(
                inputs, format_name=format_choice(format_name), sides=sides, strict=strict
            ),
            cluster,
            partition_minutes * 60.0,
            cell_degrees,
            policy,
            output,
            as_json,
            evidence,
            notified,
        )
        return
    tracks = load_tracks(inputs, format_name=format_choice(format_name), sides=sides, strict=strict)
    show_progress = not quiet and not as_json and sys.stderr.isatty()
    progress = Progress(
        TextColumn("detecting"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} batches"),
        TimeElapsedColumn(),
        console=stderr_console,
        transient=True,
        disable=not show_progress,
    )
    with progress:
        task = progress.add_task("detect", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        detection = run_detection(tracks.table, policy, advance)
    if notified is not None:
        detection = mark_notified_activities(detection, tracks.table, notified)
    if output is not None:
        write_output(output, detection, policy, tracks.rejected_rows, tracks.table, evidence)
    if as_json:
        print_json(
            to_json_document(
                detection, policy, tracks.rejected_rows, tracks.table if evidence else None
            )
        )
    elif output is None or not quiet:
        _render(encounter_records(detection), detection.stats, tracks.rejected_rows)
        if output is not None:
            stdout_console.print(f"written to {output}", markup=False)


__all__ = ["detect", "policy_app", "policy_show"]
