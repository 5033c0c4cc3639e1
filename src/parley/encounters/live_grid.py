"""Candidate pairs of live tracks from a spatial grid, bipartite by examined groups.

The live twin of ``candidates.py``: each track's box (where it was during the batch and where
it may be within the look-ahead) is binned into grid cells; only boxes sharing a cell are
compared, and only between groups the policy examines. No all-pairs stage.
"""

import numpy as np
import numpy.typing as npt

from parley.encounters.candidates import MAX_COS_LATITUDE_DEG
from parley.tracks.geo import METRES_PER_DEGREE

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
#: key offsets of the strips below and above a box's own (strip number × 1000, see grid_pairs)
_STRIP_STEPS = np.array([-1000.0, 0.0, 1000.0])


def _ranges(starts: IntArray, counts: IntArray) -> tuple[IntArray, IntArray]:
    group = np.repeat(np.arange(len(starts)), counts)
    offsets = np.cumsum(counts) - counts
    values = np.arange(counts.sum()) - np.repeat(offsets, counts) + np.repeat(starts, counts)
    return group, values


def box_gap_m(
    lat_lo: FloatArray,
    lat_hi: FloatArray,
    lon_lo: FloatArray,
    lon_hi: FloatArray,
    i: IntArray,
    j: IntArray,
) -> FloatArray:
    """A lower bound of the horizontal distance between boxes i and j."""
    lat_gap = np.maximum(np.maximum(lat_lo[j] - lat_hi[i], lat_lo[i] - lat_hi[j]), 0.0)
    lon_gap = np.maximum(np.maximum(lon_lo[j] - lon_hi[i], lon_lo[i] - lon_hi[j]), 0.0)
    max_lat = np.minimum(
        np.maximum.reduce(
            [np.abs(lat_lo[i]), np.abs(lat_hi[i]), np.abs(lat_lo[j]), np.abs(lat_hi[j])]
        ),
        MAX_COS_LATITUDE_DEG,
    )
    east = lon_gap * METRES_PER_DEGREE * np.cos(np.radians(max_lat))
    return np.asarray(np.hypot(lat_gap * METRES_PER_DEGREE, east))


def grid_pairs(
    lat_lo: FloatArray,
    lat_hi: FloatArray,
    lon_lo: FloatArray,
    lon_hi: FloatArray,
    group: IntArray,
    eligible: BoolArray,
    radius_m: float | FloatArray,
    active: BoolArray | None = None,
) -> tuple[IntArray, IntArray]:
    """Index pairs (i < j) of boxes of eligible groups closer than ``radius_m``.

    ``group`` is each box's group (negative: left out); ``eligible[g, h]`` says whether group g
    is examined against group h (symmetric, never g against itself). ``radius_m`` is one
    distance, or one per pair of groups (a symmetric matrix like ``eligible``). With
    ``active``, only pairs holding at least one active box are returned. Each box is filed in the
    cell of its centre, the cells being as large as the largest box plus the radius, so two
    boxes that can be that close sit in neighbouring cells; each examined pair of groups is then
    joined cell by cell (a sorted search per neighbour), never all against all. Longitudes are
    not wrapped at the antimeridian (a live picture is regional).
    """
    empty = np.zeros(0, dtype=np.int64)
    filed = group >= 0
    present = np.flatnonzero(np.bincount(group[filed], minlength=1)).tolist()
    combos = [(g, h) for g in present for h in present if g < h and eligible[g, h]]
    if not combos:
        return empty, empty
    in_combo = np.zeros(int(group.max()) + 1, dtype=bool)
    in_combo[np.array(combos).ravel()] = True
    involved = filed & in_combo[np.where(filed, group, 0)]
    groups = int(group.max()) + 1
    radius = np.asarray(radius_m, dtype=np.float64)
    if radius.ndim == 0:
        radius = np.full((groups, groups), float(radius))
    largest = max(float(radius[g, h]) for g, h in combos)
    strip_deg = float((lat_hi - lat_lo)[involved].max()) + largest / METRES_PER_DEGREE
    width = lon_hi - lon_lo
    strip = np.floor((lat_lo + lat_hi) / 2.0 / strip_deg)
    # within a strip, boxes sorted by the longitude of their centre
    key = strip * 1000.0 + (lon_lo + lon_hi) / 2.0 + 540.0
    poleward = np.minimum(
        np.maximum(np.abs(lat_lo), np.abs(lat_hi)) + strip_deg, MAX_COS_LATITUDE_DEG
    )
    # degrees of longitude per metre east at the box's poleward edge (plus a strip)
    lon_per_m = 1.0 / (METRES_PER_DEGREE * np.cos(np.radians(poleward)))
    querying = np.ones(group.size, dtype=bool) if active is None else active
    pairs = combos if active is None else combos + [(h, g) for g, h in combos]
    # the involved boxes sorted by group, then by key: each group is one sorted block
    taking = np.flatnonzero(involved)
    by_key = taking[np.argsort(key[taking])]
    order = by_key[np.argsort(group[by_key], kind="stable")]
    sorted_key = key[order]
    every_group = np.arange(int(group.max()) + 2)
    bounds = np.searchsorted(group[order], every_group)
    # the widest box of each group: a box's search reaches half of it beyond its own half
    widest = np.array(
        [width[order[bounds[g] : bounds[g + 1]]].max(initial=0.0) for g in range(groups)]
    )
    queries = order[querying[order]]
    query_bounds = np.searchsorted(group[queries], every_group)
    firsts, seconds = [], []
    for g, h in pairs:
        left = queries[query_bounds[g] : query_bounds[g + 1]]
        right, right_keys = order[bounds[h] : bounds[h + 1]], sorted_key[bounds[h] : bounds[h + 1]]
        if left.size == 0 or right.size == 0:
            continue
        left_reach = (width[left] + widest[h]) / 2.0 + radius[g, h] * lon_per_m[left]
        # the strip below, the box's own and the one above, in one search
        centre = (key[left][None, :] + _STRIP_STEPS[:, None]).ravel()
        reach = np.tile(left_reach, 3)
        lo = np.searchsorted(right_keys, centre - reach, side="left")
        hi = np.searchsorted(right_keys, centre + reach, side="right")
        owner, rows = _ranges(lo, hi - lo)
        firsts.append(np.tile(left, 3)[owner])
        seconds.append(right[rows])
    if not firsts:
        return empty, empty
    i, j = np.concatenate(firsts), np.concatenate(seconds)
    # a pair of two active boxes is found from both ends
    codes = np.sort(np.minimum(i, j) * group.size + np.maximum(i, j))
    unique = codes[np.concatenate([[True], codes[1:] != codes[:-1]])] if codes.size else codes
    i, j = unique // group.size, unique % group.size
    near = box_gap_m(lat_lo, lat_hi, lon_lo, lon_hi, i, j) < radius[group[i], group[j]]
    return i[near], j[near]


__all__ = ["box_gap_m", "grid_pairs"]
