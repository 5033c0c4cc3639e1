"""The Baltic encounters of April 2016 as canonical tracks, with what the default rules expect.

Built from the public facts in ``reference/incidents.md``; every value no source gives is a keyword
parameter whose default is the documented assumption. Local times there are CEST (UTC+2); every
time here is UTC. Track ids carry the ``sim:`` prefix: no real transponder id is claimed.
"""

import math
from datetime import UTC, datetime, timedelta, timezone
from typing import NamedTuple, TypedDict, cast

import polars as pl

from parley.scenarios.builders import (
    BarrelRoll,
    Straight,
    barrel_roll,
    concat_tracks,
    orbit,
    passes,
    straight,
    straight_track,
)
from parley.tracks.units import feet_to_m, knots_to_mps

CEST = timezone(timedelta(hours=2), "CEST")

NATO = "nato"
RUSSIA = "russia"
DONALD_COOK = "sim:ddg75"
KA27 = "sim:ka27"
RC135 = "sim:rc135"
SU27 = "sim:su27"

#: Assumed position of USS Donald Cook (about 70 nm from Kaliningrad).
DONALD_COOK_POSITION = (55.3, 18.9)
KALININGRAD = (54.71, 20.51)

#: "About 15:00" local on 11 April; the Ka-27 "about 17:00" and the Su-24s 40 minutes later on
#: 12 April; 14 April gives no time of day (14:00 local is assumed).
APRIL_11_START = datetime(2016, 4, 11, 15, 0, tzinfo=CEST).astimezone(UTC)
APRIL_12_KA27_START = datetime(2016, 4, 12, 17, 0, tzinfo=CEST).astimezone(UTC)
APRIL_12_SU24_START = datetime(2016, 4, 12, 17, 40, tzinfo=CEST).astimezone(UTC)
APRIL_14_START = datetime(2016, 4, 14, 14, 0, tzinfo=CEST).astimezone(UTC)


class ExpectedEncounter(TypedDict):
    """One encounter the default rules of ``rules.md`` must report."""

    pair: tuple[str, str]  # the two track ids, sorted
    kind: str  # air-air | air-sea | sea-sea
    severity: str  # high-risk | serious | routine
    #: the rules of rules.md that fire in the deciding class, in rules.md order (the first is
    #: the one that decides; names as in ``parley.encounters.classify``)
    rules: tuple[str, ...]
    passes: int | None  # None: not specified by the case
    orbits: int | None
    #: of the true path; linear interpolation between samples cuts the chords of curves (the
    #: Ka-27's 300 m circle sampled at 1 s comes 0.7 m closer)
    min_horizontal_m: float
    min_slant_m: float
    why: str


class Case(NamedTuple):
    frame: pl.DataFrame
    expected: list[ExpectedEncounter]


def su24_track(number: int) -> str:
    return f"sim:su24-{number}"


def _pair(a: str, b: str) -> tuple[str, str]:
    first, second = sorted((a, b))
    return first, second


