"""Generate the encounter cases: small canonical CSV tracks and what rules.md expects of them.

    .venv/bin/python tests/data/encounters/make_cases.py [--out DIR]

Each case is built with ``parley.testing.builders`` and written as ``NAME.csv``; the file is read
back with the standard library and measured by ``encounter_reference.py`` (brute force, independent
of ``parley.encounters``). What it measures, and the class rules.md gives it, goes to
``NAME.expected.json`` with the reasoning. A case whose measured classes differ from the ones it
was designed for is an error, and nothing is written for it.
"""

import argparse
import csv
import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).parent))  # encounter_reference.py, next to this script

from encounter_reference import Array, expected_encounters, iso, read_case

from parley.testing.april2016 import two_jets_head_on
from parley.testing.builders import (
    Straight,
    concat_tracks,
    eased,
    relative_to,
    straight,
    straight_track,
)
from parley.tracks.units import feet_to_m, knots_to_mps, nm_to_m

HERE = Path(__file__).parent
COLUMNS = [
    "time", "track", "side", "domain", "lat", "lon", "alt_m", "speed_mps", "course_deg",
    "vrate_mps", "transponder", "callsign", "type",
]  # fmt: skip
DECIMALS = {"lat": 8, "lon": 8, "alt_m": 2, "speed_mps": 2, "course_deg": 2, "vrate_mps": 2}
TOLERANCE = {
    "distance_m": 0.5, "distance_relative": 0.01, "closure_mps": 1.0, "closure_relative": 0.01,
    "time_s": 2.0,
}  # fmt: skip


@dataclass
class Malformed:
    after_line: int  # inserted after this line of the file (1 = the header)
    row: dict[str, str]


@dataclass
class CaseSpec:
    name: str
    title: str
    record: str  # the public record the case is built from, or the trap it sets
    assumed: str
    frame: pl.DataFrame
    intended: list[tuple[tuple[str, str], str]]  # (sorted pair, severity) per episode, in order
    why: str = ""
    malformed: list[Malformed] = field(default_factory=list)


def _pair(a: str, b: str) -> tuple[str, str]:
    first, second = sorted((a, b))
    return first, second


def _velocity(speed_mps: float, course_deg: float) -> complex:
    course = math.radians(course_deg)
    return speed_mps * complex(math.sin(course), math.cos(course))


def _miss(v_a: complex, v_b: complex, miss_m: float, sign: float = 1.0) -> complex:
    """Where B must be, relative to A at the CPA, to miss A by ``miss_m`` horizontally."""
    relative = v_b - v_a
    return sign * miss_m * 1j * relative / abs(relative)


def _crossing(
    name: str,
    *,
    at_cpa: tuple[float, float, float],
    speed_mps: float,
    course_deg: float,
    start: datetime,
    origin: tuple[float, float],
    cpa_s: float,
    duration_s: float,
    step_s: float,
    vrate_mps: float = 0.0,
    **rest: Any,
) -> pl.DataFrame:
    """A straight track that is at ``at_cpa`` (east, north, alt m) ``cpa_s`` after ``start``."""
    velocity = _velocity(speed_mps, course_deg)
    east, north, alt = at_cpa
    return straight(
        name,
        start=start,
        origin=origin,
        east_m=east - velocity.real * cpa_s,
        north_m=north - velocity.imag * cpa_s,
        alt_m=alt - vrate_mps * cpa_s,
        speed_mps=speed_mps,
        course_deg=course_deg,
        vrate_mps=vrate_mps,
        duration_s=duration_s,
        step_s=step_s,
        **rest,
    )


# --- the cases -----------------------------------------------------------------------------------


def p8_escort_2017() -> CaseSpec:
    start, origin = datetime(2017, 5, 9, 10, 0, tzinfo=UTC), (43.5, 32.0)
    p8 = Straight(start, origin, alt_m=7620.0, speed_mps=200.0, course_deg=100.0)

    def offsets(t: Array) -> tuple[Array, Array, Array]:
        left = eased(t, 0.0, 150.0, 320.0, 6.0) + eased(t, 270.0, 300.0, 0.0, 314.0)
        zero = np.zeros(np.shape(t))
        return -left, zero, zero

    p8_track = straight_track(
        "sim:p8", p8, duration_s=300, step_s=1, side="nato", domain="air", type="P-8A"
    )
    escort = relative_to(
        "sim:su27-escort", leader=p8, offsets=offsets, duration_s=300, side="russia",
        transponder="off", type="Su-27",
    )  # fmt: skip
    return CaseSpec(
        "p8_escort_2017",
        "Su-27 escorts a P-8A 6 m off its left wing for two minutes after a slow join",
        "May 2017: a Russian Su-27 within 20 ft of a US P-8, judged safe by both sides (rules.md)",
        "day, position (Black Sea), altitude 7,620 m, speed 200 m/s, join from 320 m over 150 s",
        concat_tracks(p8_track, escort),
        [(_pair("sim:p8", "sim:su27-escort"), "routine")],
    )


