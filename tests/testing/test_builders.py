"""The track builders and the April 2016 cases produce the geometry they claim."""

import importlib.util
import inspect
import json
import math
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
import pytest

from parley.testing import april2016, builders, paths
from parley.testing.april2016 import (
    DONALD_COOK,
    DONALD_COOK_POSITION,
    KALININGRAD,
    donald_cook_11_april,
    donald_cook_12_april,
    rc135_14_april,
    two_jets_head_on,
)
from parley.testing.builders import (
    BarrelRoll,
    Straight,
    barrel_roll,
    concat_tracks,
    from_function,
    orbit,
    passes,
    plan_passes,
    relative_to,
    sample_times,
    straight,
)
from parley.tracks.geo import haversine_m, local_offsets, offset_position
from parley.tracks.schema import CANONICAL_COLUMNS, CANONICAL_SCHEMA
from parley.tracks.units import knots_to_mps, m_to_nm

Array = npt.NDArray[np.float64]
START = datetime(2020, 5, 1, 12, 0, tzinfo=UTC)
ORIGIN = (55.3, 18.9)
CASES_DIR = Path(__file__).parents[1] / "data" / "encounters"


def _load(name: str) -> ModuleType:
    """A module of tests/data/encounters (scripts beside the data, not a package)."""
    spec = importlib.util.spec_from_file_location(name, CASES_DIR / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


reference = _load("encounter_reference")  # the brute-force reference of rules.md
make_cases = _load("make_cases")


def seconds_since(frame: pl.DataFrame, moment: datetime) -> Array:
    return np.asarray((frame["time"] - moment).dt.total_microseconds().to_numpy() / 1e6)


def track_of(frame: pl.DataFrame, track: str) -> pl.DataFrame:
    return frame.filter(pl.col("track") == track).sort("time")


def offsets_from(frame: pl.DataFrame, lat: Array, lon: Array) -> tuple[Array, Array]:
    """East/north of the frame's positions from (lat, lon), in the plane tangent there."""
    return local_offsets(frame["lat"].to_numpy(), frame["lon"].to_numpy(), lat, lon)


def position_of(motion: Straight, t: Array) -> tuple[Array, Array]:
    east, north, _ = motion.at(t)
    return offset_position(motion.origin[0], motion.origin[1], east, north)


def count_passes(horizontal: Array, radius: float) -> int:
    """Local minima below ``radius``, each separated from the next by a rise above 1.5 × it."""
    below = horizontal < radius
    above = horizontal > 1.5 * radius
    count, armed = 0, True
    for is_below, is_above in zip(below, above, strict=True):
        if armed and is_below:
            count, armed = count + 1, False
        elif is_above:
            armed = True
    return count


def assert_canonical(frame: pl.DataFrame) -> None:
    assert frame.columns == list(CANONICAL_COLUMNS)
    assert dict(frame.schema) == CANONICAL_SCHEMA
    assert frame["source"].unique().to_list() == ["builder"]
    for column in ("time", "track", "side", "domain", "lat", "lon", "alt_m", "transponder"):
        assert frame[column].null_count() == 0, column


# --- builders -------------------------------------------------------------------------------------


def test_sample_times_start_at_the_offset_and_stay_within_the_duration() -> None:
    assert sample_times(3.0, 1.0).tolist() == [0.0, 1.0, 2.0, 3.0]
    assert sample_times(3.0, 1.0, time_offset_s=0.5).tolist() == [0.5, 1.5, 2.5]
    with pytest.raises(ValueError, match="step_s"):
        sample_times(3.0, 0.0)


def test_straight_positions_are_speed_times_t_from_the_start() -> None:
    speed, course, vrate = 123.4, 37.0, 2.5
    frame = straight(
        "icao:abc123",
        start=START,
        origin=ORIGIN,
        east_m=100.0,
        north_m=-50.0,
        alt_m=1000.0,
        speed_mps=speed,
        course_deg=course,
        vrate_mps=vrate,
        duration_s=60.0,
        step_s=0.5,
        time_offset_s=0.25,
        side="nato",
        domain="air",
        callsign="RCH123",
        type="C-17",
    )
    assert_canonical(frame)
    t = seconds_since(frame, START)
    assert frame.height == 120
    assert (t[0], t[-1]) == (pytest.approx(0.25), pytest.approx(59.75))
    east, north = offsets_from(frame, np.full(t.shape, ORIGIN[0]), np.full(t.shape, ORIGIN[1]))
    along = speed * t
    assert np.abs(east - (100.0 + along * math.sin(math.radians(course)))).max() < 0.01
    assert np.abs(north - (-50.0 + along * math.cos(math.radians(course)))).max() < 0.01
    assert np.abs(frame["alt_m"].to_numpy() - (1000.0 + vrate * t)).max() < 1e-9
    assert frame["speed_mps"].unique().to_list() == [speed]
    assert frame["course_deg"].unique().to_list() == [course]
    assert frame["vrate_mps"].unique().to_list() == [vrate]
    row = frame.row(0, named=True)
    assert (row["side"], row["domain"], row["transponder"]) == ("nato", "air", "on")
    assert (row["callsign"], row["type"]) == ("RCH123", "C-17")


def test_a_naive_start_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        straight(
            "x",
            start=datetime(2020, 1, 1),
            origin=ORIGIN,
            alt_m=0.0,
            speed_mps=1.0,
            course_deg=0.0,
            duration_s=10.0,
            step_s=1.0,
            side=None,
            domain="sea",
        )


def test_from_function_derives_speed_course_and_vertical_rate() -> None:
    def accelerating_east(t: Array) -> tuple[Array, Array, Array]:
        return 10.0 * t + 0.5 * t**2, np.zeros(np.shape(t)), 500.0 + 3.0 * t

    frame = from_function(
        "icao:000001",
        start=START,
        origin=ORIGIN,
        times_s=[0.0, 5.0, 10.0],
        path=accelerating_east,
        side="russia",
        domain="air",
    )
    assert_canonical(frame)
    assert frame["speed_mps"].to_list() == pytest.approx([10.0, 15.0, 20.0], abs=1e-6)
    assert frame["course_deg"].to_list() == pytest.approx([90.0, 90.0, 90.0])
    assert frame["vrate_mps"].to_list() == pytest.approx([3.0, 3.0, 3.0])


def test_a_stationary_track_has_no_course() -> None:
    frame = from_function(
        "mmsi:1",
        start=START,
        origin=ORIGIN,
        times_s=[0.0, 1.0],
        path=lambda t: (np.zeros(np.shape(t)), np.zeros(np.shape(t)), np.zeros(np.shape(t))),
        side=None,
        domain="sea",
    )
    assert frame["course_deg"].null_count() == 2
    assert frame["speed_mps"].to_list() == [0.0, 0.0]


def _ship() -> Straight:
    return Straight(START, ORIGIN, speed_mps=knots_to_mps(12), course_deg=250.0)


def test_an_orbit_keeps_its_radius_around_a_moving_ship() -> None:
    ship = _ship()
    frame = orbit(
        "sim:heli",
        start=START + timedelta(seconds=30),
        center=ship,
        radius_m=300.0,
        alt_m=70.0,
        speed_mps=knots_to_mps(80),
        turns=3.5,
        start_bearing_deg=90.0,
        side="russia",
    )
    assert_canonical(frame)
    t = seconds_since(frame, START)
    assert t[0] == 30.0
    ship_lat, ship_lon = position_of(ship, t)
    east, north = offsets_from(frame, ship_lat, ship_lon)
    assert np.abs(np.hypot(east, north) - 300.0).max() < 0.01
    bearing = np.degrees(np.arctan2(east, north))
    assert bearing[0] == pytest.approx(90.0)
    turned = np.degrees(np.angle(np.exp(1j * np.radians(np.diff(bearing))))).sum()
    rate = np.degrees(knots_to_mps(80) / 300.0)  # samples stop at the last whole second
    assert turned == pytest.approx(rate * (t[-1] - t[0]), abs=1e-6)  # clockwise: bearing grows
    assert rate * (t[-1] - t[0] + 1.0) > 3.5 * 360.0
    ground = frame["speed_mps"].to_numpy()
    assert ground.max() == pytest.approx(knots_to_mps(80) + ship.speed_mps, abs=0.1)
    assert ground.min() == pytest.approx(knots_to_mps(80) - ship.speed_mps, abs=0.1)


def test_an_orbit_around_a_position_with_a_velocity_turns_counter_clockwise() -> None:
    frame = orbit(
        "sim:heli",
        start=START,
        center=ORIGIN,
        center_velocity=(3.0, 4.0),
        radius_m=200.0,
        alt_m=50.0,
        speed_mps=40.0,
        turns=2.0,
        clockwise=False,
        side="russia",
    )
    t = seconds_since(frame, START)
    centre_lat, centre_lon = offset_position(ORIGIN[0], ORIGIN[1], 3.0 * t, 4.0 * t)
    east, north = offsets_from(frame, centre_lat, centre_lon)
    assert np.abs(np.hypot(east, north) - 200.0).max() < 0.01
    bearing = np.arctan2(east, north)
    turned = np.degrees(np.angle(np.exp(1j * np.diff(bearing)))).sum()
    assert turned == pytest.approx(-np.degrees(40.0 / 200.0) * t[-1], abs=1e-6)
    assert t[-1] == math.floor(2 * 2 * math.pi * 200.0 / 40.0)


@pytest.mark.parametrize(
    ("count", "with_target", "on_right"), [(1, False, True), (4, True, False), (11, False, False)]
)
def test_passes_make_exactly_count_passes_at_the_closest_distance(
    count: int, with_target: bool, on_right: bool
) -> None:
    ship, closest = _ship(), 905.0
    frame = passes(
        "sim:jet",
        target=ship,
        count=count,
        closest_m=closest,
        alt_m=30.0,
        speed_mps=216.0,
        leg_m=1500.0,
        start=START + timedelta(seconds=20),
        pass_on_right=on_right,
        first_run_with_target=with_target,
        step_s=0.1,
        side="russia",
    )
    assert_canonical(frame)
    t = seconds_since(frame, START)
    east, north = offsets_from(frame, *position_of(ship, t))
    horizontal = np.hypot(east, north)
    assert count_passes(horizontal, 914.0) == count
    assert horizontal.min() == pytest.approx(closest, abs=0.1)
    assert horizontal.max() < 9260.0  # one continuous stay inside 5 NM
    assert frame["speed_mps"].to_numpy() == pytest.approx(216.0, abs=0.01)
    assert frame["alt_m"].unique().to_list() == [30.0]
    side = np.sign(east * math.cos(math.radians(250.0)) - north * math.sin(math.radians(250.0)))
    near = horizontal < 1000.0
    assert set(side[near]) == {1.0 if on_right else -1.0}  # right of the ship's course


def test_each_planned_pass_is_exactly_closest_m_at_its_cpa_time() -> None:
    ship = _ship()
    plan = plan_passes(
        ship,
        t_begin=0.0,
        count=5,
        closest_m=9.144,
        alt_m=20.0,
        speed_mps=216.0,
        leg_m=1500.0,
        turn_radius_m=2000.0,
        pass_on_right=True,
        first_run_with_target=False,
    )
    cpa = np.array(plan.cpa_times_s)
    east, north, alt = plan.path(cpa)
    ship_east, ship_north, _ = ship.at(cpa)
    assert np.hypot(east - ship_east, north - ship_north) == pytest.approx(9.144, abs=1e-6)
    assert alt.tolist() == [20.0] * 5
    assert len(cpa) == 5
    assert np.all(np.diff(cpa) > 60.0)


def test_passes_refuse_a_target_faster_than_the_aircraft() -> None:
    fast = Straight(START, ORIGIN, speed_mps=300.0, course_deg=0.0)
    with pytest.raises(ValueError, match="outruns"):
        passes(
            "sim:slow",
            target=fast,
            count=2,
            closest_m=0.0,
            alt_m=30.0,
            speed_mps=100.0,
            leg_m=1500.0,
            side="russia",
        )


def _rc135() -> Straight:
    return Straight(START, (55.5, 20.0), alt_m=9144.0, speed_mps=230.0, course_deg=60.0)


def test_a_barrel_roll_overflies_once_and_never_comes_closer_than_its_radius() -> None:
    leader, roll = _rc135(), BarrelRoll(radius_m=15.24)
    fighter = barrel_roll("sim:su27", around=leader, roll=roll, step_s=0.5, side="russia")
    assert_canonical(fighter)
    t = seconds_since(fighter, START)
    east, north = offsets_from(fighter, *position_of(leader, t))
    horizontal = np.hypot(east, north)
    vertical = fighter["alt_m"].to_numpy() - leader.at(t)[2]
    slant = np.hypot(horizontal, vertical)
    assert slant.min() >= 15.24 - 1e-6
    overflight = (horizontal < 30) & (np.abs(vertical) < 150) & (np.abs(vertical) > horizontal)
    assert overflight.any()
    top = np.argmin(np.abs(t - roll.top_s))
    assert horizontal[top] < 0.01
    assert vertical[top] == pytest.approx(15.24)
    heading = math.radians(leader.course_deg)
    right = east * math.cos(heading) - north * math.sin(heading)
    assert right[0] == pytest.approx(-600.0, abs=0.01)  # joins from the left
    assert right[np.argmin(np.abs(t - roll.roll_start_s))] == pytest.approx(-15.24, abs=0.01)
    assert right[-1] == pytest.approx(15.24, abs=0.01)  # ends on the right


def test_relative_offsets_stay_exact_after_the_pair_has_moved_far() -> None:
    leader = Straight(START, ORIGIN, alt_m=6000.0, speed_mps=250.0, course_deg=0.0)
    follower = relative_to(
        "sim:wingman",
        leader=leader,
        duration_s=400.0,
        offsets=lambda t: (
            np.full(np.shape(t), 2000.0),
            np.zeros(np.shape(t)),
            np.full(np.shape(t), 100.0),
        ),
        side="russia",
    )
    t = seconds_since(follower, START)
    east, north = offsets_from(follower, *position_of(leader, t))
    assert t[-1] * 250.0 == 100_000.0  # about 0.9° of latitude north of the origin
    assert np.abs(east - 2000.0).max() < 0.01
    assert np.abs(north).max() < 0.01
    assert follower["alt_m"].unique().to_list() == [6100.0]


def test_concat_tracks_sorts_by_time() -> None:
    common: dict[str, Any] = {
        "origin": ORIGIN,
        "alt_m": 0.0,
        "speed_mps": 5.0,
        "course_deg": 0.0,
        "duration_s": 20.0,
        "side": "nato",
        "domain": "sea",
    }
    late = straight("mmsi:2", start=START + timedelta(seconds=5), step_s=10.0, **common)
    early = straight("mmsi:1", start=START, step_s=10.0, **common)
    frame = concat_tracks(late, early)
    assert frame["time"].is_sorted()
    assert frame["track"].to_list() == ["mmsi:1", "mmsi:2", "mmsi:1", "mmsi:2", "mmsi:1", "mmsi:2"]
    with pytest.raises(ValueError, match="at least one"):
        concat_tracks()


@pytest.mark.parametrize("module", [builders, paths, april2016])
def test_public_names_are_listed_in_all(module: ModuleType) -> None:
    defined_here = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isfunction(value) or inspect.isclass(value))
        and value.__module__ == module.__name__
    }
    assert defined_here <= set(module.__all__)
    assert all(hasattr(module, name) for name in module.__all__)


