"""``GET /api/v1/roster`` (who is on duty now and next) and ``GET /api/v1/templates`` (the
message catalogue the desk's reply forms are built from)."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from parley.hotline.node import init_node
from parley.hotline.templates import CATALOGUE_VERSION, catalogue_hash
from parley.hotline.users import Action, Role, may
from parley.web import create_app
from parley.web.api import ROUTE_ACTIONS
from parley.web.roster_api import ROSTER_ROUTE_ACTIONS

SignIn = Callable[..., str]
#: Mid-morning of 30 November 2026: the "day" shift (08:00–16:00) runs, "evening" is next.
NOW = datetime(2026, 11, 30, 10, 30, tzinfo=UTC)
ROSTER = """
[[shift]]
name = "night"
daily = "00:00"
[[shift.officer]]
name = "Lt A. Smith"
role = "duty-officer"
languages = ["en", "ru"]

[[shift]]
name = "day"
daily = "08:00"
[[shift.officer]]
name = "Capt B. Jones"
role = "duty-officer"
languages = ["en"]
[[shift.officer]]
name = "Maj C. Brown"
role = "senior-officer"
languages = ["en", "ru"]

[[shift]]
name = "evening"
daily = "16:00"
hours = 6
[[shift.officer]]
name = "Lt D. White"
role = "duty-officer"
languages = ["en", "ru"]
"""


@pytest.fixture
def node_dir(tmp_path: Path) -> Path:
    nato, russia = init_node(tmp_path / "nato", "nato"), init_node(tmp_path / "russia", "russia")
    nato.trust(russia.identity_json(), "http://russia.invalid")
    nato.close()
    russia.close()
    return tmp_path / "nato"


@pytest.fixture
def client(node_dir: Path) -> Iterator[TestClient]:
    app = create_app(node_dir, replicate=False, clock=lambda: NOW)
    with TestClient(app) as test_client:
        yield test_client


def test_the_routes_are_in_the_one_table_of_actions() -> None:
    assert ROSTER_ROUTE_ACTIONS == {("GET", "/api/v1/roster"): Action.READ_LOG}
    assert ROUTE_ACTIONS[("GET", "/api/v1/roster")] == Action.READ_LOG
    assert ROUTE_ACTIONS[("GET", "/api/v1/templates")] == Action.READ_LOG


def test_who_is_on_duty_now_and_next(client: TestClient, node_dir: Path, sign_in: SignIn) -> None:
    (node_dir / "roster.toml").write_text(ROSTER, encoding="utf-8")
    sign_in(client)
    answer = client.get("/api/v1/roster")
    assert answer.status_code == 200, answer.text
    roster = answer.json()
    assert roster["configured"] is True
    assert roster["time"] == "2026-11-30T10:30:00Z"
    assert [(s["name"], s["start"], s["end"]) for s in roster["now"]] == [
        ("day", "2026-11-30T08:00:00Z", "2026-11-30T16:00:00Z")
    ]
    assert roster["now"][0]["officers"] == [
        {"name": "Capt B. Jones", "role": "duty-officer", "languages": ["en"]},
        {"name": "Maj C. Brown", "role": "senior-officer", "languages": ["en", "ru"]},
    ]
    assert [(s["name"], s["start"], s["end"]) for s in roster["next"]] == [
        ("evening", "2026-11-30T16:00:00Z", "2026-11-30T22:00:00Z")
    ]
    # the evening shift ends at 22:00 and the night one starts at 00:00: two hours uncovered
    assert [(p["kind"], p["start"], p["end"]) for p in roster["problems"]] == [
        ("gap", "2026-11-30T22:00:00+00:00", "2026-12-01T00:00:00+00:00")
    ]


def test_no_roster_and_a_broken_roster(client: TestClient, node_dir: Path, sign_in: SignIn) -> None:
    sign_in(client)
    empty = client.get("/api/v1/roster").json()
    assert (empty["configured"], empty["now"], empty["next"]) == (False, [], [])
    (node_dir / "roster.toml").write_text('[[shift]]\nname = "x"\nhours = 30\n', encoding="utf-8")
    broken = client.get("/api/v1/roster")
    assert broken.status_code == 500
    detail = broken.json()["detail"]
    assert detail.endswith("roster.toml: shift 'x': hours must be a number from 0 to 24, got 30")


@pytest.mark.parametrize("role", list(Role))
def test_each_role_reads_the_roster_and_templates_as_the_table_says(
    client: TestClient, sign_in: SignIn, role: Role
) -> None:
    sign_in(client, role.value, role)
    for path in ("/api/v1/roster", "/api/v1/templates"):
        status = client.get(path).status_code
        assert status == (200 if may(role, Action.READ_LOG) else 403), (role, path)


def test_the_catalogue_as_the_desk_reads_it(client: TestClient, sign_in: SignIn) -> None:
    sign_in(client)
    catalogue = client.get("/api/v1/templates").json()
    assert catalogue["version"] == CATALOGUE_VERSION
    assert catalogue["sha256"] == catalogue_hash()
    by_key = {spec["key"]: spec for spec in catalogue["templates"]}
    assert [spec["id"] for spec in catalogue["templates"]] == list(range(1, 10))
    reply = by_key["clarification-reply"]
    assert [f["name"] for f in reply["fields"]] == ["reference", "answer", "classification"]
    nature = reply["fields"][2]
    assert nature["kind"] == "choice"
    assert nature["choices"][0] == {
        "value": "unintentional",
        "en": "unintentional action",
        "ru": "непреднамеренные действия",
    }
    free = by_key["free-text"]
    assert [c["value"] for c in free["fields"][0]["choices"]] == ["en", "ru"]
    assert by_key["reassurance"]["name"] == {
        "en": "Reassurance (goodwill message)",
        "ru": "Заверение (сообщение доброй воли)",
    }
    assert by_key["request-for-clarification"]["answered_by"] == [3]