def rc135u_fast_join_2017() -> CaseSpec:
    start, origin = datetime(2017, 6, 19, 10, 0, tzinfo=UTC), (55.3, 18.5)
    rc135 = Straight(start, origin, alt_m=9000.0, speed_mps=220.0, course_deg=80.0)
    approach_end, stop_s = 35.5, 4.0  # 40 m/s closure until 80 m behind, then 10 m/s² to a stop

    def offsets(t: Array) -> tuple[Array, Array, Array]:
        t = np.asarray(t)
        braking = np.clip(t - approach_end, 0.0, stop_s)
        ahead = np.where(
            t <= approach_end, -1500.0 + 40.0 * t, -80.0 + 40.0 * braking - 5.0 * braking**2
        )
        right = eased(t, 99.5, 129.5, feet_to_m(5), 300.0)
        return right, ahead, np.zeros(t.shape)

    rc135_track = straight_track(
        "sim:rc135u", rc135, duration_s=130, step_s=1, side="nato", domain="air", type="RC-135U"
    )
    fighter = relative_to(
        "sim:su27-fast", leader=rc135, offsets=offsets, duration_s=130, side="russia",
        transponder="off", type="Su-27",
    )  # fmt: skip
    return CaseSpec(
        "rc135u_fast_join_2017",
        "Su-27 closes on an RC-135U at 40 m/s from behind and stops 1.5 m (5 ft) off its side",
        "June 2017: a Russian fighter within 5 ft of an RC-135U, unsafe for its 'high rate of"
        " closure speed and poor control' (rules.md)",
        "day, position (Baltic), altitude 9,000 m, 220 m/s, 40 m/s closure, 1 g braking",
        concat_tracks(rc135_track, fighter),
        [(_pair("sim:rc135u", "sim:su27-fast"), "high-risk")],
    )


def sas_il20_2014() -> CaseSpec:
    common: dict[str, Any] = {
        "start": datetime(2014, 12, 12, 10, 0, tzinfo=UTC), "origin": (55.4, 13.5),
        "cpa_s": 100.3, "duration_s": 200, "step_s": 1, "domain": "air",
    }  # fmt: skip
    il20 = _miss(_velocity(150.0, 140.0), _velocity(170.0, 250.0), 90.0)
    frame = concat_tracks(
        _crossing(
            "sim:sas-airliner", at_cpa=(0.0, 0.0, 3000.0), speed_mps=150.0, course_deg=140.0,
            vrate_mps=8.0, side="civil", type="B737", **common,
        ),
        _crossing(
            "sim:il20", at_cpa=(il20.real, il20.imag, 3000.0), speed_mps=170.0, course_deg=250.0,
            side="russia", transponder="off", type="Il-20", **common,
        ),
    )  # fmt: skip
    return CaseSpec(
        "sas_il20_2014",
        "A climbing airliner and an Il-20 flying without transponder cross 90 m apart",
        "2014: an SAS airliner and a Russian Il-20 flying without transponder, 90 m apart against"
        " a 300 m minimum, rated high-risk (Swedish reports; European Leadership Network)",
        "day (12 December), position (south of Malmö), 3,000 m, speeds, courses, the airliner"
        " climbing at 8 m/s",
        frame,
        [(_pair("sim:sas-airliner", "sim:il20"), "high-risk")],
    )


