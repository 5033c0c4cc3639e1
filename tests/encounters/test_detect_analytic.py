"""The archive detector on straight lines and simple shapes whose answer is known in closed form.

Every track here is built in the local east/north plane of one origin with ``offset_position``;
times are seconds from ``T0``. The expected values come from the geometry, never from a run.
"""

import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from parley.encounters import detector
from parley.encounters.detector import detect
from parley.encounters.policy import Policy, load_policy
from parley.errors import ConfigError
from parley.tracks.geo import haversine_m, offset_position
from parley.tracks.schema import conform

T0 = datetime(2016, 4, 11, 13, 0, tzinfo=UTC)
ORIGIN = (55.3, 18.9)
Times = Sequence[float] | np.ndarray
Path3 = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]


def track(
    name: str,
    side: str | None,
    domain: str,
    times: Times,
    path: Path3,
    *,
    transponder: str = "on",
    speed_mps: float | None = None,
    origin: tuple[float, float] = ORIGIN,
) -> pl.DataFrame:
    """A canonical track sampled at ``times`` (s after T0) along ``path`` (east, north, alt)."""
    t = np.asarray(times, dtype=np.float64)
    east, north, alt = path(t)
    lat, lon = offset_position(origin[0], origin[1], east, north)
    n = t.size
    rows: dict[str, Any] = {
        "time": [T0 + timedelta(microseconds=round(x * 1e6)) for x in t],
        "track": [name] * n,
        "side": [side] * n,
        "domain": [domain] * n,
        "lat": lat,
        "lon": lon,
        "alt_m": np.broadcast_to(alt, t.shape).astype(np.float64),
        "speed_mps": [speed_mps] * n,
        "transponder": [transponder] * n,
    }
    return conform(pl.DataFrame(rows), keep_line=False)


