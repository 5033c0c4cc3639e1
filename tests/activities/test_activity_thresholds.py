"""The Vienna Document rules, each boundary on both sides."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from parley.activities.area import area_from_geojson
from parley.activities.model import Activity, Forces
from parley.activities.policy import ActivityPolicy, load_activity_policy
from parley.activities.thresholds import assess
from parley.errors import ConfigError

START = datetime(2026, 9, 14, 6, 0, tzinfo=UTC)
SQUARE = area_from_geojson(
    {"type": "Polygon", "coordinates": [[[20, 54], [22, 54], [22, 55], [20, 55], [20, 54]]]}
)


def _exercise(notified_days_ahead: float | None = 45, **figures: int) -> Activity:
    notified = None if notified_days_ahead is None else START - timedelta(days=notified_days_ahead)
    return Activity(
        id="zapad-26",
        party="russia",
        origin="peer",
        kind="exercise",
        notice="planned",
        area=SQUARE,
        start=START,
        end=START + timedelta(days=7),
        declared=Forces(**figures),
        notified_at=notified,
    )


@pytest.mark.parametrize(
    ("figure", "below", "at"),
    [
        ("troops", 8_999, 9_000),
        ("battle_tanks", 249, 250),
        ("armoured_combat_vehicles", 499, 500),
        ("artillery_pieces", 249, 250),
    ],
)
def test_notifiable_from_each_threshold(figure: str, below: int, at: int) -> None:
    assert not assess(_exercise(**{figure: below})).notifiable
    reached = assess(_exercise(**{figure: at}))
    assert reached.notifiable
    assert reached.notifiable_by == (figure,)
    assert "notifiable" in reached.flags


def test_sorties_and_ships_alone_are_not_notifiable() -> None:
    assert not assess(_exercise(aircraft_sorties=5_000, ships=200)).notifiable


def test_observation_from_13000_troops_only() -> None:
    assert not assess(_exercise(troops=12_999)).observation_required
    assert assess(_exercise(troops=13_000)).observation_by == ("troops",)
    assert not assess(_exercise(troops=9_000, battle_tanks=900)).observation_required


def test_42_days_ahead_is_on_time_41_is_one_day_late() -> None:
    on_time = assess(_exercise(42, troops=9_000))
    assert (on_time.late, on_time.days_late, on_time.notice_days) == (False, 0, 42.0)
    late = assess(_exercise(41, troops=9_000))
    assert (late.late, late.days_late, late.late_by_s) == (True, 1, 86_400.0)
    assert "late" in late.flags
    one_second = assess(_exercise(42 - 1 / 86_400, troops=9_000))
    assert (one_second.late, one_second.days_late) == (True, 1)
    almost_two = assess(_exercise(40 - 1 / 86_400, troops=9_000))
    assert (almost_two.days_late, almost_two.late_by_s) == (2, 2 * 86_400.0 + 1)


def test_the_issue_examples() -> None:
    """29 days ahead with 10,000 troops: late; 8,000 troops: not notifiable (nor late)."""
    ten_thousand = assess(_exercise(29, troops=10_000))
    assert (ten_thousand.notifiable, ten_thousand.late, ten_thousand.days_late) == (True, True, 13)
    eight_thousand = assess(_exercise(29, troops=8_000))
    assert (eight_thousand.notifiable, eight_thousand.late) == (False, False)
    assert eight_thousand.flags == ()


def test_snap_exercise_is_on_time_when_notified_at_its_start() -> None:
    snap = replace(_exercise(0, troops=30_000), notice="snap")
    assert assess(snap).due == START
    assert not assess(snap).late
    two_hours = assess(replace(snap, notified_at=START + timedelta(hours=2)))
    assert (two_hours.late, two_hours.late_by_s, two_hours.days_late) == (True, 7200.0, 1)
    three_days = assess(replace(snap, notified_at=START + timedelta(days=3)))
    assert three_days.days_late == 3


def test_not_yet_notified_is_late_once_the_due_moment_passed() -> None:
    pending = _exercise(None, troops=9_500)
    assert assess(pending, now=START - timedelta(days=43)).flags == ("notifiable", "not-notified")
    overdue = assess(pending, now=START - timedelta(days=40))
    assert (overdue.late, overdue.days_late) == (True, 2)


def test_observed_figures_above_thresholds_declared_below_are_flagged() -> None:
    gamed = replace(_exercise(10, troops=8_900), observed=Forces(troops=14_000, battle_tanks=300))
    result = assess(gamed)
    assert not result.notifiable
    assert result.observed_notifiable_by == ("troops", "battle_tanks")
    assert result.observed_observation_by == ("troops",)
    # notified 10 days ahead of a start that needed 42: late once the real size is known
    assert (result.late, result.days_late) == (True, 32)
    assert result.flags == (
        "late",
        "observed-above-notification-threshold",
        "observed-above-observation-threshold",
    )


def test_observed_at_declared_level_flags_nothing_more() -> None:
    honest = replace(_exercise(50, troops=9_000), observed=Forces(troops=9_400))
    assert assess(honest).flags == ("notifiable",)


def test_policy_numbers_come_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(
        "[notification]\ntroops = 3000\nnotice_days = 30\n[observation]\nbattle_tanks = 300\n"
        "[snap]\ngrace_s = 3600\n",
        encoding="utf-8",
    )
    policy = load_activity_policy(path)
    assert policy.notification.troops == 3000
    assert policy.notification.battle_tanks == 250  # untouched numbers keep their defaults
    assert assess(_exercise(30, troops=3_000), policy).flags == ("notifiable",)
    assert assess(_exercise(29, troops=3_000), policy).days_late == 1
    assert assess(_exercise(50, battle_tanks=300), policy).observation_by == ("battle_tanks",)
    snap = replace(
        _exercise(0, troops=5_000), notice="snap", notified_at=START + timedelta(hours=1)
    )
    assert not assess(snap, policy).late
    assert ActivityPolicy().notification.notice_days == 42


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[notification]\ntanks = 3\n", "notification.tanks: unknown setting"),
        ("[notification]\ntroops = -1\n", "notification.troops: Input should be greater than 0"),
        ("[notification\n", "invalid TOML"),
    ],
)
def test_bad_policy_files_name_the_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as caught:
        load_activity_policy(path)
    assert str(path) in str(caught.value)
