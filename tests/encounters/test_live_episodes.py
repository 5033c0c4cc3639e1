"""The predictions' NumPy episode reduction equals the archive detector's ``aggregate``."""

import math

import numpy as np
import polars as pl
import pytest

from parley.encounters import kernel
from parley.encounters.episodes import aggregate
from parley.encounters.live_episodes import episode_features, parts_columns
from parley.encounters.policy import Policy
from parley.encounters.subintervals import measure_motion

KINDS = np.array(["air-air", "air-sea", "sea-sea"])


def random_parts(seed: int, size: int) -> pl.DataFrame:
    """Parts as ``subintervals`` gives them, drawn to cross every branch of the reduction:
    few pairs (many parts each), stays a merge gap apart or not, distances around the pass
    radii, NaN closures, equal slant minima (the first one is the closest approach)."""
    rng = np.random.default_rng(seed)
    pair = rng.integers(0, max(size // 8, 1), size)
    kind = KINDS[pair % 3]
    t_in = rng.uniform(0.0, 3_000.0, size)
    t_out = t_in + rng.exponential(40.0, size)
    slant = rng.choice([50.0, 120.0, 300.0, 900.0], size) + rng.choice([0.0, 1.0], size)
    closure_close = np.where(rng.random(size) < 0.6, np.nan, rng.normal(30.0, 40.0, size))
    h = rng.choice([100.0, 250.0, 450.0, 900.0, 1_200.0, 2_000.0, 4_000.0], (size, 3))
    h[rng.random(size) < 0.05, 0] = np.nan
    flags = rng.random((size, 3)) < 0.2
    return pl.DataFrame(
        {
            "a": pair,
            "b": pair + 1_000,
            "kind": kind,
            "civil_safety": pair % 2 == 0,
            "t_in": t_in,
            "t_out": t_out,
            "slant_min": slant,
            "slant_t": t_in + rng.uniform(0.0, 1.0, size) * (t_out - t_in),
            "vertical_at_slant": rng.uniform(0.0, 300.0, size),
            "horizontal_min": slant * rng.uniform(0.5, 1.0, size),
            "h_in": h[:, 0],
            "h_min": h[:, 1],
            "h_out": h[:, 2],
            "closure_close": closure_close,
            "closure_any": rng.normal(0.0, 50.0, size),
            "sweep": rng.normal(0.0, 4.0, size),
            "sweep_low": rng.normal(0.0, 4.0, size),
            "overflight": flags[:, 0],
            "low_fast": flags[:, 1],
            "low_close": flags[:, 2],
        }
    )


def assert_same_episodes(parts: pl.DataFrame, policy: Policy) -> int:
    expected = aggregate(parts, policy).drop("episode")
    got = episode_features(parts_columns(parts), policy)
    assert sorted(got) == sorted(expected.columns)
    assert len(got["a"]) == expected.height
    for name in expected.columns:
        want = expected[name].to_numpy()
        if want.dtype.kind == "f":
            np.testing.assert_array_equal(got[name], want, err_msg=name)
        else:
            assert got[name].tolist() == want.tolist(), name
    return expected.height


@pytest.mark.parametrize("seed", range(12))
def test_random_parts_reduce_to_aggregate_s_episodes(seed: int) -> None:
    parts = random_parts(seed, size=[1, 5, 40, 400][seed % 4])
    episodes = assert_same_episodes(parts, Policy())
    assert episodes >= 1


def test_reduction_sees_merges_passes_and_nan_closures() -> None:
    """The random draws do reach what the test is about (not a vacuous equality)."""
    parts = random_parts(3, size=400)
    got = episode_features(parts_columns(parts), Policy())
    pairs = len(set(parts["a"].to_list()))
    assert len(got["a"]) > pairs  # some pairs split into several episodes by the merge gap
    assert (got["passes"] >= 2).any()
    assert (got["passes"] == 0).any()
    assert np.isnan(parts["closure_close"].to_numpy()).any()
    assert (got["max_closure_mps"] == 0.0).any()  # an opening pair clipped at zero


def test_predicted_motions_of_a_head_on_and_an_orbit() -> None:
    """Real parts: measure_motion over a head-on closure and a low orbit (air-sea)."""
    policy = Policy()
    steps, step = 60, 1.0
    t = np.arange(steps + 1) * step
    head_on_x = np.zeros_like(t) + 40.0
    head_on_y = 30_000.0 - 500.0 * t
    angle = 2.0 * math.pi * t / 30.0
    orbit_x, orbit_y = 400.0 * np.cos(angle), 400.0 * np.sin(angle)
    x = np.concatenate([head_on_x[:-1], orbit_x[:-1]])
    y = np.concatenate([head_on_y[:-1], orbit_y[:-1]])
    vx = np.concatenate([np.diff(head_on_x), np.diff(orbit_x)]) / step
    vy = np.concatenate([np.diff(head_on_y), np.diff(orbit_y)]) / step
    size = x.size
    z = np.concatenate([np.zeros(steps), np.full(steps, 120.0)])
    kind = np.repeat(np.array(["air-air", "air-sea"]), steps)
    motion = kernel.Motion(np.full(size, step), x, y, z, vx, vy, np.zeros(size))
    pairs = pl.DataFrame({"a": [0, 1], "b": [0, 1], "civil_safety": [False, False]})
    parts = measure_motion(
        pairs,
        np.repeat(np.arange(2), steps),
        np.tile(t[:-1] * 1e6, 2),
        motion,
        kind,
        np.where(kind == "air-sea", z, 0.0),
        np.zeros(size),
        np.full(size, 120.0),
        policy,
    )
    assert assert_same_episodes(parts, policy) == 2
    got = episode_features(parts_columns(parts), policy)
    assert got["min_slant_m"][0] == pytest.approx(40.0)
    assert got["cpa_time"][0] == pytest.approx(60.0)
    assert got["orbits_low"][1] == 1
