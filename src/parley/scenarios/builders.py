"""Track builders: canonical track frames whose geometry is known exactly (scenarios and tests).

Every builder describes a path analytically in the local east/north plane of an origin (the plane
of :mod:`parley.tracks.geo`, the one the detector uses) and samples it at chosen instants, so a test
knows the true closest approach, the number of passes or orbits, without measuring it.

Times given to a path are seconds after the builder's ``start`` (a tz-aware UTC datetime). A mover
defined around another one (:func:`orbit`, :func:`passes`, :func:`relative_to`,
:func:`barrel_roll`) is placed by its offset in the plane tangent at the other's current position,
so the distance between the two is exact in any local plane near the pair.
``speed_mps``, ``course_deg`` and ``vrate_mps`` are the true values for :func:`straight` and are
derived from the path (a central difference around each sample instant) for the other builders.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

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
from parley.tracks.geo import FloatArray, offset_position
from parley.tracks.schema import conform

BUILDER_SOURCE = "builder"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DERIVATIVE_STEP_S = 1e-3
_STATIONARY_MPS = 1e-6


@dataclass(frozen=True, slots=True)
class _Identity:
    track: str
    side: str | None
    domain: str
    transponder: str
    callsign: str | None
    type: str | None


def sample_times(duration_s: float, step_s: float, time_offset_s: float = 0.0) -> FloatArray:
    """Sample instants ``time_offset_s + k * step_s`` (seconds after start) within the duration."""
    if step_s <= 0:
        raise ValueError(f"step_s must be positive, got {step_s}")
    if duration_s < time_offset_s:
        raise ValueError(
            f"duration_s ({duration_s}) is shorter than time_offset_s ({time_offset_s})"
        )
    count = math.floor((duration_s - time_offset_s) / step_s + 1e-9) + 1
    return time_offset_s + step_s * np.arange(count, dtype=np.float64)


def _time_column(start: datetime, times_s: FloatArray) -> pl.Series:
    start_us = (require_utc(start) - _EPOCH) // timedelta(microseconds=1)
    micros = start_us + np.round(np.asarray(times_s) * 1e6).astype(np.int64)
    return pl.from_epoch(pl.Series("time", micros), time_unit="us").dt.replace_time_zone("UTC")


def _derived_kinematics(
    path: PathFunction, times_s: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Ground speed, course and vertical rate at each instant, by a central difference."""
    h = _DERIVATIVE_STEP_S
    east_after, north_after, alt_after = path(times_s + h)
    east_before, north_before, alt_before = path(times_s - h)
    v_east = (east_after - east_before) / (2 * h)
    v_north = (north_after - north_before) / (2 * h)
    speed = np.hypot(v_east, v_north)
    course = np.degrees(np.arctan2(v_east, v_north)) % 360.0
    course = np.where(speed < _STATIONARY_MPS, np.nan, course)
    return speed, course, (alt_after - alt_before) / (2 * h)


def _frame(
    who: _Identity,
    *,
    start: datetime,
    origin: tuple[float, float],
    times_s: FloatArray,
    path: PathFunction,
    anchor: PathFunction | None = None,
) -> pl.DataFrame:
    times_s = np.asarray(times_s, dtype=np.float64)
    east, north, alt = path(times_s)
    if anchor is None:
        lat, lon = offset_position(origin[0], origin[1], east, north)
    else:
        lat, lon = _offset_from_anchor(origin, anchor(times_s), east, north)
    speed, course, vrate = _derived_kinematics(path, times_s)
    frame = pl.DataFrame(
        {
            "time": _time_column(start, times_s),
            "track": [who.track] * times_s.size,
            "side": pl.Series([who.side] * times_s.size, dtype=pl.String),
            "domain": [who.domain] * times_s.size,
            "lat": lat,
            "lon": lon,
            "alt_m": np.broadcast_to(alt, times_s.shape).astype(np.float64),
            "speed_mps": speed,
            "course_deg": pl.Series(course).fill_nan(None),
            "vrate_mps": vrate,
            "transponder": [who.transponder] * times_s.size,
            "callsign": pl.Series([who.callsign] * times_s.size, dtype=pl.String),
            "type": pl.Series([who.type] * times_s.size, dtype=pl.String),
            "source": [BUILDER_SOURCE] * times_s.size,
        }
    )
    return conform(frame, keep_line=False)


