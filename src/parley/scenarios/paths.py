"""Analytic paths in a local east/north plane: the geometry behind the track builders.

Positions here are metres east/north of an origin in the plane of :mod:`parley.tracks.geo`; times
are seconds after a motion's ``start``. Inside the plane a position is often a complex number
``east + 1j * north`` and a heading a unit complex number.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from parley.tracks.geo import FloatArray, offset_position
from parley.tracks.units import feet_to_m

#: A path: seconds after start -> (east m, north m, altitude m), vectorised.
PathFunction = Callable[[FloatArray], tuple[FloatArray, FloatArray, FloatArray]]
#: Offsets from a leader, seconds after the follower's start -> (right m, ahead m, up m).
OffsetFunction = Callable[[FloatArray], tuple[FloatArray, FloatArray, FloatArray]]
ComplexArray = npt.NDArray[np.complex128]


def require_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} must be timezone-aware (UTC)")
    return moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Straight:
    """Constant-velocity motion: ``east_m``/``north_m`` from ``origin`` at ``start``."""

    start: datetime
    origin: tuple[float, float]
    east_m: float = 0.0
    north_m: float = 0.0
    alt_m: float = 0.0
    speed_mps: float = 0.0
    course_deg: float = 0.0
    vrate_mps: float = 0.0

    @property
    def velocity(self) -> tuple[float, float]:
        """East and north ground velocity, m/s."""
        course = math.radians(self.course_deg)
        return self.speed_mps * math.sin(course), self.speed_mps * math.cos(course)

    def at(self, t_s: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Position (east, north, alt) ``t_s`` seconds after ``start``, in ``origin``'s plane."""
        t = np.asarray(t_s, dtype=np.float64)
        v_east, v_north = self.velocity
        return (
            self.east_m + v_east * t,
            self.north_m + v_north * t,
            self.alt_m + self.vrate_mps * t,
        )

    def seconds_since_start(self, moment: datetime) -> float:
        return (require_utc(moment) - self.start).total_seconds()

    def position_at(self, moment: datetime) -> tuple[float, float]:
        """Latitude and longitude at ``moment``."""
        east, north, _ = self.at(np.array([self.seconds_since_start(moment)]))
        lat, lon = offset_position(self.origin[0], self.origin[1], east, north)
        return float(lat[0]), float(lon[0])


def heading(course_deg: float) -> complex:
    """The unit vector of a compass course, as ``east + 1j * north``."""
    course = math.radians(course_deg)
    return complex(math.sin(course), math.cos(course))


def _along(vector: complex, unit: complex) -> float:
    return (vector * unit.conjugate()).real


# --- repeated passes: straight runs joined by constant-speed turns ----------------------------


@dataclass(frozen=True, slots=True)
class _Line:
    t0: float
    t1: float
    p0: complex
    velocity: complex

    def at(self, t: FloatArray) -> ComplexArray:
        return np.asarray(self.p0 + self.velocity * (t - self.t0), dtype=np.complex128)

    def end(self) -> tuple[complex, complex]:
        """Position and heading at ``t1``."""
        return self.p0 + self.velocity * (self.t1 - self.t0), self.velocity / abs(self.velocity)


@dataclass(frozen=True, slots=True)
class _Arc:
    t0: float
    t1: float
    center: complex
    radius_vector: complex  # from the centre to the mover at t0
    rate: float  # rad/s, counter-clockwise positive

    @classmethod
    def turn(
        cls,
        t0: float,
        position: complex,
        course: complex,
        *,
        left: bool,
        angle_rad: float,
        radius_m: float,
        speed_mps: float,
    ) -> "_Arc":
        centre = position + radius_m * (1j if left else -1j) * course
        rate = (1.0 if left else -1.0) * speed_mps / radius_m
        return cls(t0, t0 + angle_rad * radius_m / speed_mps, centre, position - centre, rate)

    def at(self, t: FloatArray) -> ComplexArray:
        swing = np.exp(1j * self.rate * (t - self.t0))
        return np.asarray(self.center + self.radius_vector * swing, dtype=np.complex128)

    def end(self) -> tuple[complex, complex]:
        radius = complex(self.radius_vector * np.exp(1j * self.rate * (self.t1 - self.t0)))
        tangent = radius * (1j if self.rate > 0 else -1j)
        return self.center + radius, tangent / abs(tangent)


