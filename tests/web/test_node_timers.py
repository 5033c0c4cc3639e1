"""The server's timers: escalation steps fire through the running app on its (fake) clock, go to
the event stream, and fire exactly once with two servers on one database or across a restart."""

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from parley.cli.main import run
from parley.hotline.node import init_node, load_node
from parley.hotline.users import Role, SessionSettings
from parley.store import schema
from parley.web import create_app
from parley.web.timers import TimerSettings

T0 = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)  # hour 476268: even, so nato sends the hourly test
FAST = TimerSettings(escalation_interval_s=0.02, events_interval_s=0.02, hourly_test=False)
LONG_SESSIONS = SessionSettings(lifetime_s=10 * 86400, idle_s=10 * 86400)
SignIn = Callable[..., str]


class SettableClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def at(self, seconds: float) -> None:
        self.now = T0 + timedelta(seconds=seconds)


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock()


@pytest.fixture
def nato_dir(tmp_path: Path, clock: SettableClock) -> Path:
    nato = init_node(tmp_path / "nato", "nato", clock=clock)
    russia = init_node(tmp_path / "russia", "russia", clock=clock)
    nato.trust(russia.identity_json(), "http://russia.invalid")
    nato.close()
    russia.close()
    return tmp_path / "nato"


def _app_client(directory: Path, clock: SettableClock, timers: TimerSettings = FAST) -> TestClient:
    app = create_app(
        directory,
        replicate=False,
        run_timers=True,
        timers=timers,
        clock=clock,
        sessions=LONG_SESSIONS,
    )
    return TestClient(app)


def _events(client: TestClient, after: str | None = None) -> list[dict[str, Any]]:
    """The events held after ``after`` (none: all since the bus started), each with its id."""
    bus = client.app.state.events  # type: ignore[attr-defined]
    params = {"follow": "false", "last_event_id": after or f"{bus.epoch}-0"}
    answer = client.get("/api/v1/events", params=params)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/event-stream")
    return _parse(answer.text)


def _parse(text: str) -> list[dict[str, Any]]:
    events = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            events.append(
                {"id": fields["id"], "type": fields["event"], **json.loads(fields["data"])}
            )
    return events


def _wait_for(check: Callable[[], Any], what: str, bound_s: float = 10.0) -> Any:
    deadline = time.monotonic() + bound_s
    while not (found := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)
    return found


def _notices(client: TestClient) -> list[tuple[str, str, int]]:
    return [
        (e["payload"]["track"], e["payload"]["level"], e["payload"]["attempt"])
        for e in _events(client)
        if e["type"].startswith("escalation.")
    ]


def _fired_steps(directory: Path) -> list[tuple[str, str, int]]:
    steps = schema.escalation_steps
    with load_node(directory) as node, node.engine.connect() as connection:
        rows = connection.execute(
            select(steps.c.track, steps.c.level, steps.c.attempt)
            .where(steps.c.fired_at.is_not(None))
            .order_by(steps.c.id)
        ).all()
    return [(track, level, int(attempt)) for track, level, attempt in rows]


def test_the_running_app_fires_escalation_steps_on_its_clock(
    nato_dir: Path, clock: SettableClock, sign_in: SignIn
) -> None:
    with _app_client(nato_dir, clock) as client:
        sign_in(client)
        sent = client.post("/api/v1/messages", json={"template": 6, "fields": {"sequence": "1"}})
        msg_id = sent.json()["msg_id"]
        time.sleep(0.2)
        assert _notices(client) == []  # the delivery deadline (120 s) is not reached
        clock.at(120)
        found = _wait_for(lambda: _notices(client), "the first delivery notice")
        assert found == [("delivery", "duty-officer", 0)]
        clock.at(420)
        _wait_for(lambda: len(_notices(client)) == 2, "the second notice")
        notices = [e for e in _events(client) if e["type"] == "escalation.notice"]
        assert [e["payload"]["msg_id"] for e in notices] == [msg_id, msg_id]
        assert notices[1]["payload"]["level"] == "duty-officer"
        assert notices[1]["payload"]["attempt"] == 1
        recorded = [e for e in _events(client) if e["type"] == "message.recorded"]
        assert recorded == []  # a test message is published as test.sent
        assert [e["payload"]["msg_id"] for e in _events(client) if e["type"] == "test.sent"] == [
            msg_id
        ]


def test_two_servers_on_one_database_and_a_restart_fire_each_step_once(
    nato_dir: Path, clock: SettableClock, sign_in: SignIn
) -> None:
    with _app_client(nato_dir, clock) as first, _app_client(nato_dir, clock) as second:
        sign_in(first)
        sign_in(second, "second")
        first.post("/api/v1/messages", json={"template": 6, "fields": {"sequence": "1"}})
        clock.at(3000)  # the whole delivery ladder is due at once: 6 steps
        _wait_for(lambda: len(_notices(first) + _notices(second)) >= 6, "six notices")
        time.sleep(0.3)  # both servers ran several more times
        both = _notices(first) + _notices(second)
    assert sorted(both) == sorted(_fired_steps(nato_dir))
    assert len(both) == len(set(both)) == 6
    with _app_client(nato_dir, clock) as restarted:
        sign_in(restarted, "third")
        time.sleep(0.3)
        assert _notices(restarted) == []  # nothing fires twice after a restart


def test_the_hourly_test_is_sent_once_in_our_hour(
    nato_dir: Path, clock: SettableClock, sign_in: SignIn
) -> None:
    timers = TimerSettings(escalation_interval_s=0.02, events_interval_s=0.02, hourly_test=True)
    with _app_client(nato_dir, clock, timers) as client:
        sign_in(client)
        sent = _wait_for(
            lambda: [e for e in _events(client) if e["type"] == "test.sent"], "the hourly test"
        )
        time.sleep(0.2)
        assert len([e for e in _events(client) if e["type"] == "test.sent"]) == 1
        assert sent[0]["payload"]["fields"] == {"sequence": "476268"}
        clock.at(3600)  # hour 476269 is russia's: nothing more
        time.sleep(0.2)
        assert len([e for e in _events(client) if e["type"] == "test.sent"]) == 1
        clock.at(7200)
        _wait_for(
            lambda: len([e for e in _events(client) if e["type"] == "test.sent"]) == 2,
            "the next even hour's test",
        )


def test_sign_in_is_needed_for_the_stream(nato_dir: Path, clock: SettableClock) -> None:
    with _app_client(nato_dir, clock) as client:
        assert client.get("/api/v1/events").status_code == 401
        state = client.app.state.parley  # type: ignore[attr-defined]
        state.users.add_user("admin", Role.ADMINISTRATOR, "correct horse battery")
        token = client.post(
            "/api/v1/session", json={"name": "admin", "password": "correct horse battery"}
        ).json()["token"]
        refused = client.get("/api/v1/events", headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 403


def test_serve_refuses_a_timer_interval_that_is_not_positive(nato_dir: Path) -> None:
    assert run(["serve", str(nato_dir), "--timer-interval", "0"]) == 1
