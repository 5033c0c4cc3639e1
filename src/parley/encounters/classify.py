"""The classes of ``rules.md``: the first class that applies, from the top, and why.

``reasons`` lists every condition of the deciding class that holds, in the order of ``rules.md``:
the first is the one that decided. (A dark Il-20 passing 90 m from an airliner at 200 m/s is
both a fast close approach and an endangered civil aircraft; both are worth saying.)
"""

from dataclasses import dataclass

from parley.encounters.policy import Policy

HIGH_RISK = "high-risk"
SERIOUS = "serious"
ROUTINE = "routine"
SEVERITIES = (ROUTINE, SERIOUS, HIGH_RISK)
INSIDE_VOLUME = "inside-volume"


@dataclass(frozen=True, slots=True)
class Features:
    kind: str
    civil_safety: bool
    min_slant_m: float
    min_horizontal_m: float
    max_closure_mps: float
    passes: int
    orbits_low: int
    overflight: bool
    low_fast_pass: bool
    low_close_pass: bool


Rule = tuple[str, bool]


def _first_class(classes: list[tuple[str, list[Rule]]]) -> tuple[str, list[str]]:
    for severity, rules in classes:
        reasons = [name for name, holds in rules if holds]
        if reasons:
            return severity, reasons
    return ROUTINE, [INSIDE_VOLUME]


def classify(f: Features, policy: Policy) -> tuple[str, list[str]]:
    """Severity and the reasons (the conditions of the deciding class that hold)."""
    if f.kind == "air-air":
        return _first_class(_air_air(f, policy))
    if f.kind == "air-sea":
        return _first_class(_air_sea(f, policy))
    return _first_class(_sea_sea(f, policy))


def _air_air(f: Features, policy: Policy) -> list[tuple[str, list[Rule]]]:
    c = policy.classes.air_air
    return [
        (
            HIGH_RISK,
            [
                (
                    "fast-close-approach",
                    f.min_slant_m < c.high_risk_slant_m
                    and f.max_closure_mps > c.high_risk_closure_mps,
                ),
                ("overflight", f.overflight),
                (
                    "endangered-civil-aircraft",
                    f.civil_safety and f.min_slant_m < c.civil_high_risk_slant_m,
                ),
            ],
        ),
        (
            ROUTINE,
            [
                (
                    "escort",
                    f.min_slant_m < c.escort_slant_m
                    and f.max_closure_mps <= c.escort_max_closure_mps,
                ),
            ],
        ),
        (
            SERIOUS,
            [
                ("close-approach", f.min_slant_m < c.serious_slant_m),
                ("repeated-passes", f.passes >= c.serious_passes),
                (
                    "civil-aircraft-proximity",
                    f.civil_safety and f.min_horizontal_m < c.civil_serious_horizontal_m,
                ),
            ],
        ),
    ]


def _air_sea(f: Features, policy: Policy) -> list[tuple[str, list[Rule]]]:
    c = policy.classes.air_sea
    return [
        (HIGH_RISK, [("low-fast-pass", f.low_fast_pass)]),
        (
            SERIOUS,
            [
                ("low-close-pass", f.low_close_pass),
                ("low-orbits", f.orbits_low >= c.serious_orbits),
            ],
        ),
    ]


def _sea_sea(f: Features, policy: Policy) -> list[tuple[str, list[Rule]]]:
    c = policy.classes.sea_sea
    return [
        (
            HIGH_RISK,
            [("close-quarters-collision-risk", f.min_horizontal_m < c.high_risk_horizontal_m)],
        ),
        (SERIOUS, [("close-quarters", f.min_horizontal_m < c.serious_horizontal_m)]),
    ]


__all__ = ["HIGH_RISK", "ROUTINE", "SERIOUS", "SEVERITIES", "Features", "classify"]
