"""Spatial cells inside time partitions give exactly the single-process encounters."""

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from test_partitioned import SAMPLE, boundary_traffic

from parley.encounters import cells as cells_module
from parley.encounters.cells import CellGrid, band_halos, cell_of, halo_m, track_cells
from parley.encounters.detector import detect
from parley.encounters.partitioned import (
    detect_partitioned,
    plan_partitions,
    summarize_rows,
)
from parley.encounters.policy import Policy
from parley.testing.builders import concat_tracks, straight
from parley.tracks.load import load_tracks

T0 = datetime(2022, 3, 7, 8, 0, tzinfo=UTC)
GRID = CellGrid(1.0)  # cell edges on whole degrees
R = 9260.0  # the largest horizontal radius of the default volumes: the halo


def _jet(
    track: str,
    side: str,
    origin: tuple[float, float],
    start_s: float,
    duration_s: float,
    **kwargs: float,
) -> pl.DataFrame:
    options: dict[str, float] = {"alt_m": 9000.0, "speed_mps": 220.0, "course_deg": 90.0}
    options.update(kwargs)
    return straight(
        track,
        start=T0 + timedelta(seconds=start_s),
        origin=origin,
        duration_s=duration_s,
        step_s=4.0,
        side=side,
        domain="air",
        **options,  # type: ignore[arg-type]
    )


def _head_on(name: str, meet: tuple[float, float], start_s: float) -> list[pl.DataFrame]:
    """Two jets meeting at ``meet`` 300 s after ``start_s``, 200 m apart north-south; at the
    episode's start they are R apart east-west, R/2 on either side of ``meet``."""
    run_m = 220.0 * 300.0
    west = _jet(f"icao:a{name}", "nato", meet, start_s, 600.0, east_m=-run_m, north_m=100.0)
    east = _jet(
        f"icao:b{name}", "russia", meet, start_s, 600.0, east_m=run_m, north_m=-100.0,
        course_deg=270.0,
    )  # fmt: skip
    return [west, east]


def cell_traffic() -> pl.DataFrame:
    """Encounters placed across the borders of 1° cells.

    - a head-on pass meeting exactly on the meridian 20°E (a border): the ownership point is
      on the border, each track R/2 into the cell on its side at the episode's start;
    - a head-on pass meeting on the corner of four cells (60°N 22°E);
    - a 40-minute escort eastwards along 60.5°N, 600 km: across eleven cells, longer than a
      10-minute partition and its overlap;
    - a head-on pass meeting on the antimeridian, and an escort eastwards across it;
    - a head-on pass at 87°N, in the polar bands (one cell each, around the pole);
    - two jets passing abreast 8 km apart on either side of 21°E, and two ships 3.6 km apart on
      either side of 58°N (the ships' smaller volume): neither track ever enters the other's
      cell, so only the halo brings the second track into the owner's task.
    """
    frames = [
        *_head_on("00001", (59.5, 20.0), 0.0),
        *_head_on("00002", (60.0, 22.0), 120.0),
        *_head_on("00003", (10.0, 180.0), 240.0),
        *_head_on("00004", (87.0, 45.0), 360.0),
    ]
    escort_from = (60.5, 22.3)
    frames.append(_jet("icao:a00005", "nato", escort_from, 60.0, 2400.0, speed_mps=250.0))
    frames.append(
        _jet("icao:b00005", "russia", escort_from, 60.0, 2400.0, speed_mps=250.0, north_m=900.0)
    )
    antimeridian = (-20.0, 179.6)
    frames.append(_jet("icao:a00006", "nato", antimeridian, 30.0, 900.0, north_m=0.0))
    frames.append(_jet("icao:b00006", "russia", antimeridian, 30.0, 900.0, north_m=1500.0))
    # abreast on either side of 21°E, never crossing it: the point is 200 m west of the border
    beside = (55.4, 21.0)
    frames.append(_jet("icao:a00007", "nato", beside, 0.0, 600.0, east_m=-4200.0, course_deg=0.0))
    frames.append(
        _jet(
            "icao:b00007",
            "russia",
            beside,
            0.0,
            600.0,
            east_m=3800.0,
            north_m=132_000.0,
            course_deg=180.0,
        )
    )
    # ships passing on either side of 58°N, 3.6 km apart: the point is 200 m south of it
    for track, side, north_m, east_m, course in (
        ("mmsi:211000008", "nato", -2000.0, -3000.0, 90.0),
        ("mmsi:273000008", "russia", 1600.0, 3000.0, 270.0),
    ):
        frames.append(
            straight(
                track,
                start=T0 + timedelta(seconds=200.0),
                origin=(58.0, 25.5),
                north_m=north_m,
                east_m=east_m,
                alt_m=0.0,
                speed_mps=4.0,
                course_deg=course,
                duration_s=1200.0,
                step_s=10.0,
                side=side,
                domain="sea",
            )
        )
    return concat_tracks(*frames)


