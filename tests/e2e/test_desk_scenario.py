"""The done-when screenshots of the desk: the ``baltic-2016`` scenario (the April 2016 encounters
over real-looking Baltic traffic) pushed into both nodes of a pair, then NATO's desk shows the
tracks and the six encounters with their classes; NATO notifies the RC-135/Su-27 incident,
Russia acknowledges it and gives its account, and NATO sees both accounts and the exchange
acknowledged. Screenshots go to ``tests/e2e/artifacts/desk-scenario-*.png``."""

from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import pytest

from parley.scenarios import build_scenario

if TYPE_CHECKING:
    from playwright.sync_api import Page

#: The fixtures of tests/e2e/conftest.py (a conftest is not imported by tests).
DeskServer = Any
OffMachine = Any
PageMaker = Any

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WAIT_MS = 60_000
#: Data time per batch. The live detector expects what a ticker gives it (about a second's
#: reports): a batch spanning many minutes loses short encounters (the Su-27's roll, the Ka-27's
#: orbits), so the scenario goes in two-minute slices; quiet gaps send nothing.
BATCH_WINDOW_S = 120
JET, SPY = "sim:su27", "sim:rc135"
RUSSIAN_ACCOUNT = "The Su-27 intercepted an unidentified aircraft approaching the border."
#: The scenario's six serious and high-risk encounters: (pair, class, day of April 2016).
EXPECTED = sorted(
    [
        (("sim:ddg75", "sim:su24-1"), "serious", 11),
        (("sim:ddg75", "sim:su24-2"), "serious", 11),
        (("sim:ddg75", "sim:ka27"), "serious", 12),
        (("sim:ddg75", "sim:su24-1"), "high-risk", 12),
        (("sim:ddg75", "sim:su24-2"), "high-risk", 12),
        (("sim:rc135", "sim:su27"), "high-risk", 14),
    ]
)


