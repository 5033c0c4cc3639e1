"""``parley report``: the incident report for the political level, as HTML or PDF."""

from pathlib import Path

import typer

from parley.cli.render import print_json, stdout_console


def report(
    directory: Path = typer.Argument(..., help="The node directory."),
    output: Path = typer.Option(
        ..., "--output", "-o", help="The report file: REPORT.pdf or REPORT.html."
    ),
    since: str | None = typer.Option(
        None, "--from", help="First day (YYYY-MM-DD, UTC) or time (ISO 8601) of closest approach."
    ),
    until: str | None = typer.Option(
        None, "--to", help="Last day included (YYYY-MM-DD, UTC), or an ISO 8601 time (excluded)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print what was written as JSON."),
) -> None:
    """Write the report: counts per class, month and area with plots; each incident with both
    parties' accounts, its map and its hotline exchange; the joint checkpoint of both logs."""
    # imported here: matplotlib and WeasyPrint take seconds to load; only this command needs them
    from parley.incidents.report import report_format, write_report
    from parley.incidents.report_collect import collect_report_data, parse_report_time

    report_format(output)  # a wrong suffix fails before any work
    start = None if since is None else parse_report_time(since, "--from")
    end = None if until is None else parse_report_time(until, "--to", end_of_day=True)
    data = collect_report_data(directory, start, end)
    write_report(data, output)
    summary = {
        "output": str(output),
        "format": report_format(output),
        "incidents": len(data.incidents),
        "by_class": data.counts_by_class(),
        "joint_checkpoint": data.joint is not None,
    }
    if as_json:
        print_json(summary)
    else:
        stdout_console.print(
            f"wrote {output} ({len(data.incidents)} incidents)", markup=False, highlight=False
        )


__all__ = ["report"]
