"""Two paired desks in a real browser: NATO's and Russia's nodes, each a real ``parley serve``
on loopback replicating to the other. Five minutes of the April 2016 Donald Cook case are fed to
NATO's node; the live detector opens the incidents; NATO's duty officer opens one and notifies
it; Russia's officer acknowledges the notification in the inbox and gives Russia's account; the
NATO page shows the notification acknowledged and both accounts side by side. Screenshots go to
``tests/e2e/artifacts/``; every request that is not to loopback fails the test."""

from pathlib import Path
from typing import Any

import pytest

#: The fixtures of tests/e2e/conftest.py (a conftest is not imported by tests).
DeskServer = Any
OffMachine = Any
PageMaker = Any

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WAIT_MS = 30_000
SHIP, JET = "sim:ddg75", "sim:su24-1"
RUSSIAN_ACCOUNT = "Scheduled training flight over neutral waters, observing all safety measures."


def test_nato_notifies_the_donald_cook_incident_and_sees_russia_acknowledge_it(
    desk_pair: tuple[DeskServer, DeskServer],
    page_maker: PageMaker,
    off_machine: OffMachine,
    artifacts: Path,
    donald_cook: Any,
) -> None:
    nato, russia = desk_pair
    nato_page, russia_page = page_maker.new_page(), page_maker.new_page()
    nato.open_desk(nato_page)
    russia.open_desk(russia_page)

    assert donald_cook(nato) == 345
    nato_page.wait_for_function(
        f"() => parleyDesk.picture.tracks.has('{SHIP}') && parleyDesk.picture.tracks.has('{JET}')",
        timeout=WAIT_MS,
    )
    nato_page.click("#tabs [data-tab=incidents]")
    item = f"#incident-list li[data-severity=high-risk]:has-text('{JET}')"
    nato_page.wait_for_selector(item, timeout=WAIT_MS)
    listed = nato.api("officer").get("/api/v1/incidents").json()
    ours = next(i for i in listed if i["their_track"] == JET)
    assert (ours["our_track"], ours["severity"], ours["state"]) == (SHIP, "high-risk", "detected")
    assert ours["min_slant_m"] < 100

    nato_page.click(item)
    nato_page.wait_for_selector("#incident[data-state=detected] .evidence", timeout=WAIT_MS)
    evidence = nato_page.inner_text("#incident .evidence")
    assert f"{SHIP} ↔ {JET}" in evidence
    assert "high risk" in evidence
    assert "2016" not in evidence or "Z" in evidence  # times are shown as HH:MM:SSZ
    assert nato_page.is_visible("#incident button[data-action=notify]")
    nato_page.wait_for_timeout(800)  # the map flies to the incident
    nato_page.screenshot(path=str(artifacts / "desk-two-nodes-1-incident-nato.png"))

    nato_page.click("#incident button[data-action=notify]")
    nato_page.wait_for_selector("#incident[data-state=notified]", timeout=WAIT_MS)
    nato_page.wait_for_selector(
        "#incident .messages li[data-role=notification][data-direction=sent]", timeout=WAIT_MS
    )

    # Russia's desk: the notification arrives in the inbox, counting down to its acknowledgement
    russia_page.click("#tabs [data-tab=hotline]")
    received = "#inbox li[data-state=received]:has-text('incident notification')"
    russia_page.wait_for_selector(received, timeout=WAIT_MS)
    assert "left" in russia_page.inner_text(f"{received} .deadline")
    assert JET in russia_page.inner_text(received)
    russia_page.screenshot(path=str(artifacts / "desk-two-nodes-2-inbox-russia.png"))
    russia_page.click(f"{received} button[data-action=ack]")
    russia_page.wait_for_selector(
        "#inbox li[data-state=acknowledged]:has-text('incident notification')", timeout=WAIT_MS
    )
    assert russia_page.locator("#inbox li .deadline").count() == 0

    # NATO's desk sees the acknowledgement: the incident's state and the message's
    nato_page.wait_for_selector("#incident[data-state=acknowledged]", timeout=WAIT_MS)
    nato_page.wait_for_selector(
        "#incident .messages li[data-role=notification][data-state=acknowledged]", timeout=WAIT_MS
    )
    nato_page.wait_for_selector(
        "#incident .messages li[data-role=acknowledgement][data-direction=received]",
        timeout=WAIT_MS,
    )
    log = nato.api("officer").get("/api/v1/log").json()
    notification = next(m for m in log["own"] if m["template"] == 1)
    assert notification["state"] == "acknowledged"
    assert nato_page.inner_text("#health-link") == "link up"

    # Russia gives its account, which NATO sees beside its own
    russia_page.click("#tabs [data-tab=incidents]")
    russia_page.click(f"#incident-list li:has-text('{JET}')")
    russia_page.wait_for_selector("#incident .account-form", timeout=WAIT_MS)
    russia_page.select_option("#incident .account-form select", "routine")
    russia_page.fill("#incident .account-form textarea", RUSSIAN_ACCOUNT)
    russia_page.click("#incident .account-form button[type=submit]")
    russia_page.wait_for_selector(
        "#incident .account[data-side=ours][data-severity=routine]", timeout=WAIT_MS
    )
    theirs = "#incident .account[data-side=theirs][data-severity=routine]"
    nato_page.wait_for_selector(theirs, timeout=WAIT_MS)
    assert RUSSIAN_ACCOUNT in nato_page.inner_text(theirs)
    assert "high risk" in nato_page.inner_text("#incident .account[data-side=ours]")
    assert nato_page.inner_text("#incident .verdict") == "The parties give different classes."
    nato_page.wait_for_timeout(300)
    nato_page.screenshot(path=str(artifacts / "desk-two-nodes-3-acknowledged-nato.png"))
    russia_page.screenshot(path=str(artifacts / "desk-two-nodes-4-account-russia.png"))

    nato_page.click("#tabs [data-tab=hotline]")
    nato_page.wait_for_selector(
        "#outbox li[data-state=answered]:has-text('incident notification')", timeout=WAIT_MS
    )
    nato_page.click("button[data-language=ru]")
    assert nato_page.text_content("#incident .evidence h3") == "Данные"
    nato_page.screenshot(path=str(artifacts / "desk-two-nodes-5-hotline-ru.png"))

    assert off_machine.urls == []