def line(
    name: str,
    side: str | None,
    domain: str,
    times: Times,
    *,
    east: float = 0.0,
    north: float = 0.0,
    alt: float = 0.0,
    v_east: float = 0.0,
    v_north: float = 0.0,
    v_up: float = 0.0,
    transponder: str = "on",
    origin: tuple[float, float] = ORIGIN,
) -> pl.DataFrame:
    """Constant velocity through (east, north, alt) at T0, with its true ground speed reported."""

    def path(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return east + v_east * t, north + v_north * t, alt + v_up * t

    speed = math.hypot(v_east, v_north)
    return track(
        name, side, domain, times, path, transponder=transponder, speed_mps=speed, origin=origin
    )


def steps(start: float, stop: float, step: float = 1.0) -> np.ndarray:
    return np.arange(start, stop + 1e-9, step)


def run(*frames: pl.DataFrame, policy: Policy | None = None) -> list[dict[str, Any]]:
    return detect(pl.concat(frames), policy).encounters.to_dicts()


def only(encounters: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(encounters) == 1, encounters
    return encounters[0]


def seconds(moment: datetime) -> float:
    return (moment - T0).total_seconds()


NATO_JET = "icao:4ca001"
RUSSIAN_JET = "icao:155001"
NATO_SHIP = "mmsi:338000001"
RUSSIAN_SHIP = "mmsi:273000001"
AIRLINER = "icao:4b1801"


# --- continuous time: the minimum between samples -----------------------------------------------


def test_head_on_jets_pass_40_m_apart_between_samples() -> None:
    times = steps(-180.5, 180.5)  # once a second, at half seconds: CPA at T0 falls between them
    a = line(NATO_JET, "nato", "air", times, alt=9000.0, v_east=250.0)
    b = line(RUSSIAN_JET, "russia", "air", times, north=40.0, alt=9000.0, v_east=-250.0)
    sample_gaps = np.hypot(500.0 * times, 40.0)
    assert sample_gaps.min() >= 250.0  # no two simultaneous samples closer than 250 m

    e = only(run(a, b))
    assert e["kind"] == "air-air"
    assert (e["a"], e["b"]) == (RUSSIAN_JET, NATO_JET)  # ordered by track id
    assert e["sides"] == ["russia", "nato"]
    assert e["min_slant_m"] == pytest.approx(40.0, abs=0.5)
    assert e["min_horizontal_m"] == pytest.approx(40.0, abs=0.5)
    assert e["vertical_m"] == pytest.approx(0.0, abs=0.01)
    assert seconds(e["cpa_time"]) == pytest.approx(0.0, abs=0.002)
    # closure while under 150 m: the radial part of 500 m/s at the 150 m entry
    assert e["max_closure_mps"] == pytest.approx(500.0 * math.sqrt(150**2 - 40**2) / 150, abs=0.5)
    assert e["passes"] == 1
    assert e["severity"] == "high-risk"
    assert e["reasons"] == ["fast-close-approach"]
    # inside the 5 NM volume from 9,260 m out to 9,260 m out again
    half = math.sqrt(9260.0**2 - 40.0**2) / 500.0
    assert seconds(e["start"]) == pytest.approx(-half, abs=0.05)
    assert seconds(e["end"]) == pytest.approx(half, abs=0.05)


def test_crossing_at_right_angles_with_a_known_miss_distance() -> None:
    # a east at 200 m/s through the origin; b north at 150 m/s, 300 m south of it at T0.
    # relative position (-200 t, 150 t - 300): |p|² = 62500 t² - 90000 t + 90000,
    # minimum 57600 (240 m) at t = 0.72 s
    a = line(NATO_JET, "nato", "air", steps(-120.3, 120.0, 2.0), alt=6000.0, v_east=200.0)
    b = line(
        RUSSIAN_JET,
        "russia",
        "air",
        steps(-119.0, 120.0, 1.3),
        north=-300.0,
        alt=6000.0,
        v_north=150.0,
    )
    e = only(run(a, b))
    assert e["min_slant_m"] == pytest.approx(240.0, abs=0.5)
    assert e["min_horizontal_m"] == pytest.approx(240.0, abs=0.5)
    assert seconds(e["cpa_time"]) == pytest.approx(0.72, abs=0.005)
    assert e["passes"] == 1  # one minimum under 305 m
    # never under 150 m: the largest closure of the whole episode, at its start (9,260 m)
    t_in = seconds(e["start"])
    # the volume is entered at 9,260 m on the Earth (great circle between the true positions)
    lat_a, lon_a = offset_position(ORIGIN[0], ORIGIN[1], 200.0 * t_in, 0.0)
    lat_b, lon_b = offset_position(ORIGIN[0], ORIGIN[1], 0.0, 150.0 * t_in - 300.0)
    assert haversine_m(lat_a, lon_a, lat_b, lon_b) == pytest.approx(9260.0, abs=0.5)
    p = np.array([-200.0 * t_in, 150.0 * t_in - 300.0])
    v = np.array([-200.0, 150.0])
    assert e["max_closure_mps"] == pytest.approx(-p @ v / np.linalg.norm(p), abs=0.5)
    assert e["severity"] == "routine"
    assert e["reasons"] == ["inside-volume"]


BERING_SEA_ANTIMERIDIAN = (65.5, 180.0)


def test_pass_across_the_antimeridian() -> None:
    # one flies north 900 m west of 180°, the other south 900 m east of it: they never cross it
    times = steps(-100.5, 100.5)
    a = line(
        NATO_JET,
        "nato",
        "air",
        times,
        east=-900.0,
        alt=9000.0,
        v_north=250.0,
        origin=BERING_SEA_ANTIMERIDIAN,
    )
    b = line(
        RUSSIAN_JET,
        "russia",
        "air",
        times,
        east=900.0,
        alt=9000.0,
        v_north=-250.0,
        origin=BERING_SEA_ANTIMERIDIAN,
    )
    assert a["lon"].max() < 180.0
    assert b["lon"].max() < -179.0
    e = only(run(a, b))
    assert e["min_slant_m"] == pytest.approx(1800.0, abs=0.5)
    assert seconds(e["cpa_time"]) == pytest.approx(0.0, abs=0.002)


def test_head_on_pass_on_the_antimeridian() -> None:
    times = steps(-100.5, 100.5)
    a = line(
        NATO_JET, "nato", "air", times, alt=9000.0, v_east=250.0, origin=BERING_SEA_ANTIMERIDIAN
    )
    b = line(
        RUSSIAN_JET,
        "russia",
        "air",
        times,
        north=40.0,
        alt=9000.0,
        v_east=-250.0,
        origin=BERING_SEA_ANTIMERIDIAN,
    )
    e = only(run(a, b))
    assert e["min_slant_m"] == pytest.approx(40.0, abs=0.5)
    half = math.sqrt(9260.0**2 - 40.0**2) / 500.0
    assert seconds(e["end"]) - seconds(e["start"]) == pytest.approx(2 * half, abs=0.05)


def test_vertical_offset_at_the_closest_approach() -> None:
    times = steps(-100.5, 100.5)
    a = line(NATO_JET, "nato", "air", times, alt=8000.0, v_east=220.0)
    b = line(RUSSIAN_JET, "russia", "air", times, north=100.0, alt=8200.0, v_east=-220.0)
    e = only(run(a, b))
    assert e["min_slant_m"] == pytest.approx(math.hypot(100.0, 200.0), abs=0.5)
    assert e["min_horizontal_m"] == pytest.approx(100.0, abs=0.5)
    assert e["vertical_m"] == pytest.approx(200.0, abs=0.01)
    assert e["severity"] == "routine"


def test_vertical_offset_changing_through_the_closest_approach() -> None:
    # b climbs at 10 m/s through a's level: at T0 it is 50 m below; horizontal offset 0.
    # slant² = (440 t)² + (10 t - 50)², minimum at t = 500 / (440² + 100)
    times = steps(-100.5, 100.5)
    a = line(NATO_JET, "nato", "air", times, alt=8000.0, v_east=220.0)
    b = line(RUSSIAN_JET, "russia", "air", times, alt=7950.0, v_east=-220.0, v_up=10.0)
    e = only(run(a, b))
    t_cpa = 500.0 / (440.0**2 + 100.0)
    assert seconds(e["cpa_time"]) == pytest.approx(t_cpa, abs=0.002)
    assert e["min_slant_m"] == pytest.approx(math.hypot(440 * t_cpa, 10 * t_cpa - 50), abs=0.5)
    assert e["vertical_m"] == pytest.approx(abs(10 * t_cpa - 50), abs=0.05)
    assert e["min_horizontal_m"] == pytest.approx(0.0, abs=0.5)


def test_outside_the_vertical_volume_is_nothing() -> None:
    times = steps(-100.5, 100.5)
    a = line(NATO_JET, "nato", "air", times, alt=8000.0, v_east=220.0)
    b = line(RUSSIAN_JET, "russia", "air", times, alt=8310.0, v_east=-220.0)  # 310 m > 305 m
    assert run(a, b) == []


def test_air_sea_volume_ceiling_at_3000_ft() -> None:
    ship = line(NATO_SHIP, "nato", "sea", steps(-300, 300, 10.0), v_east=8.0)
    high = line(
        RUSSIAN_JET, "russia", "air", steps(-60.5, 60.5), north=50.0, alt=950.0, v_east=-200.0
    )
    assert run(ship, high) == []  # over the ship, but above 914 m
    below = line(
        RUSSIAN_JET, "russia", "air", steps(-60.5, 60.5), north=50.0, alt=800.0, v_east=-200.0
    )
    e = only(run(ship, below))
    assert e["kind"] == "air-sea"
    assert e["severity"] == "routine"  # not under 305 m, no low pass
    assert e["min_horizontal_m"] == pytest.approx(50.0, abs=0.5)
    # slant range to the ship at sea level
    assert e["min_slant_m"] == pytest.approx(math.hypot(50.0, 800.0), abs=0.5)


# --- air-sea ------------------------------------------------------------------------------------


def test_low_fast_pass_over_a_ship_is_high_risk() -> None:
    ship = line(NATO_SHIP, "nato", "sea", steps(-300, 300, 10.0), v_east=6.0)
    jet = line(
        RUSSIAN_JET, "russia", "air", steps(-60.5, 60.5), north=9.0, alt=30.0, v_east=-194.0
    )  # 200 m/s relative to the ship, 9 m (30 ft) aside, 30 m up
    e = only(run(ship, jet))
    assert e["kind"] == "air-sea"
    assert e["min_horizontal_m"] == pytest.approx(9.0, abs=0.5)
    assert e["min_slant_m"] == pytest.approx(math.hypot(9.0, 30.0), abs=0.5)
    assert e["low_fast_pass"] is True
    assert e["severity"] == "high-risk"
    assert e["reasons"] == ["low-fast-pass"]
    assert e["passes"] == 1


@pytest.mark.parametrize(
    ("north", "alt", "v_east", "severity", "reasons"),
    [
        (150.0, 30.0, -200.0, "serious", ["low-close-pass"]),  # 150 m aside: not a low fast pass
        (9.0, 30.0, -40.0, "serious", ["low-close-pass"]),  # 40 m/s: too slow for an attack run
        (9.0, 200.0, -200.0, "serious", ["low-close-pass"]),  # 200 m up: too high for one
        (9.0, 400.0, -200.0, "routine", ["inside-volume"]),  # above 305 m: no low pass at all
        (1000.0, 30.0, -200.0, "routine", ["inside-volume"]),  # 1,000 m off: beyond 914 m
    ],
)
def test_air_sea_passes_that_are_not_attack_profiles(
    north: float, alt: float, v_east: float, severity: str, reasons: list[str]
) -> None:
    ship = line(NATO_SHIP, "nato", "sea", steps(-400, 400, 10.0))
    jet = line(
        RUSSIAN_JET, "russia", "air", steps(-300.5, 300.5), north=north, alt=alt, v_east=v_east
    )
    e = only(run(ship, jet))
    assert e["low_fast_pass"] is False
    assert (e["severity"], e["reasons"]) == (severity, reasons)


def orbiting(
    radius: float, turns: float, alt: float, ship_speed: float, step: float = 1.0
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A ship sailing east and a helicopter circling it anticlockwise at 40 m/s relative."""
    omega = 40.0 / radius
    duration = turns * 2 * math.pi / omega

    def helicopter(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        angle = omega * t
        return ship_speed * t + radius * np.cos(angle), radius * np.sin(angle), alt + 0 * t

    ship = line(NATO_SHIP, "nato", "sea", steps(-20.0, duration + 20.0, 5.0), v_east=ship_speed)
    heli = track(
        "icao:155099", "russia", "air", steps(0.0, duration, step), helicopter, speed_mps=40.0
    )
    return ship, heli


def test_helicopter_circling_a_ship_seven_times() -> None:
    ship, heli = orbiting(radius=300.0, turns=7.25, alt=70.0, ship_speed=6.0)
    e = only(run(ship, heli))
    assert e["orbits"] == 7
    assert e["passes"] == 1  # it never leaves 914 m, so it never re-arms
    assert e["min_horizontal_m"] == pytest.approx(300.0, abs=1.0)  # chords of a 300 m circle
    assert e["severity"] == "serious"
    assert e["low_fast_pass"] is False  # 300 m away


def test_orbits_alone_make_an_encounter_serious() -> None:
    # 950 m out: no pass within 914 m, but two full turns below 305 m
    ship, heli = orbiting(radius=950.0, turns=2.5, alt=70.0, ship_speed=4.0)
    e = only(run(ship, heli))
    assert e["orbits"] == 2
    assert (e["severity"], e["reasons"]) == ("serious", ["low-orbits"])
    ship, heli = orbiting(radius=950.0, turns=1.5, alt=70.0, ship_speed=4.0)
    e = only(run(ship, heli))
    assert e["orbits"] == 1
    assert (e["severity"], e["reasons"]) == ("routine", ["inside-volume"])


def test_orbits_above_305_m_are_counted_but_not_serious() -> None:
    ship, heli = orbiting(radius=950.0, turns=3.5, alt=500.0, ship_speed=4.0)
    e = only(run(ship, heli))
    assert e["orbits"] == 3
    assert e["severity"] == "routine"


# --- sea-sea ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("miss_m", "severity", "reasons"),
    [
        (600.0, "serious", ["close-quarters"]),
        (80.0, "high-risk", ["close-quarters-collision-risk"]),
        (2000.0, "routine", ["inside-volume"]),
    ],
)
def test_ships_passing(miss_m: float, severity: str, reasons: list[str]) -> None:
    times = steps(-1200.0, 1200.0, 10.0)
    a = line(NATO_SHIP, "nato", "sea", times, v_east=7.0)
    b = line(RUSSIAN_SHIP, "russia", "sea", times + 3.0, north=miss_m, v_east=-5.0)
    e = only(run(a, b))
    assert e["kind"] == "sea-sea"
    assert e["min_horizontal_m"] == pytest.approx(miss_m, abs=0.5)
    assert e["min_slant_m"] == pytest.approx(miss_m, abs=0.5)
    assert seconds(e["cpa_time"]) == pytest.approx(0.0, abs=0.05)
    assert (e["severity"], e["reasons"]) == (severity, reasons)


def test_ships_two_nautical_miles_apart_are_not_an_encounter() -> None:
    times = steps(-1200.0, 1200.0, 10.0)
    a = line(NATO_SHIP, "nato", "sea", times, v_east=7.0)
    b = line(RUSSIAN_SHIP, "russia", "sea", times, north=3710.0, v_east=-5.0)
    assert run(a, b) == []


# --- gaps and episodes --------------------------------------------------------------------------


def overtaking(hole: tuple[float, float] | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """b overtakes a at 10 m/s relative, 50 m aside, level with it; CPA at T0.

    ``hole``: an interval of T0-relative seconds in which b sends nothing.
    """
    times = steps(-300.0, 300.0)
    a = line(NATO_JET, "nato", "air", times, alt=7000.0, v_north=100.0)
    b_times = times if hole is None else times[(times <= hole[0]) | (times >= hole[1])]
    b = line(RUSSIAN_JET, "russia", "air", b_times, east=50.0, alt=7000.0, v_north=110.0)
    return a, b


def test_overtaking_control_without_a_hole() -> None:
    e = only(run(*overtaking(None)))
    assert e["min_slant_m"] == pytest.approx(50.0, abs=0.5)


def test_no_interpolation_across_a_90_s_hole_in_aircraft_data() -> None:
    # b is silent from -45 s to +45 s: the true CPA (50 m at T0) is inside the hole, and the
    # nearest measured approach is at its edges, 450 m along and 50 m aside
    encounters = run(*overtaking((-45.0, 45.0)))
    edge = math.hypot(450.0, 50.0)
    assert len(encounters) == 2  # the hole splits the stay: 90 s apart, over the merge gap
    first, second = encounters
    assert first["min_slant_m"] == pytest.approx(edge, abs=0.5)
    assert second["min_slant_m"] == pytest.approx(edge, abs=0.5)
    assert seconds(first["end"]) == pytest.approx(-45.0, abs=0.01)
    assert seconds(second["start"]) == pytest.approx(45.0, abs=0.01)
    assert seconds(first["cpa_time"]) == pytest.approx(-45.0, abs=0.01)


def test_interpolation_across_a_50_s_hole_in_aircraft_data() -> None:
    e = only(run(*overtaking((-25.0, 25.0))))
    assert e["min_slant_m"] == pytest.approx(50.0, abs=0.5)  # straight flight: exact anyway


def test_ship_gaps_up_to_ten_minutes_are_interpolated() -> None:
    times = steps(-1200.0, 1200.0, 10.0)
    a = line(NATO_SHIP, "nato", "sea", times, v_east=2.0)
    b_times = times[(times <= -250.0) | (times >= 250.0)]  # a 500 s hole: under 10 minutes
    b = line(RUSSIAN_SHIP, "russia", "sea", b_times, north=600.0, v_east=-2.0)
    e = only(run(a, b))
    assert e["min_horizontal_m"] == pytest.approx(600.0, abs=0.5)


def test_ship_gaps_over_ten_minutes_are_not_interpolated() -> None:
    times = steps(-1200.0, 1200.0, 10.0)
    a = line(NATO_SHIP, "nato", "sea", times, v_east=2.0)
    b_times = times[(times <= -350.0) | (times >= 350.0)]  # a 700 s hole
    b = line(RUSSIAN_SHIP, "russia", "sea", b_times, north=600.0, v_east=-2.0)
    first, second = run(a, b)  # and 700 s apart: over the 10 min merge gap
    edge = math.hypot(4.0 * 350.0, 600.0)
    assert first["min_horizontal_m"] == pytest.approx(edge, abs=0.5)
    assert second["min_horizontal_m"] == pytest.approx(edge, abs=0.5)
    assert seconds(first["end"]) == pytest.approx(-350.0, abs=0.01)
    assert seconds(second["start"]) == pytest.approx(350.0, abs=0.01)


def ships_parting(hold_s: float) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Ships abreast 1,000 m apart; b opens to 5,000 m at 10 m/s, holds ``hold_s``, closes again.

    Outside the 2 NM (3,704 m) volume from t = 270.4 s to t = 529.6 s + hold_s.
    """
    times = steps(-600.0, 1400.0 + hold_s, 10.0)
    a = line(NATO_SHIP, "nato", "sea", times, v_east=6.0)

    def b_path(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        knots = [0.0, 400.0, 400.0 + hold_s, 800.0 + hold_s]
        north = np.interp(t, knots, [1000.0, 5000.0, 5000.0, 1000.0])
        return 6.0 * t, north, 0 * t

    return a, track(RUSSIAN_SHIP, "russia", "sea", times, b_path, speed_mps=6.0)


def test_ship_stays_under_ten_minutes_apart_are_one_episode() -> None:
    e = only(run(*ships_parting(hold_s=0.0)))  # out for 259.2 s
    assert seconds(e["start"]) == pytest.approx(-600.0, abs=0.01)
    assert e["min_horizontal_m"] == pytest.approx(1000.0, abs=0.5)


def test_ship_stays_over_ten_minutes_apart_are_two_episodes() -> None:
    first, second = run(*ships_parting(hold_s=400.0))  # out for 659.2 s
    assert seconds(first["end"]) == pytest.approx(270.4, abs=0.01)
    assert seconds(second["start"]) == pytest.approx(929.6, abs=0.01)


def climb_out_and_back(hold_until: float) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Side by side 1 km apart; b climbs 400 m above a at t=0..10 and back at hold_until+10.

    Out of the 305 m vertical volume from 7.625 s to hold_until + 2.375 s.
    """
    times = steps(-120.0, hold_until + 120.0)
    a = line(NATO_JET, "nato", "air", times, alt=7000.0, v_east=180.0)

    def b_path(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        up = np.interp(t, [0.0, 10.0, hold_until, hold_until + 10.0], [0.0, 400.0, 400.0, 0.0])
        return 180.0 * t, 1000.0 + 0 * t, 7000.0 + up

    b = track(RUSSIAN_JET, "russia", "air", times, b_path, speed_mps=180.0)
    return a, b


def test_stays_40_s_apart_are_one_episode() -> None:
    a, b = climb_out_and_back(hold_until=45.0)  # out for 39.75 s
    e = only(run(a, b))
    assert seconds(e["start"]) == pytest.approx(-120.0, abs=0.01)
    assert seconds(e["end"]) == pytest.approx(165.0, abs=0.01)
    assert e["min_slant_m"] == pytest.approx(1000.0, abs=0.5)


def test_stays_90_s_apart_are_two_episodes() -> None:
    a, b = climb_out_and_back(hold_until=95.0)  # out for 89.75 s
    first, second = run(a, b)
    assert seconds(first["end"]) == pytest.approx(7.625, abs=0.01)
    assert seconds(second["start"]) == pytest.approx(97.375, abs=0.01)
    assert first["id"] != second["id"]


# --- which pairs ---------------------------------------------------------------------------------


def head_on(name_a: str, side_a: str, name_b: str, side_b: str, **b: Any) -> list[dict[str, Any]]:
    times = steps(-100.5, 100.5)
    return run(
        line(name_a, side_a, "air", times, alt=9000.0, v_east=250.0),
        line(name_b, side_b, "air", times, north=40.0, alt=9000.0, v_east=-250.0, **b),
    )


def test_same_side_and_civil_pairs_never_appear() -> None:
    assert head_on(NATO_JET, "nato", "icao:4ca002", "nato") == []
    assert head_on(AIRLINER, "civil", "icao:4b1802", "civil") == []
    assert head_on(AIRLINER, "civil", NATO_JET, "nato") == []  # transponder on: not examined
    assert head_on(RUSSIAN_JET, "russia", "icao:155002", "russia", transponder="off") == []
    assert (
        head_on(AIRLINER, "civil", "icao:4b1802", "civil", transponder="off") == []
    )  # not a party


def test_sides_configured_pairs_only() -> None:
    policy = Policy.model_validate({"pairs": {"parties": [["nato", "russia"]]}})
    times = steps(-100.5, 100.5)
    nato = line(NATO_JET, "nato", "air", times, alt=9000.0, v_east=250.0)
    other = line("icao:780001", "china", "air", times, north=40.0, alt=9000.0, v_east=-250.0)
    russian = line(RUSSIAN_JET, "russia", "air", times, north=-40.0, alt=9000.0, v_east=-250.0)
    encounters = run(nato, other, russian, policy=policy)
    assert [(e["a"], e["b"]) for e in encounters] == [(RUSSIAN_JET, NATO_JET)]
    assert len(run(nato, other, russian)) == 3  # by default every party against every other


@pytest.mark.parametrize(
    ("miss_m", "severity", "reason"),
    [
        (250.0, "high-risk", "endangered-civil-aircraft"),
        (1000.0, "serious", "civil-aircraft-proximity"),
        (2500.0, "routine", "inside-volume"),
    ],
)
def test_dark_party_aircraft_against_an_airliner(miss_m: float, severity: str, reason: str) -> None:
    times = steps(-100.5, 100.5)
    dark = line(RUSSIAN_JET, "russia", "air", times, alt=9000.0, v_east=200.0, transponder="off")
    airliner = line(AIRLINER, "civil", "air", times, north=miss_m, alt=9000.0, v_east=-230.0)
    e = only(run(dark, airliner))
    assert e["civil_safety"] is True
    assert e["sides"] == ["russia", "civil"]
    assert e["min_slant_m"] == pytest.approx(miss_m, abs=0.5)
    assert (e["severity"], e["reasons"]) == (severity, [reason, "transponder-off"])


def dark_jet_and_airliner(airliner_side: str | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    times = steps(-100.5, 100.5)
    dark = line(RUSSIAN_JET, "russia", "air", times, alt=9000.0, v_east=200.0, transponder="off")
    airliner = line(AIRLINER, airliner_side, "air", times, north=250.0, alt=9000.0, v_east=-230.0)
    return dark, airliner


def test_a_track_without_a_side_is_civil() -> None:
    e = only(run(*dark_jet_and_airliner(None)))
    assert e["sides"] == ["russia", "civil"]
    assert e["civil_safety"] is True
    assert e["severity"] == "high-risk"


def test_civil_safety_pairs_can_be_switched_off(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, "[pairs]\ncivil_safety = false\n"))
    assert run(*dark_jet_and_airliner("civil"), policy=policy) == []


def test_dark_party_aircraft_against_a_civil_ship_is_not_examined() -> None:
    dark = line(
        RUSSIAN_JET, "russia", "air", steps(-60.5, 60.5), alt=50.0, v_east=200.0, transponder="off"
    )
    ferry = line("mmsi:265000001", "civil", "sea", steps(-300, 300, 10.0), north=20.0)
    assert run(dark, ferry) == []


def test_dark_party_aircraft_against_the_other_party_is_an_ordinary_pair() -> None:
    times = steps(-100.5, 100.5)
    dark = line(RUSSIAN_JET, "russia", "air", times, alt=9000.0, v_east=200.0, transponder="off")
    nato = line(NATO_JET, "nato", "air", times, north=250.0, alt=9000.0, v_east=-230.0)
    e = only(run(dark, nato))
    assert e["civil_safety"] is False
    assert (e["severity"], e["reasons"]) == ("routine", ["inside-volume", "transponder-off"])


# --- behaviour: escort, passes, overflight -------------------------------------------------------


def relative_to_leader(
    offsets: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]],
    times: np.ndarray,
    speed: float = 200.0,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A NATO leader flying east at 8000 m and a Russian jet placed by ``offsets`` from it
    (along-track, to the left, above), so the relative motion is exactly ``offsets``."""
    leader = line(NATO_JET, "nato", "air", times, alt=8000.0, v_east=speed)

    def follower(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        along, left, up = offsets(t)
        return speed * t + along, left, 8000.0 + up

    return leader, track(RUSSIAN_JET, "russia", "air", times, follower, speed_mps=speed)


def test_escort_after_a_slow_join_is_routine() -> None:
    # joins from 2 km behind at 4 m/s, then holds 10 m abeam for five minutes
    def offsets(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return np.minimum(-2000.0 + 4.0 * t, 0.0), 10.0 + 0 * t, 0 * t

    e = only(run(*relative_to_leader(offsets, steps(0.0, 800.0))))
    assert e["min_slant_m"] == pytest.approx(10.0, abs=0.5)
    assert e["max_closure_mps"] <= 4.0 + 1e-6
    assert e["max_closure_mps"] == pytest.approx(4.0, abs=0.1)
    assert (e["severity"], e["reasons"]) == ("routine", ["escort"])


def test_fast_join_to_the_same_formation_is_high_risk() -> None:
    def offsets(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return np.minimum(-2000.0 + 40.0 * t, 0.0), 10.0 + 0 * t, 0 * t

    e = only(run(*relative_to_leader(offsets, steps(0.0, 400.0))))
    assert e["max_closure_mps"] == pytest.approx(40.0, abs=0.5)
    assert (e["severity"], e["reasons"]) == ("high-risk", ["fast-close-approach"])


def test_moderate_join_is_serious() -> None:
    def offsets(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return np.minimum(-2000.0 + 15.0 * t, 0.0), 10.0 + 0 * t, 0 * t

    e = only(run(*relative_to_leader(offsets, steps(0.0, 400.0))))
    assert (e["severity"], e["reasons"]) == ("serious", ["close-approach"])


def weave(low: float, high: float, count: int) -> Callable[[np.ndarray], tuple[Any, Any, Any]]:
    """Abeam distance going high → low → high ``count`` times, 100 s per swing."""
    knots_t = np.arange(0.0, 200.0 * count + 1, 100.0)
    knots_d = np.array([high if i % 2 == 0 else low for i in range(knots_t.size)])

    def offsets(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return 0 * t, np.interp(t, knots_t, knots_d), 0 * t

    return offsets


def test_three_separate_close_passes() -> None:
    times = steps(0.0, 600.0)
    e = only(run(*relative_to_leader(weave(low=200.0, high=2000.0, count=3), times)))
    assert e["passes"] == 3
    assert e["min_slant_m"] == pytest.approx(200.0, abs=0.5)
    assert (e["severity"], e["reasons"]) == ("serious", ["repeated-passes"])


def test_passes_that_never_open_beyond_one_and_a_half_radii_count_once() -> None:
    times = steps(0.0, 600.0)
    # between minima the distance only rises to 400 m (< 1.5 × 305 m): one pass
    e = only(run(*relative_to_leader(weave(low=200.0, high=400.0, count=3), times)))
    assert e["passes"] == 1
    assert (e["severity"], e["reasons"]) == ("routine", ["inside-volume"])


def test_overflight_during_a_slow_roll_over_the_top() -> None:
    # 100 m above, drifting from 200 m left to 200 m right at 10 m/s: straight over at t = 20 s
    def over(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return 0 * t, 200.0 - 10.0 * t, 100.0 + 0 * t

    e = only(run(*relative_to_leader(over, steps(-60.0, 100.0))))
    assert e["overflight"] is True
    assert e["min_slant_m"] == pytest.approx(100.0, abs=0.5)
    assert e["vertical_m"] == pytest.approx(100.0, abs=0.01)
    assert seconds(e["cpa_time"]) == pytest.approx(20.0, abs=0.01)
    assert e["max_closure_mps"] < 10.0
    assert (e["severity"], e["reasons"]) == ("high-risk", ["overflight"])


def test_same_drift_60_m_behind_is_not_an_overflight() -> None:
    def beside(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return -60.0 + 0 * t, 200.0 - 10.0 * t, 100.0 + 0 * t

    e = only(run(*relative_to_leader(beside, steps(-60.0, 100.0))))
    assert e["overflight"] is False
    assert e["min_slant_m"] == pytest.approx(math.hypot(60.0, 100.0), abs=0.5)
    assert (e["severity"], e["reasons"]) == ("serious", ["close-approach"])


# --- the policy -----------------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def ships_600_m() -> tuple[pl.DataFrame, pl.DataFrame]:
    times = steps(-1200.0, 1200.0, 10.0)
    a = line(NATO_SHIP, "nato", "sea", times, v_east=7.0)
    b = line(RUSSIAN_SHIP, "russia", "sea", times, north=600.0, v_east=-5.0)
    return a, b


def test_policy_file_overrides_a_class_threshold(tmp_path: Path) -> None:
    assert only(run(*ships_600_m()))["severity"] == "serious"
    policy = load_policy(write(tmp_path, "[classes.sea_sea]\nserious_horizontal_m = 500.0\n"))
    assert policy.classes.sea_sea.serious_horizontal_m == 500.0
    assert only(run(*ships_600_m(), policy=policy))["severity"] == "routine"


def test_policy_file_overrides_a_volume(tmp_path: Path) -> None:
    times = steps(-100.5, 100.5)
    a = line(NATO_JET, "nato", "air", times, alt=8000.0, v_east=220.0)
    b = line(RUSSIAN_JET, "russia", "air", times, alt=8400.0, v_east=-220.0)
    assert run(a, b) == []
    policy = load_policy(write(tmp_path, "[volumes]\nair_air_vertical_m = 500\n"))
    e = only(run(a, b, policy=policy))
    assert e["vertical_m"] == pytest.approx(400.0, abs=0.01)


def test_default_policy_without_a_file() -> None:
    assert load_policy(None) == Policy()
    assert Policy().volumes.air_air_horizontal_m == 9260.0


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("[volumes]\nair_air_horizontal_metres = 100.0\n", "volumes.air_air_horizontal_metres"),
        ("[volumes]\nair_air_vertical_m = -5\n", "volumes.air_air_vertical_m"),
        ("[classes.air_air]\nserious_passes = 0\n", "classes.air_air.serious_passes"),
        ("[features]\npass_rearm_factor = 0.5\n", "features.pass_rearm_factor"),
        ("[gaps]\nair_max_gap_s = 'sixty'\n", "gaps.air_max_gap_s"),
        ("colour = 'red'\n", "colour"),
    ],
)
def test_invalid_policy_names_the_file_and_the_field(tmp_path: Path, text: str, field: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_policy(path)
    message = str(caught.value)
    assert str(path) in message
    assert field in message
    assert "\n" not in message


def test_unknown_setting_is_called_unknown(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown setting"):
        load_policy(write(tmp_path, "[volumes]\nsea_sea_horizontal_nm = 2\n"))


def test_bad_toml_and_missing_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[volumes\nair_air_vertical_m = 300\n")
    with pytest.raises(ConfigError, match="invalid TOML") as caught:
        load_policy(path)
    assert str(path) in str(caught.value)
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError, match="no such policy file") as caught:
        load_policy(missing)
    assert str(missing) in str(caught.value)


def test_small_batches_give_the_same_encounters(monkeypatch: pytest.MonkeyPatch) -> None:
    # one window per batch: the jet trailing 10 km behind shares candidate windows with a, whose
    # boxes overlap, but is never inside the volume: those batches measure nothing
    a, b = overtaking(None)
    c = line(
        "icao:155002",
        "russia",
        "air",
        steps(-300.0, 300.0),
        north=-10_000.0,
        alt=7000.0,
        v_north=100.0,
    )
    whole = detect(pl.concat([a, b, c]))
    assert whole.stats["candidate_pairs"] == 2
    monkeypatch.setattr(detector, "EVENTS_PER_BATCH", 1)
    batched = detect(pl.concat([a, b, c]))
    assert batched.encounters.equals(whole.encounters)
    assert whole.encounters.height == 1
