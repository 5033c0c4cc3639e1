"""Military symbols on the desk, in a real browser: one image per (side, domain, type, dark) drawn
by milsymbol (APP-6 / MIL-STD-2525C letter SIDCs), the standard identity as the desk's party sees
it (NATO's desk: NATO friend, Russia hostile, civil traffic neutral with civilian icons), course
leader lines, and a dark track drawn apart. The screenshot goes to ``tests/e2e/artifacts/``."""

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

DeskServer = Any
OffMachine = Any
WAIT_MS = 15_000

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TIME = "2016-04-14T10:00:00Z"
NATO_JET, RUSSIAN_SHIP, DARK_JET, CARGO = (
    "icao:4ca7b5",
    "mmsi:273000001",
    "icao:150001",
    "mmsi:244000001",
)
POSITIONS = [
    {"track": NATO_JET, "side": "nato", "domain": "air", "lat": 57.00, "lon": 19.00,
     "alt_m": 9000.0, "speed_mps": 220.0, "course_deg": 45.0, "transponder": "on",
     "type": "F-16"},
    {"track": RUSSIAN_SHIP, "side": "russia", "domain": "sea", "lat": 56.95, "lon": 19.10,
     "alt_m": 0.0, "speed_mps": 8.0, "course_deg": 270.0, "transponder": "on",
     "type": "destroyer"},
    {"track": DARK_JET, "side": "russia", "domain": "air", "lat": 57.05, "lon": 19.15,
     "alt_m": 7000.0, "speed_mps": 200.0, "course_deg": 180.0, "transponder": "off",
     "type": "Su-24"},
    {"track": CARGO, "side": "civil", "domain": "sea", "lat": 56.90, "lon": 18.90,
     "alt_m": 0.0, "speed_mps": 6.0, "course_deg": 10.0, "transponder": "on", "type": "Cargo"},
]  # fmt: skip

#: For each track on the map: its image name, the SIDC drawn for it, whether the map holds the
#: image, and the mean colour of the image's opaque pixels.
SYMBOLS_JS = """() => {
  const map = parleyDesk.map;
  const out = {};
  for (const feature of parleyDesk.picture.tracksGeoJSON().features) {
    const { id, icon, leader } = feature.properties;
    const image = map.getImage(icon);
    let sum = [0, 0, 0], opaque = 0;
    if (image) {
      const { data } = image.data;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] < 200) continue;
        sum[0] += data[i]; sum[1] += data[i + 1]; sum[2] += data[i + 2]; opaque++;
      }
    }
    out[id] = { icon, leader, sidc: window.parleySymbols.get(icon) ?? null, held: !!image,
      width: image ? image.data.width : 0, opaque,
      mean: sum.map((value) => Math.round(value / Math.max(1, opaque))) };
  }
  return out;
}"""


def test_a_nato_aircraft_and_a_russian_ship_get_their_own_military_symbols(
    desk_server: DeskServer, desk_page: "Page", off_machine: OffMachine, artifacts: Path
) -> None:
    page = desk_page
    desk_server.open_desk(page, live=False)
    rows = [row | {"time": TIME} for row in POSITIONS]
    answer = desk_server.api("feeder").post("/api/v1/picture/positions", json={"positions": rows})
    assert answer.status_code == 200, answer.text
    page.evaluate("() => parleyDesk.map.jumpTo({center: [19.05, 56.97], zoom: 10})")
    page.wait_for_function(
        "() => parleyDesk.map.queryRenderedFeatures({layers: ['tracks']}).length === 4",
        timeout=WAIT_MS,
    )
    page.wait_for_selector("body[data-first-picture=true]", state="attached", timeout=WAIT_MS)
    symbols = page.evaluate(SYMBOLS_JS)

    jet, ship, dark, cargo = (symbols[t] for t in (NATO_JET, RUSSIAN_SHIP, DARK_JET, CARGO))
    # friend / air / present / military fixed wing fighter; hostile / sea surface / destroyer
    assert jet["sidc"] == "SFAPMFF--------"
    assert ship["sidc"] == "SHSPCLDD-------"
    assert dark["sidc"] == "SHAPMFA--------"  # the Su-24 is an attack aircraft
    assert cargo["sidc"] == "SNSPXM---------"  # civil: neutral, civilian merchant ship
    assert len({jet["icon"], ship["icon"], dark["icon"], cargo["icon"]}) == 4
    assert all(s["held"] and s["width"] > 20 for s in (jet, ship, dark, cargo))
    # milsymbol's fills: friend light blue, hostile light red, civilian light purple
    red, green, blue = jet["mean"]
    assert blue > red + 40, jet
    red, green, blue = ship["mean"]
    assert red > blue + 40, ship
    red, green, blue = cargo["mean"]
    assert red > green + 40, cargo
    assert blue > green + 40, cargo
    # the dark track is drawn unfilled (inside a broken ring): far fewer opaque pixels
    assert dark["icon"].endswith("|dark")
    assert dark["opaque"] < jet["opaque"] / 2, (dark, jet)
    assert (jet["leader"], ship["leader"], cargo["leader"]) == (
        "leader|friend",
        "leader|hostile",
        "leader|civilian",
    )
    leaders = page.evaluate(
        "() => parleyDesk.map.queryRenderedFeatures({layers: ['leaders']})"
        ".map(f => f.properties.id)"
    )
    assert sorted(leaders) == sorted([NATO_JET, RUSSIAN_SHIP, DARK_JET, CARGO])
    # one image per kind, not per track: a second NATO fighter reuses the first one's
    second = POSITIONS[0] | {"track": "icao:4ca7b6", "lat": 57.02, "time": TIME}
    answer = desk_server.api("feeder").post(
        "/api/v1/picture/positions", json={"positions": [second]}
    )
    assert answer.status_code == 200, answer.text
    page.wait_for_function("() => parleyDesk.picture.tracks.size === 5", timeout=WAIT_MS)
    icons = page.evaluate(
        "() => parleyDesk.picture.tracksGeoJSON().features.map(f => f.properties.icon)"
    )
    assert icons.count(jet["icon"]) == 2
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts / "desk-symbols-en.png"))
    assert off_machine.urls == []