def civil_safety_pairs() -> CaseSpec:
    common: dict[str, Any] = {
        "start": datetime(2015, 3, 20, 9, 0, tzinfo=UTC), "origin": (56.0, 16.0), "cpa_s": 50.5,
        "duration_s": 100, "step_s": 1, "domain": "air",
    }  # fmt: skip
    north = 30_000.0  # the second pair flies 30 km north of the first
    frame = concat_tracks(
        _crossing("sim:airliner-a", at_cpa=(0.0, 0.0, 7000.0), speed_mps=220.0, course_deg=90.0,
                  side="civil", **common),
        _crossing("sim:dark-patrol", at_cpa=(0.0, 250.0, 7000.0), speed_mps=150.0,
                  course_deg=270.0, side="russia", transponder="off", type="Il-20", **common),
        _crossing("sim:airliner-b", at_cpa=(0.0, north, 7000.0), speed_mps=220.0,
                  course_deg=90.0, side="civil", **common),
        _crossing("sim:lit-patrol", at_cpa=(0.0, north + 250.0, 7000.0), speed_mps=150.0,
                  course_deg=270.0, side="nato", transponder="on", type="P-8A", **common),
    )  # fmt: skip
    return CaseSpec(
        "civil_safety_pairs",
        "Two military aircraft pass 250 m from airliners: only the one flying dark counts",
        "the civil-safety rule: a party aircraft with transponder off is invisible to an"
        " airliner's collision avoidance",
        "all geometry",
        frame,
        [(_pair("sim:airliner-a", "sim:dark-patrol"), "high-risk")],
        why="sim:dark-patrol passes 250 m from sim:airliner-a with its transponder off: more than"
        " 150 m, so only the civil-safety rule makes it high-risk; sim:lit-patrol has its"
        " transponder on, so it is never paired with sim:airliner-b; civil-civil pairs and the"
        " pairs 30 km apart are out",
    )


def decatur_2018() -> CaseSpec:
    common: dict[str, Any] = {
        "start": datetime(2018, 9, 30, 1, 0, tzinfo=UTC), "origin": (10.2, 114.2),
        "cpa_s": 755.0, "duration_s": 1500, "step_s": 10, "domain": "sea",
    }  # fmt: skip
    decatur_kn, lanzhou_kn = 10.0, 15.0
    lanzhou = _miss(
        _velocity(knots_to_mps(decatur_kn), 0.0), _velocity(knots_to_mps(lanzhou_kn), 60.0), 41.0,
        sign=-1.0,
    )  # fmt: skip
    frame = concat_tracks(
        _crossing("sim:decatur", at_cpa=(0.0, 0.0, 0.0), speed_mps=knots_to_mps(decatur_kn),
                  course_deg=0.0, side="us", callsign="DECATUR", type="destroyer", **common),
        _crossing("sim:lanzhou", at_cpa=(lanzhou.real, lanzhou.imag, 0.0),
                  speed_mps=knots_to_mps(lanzhou_kn), course_deg=60.0, side="china",
                  transponder="off", callsign="LANZHOU", type="destroyer", **common),
    )  # fmt: skip
    return CaseSpec(
        "decatur_2018",
        "A destroyer crosses 41 m ahead of another (parties 'us' and 'china')",
        "2018: a PLAN destroyer 45 yd (41 m) across USS Decatur's bow, 'unsafe' (US Pacific"
        " Fleet, rules.md)",
        "day (30 September), position (South China Sea), courses and speeds; ship positions are"
        " points, so 41 m is between the two reported positions",
        frame,
        [(_pair("sim:decatur", "sim:lanzhou"), "high-risk")],
    )


def ships_600m() -> CaseSpec:
    common: dict[str, Any] = {
        "start": datetime(2019, 6, 15, 8, 0, tzinfo=UTC), "origin": (55.0, 17.0),
        "cpa_s": 452.5, "duration_s": 900, "step_s": 10, "domain": "sea",
    }  # fmt: skip
    abeam = _velocity(600.0, 45.0 + 90.0)
    frame = concat_tracks(
        _crossing("sim:frigate", at_cpa=(0.0, 0.0, 0.0), speed_mps=8.0, course_deg=45.0,
                  side="nato", type="frigate", **common),
        _crossing("sim:corvette", at_cpa=(abeam.real, abeam.imag, 0.0), speed_mps=7.0,
                  course_deg=225.0, side="russia", type="corvette", time_offset_s=5.0, **common),
    )  # fmt: skip
    return CaseSpec(
        "ships_600m",
        "Two warships pass on opposite courses 600 m apart, sampled 5 s out of phase",
        "sea-sea close quarters: inside 0.5 NM (926 m) but not inside 100 m",
        "all geometry",
        frame,
        [(_pair("sim:corvette", "sim:frigate"), "serious")],
    )


