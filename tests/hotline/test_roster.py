"""The duty roster: who is on duty, and the problems a roster check must report."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from parley.hotline.roster import RosterError, check, load_roster, on_duty, read_roster

DAY = datetime(2026, 11, 30, tzinfo=UTC)

FULL = """
[[shift]]
name = "night"
daily = "00:00"
[[shift.officer]]
name = "Lt Ivanova"
role = "duty-officer"
languages = ["en", "ru"]
[[shift.officer]]
name = "Cdr Petrov"
role = "senior-officer"
languages = ["ru"]

[[shift]]
name = "day"
daily = "08:00"
[[shift.officer]]
name = "Lt Smith"
role = "duty-officer"
languages = ["en", "ru"]
[[shift.officer]]
name = "Mr Brown"
role = "political-liaison"
languages = ["en"]

[[shift]]
name = "evening"
daily = "16:00"
[[shift.officer]]
name = "Lt Jones"
role = "duty-officer"
languages = ["ru", "en", "fr"]
"""


def _roster(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "roster.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_full_roster_has_no_problems_and_answers_who_is_on_duty(tmp_path: Path) -> None:
    _roster(tmp_path, FULL)
    roster = load_roster(tmp_path)
    assert roster is not None
    assert check(roster, DAY, 7) == []
    at = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    assert [o.name for o in on_duty(roster, at, "duty-officer")] == ["Lt Smith"]
    assert [o.name for o in on_duty(roster, at, "political-liaison")] == ["Mr Brown"]
    assert on_duty(roster, at, "senior-officer") == []
    night = datetime(2026, 12, 1, 7, 59, 59, tzinfo=UTC)
    assert [o.name for o in on_duty(roster, night, "senior-officer")] == ["Cdr Petrov"]
    assert [o.name for o in on_duty(roster, DAY.replace(hour=8), "duty-officer")] == ["Lt Smith"]


def test_no_roster_file_is_none(tmp_path: Path) -> None:
    assert load_roster(tmp_path) is None


def test_a_shift_without_a_duty_officer_is_a_gap(tmp_path: Path) -> None:
    text = FULL.replace(
        'name = "Lt Jones"\nrole = "duty-officer"', 'name = "Lt Jones"\nrole = "translator"'
    )
    roster = read_roster(_roster(tmp_path, text))
    problems = check(roster, DAY, 2)
    assert [(p.kind, p.start.hour, p.end.hour) for p in problems] == [
        ("gap", 16, 0),
        ("gap", 16, 0),
    ]
    assert problems[0].start == datetime(2026, 11, 30, 16, tzinfo=UTC)
    assert "shift 'evening' of 2026-11-30 16:00Z has no duty officer" in problems[0].text


def test_overlaps_and_uncovered_hours(tmp_path: Path) -> None:
    text = FULL.replace('daily = "16:00"', 'daily = "14:00"')  # evening 14–22: overlaps, 22–24 open
    roster = read_roster(_roster(tmp_path, text))
    problems = check(roster, DAY, 1)
    assert [(p.kind, p.start.hour, p.end.hour) for p in problems] == [
        ("overlap", 14, 16),
        ("gap", 22, 0),
    ]
    assert problems[0].text == (
        "shift 'day' of 2026-11-30 08:00Z overlaps shift 'evening' of 2026-11-30 14:00Z"
    )


def test_a_shift_without_an_english_russian_officer(tmp_path: Path) -> None:
    text = FULL.replace('languages = ["ru", "en", "fr"]', 'languages = ["en"]')
    roster = read_roster(_roster(tmp_path, text))
    problems = check(roster, DAY, 3)
    assert [(p.kind, p.start.day, p.start.hour) for p in problems] == [
        ("no-bilingual-officer", day, 16) for day in (30, 1, 2)
    ]
    assert "no officer qualified in both English and Russian" in problems[0].text


def test_a_dated_shift_fills_one_day(tmp_path: Path) -> None:
    text = """
[[shift]]
name = "special"
start = 2026-11-30T00:00:00Z
hours = 24
[[shift.officer]]
name = "Lt Ivanova"
role = "duty-officer"
languages = ["en", "ru"]
"""
    roster = read_roster(_roster(tmp_path, text))
    assert check(roster, DAY, 1) == []
    (gap,) = check(roster, DAY, 2)
    assert (gap.kind, gap.start, gap.end) == (
        "gap",
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2026, 12, 2, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('[[shift]]\nname = "x"\n', "give either daily"),
        ('[[shift]]\nname = "x"\ndaily = "25:00"\n', "daily must be a time"),
        ('[[shift]]\nname = "x"\ndaily = "08:00"\nhours = 30\n', "hours must be a number"),
        (
            '[[shift]]\nname = "x"\ndaily = "08:00"\n'
            '[[shift.officer]]\nname = "A"\nrole = "cook"\n',
            "role 'cook'",
        ),
        ("shift = 3\n", "'shift' must be an array"),
        ("[[shift]\n", "roster.toml"),
    ],
)
def test_a_bad_roster_names_the_file_and_the_reason(tmp_path: Path, text: str, reason: str) -> None:
    path = _roster(tmp_path, text)
    with pytest.raises(RosterError, match=reason) as caught:
        read_roster(path)
    assert str(path) in str(caught.value)
