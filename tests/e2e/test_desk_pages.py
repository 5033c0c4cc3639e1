"""The desk's routes and files without a browser: the page and its offline rule, the basemap, the
configuration, and the two dictionaries (every key in both, every key the page uses)."""

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import shapely
from fastapi.testclient import TestClient

from parley.hotline.escalation_policy import INBOUND, TRACKS
from parley.hotline.node import init_node
from parley.hotline.templates import template
from parley.hotline.users import Role
from parley.hotline.views import STATES_OWN, STATES_PEER
from parley.web import create_app, desk

DESK = desk.STATIC_DIR / "desk"
LANGUAGES = ("en", "ru")
#: Values the page translates with tValue(family, value) (keys built at run time).
DYNAMIC_KEYS = (
    [f"role.{role}" for role in Role]
    + [f"severity.{s}" for s in ("high-risk", "serious", "routine", "inside-volume")]
    + [f"side.{side}" for side in ("nato", "russia", "civil")]
    + [f"domain.{domain}" for domain in ("air", "sea")]
    + [f"kind.{kind}" for kind in ("air-air", "air-sea", "sea-sea")]
    + [f"link.{state}" for state in ("off", "live", "retry")]
    + [f"state.{state}" for state in ("active", "withdrawn", "open", "closed")]
    + [f"incstate.{s}" for s in ("detected", "notified", "acknowledged", "clarified", "closed")]
    + [f"msgstate.{state}" for state in (*STATES_OWN, *STATES_PEER)]
    + [f"msgrole.{r}" for r in ("notification", "acknowledgement", "request", "reply", "account")]
    + ["msgrole.message", "direction.sent", "direction.received"]
    + [f"track.{track}" for track in (*TRACKS, INBOUND)]
    + [f"linkstatus.{s}" for s in ("up", "down", "resyncing", "failed", "unknown")]
    + [f"escalation.{kind}" for kind in ("escalation", "no-one-on-duty", "unacknowledged")]
    + [f"template.{template(number).key}" for number in range(1, 10)]
    + ["incident.our-account", "incident.their-account", "incident.agree", "incident.disagree"]
)


def _dictionary(language: str) -> dict[str, str]:
    loaded = json.loads((DESK / "i18n" / f"{language}.json").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _used_keys() -> set[str]:
    """Keys named literally in the page: data-i18n attributes and t("…") calls."""
    html = (DESK / "index.html").read_text(encoding="utf-8")
    keys = set(re.findall(r'data-i18n(?:-aria-label)?="([^"]+)"', html))
    for script in DESK.glob("*.js"):
        keys |= set(re.findall(r'\bt\("([a-z][\w.-]*)"', script.read_text(encoding="utf-8")))
    return keys


def test_both_dictionaries_have_the_same_keys_and_placeholders() -> None:
    english, russian = _dictionary("en"), _dictionary("ru")
    assert sorted(english) == sorted(russian)
    for key, text in english.items():
        assert text.strip(), key
        assert russian[key].strip(), key
        placeholders = set(re.findall(r"\{(\w+)\}", text))
        assert placeholders == set(re.findall(r"\{(\w+)\}", russian[key])), key
    assert russian["panel.title"] == "Предупреждения и сближения"
    assert len(english) >= 50


def test_every_key_the_page_uses_is_in_both_dictionaries() -> None:
    used = _used_keys() | set(DYNAMIC_KEYS)
    assert {"signin.title", "panel.title", "status.tracks", "detail.cpa"} <= used  # found them
    for language in LANGUAGES:
        missing = sorted(used - set(_dictionary(language)))
        assert missing == [], f"{language}.json lacks {missing}"


def test_no_file_of_the_page_names_another_host() -> None:
    for path in [*DESK.rglob("*.*")]:
        text = path.read_text(encoding="utf-8")
        assert re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text) == [], path.name


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    nato, russia = init_node(tmp_path / "nato", "nato"), init_node(tmp_path / "russia", "russia")
    russia.trust(nato.identity_json(), "http://nato.invalid")
    nato.close()
    russia.close()
    with TestClient(create_app(tmp_path / "russia", replicate=False)) as test_client:
        yield test_client