def _batches(frame: pl.DataFrame) -> list[pl.DataFrame]:
    """The scenario in time order, in slices of :data:`BATCH_WINDOW_S` of data time."""
    window = (pl.col("time").dt.epoch("s") // BATCH_WINDOW_S).alias("window")
    ordered = frame.sort("time").with_columns(window)
    return ordered.partition_by("window", maintain_order=True, include_key=False)


def _as_csv(rows: pl.DataFrame) -> bytes:
    return rows.write_csv(datetime_format="%Y-%m-%dT%H:%M:%S%.6fZ").encode()


def _push_scenario(servers: tuple[DeskServer, ...]) -> int:
    """Every slice as canonical CSV to each node, the very last with ``end_of_data``."""
    batches = _batches(build_scenario("baltic-2016"))
    for number, batch in enumerate(batches, start=1):
        body = _as_csv(batch)
        for server in servers:
            answer = server.api("feeder").post(
                "/api/v1/picture/positions",
                content=body,
                headers={"Content-Type": "text/csv"},
                params={"end_of_data": str(number == len(batches)).lower()},
                timeout=120.0,
            )
            assert answer.status_code == 200, answer.text
            assert answer.json()["accepted"] == batch.height
    return sum(batch.height for batch in batches)


_LISTED_ENCOUNTERS = """() => [...document.querySelectorAll('#alerts li[data-kind=encounter]')]
  .filter(li => li.dataset.severity !== 'routine')
  .map(li => {
    const item = parleyDesk.picture.alerts().find(a => a.key === li.dataset.key);
    return [li.querySelector('.pair').innerText, li.dataset.severity, li.dataset.state,
            new Date(item.time).getUTCDate()];
  })"""


def _listed_encounters(page: "Page") -> list[tuple[tuple[str, str], str, int]]:
    listed = []
    for pair_text, severity, state, day in page.evaluate(_LISTED_ENCOUNTERS):
        assert state == "closed", (pair_text, state)
        a, b = pair_text.split(" · ")[0].split(" ↔ ")
        first, second = sorted((a, b))
        listed.append(((first, second), severity, day))
    return sorted(listed)


def test_the_baltic_2016_scenario_on_both_desks(
    desk_pair: tuple[DeskServer, DeskServer],
    page_maker: PageMaker,
    off_machine: OffMachine,
    artifacts: Path,
) -> None:
    nato, russia = desk_pair
    nato_page, russia_page = page_maker.new_page(), page_maker.new_page()
    nato.open_desk(nato_page)
    russia.open_desk(russia_page)

    assert _push_scenario((nato, russia)) == 43_790
    nato_page.wait_for_function(
        f"() => parleyDesk.picture.tracks.has('{JET}') && parleyDesk.picture.tracks.size > 100",
        timeout=WAIT_MS,
    )
    nato_page.wait_for_function(
        "() => document.querySelectorAll("
        "'#alerts li[data-kind=encounter][data-state=closed]:not([data-severity=routine])'"
        ").length >= 6",
        timeout=WAIT_MS,
    )
    assert _listed_encounters(nato_page) == EXPECTED
    panel = nato_page.inner_text("#alerts")
    assert "Encounter: high risk" in panel
    assert "Encounter: serious" in panel
    nato_page.wait_for_timeout(800)
    nato_page.screenshot(path=str(artifacts / "desk-scenario-1-baltic-encounters-nato.png"))

    # the RC-135/Su-27 incident: NATO notifies it
    nato_page.click("#tabs [data-tab=incidents]")
    item = f"#incident-list li[data-severity=high-risk]:has-text('{JET}')"
    nato_page.wait_for_selector(item, timeout=WAIT_MS)
    nato_page.click(item)
    nato_page.wait_for_selector("#incident[data-state=detected] .evidence", timeout=WAIT_MS)
    assert f"{SPY} ↔ {JET}" in nato_page.inner_text("#incident .evidence")
    nato_page.click("#incident button[data-action=notify]")
    nato_page.wait_for_selector("#incident[data-state=notified]", timeout=WAIT_MS)

    # Russia acknowledges it and gives its account
    russia_page.click("#tabs [data-tab=hotline]")
    received = "#inbox li[data-state=received]:has-text('incident notification')"
    russia_page.wait_for_selector(received, timeout=WAIT_MS)
    russia_page.click(f"{received} button[data-action=ack]")
    russia_page.wait_for_selector(
        "#inbox li[data-state=acknowledged]:has-text('incident notification')", timeout=WAIT_MS
    )
    nato_page.wait_for_selector("#incident[data-state=acknowledged]", timeout=WAIT_MS)
    nato_page.wait_for_selector(
        "#incident .messages li[data-role=notification][data-state=acknowledged]", timeout=WAIT_MS
    )
    russia_page.click("#tabs [data-tab=incidents]")
    russia_page.click(f"#incident-list li:has-text('{JET}')")
    russia_page.wait_for_selector("#incident .account-form", timeout=WAIT_MS)
    russia_page.select_option("#incident .account-form select", "serious")
    russia_page.fill("#incident .account-form textarea", RUSSIAN_ACCOUNT)
    russia_page.click("#incident .account-form button[type=submit]")
    russia_page.wait_for_selector(
        "#incident .account[data-side=ours][data-severity=serious]", timeout=WAIT_MS
    )
    russia_page.wait_for_timeout(800)
    russia_page.screenshot(path=str(artifacts / "desk-scenario-2-account-russia.png"))

    # NATO: the incident acknowledged with both accounts, then the hotline exchange
    theirs = "#incident .account[data-side=theirs][data-severity=serious]"
    nato_page.wait_for_selector(theirs, timeout=WAIT_MS)
    assert RUSSIAN_ACCOUNT in nato_page.inner_text(theirs)
    assert "high risk" in nato_page.inner_text("#incident .account[data-side=ours]")
    nato_page.wait_for_timeout(300)
    nato_page.screenshot(path=str(artifacts / "desk-scenario-3-incident-both-accounts-nato.png"))

    # NATO acknowledges Russia's account: nothing in the exchange is left waiting
    nato_page.click("#incident .messages li[data-direction=received] button[data-action=ack]")
    nato_page.wait_for_selector(
        "#incident .messages li[data-direction=received] button[data-action=ack]",
        state="detached",
        timeout=WAIT_MS,
    )
    assert nato_page.locator("#incident .messages .deadline").count() == 0
    nato_page.click("#tabs [data-tab=hotline]")
    nato_page.wait_for_selector(
        "#outbox li[data-state=answered]:has-text('incident notification')", timeout=WAIT_MS
    )
    assert nato_page.locator("#inbox li:has-text('acknowledgement')").count() >= 1
    assert nato_page.locator("#inbox li .deadline").count() == 0
    nato_page.screenshot(path=str(artifacts / "desk-scenario-4-hotline-acknowledged-nato.png"))

    assert off_machine.urls == []
