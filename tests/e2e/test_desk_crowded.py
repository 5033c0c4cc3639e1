"""A crowded picture in a real browser: 2,500 tracks reach the desk through its worker (the columnar
``picture.updated``), are drawn as dots by the WebGL layer below zoom 7, a track moves with the
next report, and a click on its dot opens its popup (and a click where it was opens nothing)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

DeskServer = Any
OffMachine = Any

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WAIT_MS = 30_000
START = datetime(2016, 4, 14, 10, 0, tzinfo=UTC)
#: 50 × 50 tracks on a grid over the Baltic; the watched one sits alone south-west of it.
GRID = 50
WATCHED = "mmsi:273999999"
WATCHED_LAT, WATCHED_LON = 54.2, 13.0
#: The watched ship's step east between the two reports (degrees: about 24 km at 54° N).
STEP_LON = 0.37


def _rows(second: int) -> list[dict[str, Any]]:
    time = (START + timedelta(seconds=second)).isoformat().replace("+00:00", "Z")
    rows = []
    for i in range(GRID * GRID):
        side = ("nato", "russia", "civil", "civil")[i % 4]
        rows.append(
            {"time": time, "track": f"mmsi:{200000000 + i}", "side": side, "domain": "sea",
             "lat": 55.0 + 0.2 * (i // GRID) + 0.001 * second, "lon": 15.0 + 0.28 * (i % GRID),
             "alt_m": 0.0, "speed_mps": 5.0, "course_deg": 0.0, "transponder": "on",
             "type": "Cargo"}
        )  # fmt: skip
    rows.append(
        {"time": time, "track": WATCHED, "side": "russia", "domain": "sea", "lat": WATCHED_LAT,
         "lon": WATCHED_LON + STEP_LON * (second // 60), "alt_m": 0.0, "speed_mps": 400.0,
         "course_deg": 90.0, "transponder": "on", "type": "destroyer", "callsign": "WATCHED"}
    )  # fmt: skip
    return rows


def _push(server: DeskServer, second: int) -> None:
    answer = server.api("feeder").post(
        "/api/v1/picture/positions", json={"positions": _rows(second)}
    )
    assert answer.status_code == 200, answer.text


def _click_at(page: "Page", lon: float, lat: float) -> None:
    """A mouse click where the map draws (lon, lat)."""
    x, y = page.evaluate(
        """([lon, lat]) => {
          const map = parleyDesk.map;
          const box = map.getCanvas().getBoundingClientRect();
          const p = map.project([lon, lat]);
          return [box.left + p.x, box.top + p.y];
        }""",
        [lon, lat],
    )
    page.mouse.click(x, y)


def test_a_crowded_picture_draws_dots_that_move_and_open_their_popup(
    desk_server: DeskServer, desk_page: "Page", off_machine: OffMachine, artifacts: Path
) -> None:
    page = desk_page
    desk_server.open_desk(page)
    _push(desk_server, 0)
    total = GRID * GRID + 1
    page.wait_for_function(f"() => parleyDesk.picture.tracks.size === {total}", timeout=WAIT_MS)
    # below zoom 7 a crowded picture is dots (the WebGL layer), no symbols
    page.evaluate("() => parleyDesk.map.jumpTo({center: [18, 58], zoom: 5})")
    page.wait_for_function(f"() => parleyDesk.drawnTracks() === {total}", timeout=WAIT_MS)
    assert page.evaluate("() => parleyDesk.picture.tracksGeoJSON().features.length") == 0
    assert page.evaluate("() => parleyDesk.picture.tracks.row('mmsi:200000001').side") == "russia"

    _push(desk_server, 60)
    moved = WATCHED_LON + STEP_LON
    page.wait_for_function(
        f"() => Math.abs(parleyDesk.picture.tracks.row('{WATCHED}').lon - {moved}) < 1e-6",
        timeout=WAIT_MS,
    )
    row = page.evaluate(f"() => parleyDesk.picture.tracks.row('{WATCHED}')")
    assert row["time"] == "2016-04-14T10:01:00.000Z"
    assert (row["callsign"], row["type"], row["speed_mps"]) == ("WATCHED", "destroyer", 400.0)
    page.wait_for_timeout(500)  # the dots' next frame

    _click_at(page, WATCHED_LON, WATCHED_LAT)  # where it was: nothing there now
    page.wait_for_timeout(300)
    assert page.query_selector(".maplibregl-popup") is None
    _click_at(page, moved, WATCHED_LAT)
    popup = page.wait_for_selector(".maplibregl-popup", timeout=WAIT_MS)
    text = popup.inner_text()
    assert "WATCHED" in text
    assert WATCHED in text
    assert "destroyer" in text
    page.screenshot(path=str(artifacts / "desk-crowded-dots.png"))

    # from zoom 7 the tracks around the view get symbols, built by the worker
    page.evaluate(f"() => parleyDesk.map.jumpTo({{center: [{moved}, {WATCHED_LAT}], zoom: 8}})")
    page.wait_for_function(
        f"""() => parleyDesk.map.queryRenderedFeatures({{layers: ['tracks']}})
             .some(f => f.properties.id === '{WATCHED}')""",
        timeout=WAIT_MS,
    )
    symbols = page.evaluate("() => parleyDesk.picture.tracksGeoJSON().features.length")
    assert 0 < symbols < total
    assert off_machine.urls == []
