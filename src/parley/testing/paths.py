"""Moved to :mod:`parley.scenarios.paths` (scenarios build on it); re-exported for tests."""

from parley.scenarios.paths import (
    BarrelRoll,
    OffsetFunction,
    PassPlan,
    PathFunction,
    Straight,
    ease,
    eased,
    heading,
    plan_passes,
    require_utc,
)

__all__ = [
    "BarrelRoll",
    "OffsetFunction",
    "PassPlan",
    "PathFunction",
    "Straight",
    "ease",
    "eased",
    "heading",
    "plan_passes",
    "require_utc",
]
