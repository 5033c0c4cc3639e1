"""The incident view and the hotline panel of one desk in a real browser, its peer stopped once
the desk has taken back its log (a node that never reached its peer writes nothing). The April
2016 Donald Cook passes open incidents; the officer notifies one (which cannot be delivered),
records an account, closes and reopens it; the delivery deadline runs out and the escalation
banner appears. Screenshots go to ``tests/e2e/artifacts/``."""

from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

#: The fixtures of tests/e2e/conftest.py (a conftest is not imported by tests).
DeskServer = Any
OffMachine = Any

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WAIT_MS = 30_000
JET = "sim:su24-2"
#: The delivery ladder's first notice one second after sending (the server's timer runs every 5 s).
QUICK_ESCALATION = "[delivery]\ndeadline_s = 1\nrenotify_s = 600\n"


def test_incident_actions_deadlines_and_the_escalation_banner(
    desk_pair: tuple[DeskServer, DeskServer],
    desk_page: "Page",
    off_machine: OffMachine,
    artifacts: Path,
    donald_cook: Any,
) -> None:
    page = desk_page
    desk_server, peer = desk_pair
    desk_server.wait_resynced(page)
    peer.close()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{peer.url}/desk/config.json", timeout=2.0)
    (desk_server.directory / "escalation.toml").write_text(QUICK_ESCALATION, encoding="utf-8")
    desk_server.open_desk(page, live=False)
    assert page.is_hidden("#banner")

    donald_cook(desk_server)
    page.click("#tabs [data-tab=incidents]")
    item = f"#incident-list li:has-text('{JET}')"
    page.wait_for_selector(item, timeout=WAIT_MS)
    assert page.locator("#incident-list li[data-severity=high-risk]").count() == 2
    assert page.inner_text("#tab-count-incidents") == "2"  # two waiting to be notified
    page.click(item)
    page.wait_for_selector("#incident[data-state=detected]", timeout=WAIT_MS)
    assert page.inner_text("#incident .account[data-side=ours]").endswith("No account yet.")

    page.click("#incident button[data-action=notify]")
    page.wait_for_selector("#incident[data-state=notified]", timeout=WAIT_MS)
    assert page.inner_text("#tab-count-incidents") == "1"
    notification = "#incident .messages li[data-role=notification]"
    page.wait_for_selector(f"{notification}[data-state=recorded] .deadline", timeout=WAIT_MS)

    # the peer is down: the delivery deadline passes and the escalation banner cannot be missed
    page.wait_for_selector("#banner li[data-track=delivery]", timeout=WAIT_MS)
    assert page.is_visible("#banner")
    assert page.get_attribute("body", "data-escalation") == "true"
    assert "No delivery of message" in page.inner_text("#banner")
    assert "duty officer" in page.inner_text("#banner")
    page.wait_for_selector(f"{notification} .deadline[data-overdue=true]", timeout=WAIT_MS)
    assert "overdue by" in page.inner_text(f"{notification} .deadline")
    page.wait_for_selector("#health-link[data-state=down]", timeout=WAIT_MS)
    page.screenshot(path=str(artifacts / "desk-incident-escalation-en.png"))

    page.click("#banner li[data-track=delivery] button:has-text('Show')")
    assert page.is_visible("#outbox")
    outbox = "#outbox li:has-text('incident notification')"
    assert "overdue by" in page.inner_text(f"{outbox} .deadline")
    assert page.inner_text(f"{outbox} .state") == "recorded"
    page.click("#banner li[data-track=delivery] button:has-text('Seen')")
    assert page.is_hidden("#banner")

    # our account, recorded on this desk only, then the incident closed and reopened
    page.select_option("#incident .account-form select", "serious")
    page.fill("#incident .account-form textarea", "Two low passes; no weapons seen.")
    page.uncheck("#incident .account-form input[name=send]")
    page.click("#incident .account-form button[type=submit]")
    page.wait_for_selector("#incident .account[data-side=ours][data-severity=serious]")
    assert "Two low passes" in page.inner_text("#incident .account[data-side=ours]")
    assert page.inner_text("#incident .account[data-side=theirs]").endswith("No account yet.")
    page.fill("#incident-close-reason", "reviewed by the watch")
    page.click("#incident button[data-action=close]")
    page.wait_for_selector("#incident[data-state=closed]", timeout=WAIT_MS)
    assert page.is_hidden("#incident .account-form")
    detail = desk_server.api("officer").get(
        f"/api/v1/incidents/{page.evaluate('parleyDesk.incidents.openId')}"
    )
    history = [event["action"] for event in detail.json()["history"]]
    assert history[-1] == "closed"
    assert detail.json()["history"][-1]["detail"] == "reviewed by the watch"
    page.click("#incident button[data-action=reopen]")
    page.wait_for_selector("#incident[data-state=notified]", timeout=WAIT_MS)

    page.click("button[data-language=ru]")
    assert page.inner_text("#incident h2").startswith("Инцидент inc-")
    assert page.inner_text("#incident .badge") == "уведомление отправлено"
    page.screenshot(path=str(artifacts / "desk-incident-ru.png"))
    assert off_machine.urls == []
