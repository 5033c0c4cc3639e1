"""The built-in scenarios: list them, show their parameters, build them, say what they must show."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from parley.errors import InputError
from parley.scenarios import baltic2016
from parley.scenarios.baltic2016 import ScenarioEncounter
from parley.scenarios.params import Params, default_params, merged, params_text
from parley.tracks.load import write_table


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    title: str
    build: Callable[[Params], pl.DataFrame]
    expected: Callable[[Params], list[ScenarioEncounter]]


SCENARIOS: dict[str, Scenario] = {
    baltic2016.NAME: Scenario(
        baltic2016.NAME,
        "USS Donald Cook and an RC-135 in the Baltic, 11-14 April 2016, over real civil traffic",
        baltic2016.build,
        baltic2016.expected,
    ),
}


def scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        known = ", ".join(sorted(SCENARIOS))
        raise InputError(f"no scenario named {name!r} (known: {known})") from None


def scenario_params(name: str, overrides: Mapping[str, Any] | None = None) -> Params:
    """The shipped parameters of ``name`` with ``overrides`` applied (unknown keys are errors)."""
    scenario(name)
    return merged(default_params(name), overrides or {})


def show_params(name: str) -> str:
    """The shipped parameter file of ``name``, with the comments that document each value."""
    scenario(name)
    return params_text(name)


def build_scenario(name: str, params: Mapping[str, Any] | None = None) -> pl.DataFrame:
    """The scenario's canonical track table (``params`` overrides the shipped values)."""
    return scenario(name).build(scenario_params(name, params))


def expected_encounters(
    name: str, params: Mapping[str, Any] | None = None
) -> list[ScenarioEncounter]:
    """The encounters ``parley detect`` (default policy) must find in the built scenario."""
    return scenario(name).expected(scenario_params(name, params))


def write_scenario(name: str, out: Path, params: Mapping[str, Any] | None = None) -> pl.DataFrame:
    """Build ``name`` and write it as canonical CSV or Parquet (by ``out``'s suffix)."""
    table = build_scenario(name, params)
    write_table(table, out)
    return table


__all__ = [
    "SCENARIOS",
    "Scenario",
    "build_scenario",
    "expected_encounters",
    "scenario",
    "scenario_params",
    "show_params",
    "write_scenario",
]
