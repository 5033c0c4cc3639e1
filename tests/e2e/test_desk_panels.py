"""The desk's activity notifications, roster and warnings filter, and the incident view's replies
from templates and questions, in a real browser against two paired nodes (NATO's and Russia's
``parley serve`` on loopback, replicating). Screenshots go to ``tests/e2e/artifacts/``; every
request that is not to loopback fails the test."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from parley.hotline.node import load_node
from parley.hotline.users import Role, UserStore

#: The fixtures of tests/e2e/conftest.py (a conftest is not imported by tests).
DeskServer = Any
OffMachine = Any
PageMaker = Any
PASSWORD = "correct horse battery"

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WAIT_MS = 30_000
JET = "sim:su24-1"
#: An area off Gotland (lon, lat): NATO's exercise.
GOTLAND = [[18.0, 56.5], [19.5, 56.5], [19.5, 57.5], [18.0, 57.5], [18.0, 56.5]]
#: An area west of Kaliningrad: Russia's.
KALININGRAD = [[19.0, 54.8], [19.8, 54.8], [19.8, 55.3], [19.0, 55.3], [19.0, 54.8]]
ANSWER = "A routine training flight; the aircraft kept to international airspace."
QUESTION = "Were the aircraft armed during the second pass?"
RUSSIAN_TEXT = "Самолёты были без вооружения."


def _roster(now: datetime) -> tuple[str, str]:
    """Three daily shifts of 8 h, the first begun an hour ago (so no shift changes while the
    test runs); answers the roster's text and the next shift's start (HH:MM)."""
    first = (now - timedelta(hours=1)).replace(second=0, microsecond=0)
    starts = [(first + timedelta(hours=8 * i)).strftime("%H:%M") for i in range(3)]
    officers = [
        [
            ("Capt B. Jones", "duty-officer", '["en"]'),
            ("Maj C. Brown", "senior-officer", '["en", "ru"]'),
        ],
        [("Lt D. White", "duty-officer", '["en", "ru"]')],
        [("Lt A. Smith", "duty-officer", '["en", "ru"]')],
    ]
    text = ""
    for name, start, people in zip(("alpha", "bravo", "charlie"), starts, officers, strict=True):
        text += f'[[shift]]\nname = "{name}"\ndaily = "{start}"\n'
        for who, role, languages in people:
            text += f'[[shift.officer]]\nname = "{who}"\nrole = "{role}"\nlanguages = {languages}\n'
    return text, starts[1]


def _activity(identifier: str, name: str, ring: list[list[float]], troops: int) -> dict[str, Any]:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=10)
    return {
        "id": identifier,
        "name": name,
        "kind": "exercise",
        "notice": "planned",
        "start": start.isoformat().replace("+00:00", "Z"),
        "end": (start + timedelta(days=5)).isoformat().replace("+00:00", "Z"),
        "area": {"type": "Polygon", "coordinates": [ring]},
        "declared": {"troops": troops, "battle_tanks": 120},
    }


def _sent(server: DeskServer, template: int) -> dict[str, Any]:
    """The first message of this template in the node's own log."""
    own = server.api("officer").get("/api/v1/log").json()["own"]
    return next(message for message in own if message["template"] == template)


def _add_user(server: DeskServer, name: str, role: Role) -> None:
    """A user added to the running node's database (as ``parley user add`` would)."""
    node = load_node(server.directory)
    try:
        UserStore(node.engine, node.clock).add_user(name, role, PASSWORD)
    finally:
        node.close()


