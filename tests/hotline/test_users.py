"""Users, roles and sessions of a node: Argon2id hashes, expiry, sign-out, the audit rows."""

import hashlib
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from parley.cli.main import run
from parley.errors import InputError
from parley.hotline import records
from parley.hotline.node import Node, init_node, load_node
from parley.hotline.users import (
    PERMISSIONS,
    TOUCH_INTERVAL_S,
    Action,
    AuthError,
    Role,
    SessionSettings,
    UserStore,
    may,
    parse_role,
)
from parley.store import schema
from parley.store.engine import read

PASSWORD = "correct horse battery"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    with init_node(tmp_path / "nato", "nato") as opened:
        yield opened


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(node: Node, clock: Clock) -> UserStore:
    settings = SessionSettings(lifetime_s=3600.0, idle_s=600.0)
    store = UserStore(node.engine, clock, settings)
    store.add_user("ivanova", Role.DUTY_OFFICER, PASSWORD)
    return store


def _audit(node: Node) -> list[tuple[str, str, str]]:
    with read(node.engine) as connection:
        return list(records.audit_rows(connection))


def _password_hash(node: Node, name: str) -> str:
    with read(node.engine) as connection:
        found = connection.execute(
            select(schema.users.c.password_hash).where(schema.users.c.name == name)
        ).scalar_one()
    return str(found)


def test_the_password_is_stored_only_as_an_argon2id_hash(store: UserStore, node: Node) -> None:
    stored = _password_hash(node, "ivanova")
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert all(PASSWORD not in " ".join(row) for row in _audit(node))
    assert [(u.name, u.role, u.disabled) for u in store.users()] == [
        ("ivanova", Role.DUTY_OFFICER, False)
    ]


def test_sign_in_gives_a_token_kept_only_as_its_sha256(store: UserStore, node: Node) -> None:
    token, user = store.sign_in("ivanova", PASSWORD)
    assert (user.name, user.role) == ("ivanova", Role.DUTY_OFFICER)
    assert len(token) >= 40
    with read(node.engine) as connection:
        kept = connection.execute(select(schema.sessions.c.token_sha256)).scalars().all()
    assert kept == [hashlib.sha256(token.encode()).hexdigest()]
    assert store.authenticate(token).name == "ivanova"
    assert ("ivanova", "sign-in", "session opened") in _audit(node)


def test_a_wrong_password_or_unknown_user_is_refused_and_audited(
    store: UserStore, node: Node
) -> None:
    with pytest.raises(AuthError, match="sign-in refused"):
        store.sign_in("ivanova", "not the password at all")
    with pytest.raises(AuthError, match="sign-in refused"):
        store.sign_in("nobody", PASSWORD)
    rows = _audit(node)
    assert ("ivanova", "sign-in refused", "wrong password") in rows
    assert ("nobody", "sign-in refused", "unknown user") in rows
    assert not any(action == "sign-in" for _, action, _ in rows)


def test_a_disabled_user_cannot_sign_in_and_loses_open_sessions(
    store: UserStore, node: Node
) -> None:
    token, _ = store.sign_in("ivanova", PASSWORD)
    store.disable_user("ivanova")
    with pytest.raises(AuthError, match="no valid session"):
        store.authenticate(token)
    with pytest.raises(AuthError):
        store.sign_in("ivanova", PASSWORD)
    assert ("ivanova", "sign-in refused", "user disabled") in _audit(node)
    assert store.users()[0].disabled is True
    with pytest.raises(InputError, match="no user 'ghost'"):
        store.disable_user("ghost")


def test_an_idle_session_expires_and_use_restarts_the_idle_timer(
    store: UserStore, clock: Clock
) -> None:
    token, _ = store.sign_in("ivanova", PASSWORD)
    clock.advance(599)
    assert store.authenticate(token).name == "ivanova"
    clock.advance(599)  # 1198 s after sign-in, but only 599 s idle
    assert store.authenticate(token).name == "ivanova"
    clock.advance(600)
    with pytest.raises(AuthError, match="expired"):
        store.authenticate(token)


def _last_seen(node: Node) -> list[datetime]:
    with read(node.engine) as connection:
        times = connection.execute(select(schema.sessions.c.last_seen_at)).scalars().all()
    return [moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment for moment in times]


def test_the_session_is_touched_at_most_once_a_minute(
    store: UserStore, node: Node, clock: Clock
) -> None:
    token, _ = store.sign_in("ivanova", PASSWORD)
    for _ in range(3):
        clock.advance(19)
        assert store.authenticate(token).name == "ivanova"  # 57 s: no write
    assert _last_seen(node) == [T0]
    clock.advance(TOUCH_INTERVAL_S - 57)
    store.authenticate(token)
    assert _last_seen(node) == [T0 + timedelta(seconds=TOUCH_INTERVAL_S)]


def test_the_idle_timeout_is_exact_against_the_stored_touch(store: UserStore, clock: Clock) -> None:
    kept, _ = store.sign_in("ivanova", PASSWORD)
    ended, _ = store.sign_in("ivanova", PASSWORD)
    clock.advance(59)
    store.authenticate(ended)  # not stored: its timer still runs from the sign-in
    clock.advance(600 - 59 - 0.001)
    assert store.authenticate(kept).name == "ivanova"  # 599.999 s idle
    clock.advance(0.001)  # 600 s after the stored touch, 541 s after the last request
    with pytest.raises(AuthError, match="expired"):
        store.authenticate(ended)


