"""Episode features of the predicted motions, reduced with NumPy.

The live twin of :func:`parley.encounters.episodes.aggregate`: the same merge of inside parts
into episodes (a new one when the pair changes or a stay starts a merge gap after the previous
ones ended), the same pass counting and the same reductions, on NumPy arrays. The predictions
run it on a few hundred parts every batch, where Polars' fixed cost per query dominated.
``tests/encounters/test_live_episodes.py`` holds it equal to ``aggregate`` column for column
(random parts, NaN closures, several pairs and kinds, merge gaps crossed).

Polars' semantics are kept where they differ from NumPy's: ``min``/``max`` skip NaN (NaN only
when all are), ``arg_min`` skips NaN, and a NaN compares greater than any number.
"""

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from parley.encounters.policy import Policy

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Columns = dict[str, npt.NDArray[Any]]

TWO_PI = 2.0 * math.pi
#: The columns of ``subintervals`` parts the reduction reads.
PART_COLUMNS = (
    "a",
    "b",
    "kind",
    "civil_safety",
    "t_in",
    "t_out",
    "slant_min",
    "slant_t",
    "vertical_at_slant",
    "horizontal_min",
    "h_in",
    "h_min",
    "h_out",
    "closure_close",
    "closure_any",
    "sweep",
    "sweep_low",
    "overflight",
    "low_fast",
    "low_close",
)


def parts_columns(parts: pl.DataFrame) -> Columns:
    """The parts' columns as NumPy arrays (``kind`` as strings)."""
    return {name: parts[name].to_numpy() for name in PART_COLUMNS}


def _group_starts(*keys: npt.NDArray[np.generic]) -> IntArray:
    """First index of each run of equal keys (arrays already sorted by them)."""
    size = keys[0].size
    change = np.zeros(size, dtype=bool)
    if size:
        change[0] = True
    for key in keys:
        change[1:] |= key[1:] != key[:-1]
    return np.flatnonzero(change)


def _run_ids(starts: IntArray, size: int) -> IntArray:
    run = np.zeros(size, dtype=np.int64)
    run[starts[1:]] = 1
    return np.cumsum(run)


def _previous_out(t_out: FloatArray, pair: IntArray) -> FloatArray:
    """Per part: the latest exit of the earlier parts of its pair (NaN for the first)."""
    size = t_out.size
    ranks = np.empty(size, dtype=np.int64)
    by_value = np.argsort(t_out, kind="stable")
    ranks[by_value] = np.arange(size)
    # pairs are runs in order: offsetting the ranks by the pair makes one cumulative maximum
    # restart at each pair
    best = np.maximum.accumulate(pair * size + ranks) - pair * size
    running = t_out[by_value][best]
    previous = np.full(size, np.nan)
    same_pair = np.zeros(size, dtype=bool)
    same_pair[1:] = pair[1:] == pair[:-1]
    previous[1:] = np.where(same_pair[1:], running[:-1], np.nan)
    return previous


def _passes(
    h: FloatArray, kind: npt.NDArray[np.str_], episode: IntArray, episodes: int, policy: Policy
) -> IntArray:
    """``count_passes``: h holds (entry, minimum, exit) per part, parts in time order."""
    feat = policy.features
    radius = np.where(
        kind == "air-air",
        feat.pass_radius_air_air_m,
        np.where(kind == "air-sea", feat.pass_radius_air_sea_m, feat.pass_radius_sea_sea_m),
    )
    values = np.where(np.isnan(h), np.inf, h).ravel()
    radius = np.repeat(radius, 3)
    owner = np.repeat(episode, 3)
    marker = np.where(values < radius, -1, np.where(values > radius * feat.pass_rearm_factor, 1, 0))
    position = np.arange(values.size)
    last_marked = np.maximum.accumulate(np.where(marker != 0, position, -1))
    first_of_episode = np.searchsorted(owner, owner, side="left")
    before = np.concatenate([[-1], last_marked[:-1]])
    state = np.where(before >= first_of_episode, marker[np.maximum(before, 0)], 1)
    passes = ((marker == -1) & (state == 1)).astype(np.int64)
    return np.bincount(owner, weights=passes, minlength=episodes).astype(np.int64)


