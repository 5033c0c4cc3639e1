"""Closed-form geometry of two tracks over one sub-interval of linear relative motion.

Between two consecutive sample instants of either track both move linearly, so the relative
position is ``p + v τ`` (τ from 0 to D seconds): squared distances are quadratics in τ and every
"inside" condition is an interval. Everything here is exact in continuous time and vectorised:
each argument is an array with one element per sub-interval.
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_EPS = 1e-12


def quadratic_below(
    a: Array, b: Array, c: Array, limit_sq: Array | float, d: Array
) -> tuple[Array, Array]:
    """The τ-interval within [0, d] where ``a τ² + b τ + c < limit_sq`` (a ≥ 0); empty: lo ≥ hi."""
    c_shift = c - limit_sq
    disc = b * b - 4.0 * a * c_shift
    moving = a > _EPS
    root = np.sqrt(np.where(moving & (disc > 0), disc, 0.0))
    safe_a = np.where(moving, a, 1.0)
    lo = np.where(moving, (-b - root) / (2.0 * safe_a), np.where(c_shift < 0, 0.0, np.inf))
    hi = np.where(moving, (-b + root) / (2.0 * safe_a), np.where(c_shift < 0, d, -np.inf))
    empty = moving & (disc <= 0)
    lo = np.where(empty, np.inf, lo)
    hi = np.where(empty, -np.inf, hi)
    return np.maximum(lo, 0.0), np.minimum(hi, d)


def linear_abs_below(z0: Array, w: Array, limit: Array | float, d: Array) -> tuple[Array, Array]:
    """The τ-interval within [0, d] where ``|z0 + w τ| < limit``."""
    moving = np.abs(w) > _EPS
    safe_w = np.where(moving, w, 1.0)
    t1 = (-limit - z0) / safe_w
    t2 = (limit - z0) / safe_w
    inside_still = np.abs(z0) < limit
    lo = np.where(moving, np.minimum(t1, t2), np.where(inside_still, 0.0, np.inf))
    hi = np.where(moving, np.maximum(t1, t2), np.where(inside_still, d, -np.inf))
    return np.maximum(lo, 0.0), np.minimum(hi, d)


def linear_below(z0: Array, w: Array, limit: Array | float, d: Array) -> tuple[Array, Array]:
    """The τ-interval within [0, d] where ``z0 + w τ < limit`` (e.g. an altitude ceiling)."""
    moving = np.abs(w) > _EPS
    safe_w = np.where(moving, w, 1.0)
    crossing = (limit - z0) / safe_w
    below_still = z0 < limit
    lo = np.where(moving, np.where(w > 0, -np.inf, crossing), np.where(below_still, 0.0, np.inf))
    hi = np.where(moving, np.where(w > 0, crossing, np.inf), np.where(below_still, d, -np.inf))
    return np.maximum(lo, 0.0), np.minimum(hi, d)


def intersect(*intervals: tuple[Array, Array]) -> tuple[Array, Array]:
    lo = intervals[0][0]
    hi = intervals[0][1]
    for other_lo, other_hi in intervals[1:]:
        lo = np.maximum(lo, other_lo)
        hi = np.minimum(hi, other_hi)
    return lo, hi


def quadratic_min_on(a: Array, b: Array, c: Array, lo: Array, hi: Array) -> tuple[Array, Array]:
    """Minimum of ``a τ² + b τ + c`` (a ≥ 0) on [lo, hi] and where it is reached."""
    vertex = np.where(a > _EPS, -b / (2.0 * np.where(a > _EPS, a, 1.0)), lo)
    tau = np.clip(vertex, lo, np.maximum(lo, hi))
    value = a * tau * tau + b * tau + c
    return np.maximum(value, 0.0), tau


def swept_angle(x0: Array, y0: Array, x1: Array, y1: Array) -> Array:
    """Signed angle (radians) swept by a vector moving linearly from (x0, y0) to (x1, y1)."""
    return np.arctan2(x0 * y1 - y0 * x1, x0 * x1 + y0 * y1)


@dataclass(frozen=True, slots=True)
class Motion:
    """Relative motion of b with respect to a over each sub-interval (b minus a)."""

    duration: Array
    x: Array  # east, m, at τ = 0
    y: Array  # north, m
    z: Array  # altitude of b minus altitude of a, m
    vx: Array  # m/s
    vy: Array
    vz: Array

    @property
    def horizontal_quadratic(self) -> tuple[Array, Array, Array]:
        a = self.vx * self.vx + self.vy * self.vy
        b = 2.0 * (self.x * self.vx + self.y * self.vy)
        c = self.x * self.x + self.y * self.y
        return a, b, c

    @property
    def slant_quadratic(self) -> tuple[Array, Array, Array]:
        a, b, c = self.horizontal_quadratic
        return a + self.vz * self.vz, b + 2.0 * self.z * self.vz, c + self.z * self.z

    def at(self, tau: Array) -> tuple[Array, Array, Array]:
        return self.x + self.vx * tau, self.y + self.vy * tau, self.z + self.vz * tau

    def horizontal_at(self, tau: Array) -> Array:
        x, y, _ = self.at(tau)
        return np.hypot(x, y)

    def closure_at(self, tau: Array) -> Array:
        """Closing speed −d(slant)/dt at τ (the relative speed itself at a zero range)."""
        x, y, z = self.at(tau)
        slant = np.sqrt(x * x + y * y + z * z)
        dot = x * self.vx + y * self.vy + z * self.vz
        speed = np.sqrt(self.vx**2 + self.vy**2 + self.vz**2)
        return np.where(slant > 1e-9, -dot / np.where(slant > 1e-9, slant, 1.0), speed)

    def swept_between(self, lo: Array, hi: Array) -> Array:
        """Bearing change of b seen from a between τ=lo and τ=hi (0 where lo ≥ hi)."""
        nonempty = hi > lo
        # an empty range may carry infinite bounds: evaluate it at 0 and discard the result
        x0, y0, _ = self.at(np.where(nonempty, lo, 0.0))
        x1, y1, _ = self.at(np.where(nonempty, hi, 0.0))
        return np.where(nonempty, swept_angle(x0, y0, x1, y1), 0.0)


def overflight_possible(
    motion: Motion, lo: Array, hi: Array, horizontal_m: float, vertical_m: float
) -> BoolArray:
    """Whether within [lo, hi] one is ever directly above the other.

    Directly above: horizontal < ``horizontal_m``, vertical < ``vertical_m`` and vertical greater
    than horizontal. The last condition is ``z² − h² > 0``, a quadratic whose maximum on an
    interval is at an end or at its vertex.
    """
    a, b, c = motion.horizontal_quadratic
    h_lo, h_hi = quadratic_below(a, b, c, horizontal_m**2, motion.duration)
    v_lo, v_hi = linear_abs_below(motion.z, motion.vz, vertical_m, motion.duration)
    lo, hi = intersect((lo, hi), (h_lo, h_hi), (v_lo, v_hi))
    nonempty = hi > lo
    lo = np.where(nonempty, lo, 0.0)
    hi = np.where(nonempty, hi, 0.0)
    ga = motion.vz * motion.vz - a
    gb = 2.0 * motion.z * motion.vz - b
    gc = motion.z * motion.z - c
    hi_c = np.maximum(lo, hi)

    def g(tau: Array) -> Array:
        return ga * tau * tau + gb * tau + gc

    vertex = np.where(ga < -_EPS, -gb / (2.0 * np.where(ga < -_EPS, ga, -1.0)), lo)
    best = np.maximum(np.maximum(g(lo), g(hi_c)), g(np.clip(vertex, lo, hi_c)))
    return nonempty & (best > 0)


__all__ = [
    "Motion",
    "intersect",
    "linear_abs_below",
    "linear_below",
    "overflight_possible",
    "quadratic_below",
    "quadratic_min_on",
    "swept_angle",
]