@pytest.fixture(scope="module")
def traffic() -> pl.DataFrame:
    return cell_traffic()


@pytest.fixture(scope="module")
def single(traffic: pl.DataFrame) -> pl.DataFrame:
    return detect(traffic).encounters


def test_the_cell_traffic_has_the_encounters_it_was_built_for(single: pl.DataFrame) -> None:
    by_pair = {(row["a"], row["b"]): row for row in single.iter_rows(named=True)}
    assert single.height == 8
    border = by_pair[("icao:a00001", "icao:b00001")]
    assert border["min_horizontal_m"] == pytest.approx(200.0, abs=1.0)
    assert border["cpa_time"] == T0 + timedelta(seconds=300)
    escort = by_pair[("icao:a00005", "icao:b00005")]
    assert escort["end"] - escort["start"] == timedelta(seconds=2400)
    across = by_pair[("icao:a00006", "icao:b00006")]
    assert across["min_horizontal_m"] == pytest.approx(1500.0, abs=1.0)
    assert by_pair[("icao:a00003", "icao:b00003")]["cpa_time"] == T0 + timedelta(seconds=540)
    ships = by_pair[("mmsi:211000008", "mmsi:273000008")]
    assert ships["kind"] == "sea-sea"
    assert ships["min_horizontal_m"] == pytest.approx(3600.0, abs=1.0)
    assert 7500.0 < by_pair[("icao:a00007", "icao:b00007")]["min_horizontal_m"] < 8200.0
    assert by_pair[("icao:a00004", "icao:b00004")]["min_horizontal_m"] < 250.0


