"""``parley tracks``: read any supported format into the canonical table."""

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from parley.cli.options import FORMAT_OPTION, SIDES_OPTION, STRICT_OPTION, format_choice
from parley.cli.render import print_json, stdout_console
from parley.errors import InputError
from parley.tracks.archive import PartitionUnit, write_archive
from parley.tracks.load import load_tracks, write_table
from parley.tracks.readers import FORMATS
from parley.tracks.sides import load_sides
from parley.tracks.summary import summarize

app = typer.Typer(
    help="Read tracks: summaries and conversion to the canonical table.", no_args_is_help=True
)


def _render_info(summary: dict[str, Any]) -> None:
    console = stdout_console
    for f in summary["files"]:
        console.print(
            f"[bold]{f['path']}[/bold]  format [cyan]{f['format']}[/cyan], {f['rows']} rows"
        )
    console.print(f"{summary['tracks']} tracks, {summary['positions']} positions")
    if summary["time_span"]:
        span = summary["time_span"]
        console.print(f"time   {span['start']} → {span['end']}  ({span['seconds']:.0f} s)")
        box = summary["bbox"]
        console.print(
            f"box    lat {box['lat_min']:.4f} … {box['lat_max']:.4f}, "
            f"lon {box['lon_min']:.4f} … {box['lon_max']:.4f}"
        )
    table = Table("", "tracks", "positions", title=None, box=None, pad_edge=False)
    for group in ("sides", "domains"):
        for key, counts in summary[group].items():
            table.add_row(f"{group[:-1]} {key}", str(counts["tracks"]), str(counts["positions"]))
    console.print(table)
    console.print(
        f"rejected {summary['rejected_rows']} rows; duplicates removed "
        f"{summary['duplicates_removed']}; out-of-order sorted {summary['out_of_order_sorted']}"
    )
    for rule, count in summary["rejected_by_rule"].items():
        console.print(f"  {rule}: {count}")
        for example in summary["rejected_examples"].get(rule, []):
            console.print(f"    {example}", markup=False)


@app.command("info")
def info(
    files: list[Path] = typer.Argument(..., help="Track files, any supported format."),
    format_name: str = FORMAT_OPTION,
    sides_file: Path | None = SIDES_OPTION,
    strict: bool = STRICT_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Tracks, positions, time span, box, counts per side and domain, rejected rows by reason."""
    tracks = load_tracks(
        files, format_name=format_choice(format_name), sides=load_sides(sides_file), strict=strict
    )
    summary = summarize(tracks)
    if as_json:
        print_json(summary)
    else:
        _render_info(summary)


@app.command("convert")
def convert(
    files: list[Path] = typer.Argument(..., help="Track files, any supported format."),
    output: Path = typer.Option(..., "--output", "-o", help="OUT.parquet or OUT.csv"),
    format_name: str = FORMAT_OPTION,
    sides_file: Path | None = SIDES_OPTION,
    strict: bool = STRICT_OPTION,
    partition: str | None = typer.Option(
        None,
        "--partition",
        help="hour or day: write a time-partitioned Parquet archive into the folder OUT.",
    ),
) -> None:
    """Write the canonical table (Parquet or canonical CSV, or a partitioned Parquet archive)."""
    if partition is not None and partition not in ("hour", "day"):
        raise InputError(f"--partition must be hour or day, not {partition!r}")
    tracks = load_tracks(
        files, format_name=format_choice(format_name), sides=load_sides(sides_file), strict=strict
    )
    if partition is not None:
        unit: PartitionUnit = "hour" if partition == "hour" else "day"
        written = write_archive(tracks.table, output, unit)
        stdout_console.print(f"{len(written)} {partition} partitions", markup=False)
    else:
        write_table(tracks.table, output)
    stdout_console.print(
        f"wrote {tracks.table.height} positions of {tracks.table['track'].n_unique()} tracks to "
        f"{output} ({tracks.rejected_rows} rows rejected)",
        markup=False,
    )


@app.command("formats")
def formats(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """The input formats, in the order --format auto tries them."""
    rows = [{"name": f.name, "description": f.description} for f in FORMATS.values()]
    if as_json:
        print_json(rows)
        return
    table = Table("format", "description", box=None)
    for row in rows:
        table.add_row(row["name"], row["description"])
    stdout_console.print(table)


__all__ = ["app", "convert", "formats", "info"]
