"""Unit conversions at the edges: knots, feet and nautical miles in, SI inside."""

from typing import Final

METRES_PER_FOOT: Final = 0.3048
METRES_PER_NAUTICAL_MILE: Final = 1852.0
MPS_PER_KNOT: Final = METRES_PER_NAUTICAL_MILE / 3600.0
MPS_PER_FOOT_PER_MINUTE: Final = METRES_PER_FOOT / 60.0
EARTH_RADIUS_M: Final = 6_371_008.8


def knots_to_mps(knots: float) -> float:
    return knots * MPS_PER_KNOT


def mps_to_knots(mps: float) -> float:
    return mps / MPS_PER_KNOT


def feet_to_m(feet: float) -> float:
    return feet * METRES_PER_FOOT


def m_to_feet(metres: float) -> float:
    return metres / METRES_PER_FOOT


def fpm_to_mps(feet_per_minute: float) -> float:
    return feet_per_minute * MPS_PER_FOOT_PER_MINUTE


def nm_to_m(nautical_miles: float) -> float:
    return nautical_miles * METRES_PER_NAUTICAL_MILE


def m_to_nm(metres: float) -> float:
    return metres / METRES_PER_NAUTICAL_MILE


__all__ = [
    "EARTH_RADIUS_M",
    "METRES_PER_FOOT",
    "METRES_PER_NAUTICAL_MILE",
    "MPS_PER_FOOT_PER_MINUTE",
    "MPS_PER_KNOT",
    "feet_to_m",
    "fpm_to_mps",
    "knots_to_mps",
    "m_to_feet",
    "m_to_nm",
    "mps_to_knots",
    "nm_to_m",
]
