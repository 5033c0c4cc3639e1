"""Property: however the reports are cut into batches, the live detector closes the encounters
the archive detector finds in the whole table, record for record."""

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parley.encounters.detector import detect
from parley.encounters.live import LiveDetector
from parley.encounters.live_events import EncounterEvent
from parley.encounters.output import encounter_records
from parley.tracks.geo import offset_position
from parley.tracks.schema import conform

T0 = datetime(2022, 3, 1, 9, 0, tzinfo=UTC)
ORIGIN = (57.0, 19.0)


@st.composite
def track_rows(draw: st.DrawFn, name: str) -> pl.DataFrame:
    air = draw(st.booleans()) or draw(st.booleans())
    step = draw(st.sampled_from((1.0, 2.0, 5.0))) if air else draw(st.sampled_from((5.0, 10.0)))
    first = draw(st.floats(0.0, 30.0))
    times = first + step * np.arange(int(draw(st.floats(60.0, 240.0)) // step))
    # one in four aircraft falls silent for longer than the interpolation gap
    if air and draw(st.integers(0, 3)) == 0 and times.size > 10:
        cut = times.size // 3
        times = np.concatenate([times[:cut], times[cut:] + 70.0])
    speed = draw(st.floats(100.0, 250.0)) if air else draw(st.floats(3.0, 12.0))
    heading = math.radians(draw(st.floats(0.0, 359.0)))
    east0 = draw(st.floats(-4_000.0, 4_000.0))
    north0 = draw(st.floats(-4_000.0, 4_000.0))
    # aimed at the middle of the box half the time, so passes are close
    if draw(st.booleans()):
        heading = math.atan2(-east0, -north0) + draw(st.floats(-0.05, 0.05))
    s = times - times[0]
    lat, lon = offset_position(
        ORIGIN[0],
        ORIGIN[1],
        east0 + speed * math.sin(heading) * s - speed * math.sin(heading) * 60.0,
        north0 + speed * math.cos(heading) * s - speed * math.cos(heading) * 60.0,
    )
    alt = draw(st.sampled_from((150.0, 300.0, 3000.0, 3100.0))) if air else 0.0
    micros = np.round(times * 1e6).astype(np.int64)
    return pl.DataFrame(
        {
            "time": pl.Series([T0 + timedelta(microseconds=int(m)) for m in micros]),
            "track": name,
            "side": draw(st.sampled_from(("nato", "russia"))),
            "domain": "air" if air else "sea",
            "lat": lat,
            "lon": lon,
            "alt_m": np.full(times.size, alt),
            "speed_mps": np.full(times.size, speed),
            "transponder": "on",
        }
    )


@st.composite
def traffic(draw: st.DrawFn) -> pl.DataFrame:
    count = draw(st.integers(2, 6))
    frames = [draw(track_rows(f"icao:{k:06x}")) for k in range(1, count + 1)]
    return conform(pl.concat(frames), keep_line=False).sort("time", "track")


def _cut(table: pl.DataFrame, sizes: list[int]) -> list[pl.DataFrame]:
    batches, at, k = [], 0, 0
    while at < table.height:
        size = sizes[k % len(sizes)]
        batches.append(table.slice(at, size))
        at, k = at + size, k + 1
    return batches


def _key(record: dict[str, object]) -> tuple[str, str, str]:
    return (str(record["a"]), str(record["b"]), str(record["start"]))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=traffic(), sizes=st.lists(st.integers(1, 60), min_size=1, max_size=8))
def test_live_equals_batch_for_any_batching(table: pl.DataFrame, sizes: list[int]) -> None:
    expected = sorted(encounter_records(detect(table)), key=_key)
    live = LiveDetector(update_interval_s=20.0)
    events = []
    for batch in _cut(table, sizes):
        events += live.feed(batch)
    events += live.flush()
    found = sorted(
        (
            {k: v for k, v in e.encounter.items() if k != "evidence"}
            for e in events
            if isinstance(e, EncounterEvent) and e.type == "encounter.closed"
        ),
        key=_key,
    )
    assert found == expected