def routine_inside_volume() -> CaseSpec:
    start, origin = datetime(2020, 8, 1, 12, 0, tzinfo=UTC), (55.8, 19.0)
    jets: dict[str, Any] = {
        "start": start, "origin": origin, "cpa_s": 60.5, "duration_s": 120, "step_s": 1,
        "domain": "air",
    }  # fmt: skip
    patrol: dict[str, Any] = {"start": start, "origin": origin, "cpa_s": 120.5, "duration_s": 240}
    ship_east = 40_000.0
    frame = concat_tracks(
        _crossing("sim:jet-nato", at_cpa=(0.0, 0.0, 9000.0), speed_mps=200.0, course_deg=90.0,
                  side="nato", **jets),
        _crossing("sim:jet-russia", at_cpa=(0.0, nm_to_m(4), 9000.0 + feet_to_m(800)),
                  speed_mps=200.0, course_deg=270.0, side="russia", **jets),
        _crossing("sim:ship-nato", at_cpa=(ship_east, 0.0, 0.0), speed_mps=5.0, course_deg=0.0,
                  side="nato", domain="sea", step_s=10, **patrol),
        _crossing("sim:patrol-russia", at_cpa=(ship_east + nm_to_m(3), 0.0, feet_to_m(2500)),
                  speed_mps=120.0, course_deg=180.0, side="russia", domain="air", step_s=1,
                  type="Il-38", **patrol),
    )  # fmt: skip
    return CaseSpec(
        "routine_inside_volume",
        "Inside the monitoring volumes but far: 4 NM and 800 ft between two jets; a patrol"
        " aircraft at 2,500 ft passing 3 NM from a ship",
        "routine: inside the volume, no rule above fires",
        "all geometry",
        frame,
        [
            (_pair("sim:jet-nato", "sim:jet-russia"), "routine"),
            (_pair("sim:patrol-russia", "sim:ship-nato"), "routine"),
        ],
    )


def never_examined() -> CaseSpec:
    start, origin = datetime(2020, 9, 1, 12, 0, tzinfo=UTC), (55.0, 15.0)
    air: dict[str, Any] = {
        "start": start, "origin": origin, "cpa_s": 30.5, "duration_s": 60, "step_s": 1,
        "domain": "air",
    }  # fmt: skip
    sea: dict[str, Any] = {
        "start": start, "origin": origin, "cpa_s": 300.0, "duration_s": 600, "step_s": 10,
        "domain": "sea",
    }  # fmt: skip
    frame = concat_tracks(
        _crossing("sim:nato-a", at_cpa=(0.0, 0.0, 5000.0), speed_mps=250.0, course_deg=90.0,
                  side="nato", **air),
        _crossing("sim:nato-b", at_cpa=(0.0, 50.0, 5000.0), speed_mps=250.0, course_deg=270.0,
                  side="nato", **air),
        _crossing("sim:civil-c", at_cpa=(0.0, 30_000.0, 10_000.0), speed_mps=230.0,
                  course_deg=90.0, side="civil", **air),
        _crossing("sim:civil-d", at_cpa=(0.0, 30_100.0, 10_000.0), speed_mps=230.0,
                  course_deg=270.0, side="civil", transponder="off", **air),
        _crossing("sim:russia-ship-e", at_cpa=(0.0, -30_000.0, 0.0), speed_mps=6.0,
                  course_deg=0.0, side="russia", **sea),
        _crossing("sim:russia-ship-f", at_cpa=(50.0, -30_000.0, 0.0), speed_mps=6.0,
                  course_deg=0.0, side="russia", **sea),
    )  # fmt: skip
    return CaseSpec(
        "never_examined",
        "Close pairs that are never examined: same side (air and sea) and civil-civil",
        "rules.md: 'Never: same-side pairs, civil-civil pairs'",
        "all geometry",
        frame,
        [],
        why="sim:nato-a and sim:nato-b pass 50 m apart at 500 m/s and two russia ships sail 50 m"
        " apart, but each pair is one side; sim:civil-c and sim:civil-d pass 100 m apart, but"
        " civil-civil is never looked at (even with one transponder off); the groups are 30 km"
        " apart and the military aircraft have their transponders on",
    )


