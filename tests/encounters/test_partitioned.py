"""Detection cut into time partitions gives exactly the single-process encounters."""

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import polars as pl
import pytest

from parley.encounters.detector import detect
from parley.encounters.partitioned import (
    detect_partitioned,
    overlap_us,
    plan_partitions,
    summarize_rows,
)
from parley.encounters.policy import Policy
from parley.testing.builders import concat_tracks, straight
from parley.tracks.load import load_tracks

SAMPLE = (
    Path(__file__).resolve().parents[2] / "src" / "parley" / "data" / "samples" / "april2016.csv"
)
T0 = datetime(2021, 6, 18, 10, 0, tzinfo=UTC)
BALTIC = (55.5, 18.0)
PARTITION_S = 600.0  # boundaries at T0 + 10, 20, 30 ... min (T0 is the first report)


def _jet(track: str, side: str, start_s: float, duration_s: float, **kwargs: float) -> pl.DataFrame:
    options: dict[str, float] = {"alt_m": 9000.0, "speed_mps": 220.0, "course_deg": 90.0}
    options.update(kwargs)
    return straight(
        track,
        start=T0 + timedelta(seconds=start_s),
        origin=BALTIC,
        duration_s=duration_s,
        step_s=5.0,
        side=side,
        domain="air",
        **options,  # type: ignore[arg-type]
    )


def boundary_traffic() -> pl.DataFrame:
    """Encounters placed on and across the 10-minute partition boundaries.

    - a head-on pass whose closest approach is exactly on the 20-minute boundary;
    - a 35-minute escort 500 m abreast (longer than a partition and than the overlap);
    - a pair that leaves the volume for about 40 s around the 10-minute boundary (inside the
      60 s merge gap: one episode), then again for 3 minutes (two episodes);
    - two ships that stand off for 8 minutes (inside their 10-minute merge gap) across the
      30-minute boundary;
    - a Russian aircraft dark only in its last minutes, against a civil aircraft met earlier,
      so the civil-safety pair exists only when darkness is taken from the whole track.
    """
    # head-on: both start 26.4 km from the meeting point at 220 m/s, meet at t = 1200 s
    meet_east = 0.0
    west = _jet("icao:a00001", "nato", 1080.0, 240.0, east_m=meet_east - 26_400.0, north_m=200.0)
    east = _jet(
        "icao:b00001", "russia", 1080.0, 240.0, east_m=meet_east + 26_400.0, course_deg=270.0
    )
    # escort from minute 2 to minute 37
    lead = _jet("icao:a00002", "nato", 120.0, 2100.0, north_m=40_000.0)
    wing = _jet("icao:b00002", "russia", 120.0, 2100.0, north_m=40_500.0)
    # in / out / in: b flies beside a, climbing 1,200 m above it for windows of time
    base = _jet("icao:a00003", "nato", 300.0, 1200.0, north_m=80_000.0)
    beside = _jet("icao:b00003", "russia", 300.0, 1200.0, north_m=81_000.0)
    out_windows = [(580.0, 620.0), (900.0, 1080.0)]
    beside = beside.with_columns(
        pl.when(
            pl.any_horizontal(
                *[
                    pl.col("time").is_between(
                        T0 + timedelta(seconds=lo), T0 + timedelta(seconds=hi)
                    )
                    for lo, hi in out_windows
                ]
            )
        )
        .then(pl.col("alt_m") + 1200.0)
        .otherwise(pl.col("alt_m"))
        .alias("alt_m")
    )
    # a civil airliner met at minutes 5-7 by a Russian jet that switches off later (minute 25)
    airliner = _jet("icao:c00004", "civil", 300.0, 180.0, north_m=120_000.0)
    dark = _jet("icao:b00004", "russia", 300.0, 1500.0, north_m=120_800.0)
    dark = dark.with_columns(
        pl.when(pl.col("time") >= T0 + timedelta(seconds=1500.0))
        .then(pl.lit("off"))
        .otherwise(pl.col("transponder"))
        .alias("transponder")
    )
    # two ships 3 km apart for 28 minutes; one stands off to 5 km for 8 minutes across the
    # 30-minute boundary (inside the ships' 10-minute merge gap: one episode)
    ship_a = _ship("mmsi:273000001", "russia", 600.0, 1680.0, north_m=-150_000.0)
    ship_b = _ship("mmsi:338000001", "nato", 600.0, 1680.0, north_m=-147_000.0)
    standing_off = pl.col("time").is_between(
        T0 + timedelta(seconds=1560.0), T0 + timedelta(seconds=2040.0)
    )
    ship_b = ship_b.with_columns(
        pl.when(standing_off).then(pl.col("lat") + 0.018).otherwise(pl.col("lat")).alias("lat")
    )
    first = _jet("icao:a00000", "nato", 0.0, 10.0, north_m=-300_000.0)  # fixes the origin at T0
    return concat_tracks(
        first, west, east, lead, wing, base, beside, airliner, dark, ship_a, ship_b
    )


def _ship(track: str, side: str, start_s: float, duration_s: float, north_m: float) -> pl.DataFrame:
    return straight(
        track,
        start=T0 + timedelta(seconds=start_s),
        origin=BALTIC,
        north_m=north_m,
        alt_m=0.0,
        speed_mps=6.0,
        course_deg=90.0,
        duration_s=duration_s,
        step_s=10.0,
        side=side,
        domain="sea",
    )


def _assert_identical(single: pl.DataFrame, parted: pl.DataFrame) -> None:
    assert parted.columns == single.columns
    assert parted.to_dicts() == single.to_dicts()


