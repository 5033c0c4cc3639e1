"""The desk in a real browser (Debian's Chromium driven by Playwright) against a real ``parley
serve``: sign in, see tracks move on the Baltic, get a warning and then an encounter in the panel,
fly to them, switch to Russian; a role without the picture sees no map. Screenshots go to
``tests/e2e/artifacts/``. Every request that is not to the server under test fails the test."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

#: The fixtures of tests/e2e/conftest.py (a conftest is not imported by tests).
DeskServer = Any
OffMachine = Any

pytestmark = [pytest.mark.browser, pytest.mark.slow]

START = datetime(2016, 4, 14, 10, 0, tzinfo=UTC)
STEP_S = 60
WAIT_MS = 15_000
NATO_SHIP, RUSSIAN_SHIP, DARK_AIRCRAFT = "mmsi:211000001", "mmsi:273000001", "icao:150001"
#: Two ships on reciprocal courses east of Gotland, 12 km apart, closing at 16 m/s: a collision
#: course (predicted closest approach 0 m, about 12 minutes ahead, inside the 20 min look-ahead).
SHIP_LAT, NATO_LON, RUSSIAN_LON, SPEED_MPS = 56.8, 19.30, 19.50, 8.0
METRES_PER_DEG_LAT = 111_195.0


def _lon_step(seconds: float) -> float:
    from math import cos, radians

    return SPEED_MPS * seconds / (METRES_PER_DEG_LAT * cos(radians(SHIP_LAT)))


def _positions(step: int) -> list[dict[str, Any]]:
    """The reports of one step: both ships, and a dark Russian aircraft over the Gulf of Gdańsk."""
    seconds = step * STEP_S
    time = (START + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")
    ship = {"time": time, "domain": "sea", "lat": SHIP_LAT, "alt_m": 0.0, "speed_mps": SPEED_MPS}
    return [
        ship
        | {"track": NATO_SHIP, "side": "nato", "lon": NATO_LON + _lon_step(seconds)}
        | {"course_deg": 90.0, "transponder": "on", "callsign": "NATO1", "type": "frigate"},
        ship
        | {"track": RUSSIAN_SHIP, "side": "russia", "lon": RUSSIAN_LON - _lon_step(seconds)}
        | {"course_deg": 270.0, "transponder": "on", "callsign": "RUS1", "type": "corvette"},
        {
            "time": time,
            "track": DARK_AIRCRAFT,
            "side": "russia",
            "domain": "air",
            "lat": 54.9,
            "lon": 19.0 + 0.02 * step,
            "alt_m": 7000.0,
            "speed_mps": 220.0,
            "course_deg": 80.0,
            "transponder": "off",
        },
    ]


def _push(server: DeskServer, step: int, end_of_data: bool = False) -> dict[str, Any]:
    answer = server.api("feeder").post(
        "/api/v1/picture/positions",
        json={"positions": _positions(step)},
        params={"end_of_data": str(end_of_data).lower()},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert isinstance(body, dict)
    return body


def _rendered_lons(page: "Page") -> dict[str, float]:
    """Where the map drew each track symbol (from the rendered features, not the data)."""
    result = page.evaluate(
        """() => Object.fromEntries(parleyDesk.map.queryRenderedFeatures({layers: ['tracks']})
              .map(f => [f.properties.id, f.geometry.coordinates[0]]))"""
    )
    assert isinstance(result, dict)
    return {str(k): float(v) for k, v in result.items()}


def test_desk_shows_tracks_moving_a_warning_and_an_encounter_in_two_languages(
    desk_server: DeskServer, desk_page: "Page", off_machine: OffMachine, artifacts: Path
) -> None:
    page = desk_page
    desk_server.sign_in(page, "officer")
    page.wait_for_selector("body[data-map-ready=true]", timeout=3 * WAIT_MS)
    assert page.inner_text("#who") == "officer (duty officer)"
    assert page.is_visible("#panel")
    assert page.inner_text("#link") == "live"

    _push(desk_server, 0)
    page.wait_for_function("() => parleyDesk.picture.tracks.size === 3", timeout=WAIT_MS)
    page.wait_for_function(
        "() => parleyDesk.map.queryRenderedFeatures({layers: ['tracks']}).length === 3",
        timeout=WAIT_MS,
    )
    before = _rendered_lons(page)
    assert before[NATO_SHIP] == pytest.approx(NATO_LON, abs=0.005)
    assert page.evaluate(
        f"() => parleyDesk.picture.tracksGeoJSON().features.find(f => f.properties.id === "
        f"'{DARK_AIRCRAFT}').properties.dark"
    )

    for step in (1, 2):
        _push(desk_server, step)
        # one picture event per push: the node publishes at most every picture_interval_s
        # (0.05 s here) and holds a move that comes sooner until its next batch
        page.wait_for_function(
            f"() => parleyDesk.picture.tracks.get('{NATO_SHIP}').trail.length === {step + 1}",
            timeout=WAIT_MS,
        )
        page.wait_for_timeout(100)
    page.wait_for_function(  # the map draws it a few frames later
        f"""() => parleyDesk.map.queryRenderedFeatures({{layers: ['tracks']}})
             .some(f => f.properties.id === '{NATO_SHIP}'
                        && f.geometry.coordinates[0] > {before[NATO_SHIP] + 0.012})""",
        timeout=WAIT_MS,
    )
    after = _rendered_lons(page)
    moved = _lon_step(2 * STEP_S)
    assert after[NATO_SHIP] - before[NATO_SHIP] == pytest.approx(moved, abs=0.004)
    assert before[RUSSIAN_SHIP] - after[RUSSIAN_SHIP] == pytest.approx(moved, abs=0.004)

    warned = "#alerts li[data-kind=warning]"
    assert page.wait_for_selector(warned, timeout=WAIT_MS) is not None
    assert page.get_attribute(warned, "data-severity") in ("high-risk", "serious")
    text = page.inner_text(warned)
    assert NATO_SHIP in text
    assert RUSSIAN_SHIP in text
    assert "predicted closest approach" in text
    page.click(warned)  # by selector: the panel may be rebuilt meanwhile
    page.wait_for_function("() => parleyDesk.map.getZoom() >= 8 && !parleyDesk.map.isMoving()")
    page.wait_for_function(  # the view's detailed coastline
        "() => parleyDesk.detailBox && parleyDesk.map.isSourceLoaded('basemap-detail')",
        timeout=3 * WAIT_MS,
    )
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts / "desk-warning-en.png"))

    # the ships pass each other; the end of the data closes the encounter
    for step in range(3, 16):
        _push(desk_server, step, end_of_data=step == 15)
    closed = "#alerts li[data-kind=encounter][data-state=closed]"
    assert page.wait_for_selector(closed, timeout=WAIT_MS) is not None
    assert page.inner_text("#alerts li:first-child").startswith("Encounter")
    page.click(closed)  # by selector: the panel may be rebuilt as the burst's last events land
    page.wait_for_timeout(1200)
    page.screenshot(path=str(artifacts / "desk-encounter-en.png"))

    page.click("button[data-language=ru]")
    assert page.inner_text("#panel h2") == "Предупреждения и сближения"
    assert page.inner_text("#alerts li[data-kind=encounter] .what").startswith("Сближение")
    assert page.inner_text("#who") == "officer (дежурный офицер)"
    page.evaluate("() => parleyDesk.map.fitBounds([[9, 53], [31, 66]], {duration: 0})")
    page.wait_for_timeout(800)
    page.screenshot(path=str(artifacts / "desk-theatre-ru.png"))

    assert off_machine.urls == []


def test_a_role_without_the_picture_sees_no_map(
    desk_server: DeskServer, desk_page: "Page", off_machine: OffMachine, artifacts: Path
) -> None:
    page = desk_page
    desk_server.sign_in(page, "admin")
    page.wait_for_selector("#nothing-for-role", state="visible", timeout=WAIT_MS)
    assert not page.is_visible("#map")
    assert not page.is_visible("#panel")
    assert page.inner_text("#who") == "admin (administrator)"
    assert desk_server.api("admin").get("/api/v1/picture").status_code == 403
    page.screenshot(path=str(artifacts / "desk-administrator-en.png"))
    assert off_machine.urls == []


def test_a_wrong_password_is_refused_on_the_form(
    desk_server: DeskServer, desk_page: "Page"
) -> None:
    page = desk_page
    page.goto(f"{desk_server.url}/desk")
    page.fill("#sign-in-form input[name=name]", "officer")
    page.fill("#sign-in-form input[name=password]", "wrong")
    page.click("#sign-in-form button[type=submit]")
    error = page.wait_for_selector("#sign-in-error", state="visible", timeout=WAIT_MS)
    assert error is not None
    assert error.inner_text().startswith("Sign-in refused")
    assert not page.is_visible("#desk")