def high_over_ship() -> CaseSpec:
    common: dict[str, Any] = {
        "start": datetime(2020, 10, 1, 12, 0, tzinfo=UTC), "origin": (55.2, 18.0),
        "cpa_s": 60.5, "duration_s": 120,
    }  # fmt: skip
    frame = concat_tracks(
        _crossing("sim:ship", at_cpa=(0.0, 0.0, 0.0), speed_mps=6.0, course_deg=300.0,
                  side="nato", domain="sea", step_s=10, **common),
        _crossing("sim:jet-high", at_cpa=(0.0, 0.0, feet_to_m(6000)), speed_mps=200.0,
                  course_deg=30.0, side="russia", domain="air", step_s=1, **common),
    )  # fmt: skip
    return CaseSpec(
        "high_over_ship",
        "An aircraft flies straight over a ship at 6,000 ft",
        "the air-sea volume: an aircraft counts only below 3,000 ft",
        "all geometry",
        frame,
        [],
        why="the aircraft passes directly overhead (0 m horizontal) but at 1,829 m, above the"
        " 914 m ceiling of the air-sea volume: no episode",
    )


def gap_straddle() -> CaseSpec:
    start = datetime(2020, 11, 1, 12, 0, tzinfo=UTC)
    common: dict[str, Any] = {
        "start": start, "origin": (55.6, 17.5), "cpa_s": 90.5, "duration_s": 181, "step_s": 1,
        "domain": "air",
    }  # fmt: skip
    east = _crossing("sim:east", at_cpa=(0.0, 0.0, 8000.0), speed_mps=250.0, course_deg=90.0,
                     side="nato", **common)  # fmt: skip
    west = _crossing("sim:west-gappy", at_cpa=(0.0, 50.0, 8000.0), speed_mps=250.0,
                     course_deg=270.0, side="russia", transponder="off", **common)  # fmt: skip
    gap_from, gap_to = start + timedelta(seconds=30), start + timedelta(seconds=151)
    west = west.filter((pl.col("time") <= gap_from) | (pl.col("time") >= gap_to))
    return CaseSpec(
        "gap_straddle",
        "Two jets would pass 50 m apart, but one has no report for the 121 s around the pass",
        "rules.md: never interpolate across a gap longer than 60 s for an aircraft",
        "all geometry",
        concat_tracks(east, west),
        [],
        why="sim:west-gappy reports until 30 s and from 151 s; interpolating across that 121 s"
        " gap would put the jets 50 m apart at 500 m/s (high-risk), but the gap exceeds 60 s,"
        " and outside it the jets are more than 5 NM apart: no episode",
    )


def _climb_out(hold_s: float) -> Callable[[Array], tuple[Array, Array, Array]]:
    """2 km to the right; at 30 s climb 400 m at 20 m/s, hold ``hold_s``, come back down."""
    times = [0.0, 30.0, 50.0, 50.0 + hold_s, 70.0 + hold_s]
    heights = [0.0, 0.0, 400.0, 400.0, 0.0]

    def offsets(t: Array) -> tuple[Array, Array, Array]:
        up = np.interp(np.asarray(t), times, heights)
        return np.full(np.shape(t), 2000.0), np.zeros(np.shape(t)), up

    return offsets


def merge_gaps() -> CaseSpec:
    start, origin = datetime(2021, 1, 15, 12, 0, tzinfo=UTC), (55.4, 16.5)
    frames = []
    for number, hold_s, east in ((1, 30.5, 0.0), (2, 80.5, 50_000.0)):
        leader = Straight(start, origin, east, 0.0, alt_m=6000.0, speed_mps=200.0, course_deg=0.0)
        duration = math.ceil(100.0 + hold_s)  # 30 s level, 40 s climbing, the hold, 30 s level
        frames.append(
            straight_track(
                f"sim:nato-{number}", leader, duration_s=duration, step_s=1, side="nato",
                domain="air",
            )
        )  # fmt: skip
        frames.append(
            relative_to(
                f"sim:russia-{number}", leader=leader, offsets=_climb_out(hold_s),
                duration_s=duration, side="russia",
            )
        )  # fmt: skip
    return CaseSpec(
        "merge_gaps",
        "Two pairs 2 km apart; in each, one aircraft climbs out of the volume and comes back,"
        " out for 40 s (pair 1) and 90 s (pair 2)",
        "rules.md: two stays separated by less than 60 s (pairs with an aircraft) are one episode",
        "all geometry",
        concat_tracks(*frames),
        [
            (_pair("sim:nato-1", "sim:russia-1"), "routine"),
            (_pair("sim:nato-2", "sim:russia-2"), "routine"),
            (_pair("sim:nato-2", "sim:russia-2"), "routine"),
        ],
        why="sim:russia-1 is more than 305 m above sim:nato-1 for 40 s (< 60 s): one episode;"
        " sim:russia-2 for 90 s: two episodes; the pairs are 50 km apart",
    )


