"""The live detector's shortcuts for speed give what the plain ways give.

- track ids to slots by number (``NumericIds``) equal the dict's slots;
- the grid with a radius per pair of groups finds exactly the pairs closer than their radius;
- pairs whose projected altitudes keep them out of the volume are not predicted, and leaving
  them out changes no prediction;
- detection rounds in slices give the archive detector's encounters.
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from parley.encounters import live as live_module
from parley.encounters import live_predict
from parley.encounters.detector import detect
from parley.encounters.live import LiveDetector
from parley.encounters.live_events import EncounterEvent, LiveEvent
from parley.encounters.live_grid import box_gap_m, grid_pairs
from parley.encounters.live_predict import predict
from parley.encounters.live_state import TrackState, numeric_ids
from parley.encounters.output import encounter_records
from parley.encounters.policy import Policy
from parley.tracks.load import load_tracks

SAMPLE = (
    Path(__file__).resolve().parents[2] / "src" / "parley" / "data" / "samples" / "april2016.csv"
)
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_numeric_ids_read_icao_and_mmsi_only() -> None:
    ids = pl.Series(["icao:4ca7b5", "mmsi:273318000", "sim:ddg75", "icao:zz", "ICAO:4ca7b5"])
    assert numeric_ids(ids).tolist() == [0x4CA7B5, (1 << 32) + 273318000, -1, -1, -1]


def test_slots_by_number_equal_the_slots_by_dict() -> None:
    rng = np.random.default_rng(11)
    pool = (
        [f"icao:{k:06x}" for k in rng.choice(1 << 24, 300, replace=False)]
        + [f"mmsi:{k}" for k in rng.choice(10**9, 300, replace=False)]
        # the same numbers written otherwise: other tracks, never confused with the above
        + ["icao:4CA7B5", "icao:4ca7b5", "mmsi:0273318000", "mmsi:273318000", "mmsi:+5"]
        + ["mmsi:5", "sim:ddg75", "tisb:abc", "icao:", "mmsi:x"]
    )
    state = TrackState(4)
    expected: dict[str, int] = {}
    for _ in range(60):  # new ids keep coming in small numbers, as on a node
        batch = [str(name) for name in rng.choice(pool, int(rng.integers(1, 60)))]
        for name in batch:
            expected.setdefault(name, len(expected))
        slots = state.slots_for(pl.Series("track", batch, dtype=pl.String))
        assert slots.tolist() == [expected[name] for name in batch]
    assert state.ids == list(expected)
    assert len(set(state.ids)) == len(state.ids)


def test_grid_with_a_radius_per_pair_of_groups_finds_exactly_the_near_pairs() -> None:
    rng = np.random.default_rng(3)
    n = 3000
    lat_lo = rng.uniform(54.0, 57.0, n)
    lon_lo = rng.uniform(10.0, 20.0, n)
    lat_hi = lat_lo + rng.uniform(0.0, 0.1, n)
    lon_hi = lon_lo + rng.uniform(0.0, 0.3, n) * (rng.random(n) < 0.5)
    group = rng.integers(-1, 4, n)
    eligible = np.array(
        [[0, 1, 1, 0], [1, 0, 0, 1], [1, 0, 0, 1], [0, 1, 1, 0]], dtype=bool
    )  # 0, 1 ships; 2, 3 aircraft
    radius = np.array(
        [[3704.0, 3704.0, 9260.0, 9260.0], [3704.0, 3704.0, 9260.0, 9260.0]] + [[9260.0] * 4] * 2
    )
    active = rng.random(n) < 0.5
    i, j = grid_pairs(lat_lo, lat_hi, lon_lo, lon_hi, group, eligible, radius, active)
    a, b = np.triu_indices(n, k=1)
    g, h = group[a], group[b]
    examined = (g >= 0) & (h >= 0) & eligible[g, h] & (active[a] | active[b])
    near = examined & (box_gap_m(lat_lo, lat_hi, lon_lo, lon_hi, a, b) < radius[g, h])
    assert sorted(zip(i.tolist(), j.tolist(), strict=True)) == sorted(
        zip(a[near].tolist(), b[near].tolist(), strict=True)
    )
    assert 100 < near.sum() < examined.sum()


def _traffic(rng: np.random.Generator, n: int) -> list[pl.DataFrame]:
    """Two reports a second apart of ``n`` aircraft and ships crowded near one point,
    aircraft between the sea and 1,500 m (some climbing or descending), half nato, half
    russia."""
    air = rng.random(n) < 0.7
    lat = 55.0 + rng.uniform(-0.05, 0.05, n)
    lon = 18.0 + rng.uniform(-0.09, 0.09, n)
    alt = np.where(air, rng.uniform(0.0, 1500.0, n), 0.0)
    vrate = np.where(air & (rng.random(n) < 0.3), rng.uniform(-20, 20, n), 0.0)
    speed = np.where(air, rng.uniform(60, 250, n), rng.uniform(3, 15, n))
    course = rng.uniform(0, 360, n)
    north, east = speed * np.cos(np.radians(course)), speed * np.sin(np.radians(course))
    frames = []
    for second in (0, 1):
        frames.append(
            pl.DataFrame(
                {
                    "time": [T0 + timedelta(seconds=second)] * n,
                    "track": [f"icao:{k:06x}" if a else f"mmsi:{k + 1}" for k, a in enumerate(air)],
                    "side": np.where(np.arange(n) % 2 == 0, "nato", "russia"),
                    "domain": np.where(air, "air", "sea"),
                    "lat": lat + north * second / 111_195.0,
                    "lon": lon + east * second / (111_195.0 * np.cos(np.radians(55.0))),
                    "alt_m": alt + vrate * second,
                    "speed_mps": speed,
                    "course_deg": course,
                    "vrate_mps": vrate,
                    "transponder": ["on"] * n,
                }
            )
        )
    return frames


def test_pairs_out_of_the_volume_vertically_are_left_out_without_changing_predictions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(5)
    state = TrackState(16)
    for frame in _traffic(rng, 160):
        state.update(LiveDetector._usable(frame))
    n = len(state)
    side = np.array([state.sides[k] for k in state.side[:n]])
    a, b = np.triu_indices(n, k=1)
    opposed = side[a] != side[b]
    a, b = a[opposed], b[opposed]
    ships = ~state.is_air[a] & ~state.is_air[b]
    sets = [
        (a[~ships], b[~ships], np.zeros((~ships).sum(), dtype=bool), False),
        (a[ships], b[ships], np.zeros(ships.sum(), dtype=bool), True),
    ]
    now_us = int((T0 + timedelta(seconds=1.5) - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds())
    now_us *= 1_000_000
    policy = Policy()
    share = live_predict._may_share_level(state, a, b, now_us, 60.0, policy)
    assert 0 < share.sum() < share.size  # the filter does leave pairs out
    filtered = predict(state, sets, now_us, policy)
    monkeypatch.setattr(
        live_predict, "_may_share_level", lambda s, i, j, *_: np.ones(i.size, dtype=bool)
    )
    everything = predict(state, sets, now_us, policy)
    assert filtered == everything
    assert len(filtered) >= 5
    assert {p.kind for p in filtered} >= {"air-air", "air-sea"}


def _closed(events: list[LiveEvent]) -> list[dict[str, object]]:
    records = [
        {k: v for k, v in e.encounter.items() if k != "evidence"}
        for e in events
        if isinstance(e, EncounterEvent) and e.type == "encounter.closed"
    ]
    return sorted(records, key=lambda r: (str(r["a"]), str(r["b"]), str(r["start"])))


def test_detection_rounds_in_slices_give_the_batch_encounters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    april = load_tracks([SAMPLE]).table.sort("time")
    expected = sorted(
        encounter_records(detect(april)), key=lambda r: (str(r["a"]), str(r["b"]), str(r["start"]))
    )
    keyed = april.with_columns(pl.col("time").dt.truncate("5s").alias("_batch"))
    batches = [p.drop("_batch") for p in keyed.partition_by("_batch", maintain_order=True)]
    live = LiveDetector(update_interval_s=30.0, round_slices=3)
    tables: list[tuple[int, int]] = []  # (tracks re-detected, tracks watched) per round

    def spy(table: pl.DataFrame, *args: object, **options: object) -> object:
        tables.append((table["track"].n_unique(), len(live._recorded)))
        return detect(table, *args, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(live_module, "detect", spy)
    events: list[LiveEvent] = []
    for batch in batches:
        events += live.feed(batch)
    events += live.flush()
    assert len(expected) == 6
    assert _closed(events) == expected
    assert any(seen < watched for seen, watched in tables)  # some rounds were slices
