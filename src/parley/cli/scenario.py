"""``parley scenario``: the built-in scenarios, their parameters, and building them to a file."""

import sys
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from parley.cli.render import print_json, stdout_console
from parley.scenarios.catalog import (
    SCENARIOS,
    expected_encounters,
    scenario_params,
    show_params,
    write_scenario,
)
from parley.scenarios.params import read_params_file

app = typer.Typer(
    help="Built-in scenarios: the public record rebuilt as tracks over real traffic.",
    no_args_is_help=True,
)

PARAMS_OPTION: Path | None = typer.Option(
    None, "--params", help="TOML file overriding values of `parley scenario show NAME`."
)


def _overrides(params_file: Path | None, seed: int | None) -> dict[str, Any]:
    overrides = read_params_file(params_file) if params_file is not None else {}
    if seed is not None:
        overrides["seed"] = seed
    return overrides


@app.command("list")
def list_scenarios(
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """The built-in scenarios."""
    rows = [{"name": s.name, "title": s.title} for s in SCENARIOS.values()]
    if as_json:
        print_json(rows)
        return
    table = Table("name", "title", box=None)
    for row in rows:
        table.add_row(row["name"], row["title"])
    stdout_console.print(table)


@app.command("show")
def show(
    name: str = typer.Argument(..., help="Scenario name (see `parley scenario list`)."),
    params_file: Path | None = PARAMS_OPTION,
    as_json: bool = typer.Option(
        False, "--json", help="Print the effective parameters and expected encounters as JSON."
    ),
) -> None:
    """The scenario's parameters (a documented TOML file: facts and assumptions)."""
    if not as_json and params_file is None:
        sys.stdout.write(show_params(name))
        return
    overrides = _overrides(params_file, None)
    print_json(
        {
            "parameters": scenario_params(name, overrides),
            "expected_encounters": expected_encounters(name, overrides),
        }
    )


@app.command("build")
def build(
    name: str = typer.Argument(..., help="Scenario name (see `parley scenario list`)."),
    output: Path = typer.Option(..., "--output", "-o", help="OUT.csv or OUT.parquet."),
    params_file: Path | None = PARAMS_OPTION,
    seed: int | None = typer.Option(None, "--seed", help="Override the scenario's seed."),
) -> None:
    """Build the scenario's tracks into a canonical CSV or Parquet file."""
    overrides = _overrides(params_file, seed)
    table = write_scenario(name, output, overrides)
    expected = expected_encounters(name, overrides)
    stdout_console.print(
        f"{name}: {table.height} positions, {table['track'].n_unique()} tracks, "
        f"{len(expected)} expected encounters; written to {output}",
        markup=False,
    )


__all__ = ["app", "build", "list_scenarios", "show"]