def test_the_page_is_served_with_a_same_origin_policy(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(desk, "VENDOR_FILES", ())  # the page itself, whether or not npm ran
    answer = client.get("/desk")
    assert answer.status_code == 200
    assert "text/html" in answer.headers["content-type"]
    policy = answer.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert '<script type="module" src="/desk/static/desk/desk.js">' in answer.text
    script = client.get("/desk/static/desk/desk.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]


def test_without_the_libraries_the_page_says_how_to_get_them(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(desk, "VENDOR_FILES", ("no-such-library.mjs",))
    answer = client.get("/desk")
    assert answer.status_code == 503
    assert "run tools/web-assets.sh" in answer.text
    assert "no-such-library.mjs" in answer.text


def test_config_names_our_party_the_theatre_and_each_roles_actions(client: TestClient) -> None:
    config = client.get("/desk/config.json").json()
    assert config["party"] == "russia"
    assert config["theatre"] == [9.0, 53.0, 31.0, 66.0]
    assert "read-picture" in config["permissions"]["duty-officer"]
    assert "read-picture" not in config["permissions"]["administrator"]
    assert "feed-positions" in config["permissions"]["communications-technician"]
    assert config["peer_party"] == "nato"
    assert config["deadlines"] == {
        "delivery": 120,
        "acknowledgement": 600,
        "answer": 14400,
        "inbound": 120,
    }


def _shapes(collection: dict[str, object], kind: str) -> list[object]:
    features = collection["features"]
    assert isinstance(features, list)
    return [
        shapely.geometry.shape(f["geometry"]) for f in features if f["properties"]["kind"] == kind
    ]


def test_the_basemap_has_the_baltic_coast_and_land_borders(client: TestClient) -> None:
    answer = client.get("/desk/basemap.geojson")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/geo+json"
    collection = answer.json()
    assert collection["bbox"] == [3.0, 50.0, 37.0, 69.0]
    land = shapely.union_all(_shapes(collection, "land"))
    borders = shapely.union_all(_shapes(collection, "border"))
    assert land.contains(shapely.Point(18.5, 57.45))  # Gotland
    assert land.contains(shapely.Point(20.5, 54.7))  # Kaliningrad
    assert not land.contains(shapely.Point(19.5, 56.8))  # open sea east of Gotland
    assert borders.distance(shapely.Point(28.19, 59.38)) < 0.03  # Narva: Estonia–Russia
    assert borders.distance(shapely.Point(22.0, 55.07)) < 0.03  # the Neman: Lithuania–Russia
    assert borders.distance(shapely.Point(19.5, 56.8)) > 1.0  # no border at sea
    assert client.get("/desk/basemap.geojson").content == answer.content  # cached


@pytest.mark.parametrize(
    ("bbox", "reason"),
    [
        ("3,50,x,69", "four numbers"),
        ("3,50,37", "four numbers"),
        ("3,69,37,50", "south 69.0 / north 50.0 invalid"),
    ],
)
def test_a_bad_bbox_is_refused_with_its_reason(client: TestClient, bbox: str, reason: str) -> None:
    answer = client.get("/desk/basemap.geojson", params={"bbox": bbox})
    assert answer.status_code == 400
    assert reason in answer.json()["detail"]


def test_a_box_across_the_antimeridian_keeps_continuous_longitudes(client: TestClient) -> None:
    collection = client.get("/desk/basemap.geojson", params={"bbox": "170,60,190,70"}).json()
    land = shapely.union_all(_shapes(collection, "land"))
    assert land.contains(shapely.Point(185.0, 66.0))  # Chukotka, east of 180°
    west, _, east, _ = land.bounds
    assert west >= 170.0
    assert east <= 190.0