def head_on_malformed() -> CaseSpec:
    case = two_jets_head_on()
    half_seconds = two_jets_head_on(step_s=0.5).frame  # true positions between the samples

    def true_row(track: str, seconds: float) -> dict[str, str]:
        rows = half_seconds.filter(pl.col("track") == track)
        return csv_row(rows.row(round(seconds * 2), named=True))

    # The two rows of whole second k are on file lines 2k + 2 and 2k + 3.
    bad_rows = [
        Malformed(23, {**true_row("sim:jet-east", 10.5), "lat": "95.0"}),
        Malformed(27, {**true_row("sim:jet-west", 12.5), "speed_mps": "fast"}),
        Malformed(43, {**true_row("sim:jet-east", 20.5), "time": "2016-04-14T25:00:20.500Z"}),
    ]
    return CaseSpec(
        "head_on_malformed",
        "Two jets close at 500 m/s, 40 m apart between 1 s samples, in a file with 3 bad rows",
        "rules.md: features in continuous time (no two samples closer than 253 m); a malformed"
        " row is rejected with a reason, never silently dropped",
        "all geometry",
        case.frame,
        [(_pair("sim:jet-east", "sim:jet-west"), "high-risk")],
        why="3 rows must be rejected: a latitude of 95, a speed 'fast' and an impossible time",
        malformed=bad_rows,
    )


CASES: tuple[Callable[[], CaseSpec], ...] = (
    p8_escort_2017,
    rc135u_fast_join_2017,
    sas_il20_2014,
    civil_safety_pairs,
    decatur_2018,
    ships_600m,
    routine_inside_volume,
    never_examined,
    high_over_ship,
    gap_straddle,
    merge_gaps,
    head_on_malformed,
)


# --- writing -------------------------------------------------------------------------------------


def _number(value: float | None, decimals: int) -> str:
    return "" if value is None else f"{round(value, decimals) + 0.0:.{decimals}f}"


def csv_row(row: dict[str, Any]) -> dict[str, str]:
    out = {}
    for name in COLUMNS:
        value = row[name]
        if name == "time":
            out[name] = iso(value)
        elif name in DECIMALS:
            out[name] = _number(value, DECIMALS[name])
        else:
            out[name] = "" if value is None else str(value)
    return out


def write_csv(spec: CaseSpec, path: Path) -> None:
    lines = [csv_row(row) for row in spec.frame.iter_rows(named=True)]
    for bad in sorted(spec.malformed, key=lambda m: m.after_line, reverse=True):
        lines.insert(bad.after_line - 1, bad.row)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(lines)


def build_case(spec: CaseSpec, out: Path) -> dict[str, Any]:
    """Write NAME.csv and NAME.expected.json into ``out``; the expectation as a dict."""
    csv_path = out / f"{spec.name}.csv"
    write_csv(spec, csv_path)
    epoch = spec.frame["time"].min()
    assert isinstance(epoch, datetime)
    tracks, rejected = read_case(csv_path, epoch)
    encounters = expected_encounters(tracks, epoch)
    measured = [(tuple(e["pair"]), e["severity"]) for e in encounters]
    if measured != spec.intended or len(rejected) != len(spec.malformed):
        csv_path.unlink()
        raise SystemExit(f"{spec.name}: designed {spec.intended}, measured {measured}, {rejected}")
    expected = {
        "case": spec.name,
        "title": spec.title,
        "record": spec.record,
        "assumed": spec.assumed,
        "file": csv_path.name,
        "data_rows": spec.frame.height + len(spec.malformed),
        "rejected": rejected,
        "why": spec.why or "see each encounter",
        "tolerance": TOLERANCE,
        "encounters": encounters,
    }
    json_path = out / f"{spec.name}.expected.json"
    json_path.write_text(json.dumps(expected, indent=2, ensure_ascii=False) + "\n")
    return expected


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for make in CASES:
        expected = build_case(make(), args.out)
        print(f"{expected['case']}: {len(expected['encounters'])} encounter(s)")


if __name__ == "__main__":
    main()