# --- April 2016 -------------------------------------------------------------------------------


def _reference(frame: pl.DataFrame) -> list[tuple[tuple[str, str], str, int, int | None]]:
    found = reference.reference_encounters(frame)
    return [(tuple(e["pair"]), e["severity"], e["passes"], e["orbits"]) for e in found]


def test_the_ship_is_about_70_nm_from_kaliningrad() -> None:
    distance = haversine_m(*DONALD_COOK_POSITION, *KALININGRAD)
    assert 60.0 < m_to_nm(float(distance)) < 75.0


def test_11_april_twenty_passes_between_900_and_914_m_at_30_m() -> None:
    case = donald_cook_11_april()
    frame = case.frame
    assert_canonical(frame)
    assert frame["time"].min() == datetime(2016, 4, 11, 13, 0, tzinfo=UTC)  # 15:00 CEST
    tracks = frame.group_by("track").agg(pl.first("side"), pl.first("domain")).sort("track")
    assert tracks.rows() == [
        (DONALD_COOK, "nato", "sea"),
        ("sim:su24-1", "russia", "air"),
        ("sim:su24-2", "russia", "air"),
    ]
    ship = track_of(frame, DONALD_COOK)
    assert np.diff(seconds_since(ship, START)).tolist() == [10.0] * (ship.height - 1)
    assert ship["speed_mps"].unique().to_list() == [pytest.approx(knots_to_mps(12))]
    assert sum(e["passes"] or 0 for e in case.expected) == 20
    for expected in case.expected:
        jet = track_of(frame, expected["pair"][1])
        assert np.diff(seconds_since(jet, START)).tolist() == [1.0] * (jet.height - 1)
        assert jet["alt_m"].unique().to_list() == [30.0]
        assert jet["speed_mps"].mean() == pytest.approx(knots_to_mps(420), abs=0.01)
        found = reference.reference_encounters(pl.concat([ship, jet]))
        assert len(found) == 1
        assert 900.0 <= found[0]["min_horizontal_m"] <= 914.0
        assert found[0]["passes"] == expected["passes"] == 10
        assert not found[0]["low_fast_pass"]
    assert [(e["pair"], e["severity"]) for e in case.expected] == [
        ((DONALD_COOK, "sim:su24-1"), "serious"),
        ((DONALD_COOK, "sim:su24-2"), "serious"),
    ]
    assert _reference(frame) == [(e["pair"], e["severity"], e["passes"], 0) for e in case.expected]