@dataclass(frozen=True, slots=True)
class PassPlan:
    """Runs past a moving target: the path, and the instant of each pass's closest approach."""

    segments: tuple[_Line | _Arc, ...]
    cpa_times_s: tuple[float, ...]
    alt_m: float

    @property
    def t_start(self) -> float:
        return self.segments[0].t0

    @property
    def t_end(self) -> float:
        return self.segments[-1].t1

    def path(self, t: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """A :data:`PathFunction` (constant altitude)."""
        times = np.asarray(t, dtype=np.float64)
        ends = np.array([segment.t1 for segment in self.segments])
        index = np.clip(np.searchsorted(ends, times, side="left"), 0, len(self.segments) - 1)
        where = np.empty(times.shape, dtype=np.complex128)
        for i, segment in enumerate(self.segments):
            mask = index == i
            where[mask] = segment.at(times[mask])
        return where.real.copy(), where.imag.copy(), np.full(times.shape, self.alt_m)


def plan_passes(
    target: Straight,
    *,
    t_begin: float,
    count: int,
    closest_m: float,
    alt_m: float,
    speed_mps: float,
    leg_m: float,
    turn_radius_m: float,
    pass_on_right: bool,
    first_run_with_target: bool,
) -> PassPlan:
    """``count`` runs along the target's course line, joined by teardrop turns beyond ``leg_m``.

    Each run lies on the line ``closest_m`` abeam of the target's track, so the horizontal
    closest approach of every run is exactly ``closest_m`` (the target moves along that line's
    direction). A teardrop turn (90° away from the target, then 270° back) ends on the same line
    flying the other way, ``2 * turn_radius_m`` beyond where it began. The first run starts
    ``leg_m`` before the target at ``t_begin``; every run ends ``leg_m`` beyond it.
    """
    if count < 1 or leg_m <= closest_m or speed_mps <= 0 or turn_radius_m <= 0:
        raise ValueError("need count >= 1, leg_m > closest_m and positive speed and turn radius")
    along = heading(target.course_deg)
    abeam = along * (-1j if pass_on_right else 1j)
    direction = 1.0 if first_run_with_target else -1.0
    position = _target_at(target, t_begin) - direction * leg_m * along + closest_m * abeam
    t = t_begin
    segments: list[_Line | _Arc] = []
    cpa_times: list[float] = []
    for run in range(count):
        relative = _along(position - _target_at(target, t), along)
        closing = speed_mps * direction - target.speed_mps
        if direction * relative >= 0 or direction * closing <= 0:
            raise ValueError("the target outruns the turns: raise speed_mps or leg_m")
        cpa_times.append(t - relative / closing)
        run_s = (direction * leg_m - relative) / closing
        segments.append(_Line(t, t + run_s, position, speed_mps * direction * along))
        position, course = segments[-1].end()
        t += run_s
        if run == count - 1:
            break
        away_is_left = _along(abeam, course * 1j) > 0
        for left, angle in ((away_is_left, math.pi / 2), (not away_is_left, 1.5 * math.pi)):
            arc = _Arc.turn(
                t,
                position,
                course,
                left=left,
                angle_rad=angle,
                radius_m=turn_radius_m,
                speed_mps=speed_mps,
            )
            segments.append(arc)
            position, course = arc.end()
            t = arc.t1
        direction = -direction
    return PassPlan(tuple(segments), tuple(cpa_times), alt_m)


def _target_at(target: Straight, t: float) -> complex:
    east, north, _ = target.at(np.array([t]))
    return complex(east[0], north[0])


# --- smooth changes and flying relative to another aircraft -----------------------------------


def ease(fraction: FloatArray | float) -> FloatArray:
    """0 -> 1 as ``fraction`` goes 0 -> 1, with zero rate at both ends (a half cosine)."""
    clipped = np.clip(fraction, 0.0, 1.0)
    return np.asarray((1.0 - np.cos(np.pi * clipped)) / 2.0, dtype=np.float64)


def eased(t: FloatArray, t0: float, t1: float, value0: float, value1: float) -> FloatArray:
    """``value0`` before ``t0``, ``value1`` after ``t1``, a smooth change in between."""
    if t1 <= t0:
        return np.where(np.asarray(t) < t0, value0, value1).astype(np.float64)
    return value0 + (value1 - value0) * ease((np.asarray(t) - t0) / (t1 - t0))


@dataclass(frozen=True, slots=True)
class BarrelRoll:
    """A fighter's offsets from another aircraft: join on its left, roll over it to its right.

    It joins from ``join_from_m`` on the left (a smooth, slowing approach over ``join_s``), flies
    ``radius_m`` off the left side for ``beside_s``, rolls through half a helix of ``radius_m``
    around the other's flight path in ``roll_s`` (directly above it at :attr:`top_s`) and flies
    ``radius_m`` off the right side for ``after_s``; ``along_m`` puts it ahead (+) or behind (−)
    of abeam. It never comes closer than ``radius_m``.
    """

    radius_m: float = feet_to_m(50)
    join_from_m: float = 600.0
    join_s: float = 90.0
    beside_s: float = 30.0
    roll_s: float = 10.0
    after_s: float = 30.0
    along_m: float = 0.0

    def __post_init__(self) -> None:
        if self.radius_m <= 0 or self.roll_s <= 0 or self.join_from_m < self.radius_m:
            raise ValueError("need radius_m > 0, roll_s > 0 and join_from_m >= radius_m")

    @property
    def roll_start_s(self) -> float:
        return self.join_s + self.beside_s

    @property
    def top_s(self) -> float:
        """Seconds after the start when the fighter is directly above the other aircraft."""
        return self.roll_start_s + self.roll_s / 2

    @property
    def duration_s(self) -> float:
        return self.join_s + self.beside_s + self.roll_s + self.after_s

    def offsets(self, t: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        left = eased(t, 0.0, self.join_s, self.join_from_m, self.radius_m)
        roll_angle = np.pi * ease((np.asarray(t) - self.roll_start_s) / self.roll_s)
        rolling = np.asarray(t) >= self.roll_start_s
        right = np.where(rolling, -self.radius_m * np.cos(roll_angle), -left)
        up = np.where(rolling, self.radius_m * np.sin(roll_angle), 0.0)
        return right, np.full(np.shape(t), self.along_m), up


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
