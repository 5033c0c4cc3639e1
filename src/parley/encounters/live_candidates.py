"""Which live pairs to look at: examined groups, the grid, the watch and the warning boxes.

Tracks fall into groups (side, air or sea, dark or lit) and the policy's ``eligible_pairs`` (the
archive detector's own function) says which groups are examined against which. Every batch, each
live track gets two boxes: where it was since the earliest segment the batch completes (its
recent reports from the ring: every segment it flew then lies inside) and where it may go (its
projection over the look-ahead). The grid
joins the union of both, bipartite by examined groups. A pair is *watched* (its reports kept for
the archive detector) when its "where it was" boxes come inside the monitoring volume, exactly
the test ``candidates.py`` applies to the segments of a time slice.
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from parley.encounters.detector import eligible_pairs
from parley.encounters.live_grid import box_gap_m, grid_pairs
from parley.encounters.live_state import TrackState
from parley.encounters.policy import Policy
from parley.tracks.geo import METRES_PER_DEGREE

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
#: lat_lo, lat_hi, lon_lo, lon_hi, alt_lo, alt_hi per track slot
Boxes = tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]


class Groups:
    """Group codes of the tracks and the examined pairs of groups (grows as sides appear)."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.keys: list[int] = []  # side code * 4 + air * 2 + dark
        self.eligible = np.zeros((0, 0), dtype=bool)
        self.civil = np.zeros((0, 0), dtype=bool)
        self.air = np.zeros(0, dtype=bool)
        self._lookup = np.full(0, -1, dtype=np.int64)

    def codes(self, state: TrackState) -> IntArray:
        """Each track's group code, registering groups not seen before."""
        n = len(state)
        key = state.side[:n] * 4 + state.is_air[:n] * 2 + state.dark[:n]
        if key.size and (key.max() >= self._lookup.size or (self._lookup[key] < 0).any()):
            self._register(np.unique(key), state)
        return self._lookup[key] if n else np.zeros(0, dtype=np.int64)

    def _register(self, keys: IntArray, state: TrackState) -> None:
        for key in keys.tolist():
            if key not in self.keys:
                self.keys.append(key)
        self._lookup = np.full(max(self.keys) + 1, -1, dtype=np.int64)
        self._lookup[self.keys] = np.arange(len(self.keys))
        labels = [(state.sides[k // 4], "air" if k & 2 else "sea", bool(k & 1)) for k in self.keys]
        frame = pl.DataFrame(labels, schema=["side", "domain", "dark"], orient="row")
        examined = eligible_pairs(frame, self.policy)
        index = {f"{s}|{d}|{'dark' if dark else 'lit'}": g for g, (s, d, dark) in enumerate(labels)}
        size = len(self.keys)
        self.eligible = np.zeros((size, size), dtype=bool)
        self.civil = np.zeros((size, size), dtype=bool)
        for a, b, civil in examined.select("group_a", "group_b", "civil_safety").iter_rows():
            g, h = index[a], index[b]
            self.eligible[g, h] = self.eligible[h, g] = True
            self.civil[g, h] = self.civil[h, g] = bool(civil)
        self.air = np.array([bool(k & 2) for k in self.keys])


@dataclass(frozen=True, slots=True)
class Candidates:
    """Pairs of track slots (i < j) near enough to look at, and what to do with them."""

    i: IntArray
    j: IntArray
    civil: BoolArray  # a civil-safety pair
    watch: BoolArray  # came inside the monitoring volume during the batch


def recent_boxes(state: TrackState, since_us: int) -> Boxes:
    """Where each track was since ``since_us`` (the earliest segment the batch completes)."""
    n = len(state)
    return state.recent.boxes(
        n,
        since_us,
        state.is_air[:n],
        (state.lat, state.lon, state.alt, state.t_us),
        (state.prev_lat, state.prev_lon, state.prev_alt, state.prev_t_us),
    )


def _projected_boxes(
    state: TrackState, recent: Boxes, now_us: int, lookahead_s: float
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """The recent boxes stretched to each track's straight projection over the look-ahead."""
    n = len(state)
    lat_lo, lat_hi, lon_lo, lon_hi = recent[:4]
    ahead = (now_us - state.t_us[:n]) / 1e6 + lookahead_s
    lat, lon = state.lat[:n], state.lon[:n]
    cos = np.cos(np.radians(np.clip(lat, -89.0, 89.0)))
    lat_end = lat + state.vy[:n] * ahead / METRES_PER_DEGREE
    lon_end = lon + state.vx[:n] * ahead / (METRES_PER_DEGREE * cos)
    return (
        np.minimum(lat_lo, lat_end),
        np.maximum(lat_hi, lat_end),
        np.minimum(lon_lo, lon_end),
        np.maximum(lon_hi, lon_end),
    )


def find_candidates(
    state: TrackState,
    groups: Groups,
    recent: Boxes,
    active: BoolArray,
    now_us: int,
    policy: Policy,
) -> tuple[Candidates, Candidates]:
    """Pairs with an aircraft, and pairs of ships, whose boxes come near.

    A pair with an aircraft is near when the boxes of where both tracks were and may go within
    the air look-ahead (60 s) come within the air volume's radius; a pair of ships, with the
    ships' look-ahead (20 min) and the sea volume's radius. One grid finds both: each track is
    filed with its widest box (a ship's 20-minute projection holds its 60-second one), two ships
    are searched with the sea radius and every other pair with the air one, and the pairs found
    are then held to their own set's boxes, which gives exactly each set's pairs.

    Only pairs with an ``active`` track (one that reported in the batch) are looked at: the
    others have no new segment and no new velocity since they were last looked at.
    """
    n = len(state)
    volumes, gaps, warning = policy.volumes, policy.gaps, policy.warning
    is_air = state.is_air[:n]
    gap_s = np.where(is_air, gaps.air_max_gap_s, gaps.sea_max_gap_s)
    live = (state.t_us[:n] >= 0) & (now_us - state.t_us[:n] <= gap_s * 1e6)
    code = np.where(live, groups.codes(state), -1)
    air_radius = max(volumes.air_air_horizontal_m, volumes.air_sea_horizontal_m)
    sea_radius = volumes.sea_sea_horizontal_m
    air_boxes = _projected_boxes(state, recent, now_us, warning.air_lookahead_s)
    sea_boxes = _projected_boxes(state, recent, now_us, warning.sea_lookahead_s)
    # aircraft: their 60 s box; ships: the union of both (they are in both sets)
    widest = [
        np.where(is_air, air, (np.minimum if k % 2 == 0 else np.maximum)(air, sea))
        for k, (air, sea) in enumerate(zip(air_boxes, sea_boxes, strict=True))
    ]
    lat_lo, lat_hi, lon_lo, lon_hi = widest
    # two ships are held to the sea radius, every other pair to the air one
    ships = ~groups.air
    radii = np.where(ships[:, None] & ships[None, :], sea_radius, air_radius)
    i, j = grid_pairs(lat_lo, lat_hi, lon_lo, lon_hi, code, groups.eligible, radii, active)
    ships_only = ~is_air[i] & ~is_air[j]
    sets = []
    for sea_sea, boxes, radius in ((False, air_boxes, air_radius), (True, sea_boxes, sea_radius)):
        mine = ships_only == sea_sea
        si, sj = i[mine], j[mine]
        near = box_gap_m(*boxes, si, sj) < radius
        si, sj = si[near], sj[near]
        watch = _inside_volume(state, si, sj, recent[:4], recent[4], recent[5], policy)
        civil = groups.civil[code[si], code[sj]] if si.size else np.zeros(0, dtype=bool)
        sets.append(Candidates(si, sj, civil, watch))
    return sets[0], sets[1]


def _inside_volume(
    state: TrackState,
    i: IntArray,
    j: IntArray,
    recent: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    alt_lo: FloatArray,
    alt_hi: FloatArray,
    policy: Policy,
) -> BoolArray:
    """Whether the recent boxes of i and j can hold a moment inside the monitoring volume."""
    volumes = policy.volumes
    air_i, air_j = state.is_air[i], state.is_air[j]
    gap = box_gap_m(*recent, i, j)
    vertical_gap = np.maximum(np.maximum(alt_lo[j] - alt_hi[i], alt_lo[i] - alt_hi[j]), 0.0)
    air_air = (gap < volumes.air_air_horizontal_m) & (vertical_gap < volumes.air_air_vertical_m)
    air_sea = (gap < volumes.air_sea_horizontal_m) & (
        np.maximum(alt_lo[i], alt_lo[j]) < volumes.air_sea_max_altitude_m
    )
    sea_sea = gap < volumes.sea_sea_horizontal_m
    return np.asarray(np.where(air_i & air_j, air_air, np.where(air_i | air_j, air_sea, sea_sea)))


__all__ = ["Candidates", "Groups", "find_candidates", "recent_boxes"]