@pytest.fixture(scope="module")
def traffic() -> pl.DataFrame:
    return boundary_traffic()


@pytest.fixture(scope="module")
def single(traffic: pl.DataFrame) -> pl.DataFrame:
    return detect(traffic).encounters


def test_the_boundary_traffic_has_the_encounters_it_was_built_for(single: pl.DataFrame) -> None:
    pairs = single.select("a", "b", "start", "end", "reasons").rows()
    by_pair: dict[tuple[str, str], list[tuple[datetime, datetime]]] = {}
    for a, b, start, end, _ in pairs:
        by_pair.setdefault((a, b), []).append((start, end))
    # head-on: one episode whose closest approach sits on the 20-minute boundary
    head_on = single.filter(pl.col("a") == "icao:a00001").row(0, named=True)
    assert head_on["cpa_time"] == T0 + timedelta(seconds=1200)
    assert head_on["min_horizontal_m"] == pytest.approx(200.0, abs=0.5)
    # the escort is one 35-minute episode
    ((start, end),) = by_pair[("icao:a00002", "icao:b00002")]
    assert end - start == timedelta(seconds=2100)
    # the 40 s exit is merged, the 3-minute one is not: two episodes
    assert len(by_pair[("icao:a00003", "icao:b00003")]) == 2
    # the ships' 8-minute stand-off across the 30-minute boundary is merged: one episode
    ((start, end),) = by_pair[("mmsi:273000001", "mmsi:338000001")]
    assert (start, end) == (T0 + timedelta(seconds=600), T0 + timedelta(seconds=2280))
    # darkness comes from the track's last minutes, the encounter from its first ones
    civil = single.filter(pl.col("a") == "icao:b00004").row(0, named=True)
    assert civil["b"] == "icao:c00004"
    assert civil["civil_safety"] is True
    assert "transponder-off" in civil["reasons"]
    assert civil["end"] <= T0 + timedelta(seconds=480)


@pytest.mark.parametrize("partition_s", [60.0, 300.0, PARTITION_S, 1330.0, 1800.0, 86_400.0])
def test_partitioned_detection_is_identical_on_boundary_traffic(
    traffic: pl.DataFrame, single: pl.DataFrame, partition_s: float
) -> None:
    parted = detect_partitioned(traffic, partition_s=partition_s)
    _assert_identical(single, parted.encounters)


def test_an_episode_longer_than_partition_and_overlap_is_redetected(
    traffic: pl.DataFrame,
) -> None:
    parted = detect_partitioned(traffic, partition_s=PARTITION_S)
    # the escort (35 min) outlasts a 10-minute core plus its 21-minute overlap
    assert overlap_us(Policy()) == 21 * 60 * 1_000_000
    assert parted.stats["redetected_pairs"] >= 1
    assert parted.stats["partitions"] == 4


def test_darkness_is_taken_from_the_whole_track_not_the_partition(
    traffic: pl.DataFrame, single: pl.DataFrame
) -> None:
    civil_pairs = single.filter(pl.col("civil_safety"))
    assert civil_pairs.height == 1
    parted = detect_partitioned(traffic, partition_s=PARTITION_S).encounters
    assert parted.filter(pl.col("civil_safety")).to_dicts() == civil_pairs.to_dicts()


def test_a_longer_gap_policy_widens_the_overlap() -> None:
    policy = Policy.model_validate({"gaps": {"sea_max_gap_s": 1800.0, "sea_merge_gap_s": 900.0}})
    # G + M = 2,700 s = 45 slices, plus one slice
    assert overlap_us(policy) == 46 * 60 * 1_000_000


def test_partitions_cover_the_archive_from_its_origin(traffic: pl.DataFrame) -> None:
    summary = summarize_rows(traffic)
    assert summary is not None
    plan = plan_partitions(summary, Policy(), 600.0)
    assert plan[0].core_lo_us == summary.first_us
    assert all(p.core_hi_us == q.core_lo_us for p, q in pairwise(plan))
    assert plan[-1].core_hi_us > summary.last_us >= plan[-1].core_lo_us


def test_partitioned_detection_is_identical_on_april2016() -> None:
    table = load_tracks([SAMPLE]).table
    single = detect(table).encounters
    assert single.height == 6
    for partition_s in (900.0, 3600.0):
        _assert_identical(single, detect_partitioned(table, partition_s=partition_s).encounters)


def test_partitioned_detection_is_identical_with_a_custom_policy(traffic: pl.DataFrame) -> None:
    policy = Policy.model_validate({"gaps": {"air_merge_gap_s": 200.0}})
    single = detect(traffic, policy).encounters
    # with a 200 s merge gap, the 3-minute exit no longer splits the third pair
    third = single.filter(pl.col("a") == "icao:a00003")
    assert third.height == 1
    _assert_identical(single, detect_partitioned(traffic, policy, partition_s=300.0).encounters)


def test_an_empty_table_gives_no_encounters(traffic: pl.DataFrame) -> None:
    parted = detect_partitioned(traffic[:0])
    assert parted.encounters.height == 0


def test_the_ships_stand_off_really_leaves_the_volume(traffic: pl.DataFrame) -> None:
    policy = Policy.model_validate({"gaps": {"sea_merge_gap_s": 300.0}})
    ships = detect(traffic, policy).encounters.filter(pl.col("kind") == "sea-sea")
    # with a 5-minute merge gap the 8-minute stand-off splits the stay in two
    assert ships.height == 2
    parted = detect_partitioned(traffic, policy, partition_s=PARTITION_S).encounters
    _assert_identical(ships, parted.filter(pl.col("kind") == "sea-sea"))