def test_activities_roster_and_the_warnings_filter(
    desk_pair: tuple[DeskServer, DeskServer],
    page_maker: PageMaker,
    off_machine: OffMachine,
    artifacts: Path,
    donald_cook: Any,
) -> None:
    nato, russia = desk_pair
    roster, next_start = _roster(datetime.now(UTC))
    (nato.directory / "roster.toml").write_text(roster, encoding="utf-8")
    page = page_maker.new_page()
    nato.open_desk(page)
    nato.wait_resynced(page)
    russia.wait_resynced(page)

    # ours, not yet notified and already late (10 days ahead: due 42 days before its start)
    added = nato.api("officer").post(
        "/api/v1/activities", json=_activity("nato-ex-1", "Baltic Guard", GOTLAND, 13_500)
    )
    assert added.status_code == 200, added.text
    # theirs, notified by Russia's node through the hotline
    theirs = _activity("ru-ex-7", "Zapad West", KALININGRAD, 9_500)
    assert russia.api("officer").post("/api/v1/activities", json=theirs).status_code == 200
    sent = russia.api("officer").post("/api/v1/activities/ru-ex-7/notify")
    assert sent.status_code == 200, sent.text

    page.click("#tabs [data-tab=activities]")
    ours = "#activity-list li[data-id=nato-ex-1]"
    page.wait_for_selector(ours, timeout=WAIT_MS)
    flags = page.eval_on_selector_all(f"{ours} .flag", "els => els.map(e => e.dataset.flag)")
    assert flags == ["notifiable", "observation-required", "not-notified", "late"]
    assert "troops 13,500 · battle tanks 120" in page.inner_text(ours)
    assert "ours (NATO)" in page.inner_text(ours)
    page.wait_for_selector("#activity-list li[data-id=ru-ex-7][data-origin=peer]", timeout=WAIT_MS)
    their_item = "#activity-list li[data-id=ru-ex-7]"
    assert "theirs (Russia)" in page.inner_text(their_item)
    assert page.locator(f"{their_item} button[data-action=notify-activity]").count() == 0
    # both areas on the map, with their labels
    page.wait_for_selector(".activity-label[data-id=ru-ex-7]", timeout=WAIT_MS)
    labels = page.eval_on_selector_all(".activity-label", "els => els.map(e => e.textContent)")
    # the hotline's activity notification carries no name: a received activity shows its id
    assert sorted(labels) == ["Baltic Guard", "ru-ex-7"]
    drawn = page.evaluate(
        "() => parleyDesk.map.getSource('activities').serialize().data.features"
        ".map(f => [f.properties.id, f.properties.origin, f.properties.notified])"
    )
    assert sorted(drawn) == [["nato-ex-1", "own", False], ["ru-ex-7", "peer", True]]

    page.click(f"{ours} button[data-action=notify-activity]")
    page.wait_for_selector(f"{ours}[data-notified=true]", timeout=WAIT_MS)
    flags = page.eval_on_selector_all(f"{ours} .flag", "els => els.map(e => e.dataset.flag)")
    assert flags == ["notifiable", "observation-required", "late"]
    log = nato.api("officer").get("/api/v1/log").json()
    assert [m["fields"]["activity_id"] for m in log["own"] if m["template"] == 4] == ["nato-ex-1"]
    # both parties' areas in one view for the screenshot, then ours alone
    page.evaluate("() => parleyDesk.map.jumpTo({ center: [19.2, 56.1], zoom: 6.4 })")
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts / "desk-panels-1-activities-en.png"))
    page.click(f"{ours} button[data-action=show-area]")
    # the map flies to the area (centred on it, closer than the theatre's view)
    page.wait_for_function(
        """() => { const [lon, lat] = parleyDesk.map.getCenter().toArray();
                   return 18 < lon && lon < 19.5 && 56.5 < lat && lat < 57.5
                       && parleyDesk.map.getZoom() > 6 && !parleyDesk.map.isMoving(); }""",
        timeout=WAIT_MS,
    )

    # the roster: the shift begun an hour ago, the next one, and who is on each
    page.click("#tabs [data-tab=roster]")
    page.wait_for_selector("#roster-body .shift[data-which=now]", timeout=WAIT_MS)
    now = page.inner_text("#roster-body [data-part=now]")
    assert "Shift alpha" in now
    assert "Capt B. Jones" in now
    assert "Maj C. Brown" in now
    assert "senior officer" in now
    upcoming = page.inner_text("#roster-body [data-part=next]")
    assert "Shift bravo" in upcoming
    assert "Lt D. White" in upcoming
    assert f"{next_start}:00Z" in upcoming
    assert page.locator("#roster-body [data-part=problems]").count() == 0  # 24 h covered
    page.screenshot(path=str(artifacts / "desk-panels-2-roster-en.png"))
    page.click("button[data-language=ru]")
    assert page.inner_text("#roster-body [data-part=now] h3") == "СЕЙЧАС НА ДЕЖУРСТВЕ"
    assert "старший офицер" in page.inner_text("#roster-body [data-part=now]")
    page.click("#tabs [data-tab=activities]")
    assert "подлежит уведомлению" in page.inner_text(ours)
    page.screenshot(path=str(artifacts / "desk-panels-3-activities-ru.png"))
    page.click("button[data-language=en]")

    # the warnings panel's filter: all, only warnings, only encounters
    donald_cook(nato)
    page.click("#tabs [data-tab=alerts]")
    page.wait_for_selector("#alerts li[data-kind=encounter][data-state=closed]", timeout=WAIT_MS)
    page.wait_for_timeout(500)
    every = page.eval_on_selector_all("#alerts li", "els => els.map(e => e.dataset.kind)")
    assert "encounter" in every
    page.click("#alert-filter [data-filter=encounter]")
    encounters = page.eval_on_selector_all("#alerts li", "els => els.map(e => e.dataset.kind)")
    assert encounters == ["encounter"] * every.count("encounter")
    assert page.get_attribute("#alert-filter [data-filter=encounter]", "aria-pressed") == "true"
    page.screenshot(path=str(artifacts / "desk-panels-4-encounters-only-en.png"))
    page.click("#alert-filter [data-filter=warning]")
    warnings = page.eval_on_selector_all("#alerts li", "els => els.map(e => e.dataset.kind)")
    assert warnings == ["warning"] * every.count("warning")
    assert page.is_visible("#panel-empty") == (not warnings)
    page.click("#alert-filter [data-filter=all]")
    assert page.locator("#alerts li").count() == len(every)

    # a role without read-log sees neither panel, and the API refuses it the routes
    technician = page_maker.new_page()
    nato.open_desk(technician, "feeder")
    assert technician.is_hidden("#tabs [data-tab=activities]")
    assert technician.is_hidden("#tabs [data-tab=roster]")
    assert nato.api("feeder").get("/api/v1/roster").status_code == 403
    assert nato.api("feeder").get("/api/v1/activities").status_code == 403
    assert off_machine.urls == []


