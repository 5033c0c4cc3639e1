"""Built-in scenarios (tracks rebuilt from the public record over real traffic) and the replayer."""

from parley.scenarios.catalog import (
    SCENARIOS,
    build_scenario,
    expected_encounters,
    scenario_params,
    show_params,
    write_scenario,
)

__all__ = [
    "SCENARIOS",
    "build_scenario",
    "expected_encounters",
    "scenario_params",
    "show_params",
    "write_scenario",
]