def test_12_april_seven_orbits_then_eleven_low_fast_passes() -> None:
    case = donald_cook_12_april()
    assert_canonical(case.frame)
    helicopter = track_of(case.frame, "sim:ka27")
    assert helicopter["time"].min() == datetime(2016, 4, 12, 15, 0, tzinfo=UTC)
    assert helicopter["alt_m"].unique().to_list() == [70.0]
    assert [(e["severity"], e["passes"], e["orbits"]) for e in case.expected] == [
        ("serious", None, 7),
        ("high-risk", 6, None),
        ("high-risk", 5, None),
    ]
    found = reference.reference_encounters(case.frame)
    assert [(e["severity"], e["orbits"]) for e in found][:1] == [("serious", 7)]
    assert [(e["severity"], e["passes"]) for e in found][1:] == [("high-risk", 6), ("high-risk", 5)]
    assert found[1]["min_horizontal_m"] == pytest.approx(9.144, abs=0.01)
    assert found[1]["low_fast_pass"] is True
    assert found[1]["episode_start"] == "2016-04-12T15:40:00Z"  # 17:40 CEST


def test_14_april_barrel_roll_is_an_overflight() -> None:
    case = rc135_14_april()
    assert_canonical(case.frame)
    assert set(case.frame["alt_m"].round(0).to_list()) >= {9144.0}  # 30,000 ft
    found = reference.reference_encounters(case.frame)
    assert [(e["severity"], e["rules"]) for e in found] == [("high-risk", ["overflight"])]
    assert found[0]["min_slant_m"] == pytest.approx(15.24, abs=0.5)
    assert case.expected[0]["rules"] == ("overflight",)


