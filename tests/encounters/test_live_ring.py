"""The rings' boxes: reading rings in time order newest first gives the whole-ring mask's box."""

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from parley.encounters.live_candidates import recent_boxes
from parley.encounters.live_state import TrackState

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def reports(rng: np.random.Generator, tracks: int, second: int, late: float) -> pl.DataFrame:
    """One second of reports: each track once or a few times; some arrive late by up to 3 s,
    some tracks send a burst longer than the ring (20 reports), some repeat a time."""
    per_track = np.where(rng.random(tracks) < 0.05, 20, rng.integers(1, 3, tracks))
    track = np.repeat(np.arange(tracks), per_track)
    offset = rng.uniform(0.0, 1.0, track.size)
    offset[rng.random(track.size) < late] -= rng.uniform(0.5, 3.0)
    offset[rng.random(track.size) < 0.01] = 0.5  # the same time twice for some tracks
    air = track % 2 == 0
    return pl.DataFrame(
        {
            "time": pl.Series(
                [T0 + timedelta(seconds=second + float(x)) for x in offset],
                dtype=pl.Datetime("us", "UTC"),
            ),
            "track": [f"t{k}" for k in track],
            "side": ["nato"] * track.size,
            "domain": np.where(air, "air", "sea"),
            "lat": 55.0 + rng.normal(0.0, 0.01, track.size),
            "lon": 18.0 + rng.normal(0.0, 0.01, track.size),
            "alt_m": np.where(air, rng.uniform(100.0, 9_000.0, track.size), 0.0),
            "speed_mps": rng.uniform(5.0, 250.0, track.size),
            "course_deg": rng.uniform(0.0, 360.0, track.size),
            "vrate_mps": np.zeros(track.size),
            "transponder": ["on"] * track.size,
        }
    )


@pytest.mark.parametrize(("late", "seed"), [(0.0, 1), (0.0, 2), (0.05, 3), (0.2, 4)])
def test_boxes_equal_the_whole_ring_mask(late: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    state = TrackState(capacity=16)
    compared = 0
    for second in range(30):
        since_us = state.update(reports(rng, 60, second, late))
        fast = recent_boxes(state, since_us)
        ordered = state.recent.unordered.copy()
        state.recent.unordered[:] = True  # every ring through the mask
        masked = recent_boxes(state, since_us)
        state.recent.unordered[:] = ordered
        for got, want in zip(fast, masked, strict=True):
            np.testing.assert_array_equal(got, want)
        compared += 1
    rings = state.recent.unordered[: len(state)]
    assert compared == 30
    # late reports (and repeated times) put rings out of order: the mask reads those
    assert rings.any()
    if late < 0.1:
        assert not rings.all()  # and the others were read newest first
