"""The classes of ``rules.md``: the first rule that applies, from the top, with its reason."""

from dataclasses import dataclass

from parley.encounters.policy import Policy

HIGH_RISK = "high-risk"
SERIOUS = "serious"
ROUTINE = "routine"
SEVERITIES = (ROUTINE, SERIOUS, HIGH_RISK)


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


def classify(f: Features, policy: Policy) -> tuple[str, list[str]]:
    """Severity and the reasons (the rule that fired)."""
    if f.kind == "air-air":
        return _air_air(f, policy)
    if f.kind == "air-sea":
        return _air_sea(f, policy)
    return _sea_sea(f, policy)


def _air_air(f: Features, policy: Policy) -> tuple[str, list[str]]:
    c = policy.classes.air_air
    if f.min_slant_m < c.high_risk_slant_m and f.max_closure_mps > c.high_risk_closure_mps:
        return HIGH_RISK, ["fast-close-approach"]
    if f.overflight:
        return HIGH_RISK, ["overflight"]
    if f.civil_safety and f.min_slant_m < c.civil_high_risk_slant_m:
        return HIGH_RISK, ["endangered-civil-aircraft"]
    if f.min_slant_m < c.escort_slant_m and f.max_closure_mps <= c.escort_max_closure_mps:
        return ROUTINE, ["escort"]
    if f.min_slant_m < c.serious_slant_m:
        return SERIOUS, ["close-approach"]
    if f.passes >= c.serious_passes:
        return SERIOUS, ["repeated-passes"]
    if f.civil_safety and f.min_horizontal_m < c.civil_serious_horizontal_m:
        return SERIOUS, ["civil-aircraft-proximity"]
    return ROUTINE, ["inside-volume"]


def _air_sea(f: Features, policy: Policy) -> tuple[str, list[str]]:
    c = policy.classes.air_sea
    if f.low_fast_pass:
        return HIGH_RISK, ["low-fast-pass"]
    if f.low_close_pass:
        return SERIOUS, ["low-close-pass"]
    if f.orbits_low >= c.serious_orbits:
        return SERIOUS, ["low-orbits"]
    return ROUTINE, ["inside-volume"]


def _sea_sea(f: Features, policy: Policy) -> tuple[str, list[str]]:
    c = policy.classes.sea_sea
    if f.min_horizontal_m < c.high_risk_horizontal_m:
        return HIGH_RISK, ["close-quarters-collision-risk"]
    if f.min_horizontal_m < c.serious_horizontal_m:
        return SERIOUS, ["close-quarters"]
    return ROUTINE, ["inside-volume"]


__all__ = ["HIGH_RISK", "ROUTINE", "SERIOUS", "SEVERITIES", "Features", "classify"]