def test_april_cases_at_other_sample_steps_keep_their_expectations() -> None:
    case = donald_cook_11_april(aircraft_step_s=2.0, ship_step_s=30.0)
    ship = track_of(case.frame, DONALD_COOK)
    assert set(np.diff(seconds_since(ship, START)).tolist()) == {30.0}
    assert _reference(case.frame) == [
        (e["pair"], e["severity"], e["passes"], 0) for e in case.expected
    ]
    roll = rc135_14_april(aircraft_step_s=0.5)
    assert [e["severity"] for e in reference.reference_encounters(roll.frame)] == ["high-risk"]


def test_two_jets_head_on_pass_40_m_apart_between_samples_never_closer_than_250_m() -> None:
    case = two_jets_head_on()
    east, west = (track_of(case.frame, name) for name in ("sim:jet-east", "sim:jet-west"))
    assert (east["time"] == west["time"]).all()
    at_samples = haversine_m(
        east["lat"].to_numpy(),
        east["lon"].to_numpy(),
        west["lat"].to_numpy(),
        west["lon"].to_numpy(),
    )
    assert at_samples.min() > 250.0
    assert at_samples.min() == pytest.approx(math.hypot(250.0, 40.0), abs=0.5)
    found = reference.reference_encounters(case.frame)
    assert found[0]["min_slant_m"] == pytest.approx(40.0, abs=0.01)
    assert found[0]["cpa_time"] == "2016-04-14T12:00:15.500Z"
    assert case.expected[0]["severity"] == found[0]["severity"] == "high-risk"


