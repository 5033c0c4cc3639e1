"""The predictive warning: project both tracks ahead and measure the predicted approach.

Each track is projected from its last report on its current velocity (a straight line, or an arc
at its current turn rate when one is known) and its vertical rate; the look-ahead is cut into
short steps over which both move linearly, and those relative motions go through the archive
detector's own feature code (``subintervals.measure_motion``), episode aggregation and
classification. A pair is warned of when the predicted approach would be classed ``serious`` or
``high-risk``.
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from parley.encounters import kernel
from parley.encounters.classify import HIGH_RISK, SERIOUS, Features, classify
from parley.encounters.live_episodes import Columns, episode_features, parts_columns
from parley.encounters.live_state import TrackState
from parley.encounters.policy import Policy
from parley.encounters.subintervals import measure_motion
from parley.tracks.geo import METRES_PER_DEGREE

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Turn rates beyond this are noise (a fighter's sustained turn is about 20°/s at most).
MAX_TURN_DEG_S = 20.0
AIR_STEP_S = 1.0
#: Instants of the cheap first pass over the look-ahead.
COARSE_STEPS = 6
SEA_STEP_S = 20.0
_RANK = {SERIOUS: 1, HIGH_RISK: 2}
#: A predicted closest approach this close to now is the approach itself, not a warning.
PASSED_S = 1e-3


@dataclass(frozen=True, slots=True)
class Prediction:
    """The predicted approach of pair (i, j) (track slots) within the look-ahead."""

    i: int
    j: int
    kind: str
    severity: str
    reasons: tuple[str, ...]
    tcpa_s: float
    slant_m: float
    horizontal_m: float
    vertical_m: float
    lookahead_s: float

    @property
    def cpa_m(self) -> float:
        return self.slant_m if self.kind == "air-air" else self.horizontal_m


def projected(
    state: TrackState, slots: IntArray, now_us: int, step_s: float, steps: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """East and north metres from each track's last fix, and altitude, at now + k·step."""
    elapsed = (now_us - state.t_us[slots])[:, None] / 1e6 + step_s * np.arange(steps + 1)[None, :]
    speed = state.speed[slots]
    heading = np.radians(state.course[slots])
    turn = np.radians(np.clip(np.nan_to_num(state.turn[slots]), -MAX_TURN_DEG_S, MAX_TURN_DEG_S))
    east = (speed * np.sin(heading))[:, None] * elapsed
    north = (speed * np.cos(heading))[:, None] * elapsed
    # arcs only for the tracks that turn (most fly or sail straight)
    turning = np.flatnonzero(np.abs(turn) > 1e-6)
    if turning.size:
        omega, h0 = turn[turning][:, None], heading[turning][:, None]
        radius = speed[turning][:, None] / omega
        swept = h0 + omega * elapsed[turning]
        east[turning] = radius * (np.cos(h0) - np.cos(swept))
        north[turning] = radius * (np.sin(swept) - np.sin(h0))
    climb = np.where(state.is_air[slots], state.vrate[slots], 0.0)[:, None]
    alt = np.where(state.is_air[slots], state.alt[slots], 0.0)[:, None] + climb * elapsed
    return east, north, alt


def _serious_horizontal_m(
    kind: npt.NDArray[np.str_], civil: npt.NDArray[np.bool_], policy: Policy
) -> FloatArray:
    c = policy.classes
    return np.where(
        kind == "air-air",
        np.where(civil, c.air_air.civil_serious_horizontal_m, c.air_air.serious_slant_m),
        np.where(kind == "air-sea", c.air_sea.serious_pass_m, c.sea_sea.serious_horizontal_m),
    )


@dataclass(frozen=True, slots=True)
class _Motions:
    """The predicted relative motions of some pairs, step by step."""

    pair: IntArray  # index into the concatenated candidate pairs
    kind: npt.NDArray[np.str_]
    motion: kernel.Motion
    t0_us: FloatArray
    air_speed: FloatArray