def test_a_session_expires_after_its_lifetime_even_when_used(
    store: UserStore, clock: Clock
) -> None:
    token, _ = store.sign_in("ivanova", PASSWORD)
    for _ in range(7):
        clock.advance(500)
        assert store.authenticate(token).name == "ivanova"  # 3500 s
    clock.advance(100)  # 3600 s: the lifetime
    with pytest.raises(AuthError, match="expired"):
        store.authenticate(token)


def test_sign_out_ends_the_session(store: UserStore, node: Node) -> None:
    token, _ = store.sign_in("ivanova", PASSWORD)
    other, _ = store.sign_in("ivanova", PASSWORD)
    store.sign_out(token, "ivanova")
    with pytest.raises(AuthError, match="no valid session"):
        store.authenticate(token)
    assert store.authenticate(other).name == "ivanova"
    assert ("ivanova", "sign-out", "session closed") in _audit(node)
    with pytest.raises(AuthError):
        store.authenticate("a-token-never-issued")


def test_weak_passwords_duplicates_and_unknown_roles_are_refused(store: UserStore) -> None:
    with pytest.raises(InputError, match="at least 12 characters"):
        store.add_user("smith", Role.AUDITOR, "short-pass1")
    with pytest.raises(InputError, match="already exists"):
        store.add_user("ivanova", Role.AUDITOR, PASSWORD)
    assert parse_role("Duty officer") is Role.DUTY_OFFICER
    with pytest.raises(InputError, match="unknown role 'general'"):
        parse_role("general")


def test_the_permission_table_covers_every_role() -> None:
    assert set(PERMISSIONS) == set(Role)
    assert not may(Role.ADMINISTRATOR, Action.SEND)
    assert may(Role.ADMINISTRATOR, Action.MANAGE_USERS)
    assert may(Role.AUDITOR, Action.VERIFY)
    assert may(Role.AUDITOR, Action.READ_AUDIT)
    assert not may(Role.AUDITOR, Action.SEND)
    assert not may(Role.AUDITOR, Action.ACK)
    senders = {role for role in Role if may(role, Action.SEND)}
    assert senders == {Role.DUTY_OFFICER, Role.SENIOR_OFFICER}
    assert all(may(role, Action.SIGN_OUT) for role in Role)


def test_the_user_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = tmp_path / "nato"
    init_node(directory, "nato").close()
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert (
        run(["user", "add", str(directory), "smith", "--role", "auditor", "--password-stdin"]) == 0
    )
    assert "user smith added as auditor" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("tooshort\n"))
    assert (
        run(["user", "add", str(directory), "jones", "--role", "auditor", "--password-stdin"]) == 1
    )
    assert "password too weak" in capsys.readouterr().err
    assert run(["user", "add", str(directory), "jones", "--role", "general"]) == 1
    assert "unknown role 'general'" in capsys.readouterr().err
    assert run(["user", "disable", str(directory), "smith"]) == 0
    capsys.readouterr()
    assert run(["user", "list", str(directory), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(u["name"], u["role"], u["disabled"]) for u in listed] == [("smith", "auditor", True)]
    with load_node(directory) as node:
        done = [(a.split(":")[0], action, d) for a, action, d in _audit(node) if "user" in action]
    assert done == [("cli", "user add", "smith as auditor"), ("cli", "user disable", "smith")]


def test_each_api_send_is_audited_once_with_its_message(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from parley.web import create_app

    nato, russia = init_node(tmp_path / "nato", "nato"), init_node(tmp_path / "russia", "russia")
    russia.trust(nato.identity_json(), "http://nato.invalid")
    nato.close()
    russia.close()
    sends = 7
    with TestClient(create_app(tmp_path / "russia", replicate=False)) as client:
        state = client.app.state.parley  # type: ignore[attr-defined]
        state.users.add_user("ivanova", Role.DUTY_OFFICER, PASSWORD)
        signed = client.post("/api/v1/session", json={"name": "ivanova", "password": PASSWORD})
        client.headers["Authorization"] = f"Bearer {signed.json()['token']}"
        for number in range(sends):
            body = {"template": 6, "fields": {"sequence": str(number)}}
            assert client.post("/api/v1/messages", json=body).status_code == 200
        refused = client.post("/api/v1/messages", json={"template": 99})
        assert refused.status_code == 400
        assert client.get("/api/v1/inbox").status_code == 200
        rows = _audit(state.node)
    by_officer = [
        detail for actor, action, detail in rows if (actor, action) == ("ivanova", "send")
    ]
    assert by_officer == ["POST /api/v1/messages"] * (sends + 1)  # the refused one too
    messages = [detail for actor, action, detail in rows if (actor, action) == ("russia", "send")]
    assert len(messages) == sends
    assert ("ivanova", "read-inbox", "GET /api/v1/inbox") in rows


def test_a_callers_audit_row_commits_with_the_send_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from parley.hotline import escalation

    nato, russia = init_node(tmp_path / "nato", "nato"), init_node(tmp_path / "russia", "russia")
    nato.close()
    russia.trust(nato.identity_json(), "http://nato.invalid")
    row = ("ivanova", "send", "POST /api/v1/messages")
    russia.send(6, {"sequence": "1"}, audit=row)
    assert _audit(russia).count(row) == 1

    def broken(*_: object) -> int:
        raise RuntimeError("disk gone")

    monkeypatch.setattr(escalation, "schedule_many", broken)
    with pytest.raises(RuntimeError, match="disk gone"):
        russia.send(6, {"sequence": "2"}, audit=row)
    assert _audit(russia).count(row) == 1  # rolled back with the message
    assert len(russia.log().own) == 2  # the catalogue and the first message
    russia.close()
