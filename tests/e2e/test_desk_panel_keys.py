"""The dictionary keys the activity, roster and reply panels build from data (``t(`flag.${…}`)``
and the like), which the literal-key check of test_desk_pages.py cannot see: every value the
server can send has its string in both languages. No browser needed."""

import json
import re
from pathlib import Path

import pytest

import parley.activities.thresholds
from parley.activities.model import FORCE_NAMES, KINDS, NOTICES
from parley.hotline.roster import ROLES
from parley.hotline.templates import CATALOGUE

DESK = Path(__file__).resolve().parents[2] / "src" / "parley" / "web" / "static" / "desk"
#: What the reply form offers (incidents.js REPLY_TEMPLATES).
REPLY_TEMPLATES = ("clarification-reply", "reassurance", "free-text")
ROSTER_PROBLEMS = ("gap", "overlap", "no-bilingual-officer")


def _assessment_flags() -> list[str]:
    """The flag names :func:`parley.activities.thresholds.assess` can give."""
    source = Path(parley.activities.thresholds.__file__).read_text(encoding="utf-8")
    flags = re.findall(r'\("([a-z-]+)", (?:bool|notified|late_by_s)', source)
    assert "notifiable" in flags  # the pattern still finds them
    assert "late" in flags
    return flags


def _reply_fields() -> list[str]:
    by_key = {spec.key: spec for spec in CATALOGUE}
    return [
        field.name
        for key in REPLY_TEMPLATES
        for field in by_key[key].fields
        if field.name != "reference"
    ]


def _built_keys() -> set[str]:
    return (
        {f"flag.{flag}" for flag in _assessment_flags()}
        | {f"figure.{name}" for name in FORCE_NAMES}
        | {f"activitykind.{kind}" for kind in KINDS}
        | {f"notice.{notice}" for notice in NOTICES}
        | {f"roster.problem.{kind}" for kind in ROSTER_PROBLEMS}
        | {f"field.{name}" for name in _reply_fields()}
        | {f"role.{role}" for role in ROLES}
        | {"template.incident-account"}
    )


@pytest.mark.parametrize("language", ["en", "ru"])
def test_every_key_built_from_data_is_in_the_dictionary(language: str) -> None:
    dictionary = json.loads((DESK / "i18n" / f"{language}.json").read_text(encoding="utf-8"))
    missing = sorted(_built_keys() - set(dictionary))
    assert missing == [], f"{language}.json lacks {missing}"


def test_the_reply_templates_named_here_are_the_page_s() -> None:
    script = (DESK / "incidents.js").read_text(encoding="utf-8")
    listed = re.search(r"const REPLY_TEMPLATES = \[([^\]]*)\]", script)
    assert listed is not None
    assert tuple(re.findall(r'"([a-z-]+)"', listed.group(1))) == REPLY_TEMPLATES
    assert _reply_fields() == [
        "answer",
        "classification",
        "activity_id",
        "text",
        "language",
        "text",
    ]