def _relative_paths(
    state: TrackState, i: IntArray, j: IntArray, now_us: int, step: float, steps: int
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Relative east, north (b minus a) and both altitudes at now + k·step, k = 0..steps."""
    slots, inverse = np.unique(np.concatenate([i, j]), return_inverse=True)
    east, north, alt = projected(state, slots, now_us, step, steps)
    ia, ib = inverse[: i.size], inverse[i.size :]
    cos_mid = np.cos(np.radians((state.lat[i] + state.lat[j]) / 2.0))
    base_x = ((state.lon[j] - state.lon[i] + 180.0) % 360.0 - 180.0) * METRES_PER_DEGREE * cos_mid
    base_y = (state.lat[j] - state.lat[i]) * METRES_PER_DEGREE
    x = base_x[:, None] + east[ib] - east[ia]
    y = base_y[:, None] + north[ib] - north[ia]
    return x, y, alt[ia], alt[ib]


def _kind(state: TrackState, i: IntArray, j: IntArray) -> npt.NDArray[np.str_]:
    air_i, air_j = state.is_air[i], state.is_air[j]
    return np.where(air_i & air_j, "air-air", np.where(air_i | air_j, "air-sea", "sea-sea"))


def _may_come_close(
    state: TrackState,
    i: IntArray,
    j: IntArray,
    civil: npt.NDArray[np.bool_],
    now_us: int,
    lookahead: float,
    policy: Policy,
) -> npt.NDArray[np.bool_]:
    """A cheap first pass on a few instants of the projected paths.

    Between two instants Δt apart the distance can dip at most (v_a + v_b)·Δt/2 below the
    smaller of its two values, so a pair farther apart than that plus the serious distance at
    every instant cannot come that close.
    """
    steps = COARSE_STEPS
    step = lookahead / steps
    x, y, _, _ = _relative_paths(state, i, j, now_us, step, steps)
    slack = (state.speed[i] + state.speed[j]) * step / 2.0
    limit = _serious_horizontal_m(_kind(state, i, j), civil, policy) + slack
    return np.asarray(np.hypot(x, y).min(axis=1) < limit)


def _may_share_level(
    state: TrackState, i: IntArray, j: IntArray, now_us: int, lookahead: float, policy: Policy
) -> npt.NDArray[np.bool_]:
    """Whether the projected altitudes allow a moment inside the monitoring volume.

    Altitudes are projected on straight vertical lines (``projected``), so the vertical
    separation of two aircraft, and an aircraft's height over a ship, are extreme at the ends
    of the look-ahead: two aircraft a flight level apart or more at both ends (on the same
    side), or an aircraft above the air–sea ceiling at both ends, never enter the volume, and
    the feature code would find no moment to measure. A metre of margin keeps rounding on the
    side of looking.
    """
    margin = 1.0
    volumes = policy.volumes
    air_i, air_j = state.is_air[i], state.is_air[j]

    def altitude(slots: IntArray, ahead: float) -> FloatArray:
        climb = state.vrate[slots] * ((now_us - state.t_us[slots]) / 1e6 + ahead)
        return np.asarray(np.where(state.is_air[slots], state.alt[slots] + climb, 0.0))

    start_i, end_i = altitude(i, 0.0), altitude(i, lookahead)
    start_j, end_j = altitude(j, 0.0), altitude(j, lookahead)
    gap = volumes.air_air_vertical_m + margin
    apart = ((start_j - start_i > gap) & (end_j - end_i > gap)) | (
        (start_i - start_j > gap) & (end_i - end_j > gap)
    )
    ceiling = volumes.air_sea_max_altitude_m + margin
    above = np.where(
        air_i,
        (start_i > ceiling) & (end_i > ceiling),
        (start_j > ceiling) & (end_j > ceiling),
    )
    return np.asarray(np.where(air_i & air_j, ~apart, np.where(air_i | air_j, ~above, True)))


def _motions(
    state: TrackState,
    i: IntArray,
    j: IntArray,
    civil: npt.NDArray[np.bool_],
    now_us: int,
    policy: Policy,
    sea_sea: bool,
    offset: int,
) -> _Motions | None:
    lookahead = policy.warning.sea_lookahead_s if sea_sea else policy.warning.air_lookahead_s
    step = SEA_STEP_S if sea_sea else AIR_STEP_S
    steps = max(int(np.ceil(lookahead / step)), 1)
    step = lookahead / steps
    level = np.flatnonzero(_may_share_level(state, i, j, now_us, lookahead, policy))
    if level.size == 0:
        return None
    li, lj = i[level], j[level]
    p = level[_may_come_close(state, li, lj, civil[level], now_us, lookahead, policy)]
    if p.size == 0:
        return None
    x, y, alt_a, alt_b = _relative_paths(state, i[p], j[p], now_us, step, steps)
    kind = _kind(state, i[p], j[p])
    # the finer pass: the chord between two steps dips at most half a step's relative motion
    rel_speed = np.hypot(np.diff(x, axis=1), np.diff(y, axis=1)).max(axis=1) / step
    near = np.hypot(x, y).min(axis=1) < (
        _serious_horizontal_m(kind, civil[p], policy) + rel_speed * step
    )
    if not near.any():
        return None
    p, x, y, kind, alt_a, alt_b = p[near], x[near], y[near], kind[near], alt_a[near], alt_b[near]
    air_a = state.is_air[i[p]]
    z = np.where(
        (kind == "air-air")[:, None], alt_b - alt_a, np.where(air_a[:, None], alt_a, alt_b)
    )
    n, k = p.size, steps
    motion = kernel.Motion(
        duration=np.full(n * k, step),
        x=x[:, :-1].ravel(),
        y=y[:, :-1].ravel(),
        z=z[:, :-1].ravel(),
        vx=(np.diff(x, axis=1) / step).ravel(),
        vy=(np.diff(y, axis=1) / step).ravel(),
        vz=(np.diff(z, axis=1) / step).ravel(),
    )
    return _Motions(
        pair=np.repeat(p + offset, k),
        kind=np.repeat(kind, k),
        motion=motion,
        t0_us=np.tile(np.arange(k) * step * 1e6, n),
        air_speed=np.repeat(np.where(air_a, state.speed[i[p]], state.speed[j[p]]), k),
    )


def predict(
    state: TrackState,
    candidates: list[tuple[IntArray, IntArray, npt.NDArray[np.bool_], bool]],
    now_us: int,
    policy: Policy,
) -> list[Prediction]:
    """Predictions reaching a warning class, for candidate sets (i, j, civil, ships only)."""
    parts: list[_Motions] = []
    offset = 0
    for i, j, civil, sea_sea in candidates:
        if i.size:
            found = _motions(state, i, j, civil, now_us, policy, sea_sea, offset)
            if found is not None:
                parts.append(found)
        offset += i.size
    if not parts:
        return []
    all_i = np.concatenate([c[0] for c in candidates])
    all_j = np.concatenate([c[1] for c in candidates])
    all_civil = np.concatenate([c[2] for c in candidates])
    lookahead = np.concatenate(
        [
            np.full(
                c[0].size,
                policy.warning.sea_lookahead_s if c[3] else policy.warning.air_lookahead_s,
            )
            for c in candidates
        ]
    )

    def joined(name: str) -> FloatArray:
        return np.concatenate([getattr(m.motion, name) for m in parts])

    motion = kernel.Motion(*(joined(f) for f in ("duration", "x", "y", "z", "vx", "vy", "vz")))
    pair = np.concatenate([m.pair for m in parts])
    kind = np.concatenate([m.kind for m in parts])
    is_air_sea = kind == "air-sea"
    frame = pl.DataFrame(
        {"a": np.arange(all_i.size), "b": np.arange(all_i.size), "civil_safety": all_civil}
    )
    measured = measure_motion(
        frame,
        pair,
        np.concatenate([m.t0_us for m in parts]),
        motion,
        kind,
        np.where(is_air_sea, motion.z, 0.0),
        np.where(is_air_sea, motion.vz, 0.0),
        np.concatenate([m.air_speed for m in parts]),
        policy,
    )
    if measured.height == 0:
        return []
    episodes = episode_features(parts_columns(measured), policy)
    return _classified(episodes, all_i, all_j, lookahead, policy)


def _features(episodes: Columns) -> list[tuple[int, float, float, float, float, Features]]:
    """Per episode: (pair, cpa time, min slant, min horizontal, vertical at cpa, features)."""
    e = {name: values.tolist() for name, values in episodes.items()}
    return [
        (
            int(e["a"][k]),
            float(e["cpa_time"][k]),
            float(e["min_slant_m"][k]),
            float(e["min_horizontal_m"][k]),
            float(e["vertical_m"][k]),
            Features(
                kind=str(e["kind"][k]),
                civil_safety=bool(e["civil_safety"][k]),
                min_slant_m=float(e["min_slant_m"][k]),
                min_horizontal_m=float(e["min_horizontal_m"][k]),
                max_closure_mps=float(e["max_closure_mps"][k]),
                passes=int(e["passes"][k]),
                orbits_low=int(e["orbits_low"][k]),
                overflight=bool(e["overflight"][k]),
                low_fast_pass=bool(e["low_fast_pass"][k]),
                low_close_pass=bool(e["low_close_pass"][k]),
            ),
        )
        for k in range(len(e["a"]))
    ]


def _classified(
    episodes: Columns,
    i: IntArray,
    j: IntArray,
    lookahead: FloatArray,
    policy: Policy,
) -> list[Prediction]:
    best: dict[int, Prediction] = {}
    for pair, cpa_time, slant_m, horizontal_m, vertical_m, features in _features(episodes):
        severity, reasons = classify(features, policy)
        if severity not in _RANK or cpa_time <= PASSED_S:
            continue  # nothing to warn of, or the closest approach is now: it is passing
        candidate = Prediction(
            i=int(i[pair]),
            j=int(j[pair]),
            kind=features.kind,
            severity=severity,
            reasons=tuple(reasons),
            tcpa_s=cpa_time,
            slant_m=slant_m,
            horizontal_m=horizontal_m,
            vertical_m=vertical_m,
            lookahead_s=float(lookahead[pair]),
        )
        held = best.get(pair)
        if held is None or (_RANK[severity], -candidate.tcpa_s) > (
            _RANK[held.severity],
            -held.tcpa_s,
        ):
            best[pair] = candidate
    return list(best.values())


__all__ = ["MAX_TURN_DEG_S", "Prediction", "predict", "projected"]