# --- the encounter case files ---------------------------------------------------------------


def _same_csv(written: Path, committed: Path) -> None:
    """Equal text, but numbers within two units of their last written decimal (other platforms
    may round the last digit of a sine differently)."""
    with written.open() as a, committed.open() as b:
        for line, (new, old) in enumerate(zip(a, b, strict=True), start=1):
            for x, y in zip(new.rstrip("\n").split(","), old.rstrip("\n").split(","), strict=True):
                if x == y:
                    continue
                unit = 10.0 ** -len(y.partition(".")[2])
                assert float(x) == pytest.approx(float(y), abs=2 * unit), (committed.name, line)


def _same_json(new: Any, old: Any, where: str = "") -> None:
    if isinstance(old, dict):
        assert new.keys() == old.keys(), where
        for key in old:
            _same_json(new[key], old[key], f"{where}.{key}")
    elif isinstance(old, list):
        assert len(new) == len(old), where
        for i, (x, y) in enumerate(zip(new, old, strict=True)):
            _same_json(x, y, f"{where}[{i}]")
    elif isinstance(old, float):
        assert new == pytest.approx(old, abs=0.02), where
    elif where.endswith(".why"):
        assert re.sub(r"[\d.]+", "#", new) == re.sub(r"[\d.]+", "#", old), where
    else:
        assert new == old, where


def test_the_encounter_case_files_are_what_make_cases_writes(tmp_path: Path) -> None:
    for make in make_cases.CASES:
        spec = make()
        make_cases.build_case(spec, tmp_path)
        _same_csv(tmp_path / f"{spec.name}.csv", CASES_DIR / f"{spec.name}.csv")
        expected = f"{spec.name}.expected.json"
        new, old = (json.loads((folder / expected).read_text()) for folder in (tmp_path, CASES_DIR))
        _same_json(new, old, expected)
    assert len(list(CASES_DIR.glob("*.csv"))) == len(make_cases.CASES)


def test_the_case_files_are_small_canonical_csv() -> None:
    for path in sorted(CASES_DIR.glob("*.csv")):
        header = path.read_text().splitlines()[0]
        assert header.split(",") == [c for c in CANONICAL_COLUMNS if c != "source"], path.name
        assert path.stat().st_size < 100_000, path.name