def test_the_traffic_really_crosses_cells(traffic: pl.DataFrame) -> None:
    membership = track_cells(traffic, GRID, Policy())
    per_track = dict(membership.group_by("track").len().iter_rows())
    # the escort flies across eleven 1° cells of its band and touches the band to the south
    assert per_track["icao:a00005"] >= 11
    # the antimeridian escort is in cells on both ends of the longitude numbering
    crossing = set(membership.filter(pl.col("track") == "icao:a00006")["cell"].to_list())
    band = int((-20.0 + 90.0) // 1.0)
    assert {band * 360 + 0, band * 360 + 359} <= crossing
    # the polar bands are one cell each, around the pole
    polar = membership.filter(pl.col("track") == "icao:a00004")
    assert polar["cell"].to_list() == [176 * 360, 177 * 360]  # the 86-87° and 87-88° bands


@pytest.mark.parametrize(
    ("degrees", "partition_s"), [(1.0, 600.0), (2.0, 3600.0), (15.0, 600.0), (90.0, 3600.0)]
)
def test_cells_give_the_single_process_encounters(
    traffic: pl.DataFrame, single: pl.DataFrame, degrees: float, partition_s: float
) -> None:
    found = detect_partitioned(traffic, partition_s=partition_s, cells=CellGrid(degrees))
    assert found.encounters.equals(single)
    assert found.stats["cell_tasks"] > found.stats["partitions"]


def test_each_cell_reads_a_fraction_of_the_partition(traffic: pl.DataFrame) -> None:
    whole = detect_partitioned(traffic, partition_s=3600.0)
    split = detect_partitioned(traffic, partition_s=3600.0, cells=GRID)
    assert whole.stats["max_positions_per_task"] == traffic.height
    # the largest cell task holds the long escort's two tracks and little else
    assert split.stats["max_positions_per_task"] < traffic.height / 2
    assert split.stats["redetected_pairs"] == whole.stats["redetected_pairs"]


def test_tracks_in_many_small_cells_give_the_same_encounters(
    traffic: pl.DataFrame, single: pl.DataFrame
) -> None:
    # cells of 0.25° are narrower than twice the halo (0.17° of longitude at 60°N): tracks are
    # in several cells even where they stay put, and the escort in dozens
    small = CellGrid(0.25)
    per_track = dict(track_cells(traffic, small, Policy()).group_by("track").len().iter_rows())
    assert per_track["icao:a00005"] >= 44
    assert per_track["mmsi:211000008"] >= 4
    assert sorted(per_track.values())[len(per_track) // 2] >= 4
    found = detect_partitioned(traffic, partition_s=3600.0, cells=small)
    assert found.encounters.equals(single)


def test_a_halo_too_small_loses_the_episodes_across_borders(
    traffic: pl.DataFrame, single: pl.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The halo is what makes cells exact: at R/8 the pairs abreast of a border lose a track."""
    monkeypatch.setattr(cells_module, "halo_m", lambda policy: R / 8.0)
    found = detect_partitioned(traffic, partition_s=3600.0, cells=GRID).encounters
    lost = single.join(found, on=["a", "b", "start"], how="anti")
    assert set(lost["a"].to_list()) >= {"icao:a00007", "mmsi:211000008"}


def test_the_halo_is_the_largest_volume_radius() -> None:
    assert halo_m(Policy()) == R
    wider = Policy.model_validate({"volumes": {"sea_sea_horizontal_m": 12_000.0}})
    assert halo_m(wider) == 12_000.0


def test_band_halos_widen_towards_the_poles_and_take_the_polar_bands_whole() -> None:
    halos = band_halos(GRID, Policy())
    assert halos.height == 180
    equator = halos.row(90, named=True)  # 0-1°N
    assert equator["lon_halo"] == pytest.approx(R / 111_195.0, rel=1e-3)
    sixty = halos.row(150, named=True)  # 60-61°N: the halo at 61°
    assert sixty["lon_halo"] == pytest.approx(R / 111_195.0 / np.cos(np.radians(61.0)), rel=1e-3)
    # a band whose core reaches 85° (84-85°N, 85-84°S) is polar: one cell, every track near it
    polar = [0, 1, 2, 3, 4, 5, 174, 175, 176, 177, 178, 179]
    assert halos.filter("polar")["iy"].to_list() == polar
    assert halos.filter("whole")["iy"].to_list() == polar


def test_cells_wrap_at_the_antimeridian_and_clip_at_the_poles() -> None:
    lat = np.array([0.5, 0.5, 0.5, 83.5, 90.0, -90.0])
    lon = np.array([179.5, -180.0, 180.0, 10.0, 10.0, -170.0])
    assert cell_of(lat, lon, GRID).tolist() == [
        90 * 360 + 359,
        90 * 360 + 0,
        90 * 360 + 0,
        173 * 360 + 190,
        179 * 360,  # the polar bands are one cell each
        0,
    ]


def test_a_cell_grid_divides_the_globe_evenly() -> None:
    grid = CellGrid(7.0)  # 180 / 7 and 360 / 7 are rounded to whole numbers of cells
    assert (grid.lat_bands, grid.lon_cells) == (26, 51)
    assert grid.count == 26 * 51
    with pytest.raises(ValueError, match="cell degrees"):
        CellGrid(0.0)


def test_cells_and_boundary_traffic_still_agree() -> None:
    """The time partitions' own boundary cases, now with cells too."""
    table = boundary_traffic()
    single = detect(table).encounters
    for degrees, partition_s in ((3.0, 300.0), (0.5, 1800.0)):
        found = detect_partitioned(table, partition_s=partition_s, cells=CellGrid(degrees))
        assert found.encounters.equals(single)


def test_cells_on_april2016_are_identical() -> None:
    table = load_tracks([SAMPLE]).table
    single = detect(table).encounters
    assert single.height == 6
    found = detect_partitioned(table, partition_s=3600.0, cells=CellGrid(2.0))
    assert found.encounters.equals(single)
    summary = summarize_rows(table)
    assert summary is not None
    assert found.stats["partitions"] == len(plan_partitions(summary, Policy(), 3600.0))