def test_reply_from_a_template_and_ask_for_clarification(
    desk_pair: tuple[DeskServer, DeskServer],
    page_maker: PageMaker,
    off_machine: OffMachine,
    artifacts: Path,
    donald_cook: Any,
) -> None:
    nato, russia = desk_pair
    _add_user(russia, "liaison", Role.POLITICAL_LIAISON)
    nato_page, russia_page = page_maker.new_page(), page_maker.new_page()
    nato.open_desk(nato_page)
    russia.open_desk(russia_page)
    nato.wait_resynced(nato_page)

    donald_cook(nato)
    for _ in range(300):
        listed = nato.api("officer").get("/api/v1/incidents").json()
        if any(i["their_track"] == JET for i in listed):
            break
        nato_page.wait_for_timeout(100)
    incident = next(i for i in listed if i["their_track"] == JET)
    notified = nato.api("officer").post(f"/api/v1/incidents/{incident['id']}/notify")
    assert notified.status_code == 200, notified.text
    notification_id = notified.json()["msg_id"]

    # Russia's officer replies to the notification with a clarification reply (template 3)
    russia_page.click("#tabs [data-tab=incidents]")
    russia_page.click(f"#incident-list li:has-text('{JET}')", timeout=WAIT_MS)
    received = f"#incident .messages li[data-msg-id='{notification_id}']"
    russia_page.wait_for_selector(f"{received} button[data-action=reply]", timeout=WAIT_MS)
    russia_page.click(f"{received} button[data-action=reply]")
    form = "#incident .reply-form"
    russia_page.wait_for_selector(f"{form}[data-template=clarification-reply]")
    options = russia_page.eval_on_selector_all(
        f"{form} select[name=reply-template] option", "els => els.map(e => e.textContent)"
    )
    assert options == ["Clarification reply", "Reassurance (goodwill message)", "Free text"]
    assert f"in reply to {notification_id}" in russia_page.inner_text(form)
    russia_page.fill(f"{form} textarea[name=reply-answer]", ANSWER)
    russia_page.select_option(f"{form} select[name=reply-classification]", "routine-activity")
    russia_page.screenshot(path=str(artifacts / "desk-panels-5-reply-form-russia.png"))
    russia_page.click(f"{form} button[data-action=send-reply]")
    russia_page.wait_for_selector(
        "#incident .messages li[data-role=reply][data-direction=sent]", timeout=WAIT_MS
    )
    reply = _sent(russia, 3)
    assert reply["in_reply_to"] == notification_id
    assert reply["fields"] == {
        "reference": notification_id,
        "answer": ANSWER,
        "classification": "routine-activity",
    }

    # NATO sees the reply on the incident (clarified) and asks a question about it (template 2)
    nato_page.click("#tabs [data-tab=incidents]")
    nato_page.click(f"#incident-list li:has-text('{JET}')")
    nato_page.wait_for_selector("#incident[data-state=clarified]", timeout=WAIT_MS)
    nato_page.wait_for_selector(
        "#incident .messages li[data-role=reply][data-direction=received]", timeout=WAIT_MS
    )
    assert ANSWER in nato_page.inner_text("#incident .account[data-side=theirs]")
    nato_page.fill("#incident .clarification-form textarea[name=question]", QUESTION)
    nato_page.click("#incident .clarification-form button[data-action=clarify]")
    nato_page.wait_for_selector(
        "#incident .messages li[data-role=request][data-direction=sent]", timeout=WAIT_MS
    )
    request = _sent(nato, 2)
    assert (request["in_reply_to"], request["fields"]["question"]) == (reply["msg_id"], QUESTION)
    nato_page.screenshot(path=str(artifacts / "desk-panels-6-clarification-nato.png"))

    # Russia answers the question in free text, in Russian (template 9)
    asked = f"#incident .messages li[data-msg-id='{request['msg_id']}']"
    russia_page.wait_for_selector(f"{asked} button[data-action=reply]", timeout=WAIT_MS)
    russia_page.click(f"{asked} button[data-action=reply]")
    russia_page.select_option(f"{form} select[name=reply-template]", "free-text")
    russia_page.wait_for_selector(f"{form}[data-template=free-text]")
    russia_page.select_option(f"{form} select[name=reply-language]", "ru")
    russia_page.fill(f"{form} textarea[name=reply-text]", RUSSIAN_TEXT)
    russia_page.click(f"{form} button[data-action=send-reply]")
    russia_page.wait_for_selector(
        "#incident .messages li[data-role=message][data-direction=sent]", timeout=WAIT_MS
    )
    free = _sent(russia, 9)
    assert (free["in_reply_to"], free["language"]) == (request["msg_id"], "ru")
    assert free["fields"] == {"language": "ru", "text": RUSSIAN_TEXT}
    free_item = f"#incident .messages li[data-msg-id='{free['msg_id']}']"
    nato_page.wait_for_selector(f"{free_item}[data-direction=received]", timeout=WAIT_MS)
    assert nato_page.inner_text(f"{free_item} .what") == "← free text"
    assert RUSSIAN_TEXT in nato_page.inner_text(free_item)

    # Russia's account (an incident notification in reply to NATO's) is labelled as an account
    russia_page.select_option("#incident .account-form select", "routine")
    russia_page.fill("#incident .account-form textarea", ANSWER)
    russia_page.click("#incident .account-form button[type=submit]")
    nato_page.click("#tabs [data-tab=hotline]")
    account = "#inbox li[data-template=incident-notification]"
    nato_page.wait_for_selector(account, timeout=WAIT_MS)
    assert nato_page.inner_text(f"{account} .what") == "← incident account"
    outbox = nato_page.inner_text("#outbox li[data-template=incident-notification] .what")
    assert outbox == "→ incident notification"
    nato_page.screenshot(path=str(artifacts / "desk-panels-7-inbox-account-nato.png"))

    # a role that may read incidents but not send sees neither Reply nor the question
    liaison = page_maker.new_page()
    russia.open_desk(liaison, "liaison")
    liaison.click("#tabs [data-tab=incidents]")
    liaison.click(f"#incident-list li:has-text('{JET}')", timeout=WAIT_MS)
    liaison.wait_for_selector(received, timeout=WAIT_MS)
    assert liaison.locator("#incident button[data-action=reply]").count() == 0
    assert liaison.locator("#incident .clarification-form").count() == 0
    assert off_machine.urls == []