def _offset_from_anchor(
    origin: tuple[float, float],
    anchor: tuple[FloatArray, FloatArray, FloatArray],
    east: FloatArray,
    north: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Place a mover by its offset from the anchor, in the plane tangent at the anchor.

    A single plane around ``origin`` stretches east-west distances by cos(lat)/cos(lat0) once a
    pair has moved away from ``origin``'s latitude; measured from the anchor's own position, the
    offset is exact in any local plane near the pair (as a detector uses).
    """
    anchor_east, anchor_north, _ = anchor
    anchor_lat, anchor_lon = offset_position(origin[0], origin[1], anchor_east, anchor_north)
    return offset_position(anchor_lat, anchor_lon, east - anchor_east, north - anchor_north)


def from_function(
    track: str,
    *,
    start: datetime,
    origin: tuple[float, float],
    times_s: FloatArray | Sequence[float],
    path: PathFunction,
    side: str | None,
    domain: str,
    transponder: str = "on",
    callsign: str | None = None,
    type: str | None = None,
) -> pl.DataFrame:
    """A track sampled at ``times_s`` (seconds after ``start``) along ``path`` around ``origin``."""
    who = _Identity(track, side, domain, transponder, callsign, type)
    times = np.asarray(times_s, dtype=np.float64)
    return _frame(who, start=start, origin=origin, times_s=times, path=path)


def straight(
    track: str,
    *,
    start: datetime,
    origin: tuple[float, float],
    east_m: float = 0.0,
    north_m: float = 0.0,
    alt_m: float,
    speed_mps: float,
    course_deg: float,
    duration_s: float,
    step_s: float,
    vrate_mps: float = 0.0,
    side: str | None,
    domain: str,
    transponder: str = "on",
    callsign: str | None = None,
    type: str | None = None,
    time_offset_s: float = 0.0,
) -> pl.DataFrame:
    """A constant-velocity line starting ``east_m``/``north_m`` from ``origin`` at ``start``.

    Samples fall at ``start + time_offset_s + k * step_s`` up to ``start + duration_s``; the
    kinematic columns carry the true constant values.
    """
    motion = Straight(start, origin, east_m, north_m, alt_m, speed_mps, course_deg, vrate_mps)
    return straight_track(
        track,
        motion,
        duration_s=duration_s,
        step_s=step_s,
        side=side,
        domain=domain,
        transponder=transponder,
        callsign=callsign,
        type=type,
        time_offset_s=time_offset_s,
    )


def straight_track(
    track: str,
    motion: Straight,
    *,
    duration_s: float,
    step_s: float,
    side: str | None,
    domain: str,
    transponder: str = "on",
    callsign: str | None = None,
    type: str | None = None,
    time_offset_s: float = 0.0,
) -> pl.DataFrame:
    """The frame of an existing :class:`Straight` motion (for a target other builders also use)."""
    who = _Identity(track, side, domain, transponder, callsign, type)
    times = sample_times(duration_s, step_s, time_offset_s)
    frame = _frame(who, start=motion.start, origin=motion.origin, times_s=times, path=motion.at)
    return frame.with_columns(
        pl.lit(motion.speed_mps, dtype=pl.Float64).alias("speed_mps"),
        pl.lit(motion.course_deg % 360.0, dtype=pl.Float64).alias("course_deg"),
        pl.lit(motion.vrate_mps, dtype=pl.Float64).alias("vrate_mps"),
    )


def orbit_duration_s(radius_m: float, speed_mps: float, turns: float) -> float:
    """Time to fly ``turns`` circles of ``radius_m`` at ``speed_mps`` relative to the centre."""
    return turns * 2 * math.pi * radius_m / speed_mps


def orbit(
    track: str,
    *,
    start: datetime,
    center: tuple[float, float] | Straight,
    center_velocity: tuple[float, float] = (0.0, 0.0),
    radius_m: float,
    alt_m: float,
    speed_mps: float,
    turns: float,
    clockwise: bool = True,
    start_bearing_deg: float = 0.0,
    step_s: float = 1.0,
    side: str | None,
    domain: str = "air",
    transponder: str = "on",
    callsign: str | None = None,
    type: str | None = None,
    time_offset_s: float = 0.0,
) -> pl.DataFrame:
    """Circles of ``radius_m`` around a centre that may move (a ship under way).

    ``center`` is a fixed position moving at ``center_velocity`` (east, north m/s) from ``start``,
    or a :class:`Straight` (the ship's own motion, so both tracks share its plane exactly).
    ``speed_mps`` is the speed relative to the centre; ``start_bearing_deg`` is the bearing of the
    mover from the centre at ``start``; clockwise means the bearing increases.
    """
    if radius_m <= 0 or speed_mps <= 0 or turns <= 0:
        raise ValueError("radius_m, speed_mps and turns must be positive")
    if isinstance(center, Straight):
        if center_velocity != (0.0, 0.0):
            raise ValueError("give center_velocity only with a fixed (lat, lon) center")
        centre = center
    else:
        v_east, v_north = center_velocity
        centre = Straight(
            start,
            center,
            speed_mps=math.hypot(v_east, v_north),
            course_deg=math.degrees(math.atan2(v_east, v_north)),
        )
    t0 = centre.seconds_since_start(start)
    rate = (1.0 if clockwise else -1.0) * speed_mps / radius_m

    def path(t: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        east, north, _ = centre.at(t)
        bearing = math.radians(start_bearing_deg) + rate * (t - t0)
        return east + radius_m * np.sin(bearing), north + radius_m * np.cos(bearing), alt_m + 0 * t

    duration = orbit_duration_s(radius_m, speed_mps, turns)
    who = _Identity(track, side, domain, transponder, callsign, type)
    times = t0 + sample_times(duration, step_s, time_offset_s)
    return _frame(
        who, start=centre.start, origin=centre.origin, times_s=times, path=path, anchor=centre.at
    )


def passes(
    track: str,
    *,
    target: Straight,
    count: int,
    closest_m: float,
    alt_m: float,
    speed_mps: float,
    leg_m: float,
    start: datetime | None = None,
    turn_radius_m: float = 2000.0,
    pass_on_right: bool = True,
    first_run_with_target: bool = False,
    step_s: float = 1.0,
    side: str | None,
    domain: str = "air",
    transponder: str = "on",
    callsign: str | None = None,
    type: str | None = None,
    time_offset_s: float = 0.0,
) -> pl.DataFrame:
    """Exactly ``count`` straight passes ``closest_m`` abeam of a moving target, at ``alt_m``.

    The first run starts ``leg_m`` before the target (from ahead of it unless
    ``first_run_with_target``); each run ends ``leg_m`` beyond it, where the aircraft turns back.
    Choose ``leg_m`` above 1.5 × the pass radius of the pair (1,371 m air–sea) so that the distance
    rises between passes and each run counts as one pass.
    """
    begin = target.start if start is None else start
    plan = plan_passes(
        target,
        t_begin=target.seconds_since_start(begin),
        count=count,
        closest_m=closest_m,
        alt_m=alt_m,
        speed_mps=speed_mps,
        leg_m=leg_m,
        turn_radius_m=turn_radius_m,
        pass_on_right=pass_on_right,
        first_run_with_target=first_run_with_target,
    )
    return pass_track(
        track,
        target,
        plan,
        step_s=step_s,
        side=side,
        domain=domain,
        transponder=transponder,
        callsign=callsign,
        type=type,
        time_offset_s=time_offset_s,
    )


def pass_track(
    track: str,
    target: Straight,
    plan: PassPlan,
    *,
    step_s: float = 1.0,
    side: str | None,
    domain: str = "air",
    transponder: str = "on",
    callsign: str | None = None,
    type: str | None = None,
    time_offset_s: float = 0.0,
) -> pl.DataFrame:
    """The frame of a :class:`PassPlan` (from :func:`plan_passes`) past ``target``."""
    who = _Identity(track, side, domain, transponder, callsign, type)
    times = plan.t_start + sample_times(plan.t_end - plan.t_start, step_s, time_offset_s)
    return _frame(
        who,
        start=target.start,
        origin=target.origin,
        times_s=times,
        path=plan.path,
        anchor=target.at,
    )


# --- flying relative to another aircraft ------------------------------------------------------


def relative_to(
    track: str,
    *,
    leader: Straight,
    offsets: OffsetFunction,
    duration_s: float,
    start: datetime | None = None,
    step_s: float = 1.0,
    side: str | None,
    domain: str = "air",
    transponder: str = "on",
    callsign: str | None = None,
    type: str | None = None,
    time_offset_s: float = 0.0,
) -> pl.DataFrame:
    """A follower placed by ``offsets`` (right, ahead, up of the leader's heading) over time.

    ``offsets`` takes seconds after the follower's ``start`` (default: the leader's start).
    """
    begin = leader.start if start is None else start
    t_begin = leader.seconds_since_start(begin)
    forward = heading(leader.course_deg)
    right_unit = forward * -1j

    def path(t: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        east, north, alt = leader.at(t)
        right, ahead, up = offsets(np.asarray(t) - t_begin)
        where = east + 1j * north + ahead * forward + right * right_unit
        return where.real.copy(), where.imag.copy(), alt + up

    who = _Identity(track, side, domain, transponder, callsign, type)
    times = t_begin + sample_times(duration_s, step_s, time_offset_s)
    return _frame(
        who, start=leader.start, origin=leader.origin, times_s=times, path=path, anchor=leader.at
    )


def barrel_roll(
    track: str,
    *,
    around: Straight,
    roll: BarrelRoll | None = None,
    start: datetime | None = None,
    step_s: float = 1.0,
    side: str | None,
    domain: str = "air",
    transponder: str = "on",
    callsign: str | None = None,
    type: str | None = None,
    time_offset_s: float = 0.0,
) -> pl.DataFrame:
    """A fighter flying ``roll`` (default :class:`BarrelRoll`) around the aircraft ``around``."""
    manoeuvre = BarrelRoll() if roll is None else roll
    return relative_to(
        track,
        leader=around,
        offsets=manoeuvre.offsets,
        duration_s=manoeuvre.duration_s,
        start=start,
        step_s=step_s,
        side=side,
        domain=domain,
        transponder=transponder,
        callsign=callsign,
        type=type,
        time_offset_s=time_offset_s,
    )


def concat_tracks(*frames: pl.DataFrame) -> pl.DataFrame:
    """Several track frames as one, sorted by time (then track)."""
    if not frames:
        raise ValueError("concat_tracks needs at least one frame")
    return pl.concat(frames, how="vertical").sort(["time", "track"], maintain_order=True)


__all__ = [
    "BUILDER_SOURCE",
    "BarrelRoll",
    "OffsetFunction",
    "PassPlan",
    "PathFunction",
    "Straight",
    "barrel_roll",
    "concat_tracks",
    "ease",
    "eased",
    "from_function",
    "orbit",
    "orbit_duration_s",
    "pass_track",
    "passes",
    "plan_passes",
    "relative_to",
    "sample_times",
    "straight",
    "straight_track",
]