def episode_features(parts: Columns, policy: Policy) -> Columns:
    """One entry per episode with its features: ``aggregate``'s columns, sorted by a, b, start."""
    gaps = policy.gaps
    order = np.lexsort((parts["t_in"], parts["b"], parts["a"]))
    col = {name: values[order] for name, values in parts.items()}
    size = order.size
    pair = _run_ids(_group_starts(col["a"], col["b"]), size)
    merge_gap = np.where(col["kind"] == "sea-sea", gaps.sea_merge_gap_s, gaps.air_merge_gap_s)
    previous = _previous_out(col["t_out"], pair)
    new = np.isnan(previous) | ((col["t_in"] - previous) >= merge_gap)
    episode = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    count = starts.size
    if count == 0:
        return {name: values[:0] for name, values in _empty(col).items()}
    # the closest approach: the first part with the smallest slant range (NaN skipped)
    slant = np.where(np.isnan(col["slant_min"]), np.inf, col["slant_min"])
    by_slant = np.lexsort((np.arange(size), slant, episode))
    cpa = by_slant[_group_starts(episode[by_slant])]
    h = np.stack([col["h_in"], col["h_min"], col["h_out"]], axis=1)
    closure_close = np.fmax.reduceat(col["closure_close"], starts)
    closure_any = np.fmax.reduceat(col["closure_any"], starts)
    closure = np.where(np.isnan(closure_close), closure_any, closure_close)
    out: Columns = {
        "a": col["a"][starts],
        "b": col["b"][starts],
        "kind": col["kind"][starts],
        "civil_safety": col["civil_safety"][starts],
        "start": np.fmin.reduceat(col["t_in"], starts),
        "end": np.fmax.reduceat(col["t_out"], starts),
        "min_slant_m": np.fmin.reduceat(col["slant_min"], starts),
        "cpa_time": col["slant_t"][cpa],
        "vertical_m": col["vertical_at_slant"][cpa],
        "min_horizontal_m": np.fmin.reduceat(col["horizontal_min"], starts),
        "orbits": _orbits(np.add.reduceat(col["sweep"], starts)),
        "orbits_low": _orbits(np.add.reduceat(col["sweep_low"], starts)),
        "overflight": np.logical_or.reduceat(col["overflight"], starts),
        "low_fast_pass": np.logical_or.reduceat(col["low_fast"], starts),
        "low_close_pass": np.logical_or.reduceat(col["low_close"], starts),
        "passes": _passes(h, col["kind"], episode, count, policy),
        "max_closure_mps": np.maximum(closure, 0.0),
    }
    final = np.lexsort((out["start"], out["b"], out["a"]))
    return {name: values[final] for name, values in out.items()}


def _orbits(sweep: FloatArray) -> IntArray:
    return np.floor(np.abs(sweep) / TWO_PI).astype(np.int64)


def _empty(col: Columns) -> Columns:
    floats = np.zeros(0)
    ints = np.zeros(0, dtype=np.int64)
    flags = np.zeros(0, dtype=bool)
    return {
        "a": col["a"],
        "b": col["b"],
        "kind": col["kind"],
        "civil_safety": col["civil_safety"],
        **dict.fromkeys(
            ("start", "end", "min_slant_m", "cpa_time", "vertical_m", "min_horizontal_m"), floats
        ),
        "orbits": ints,
        "orbits_low": ints,
        "overflight": flags,
        "low_fast_pass": flags,
        "low_close_pass": flags,
        "passes": ints,
        "max_closure_mps": floats,
    }


__all__ = ["PART_COLUMNS", "episode_features", "parts_columns"]