def _passes_per_jet(total: int, jets: int) -> list[int]:
    if jets < 1 or total < jets:
        raise ValueError(f"cannot share {total} passes among {jets} jets")
    return [total // jets + (1 if i < total % jets else 0) for i in range(jets)]


def _span_s(frames: list[pl.DataFrame], since: datetime) -> float:
    last = max(cast(datetime, frame["time"].max()) for frame in frames)
    return (last - since).total_seconds()


def _ship_track(ship: Straight, *, until_s: float, step_s: float, transponder: str) -> pl.DataFrame:
    """The destroyer's track from the ship's start until it covers ``until_s``."""
    return straight_track(
        DONALD_COOK,
        ship,
        duration_s=math.ceil(until_s / step_s) * step_s,
        step_s=step_s,
        side=NATO,
        domain="sea",
        transponder=transponder,
        callsign="DONALD COOK",
        type="destroyer DDG-75",
    )


def _su24_runs(
    ship: Straight,
    *,
    start: datetime,
    total_passes: int,
    jets: int,
    closest_m: float,
    alt_m: float,
    speed_mps: float,
    leg_m: float,
    turn_radius_m: float,
    second_jet_delay_s: float,
    step_s: float,
    transponder: str,
) -> list[tuple[pl.DataFrame, int]]:
    """Each jet's track and its number of passes; jets alternate sides and follow one another."""
    runs = []
    for index, count in enumerate(_passes_per_jet(total_passes, jets)):
        frame = passes(
            su24_track(index + 1),
            target=ship,
            count=count,
            closest_m=closest_m,
            alt_m=alt_m,
            speed_mps=speed_mps,
            leg_m=leg_m,
            start=start + timedelta(seconds=index * second_jet_delay_s),
            turn_radius_m=turn_radius_m,
            pass_on_right=index % 2 == 0,
            step_s=step_s,
            side=RUSSIA,
            transponder=transponder,
            type="Su-24",
        )
        runs.append((frame, count))
    return runs


def donald_cook_11_april(
    *,
    start: datetime = APRIL_11_START,
    ship_position: tuple[float, float] = DONALD_COOK_POSITION,
    ship_speed_kn: float = 12.0,
    ship_course_deg: float = 250.0,
    ship_transponder: str = "on",
    total_passes: int = 20,
    jets: int = 2,
    closest_m: float = 905.0,
    jet_alt_m: float = 30.0,
    jet_speed_kn: float = 420.0,
    jet_transponder: str = "off",
    leg_m: float = 1500.0,
    turn_radius_m: float = 2000.0,
    second_jet_delay_s: float = 45.0,
    aircraft_step_s: float = 1.0,
    ship_step_s: float = 10.0,
) -> Case:
    """Two Su-24s make about 20 passes at about 30 m, no closer than 900 m: serious per jet."""
    ship = Straight(
        start,
        ship_position,
        speed_mps=knots_to_mps(ship_speed_kn),
        course_deg=ship_course_deg,
    )
    runs = _su24_runs(
        ship,
        start=start,
        total_passes=total_passes,
        jets=jets,
        closest_m=closest_m,
        alt_m=jet_alt_m,
        speed_mps=knots_to_mps(jet_speed_kn),
        leg_m=leg_m,
        turn_radius_m=turn_radius_m,
        second_jet_delay_s=second_jet_delay_s,
        step_s=aircraft_step_s,
        transponder=jet_transponder,
    )
    jet_frames = [frame for frame, _ in runs]
    ship_frame = _ship_track(
        ship, until_s=_span_s(jet_frames, start), step_s=ship_step_s, transponder=ship_transponder
    )
    expected = [
        ExpectedEncounter(
            pair=_pair(DONALD_COOK, su24_track(index + 1)),
            kind="air-sea",
            severity="serious",
            rules=("low-close-pass",),
            passes=count,
            orbits=None,
            min_horizontal_m=closest_m,
            min_slant_m=math.hypot(closest_m, jet_alt_m),
            why=(
                f"{count} passes {closest_m:.0f} m abeam at {jet_alt_m:.0f} m: a pass within 914 m"
                " below 305 m is serious; no pass inside 100 m, so no low fast pass"
            ),
        )
        for index, (_, count) in enumerate(runs)
    ]
    return Case(concat_tracks(ship_frame, *jet_frames), expected)


def donald_cook_12_april(
    *,
    helicopter_start: datetime = APRIL_12_KA27_START,
    jets_start: datetime = APRIL_12_SU24_START,
    ship_position: tuple[float, float] = DONALD_COOK_POSITION,
    ship_speed_kn: float = 12.0,
    ship_course_deg: float = 250.0,
    ship_transponder: str = "on",
    circles: int = 7,
    extra_turn: float = 0.25,
    helicopter_radius_m: float = 300.0,
    helicopter_alt_m: float = 70.0,
    helicopter_speed_kn: float = 80.0,
    helicopter_clockwise: bool = True,
    total_passes: int = 11,
    jets: int = 2,
    closest_m: float = feet_to_m(30),
    jet_alt_m: float = 20.0,
    jet_speed_kn: float = 420.0,
    russian_transponder: str = "off",
    leg_m: float = 1500.0,
    turn_radius_m: float = 2000.0,
    second_jet_delay_s: float = 45.0,
    aircraft_step_s: float = 1.0,
    ship_step_s: float = 10.0,
) -> Case:
    """A Ka-27 circles the ship seven times (serious), then two Su-24s make 11 low passes, the
    closest about 9 m abeam below 30 m (high-risk: low fast pass).

    ``extra_turn`` adds a fraction of a circle so that "seven full turns" does not hang on the
    rounding of the last sample.
    """
    ship = Straight(
        helicopter_start,
        ship_position,
        speed_mps=knots_to_mps(ship_speed_kn),
        course_deg=ship_course_deg,
    )
    helicopter = orbit(
        KA27,
        start=helicopter_start,
        center=ship,
        radius_m=helicopter_radius_m,
        alt_m=helicopter_alt_m,
        speed_mps=knots_to_mps(helicopter_speed_kn),
        turns=circles + extra_turn,
        clockwise=helicopter_clockwise,
        step_s=aircraft_step_s,
        side=RUSSIA,
        transponder=russian_transponder,
        type="Ka-27",
    )
    runs = _su24_runs(
        ship,
        start=jets_start,
        total_passes=total_passes,
        jets=jets,
        closest_m=closest_m,
        alt_m=jet_alt_m,
        speed_mps=knots_to_mps(jet_speed_kn),
        leg_m=leg_m,
        turn_radius_m=turn_radius_m,
        second_jet_delay_s=second_jet_delay_s,
        step_s=aircraft_step_s,
        transponder=russian_transponder,
    )
    aircraft = [helicopter, *(frame for frame, _ in runs)]
    ship_frame = _ship_track(
        ship,
        until_s=_span_s(aircraft, helicopter_start),
        step_s=ship_step_s,
        transponder=ship_transponder,
    )
    expected = [
        ExpectedEncounter(
            pair=_pair(DONALD_COOK, KA27),
            kind="air-sea",
            severity="serious",
            rules=("low-close-pass", "low-orbits"),
            passes=None,
            orbits=circles,
            min_horizontal_m=helicopter_radius_m,
            min_slant_m=math.hypot(helicopter_radius_m, helicopter_alt_m),
            why=(
                f"{circles} circles of {helicopter_radius_m:.0f} m at {helicopter_alt_m:.0f} m:"
                " orbits >= 2 below 305 m (and a pass within 914 m below 305 m) is serious;"
                " never inside 100 m, so no low fast pass"
            ),
        ),
        *(
            ExpectedEncounter(
                pair=_pair(DONALD_COOK, su24_track(index + 1)),
                kind="air-sea",
                severity="high-risk",
                rules=("low-fast-pass",),
                passes=count,
                orbits=None,
                min_horizontal_m=closest_m,
                min_slant_m=math.hypot(closest_m, jet_alt_m),
                why=(
                    f"{count} passes {closest_m:.1f} m abeam at {jet_alt_m:.0f} m and"
                    f" {knots_to_mps(jet_speed_kn):.0f} m/s: horizontal < 100 m below 150 m"
                    " faster than 50 m/s is a low fast pass, high-risk"
                ),
            )
            for index, (_, count) in enumerate(runs)
        ),
    ]
    return Case(concat_tracks(ship_frame, *aircraft), expected)


def rc135_14_april(
    *,
    start: datetime = APRIL_14_START,
    position: tuple[float, float] = (55.5, 20.0),
    alt_m: float = feet_to_m(30_000),
    speed_mps: float = 230.0,
    course_deg: float = 60.0,
    rc135_transponder: str = "off",
    su27_transponder: str = "off",
    roll_radius_m: float = feet_to_m(50),
    join_from_m: float = 600.0,
    join_s: float = 90.0,
    beside_s: float = 30.0,
    roll_s: float = 10.0,
    after_s: float = 30.0,
    aircraft_step_s: float = 1.0,
) -> Case:
    """A Su-27 joins an RC-135 from the left and barrel-rolls over it to its right: high-risk.

    The time of day is not published (14:00 CEST is assumed). Tracks are points, so "within 50 ft
    of the wing-tip" becomes a roll of ``roll_radius_m`` around the RC-135's reported position.
    """
    rc135 = Straight(start, position, alt_m=alt_m, speed_mps=speed_mps, course_deg=course_deg)
    roll = BarrelRoll(roll_radius_m, join_from_m, join_s, beside_s, roll_s, after_s)
    fighter = barrel_roll(
        SU27,
        around=rc135,
        roll=roll,
        step_s=aircraft_step_s,
        side=RUSSIA,
        transponder=su27_transponder,
        type="Su-27",
    )
    reconnaissance = straight_track(
        RC135,
        rc135,
        duration_s=roll.duration_s,
        step_s=aircraft_step_s,
        side=NATO,
        domain="air",
        transponder=rc135_transponder,
        type="RC-135",
    )
    expected = ExpectedEncounter(
        pair=_pair(RC135, SU27),
        kind="air-air",
        severity="high-risk",
        rules=("overflight",),
        passes=1,
        orbits=None,
        min_horizontal_m=0.0,
        min_slant_m=roll_radius_m,
        why=(
            "the roll puts the Su-27 directly above the RC-135 (horizontal < 30 m, vertical"
            " < 150 m and greater than horizontal): overflight is high-risk; the slow join alone"
            " (closure under 25 m/s, over 5 m/s) would only be serious"
        ),
    )
    return Case(concat_tracks(reconnaissance, fighter), [expected])


def two_jets_head_on(
    *,
    start: datetime = datetime(2016, 4, 14, 12, 0, tzinfo=UTC),
    origin: tuple[float, float] = (55.5, 19.5),
    speed_mps: float = 250.0,
    lateral_m: float = 40.0,
    alt_m: float = 9000.0,
    cpa_after_s: float = 15.5,
    duration_s: float = 31.0,
    step_s: float = 1.0,
) -> Case:
    """Two jets closing at 2 × ``speed_mps`` on parallel opposite tracks ``lateral_m`` apart.

    Both are sampled at whole seconds and the closest approach falls half-way between samples, so
    no two simultaneous samples are closer than ``speed_mps * step_s`` (about 253 m by default)
    while the true closest approach is ``lateral_m``.
    """
    half_gap = speed_mps * cpa_after_s
    east, west = (
        straight(
            track,
            start=start,
            origin=origin,
            east_m=-half_gap * sign,
            north_m=lateral_m * (sign < 0),
            alt_m=alt_m,
            speed_mps=speed_mps,
            course_deg=course,
            duration_s=duration_s,
            step_s=step_s,
            side=side,
            domain="air",
        )
        for track, sign, course, side in (
            ("sim:jet-east", 1.0, 90.0, NATO),
            ("sim:jet-west", -1.0, 270.0, RUSSIA),
        )
    )
    expected = ExpectedEncounter(
        pair=_pair("sim:jet-east", "sim:jet-west"),
        kind="air-air",
        severity="high-risk",
        rules=("fast-close-approach",),
        passes=1,
        orbits=None,
        min_horizontal_m=lateral_m,
        min_slant_m=lateral_m,
        why=(
            f"closest approach {lateral_m:.0f} m at {2 * speed_mps:.0f} m/s closure, between"
            " samples: min slant < 150 m with closure > 25 m/s is high-risk"
        ),
    )
    return Case(concat_tracks(east, west), [expected])


__all__ = [
    "APRIL_11_START",
    "APRIL_12_KA27_START",
    "APRIL_12_SU24_START",
    "APRIL_14_START",
    "CEST",
    "DONALD_COOK",
    "DONALD_COOK_POSITION",
    "KA27",
    "KALININGRAD",
    "NATO",
    "RC135",
    "RUSSIA",
    "SU27",
    "Case",
    "ExpectedEncounter",
    "donald_cook_11_april",
    "donald_cook_12_april",
    "rc135_14_april",
    "su24_track",
    "two_jets_head_on",
]
