"""Who may do what on a node: users with one role each, sessions, and the audit of every action.

Passwords are hashed with Argon2id (argon2-cffi's defaults) and never stored or logged in clear.
A session is a random token handed to the user once; the node keeps only its SHA-256, and the
session ends at sign-out, after :attr:`SessionSettings.lifetime_s`, or when unused for
:attr:`SessionSettings.idle_s`. A session's ``last_seen_at`` is written at most once every
:data:`TOUCH_INTERVAL_S` (60 s), not on every request (a write transaction each): the idle timeout
is therefore accurate to one minute (a session used without pause may end up to 60 s before
``idle_s`` has passed since its last request), while both expiry checks stay exact against what is
stored. Every sign-in (accepted or refused) and every action goes to the node's ``audit`` table
(an action that writes, such as a send, writes its audit row in its own transaction).
:data:`PERMISSIONS` is the one place that says which role may do what.
"""

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, insert, select, update

from parley.errors import InputError
from parley.hotline import records
from parley.hotline.errors import HotlineError
from parley.store import schema
from parley.store.engine import read, write

Clock = Callable[[], datetime]

#: The shortest password a user may be given.
MIN_PASSWORD_LENGTH = 12
#: A session's ``last_seen_at`` is rewritten only when it is at least this old.
TOUCH_INTERVAL_S = 60.0


class Role(StrEnum):
    DUTY_OFFICER = "duty-officer"
    SENIOR_OFFICER = "senior-officer"
    POLITICAL_LIAISON = "political-liaison"
    TRANSLATOR = "translator"
    COMMUNICATIONS_TECHNICIAN = "communications-technician"
    AUDITOR = "auditor"
    ADMINISTRATOR = "administrator"


class Action(StrEnum):
    SEND = "send"
    ACK = "ack"
    READ_INBOX = "read-inbox"
    READ_LOG = "read-log"
    VERIFY = "verify"
    READ_IDENTITY = "read-identity"
    READ_STATUS = "read-status"
    MANAGE_USERS = "manage-users"
    READ_AUDIT = "read-audit"
    SIGN_OUT = "sign-out"
    READ_EVENTS = "read-events"
    READ_INCIDENTS = "read-incidents"
    MANAGE_INCIDENTS = "manage-incidents"
    READ_PICTURE = "read-picture"
    FEED_POSITIONS = "feed-positions"


_EVERYONE = frozenset({Action.READ_IDENTITY, Action.SIGN_OUT})
_READ_MESSAGES = frozenset(
    {Action.READ_INBOX, Action.READ_LOG, Action.READ_EVENTS, Action.READ_INCIDENTS}
    | {Action.READ_PICTURE}
)
_OFFICER = _EVERYONE | _READ_MESSAGES | {Action.SEND, Action.ACK, Action.VERIFY, Action.READ_STATUS}
_OFFICER |= {Action.MANAGE_INCIDENTS}

#: Which role may do which action: the only place this is decided.
PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.DUTY_OFFICER: _OFFICER,
    Role.SENIOR_OFFICER: _OFFICER | {Action.READ_AUDIT},
    Role.POLITICAL_LIAISON: _EVERYONE | _READ_MESSAGES,
    Role.TRANSLATOR: _EVERYONE | _READ_MESSAGES,
    Role.COMMUNICATIONS_TECHNICIAN: _EVERYONE
    | {Action.READ_STATUS, Action.VERIFY, Action.READ_EVENTS}
    | {Action.READ_PICTURE, Action.FEED_POSITIONS},
    Role.AUDITOR: _EVERYONE | _READ_MESSAGES | {Action.VERIFY, Action.READ_AUDIT},
    Role.ADMINISTRATOR: _EVERYONE
    | {Action.MANAGE_USERS, Action.READ_AUDIT, Action.READ_STATUS}
    | {Action.FEED_POSITIONS},
}


def may(role: Role, action: Action) -> bool:
    return action in PERMISSIONS[role]


class AuthError(HotlineError):
    """A sign-in or session the node refuses (unknown user, wrong password, expired…)."""


@dataclass(frozen=True, slots=True)
class SessionSettings:
    """How long a session lives at most, and how long it may stay unused."""

    lifetime_s: float = 8 * 3600.0
    idle_s: float = 30 * 60.0


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: Role
    disabled: bool
    created_at: datetime

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "role": str(self.role),
            "disabled": self.disabled,
            "created_at": self.created_at.isoformat(),
        }


def parse_role(text: str) -> Role:
    """A role from its name (``duty-officer``; spaces and underscores are accepted)."""
    normal = text.strip().lower().replace(" ", "-").replace("_", "-")
    try:
        return Role(normal)
    except ValueError:
        known = ", ".join(role.value for role in Role)
        raise InputError(f"unknown role {text!r} (roles: {known})") from None


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(f"password too weak: at least {MIN_PASSWORD_LENGTH} characters needed")


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class UserStore:
    """The users, sessions and audit rows of one node database."""

    def __init__(
        self, engine: Engine, clock: Clock, settings: SessionSettings | None = None
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.settings = settings or SessionSettings()
        self._hasher = PasswordHasher()
        self._decoy: str | None = None

    def add_user(self, name: str, role: Role, password: str, actor: str = "admin") -> User:
        name = name.strip()
        if not name or len(name) > 64:
            raise InputError(f"user name {name!r}: 1 to 64 characters")
        check_password(password)
        now = self.clock()
        with write(self.engine) as connection:
            if connection.execute(
                select(schema.users.c.name).where(schema.users.c.name == name)
            ).first():
                raise InputError(f"user {name!r} already exists")
            connection.execute(
                insert(schema.users).values(
                    name=name,
                    role=role.value,
                    password_hash=self._hasher.hash(password),
                    disabled=False,
                    created_at=now,
                )
            )
            records.add_audit(connection, now, actor, "user add", f"{name} as {role}")
        return User(name, role, False, now)

    def users(self) -> list[User]:
        table = schema.users
        with read(self.engine) as connection:
            rows = connection.execute(
                select(table.c.name, table.c.role, table.c.disabled, table.c.created_at).order_by(
                    table.c.name
                )
            ).all()
        return [User(name, Role(role), bool(off), created) for name, role, off, created in rows]

    def disable_user(self, name: str, actor: str = "admin") -> None:
        """Disable a user and end all of their sessions."""
        now = self.clock()
        with write(self.engine) as connection:
            done = connection.execute(
                update(schema.users).where(schema.users.c.name == name).values(disabled=True)
            )
            if done.rowcount == 0:
                raise InputError(f"no user {name!r}")
            connection.execute(
                update(schema.sessions)
                .where(schema.sessions.c.user_name == name, schema.sessions.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            records.add_audit(connection, now, actor, "user disable", name)

    def sign_in(self, name: str, password: str) -> tuple[str, User]:
        """A new session token for the user; refusals are audited and raise :class:`AuthError`."""
        now = self.clock()
        table = schema.users
        with read(self.engine) as connection:  # the slow hash check holds no write lock
            row = connection.execute(
                select(
                    table.c.role, table.c.password_hash, table.c.disabled, table.c.created_at
                ).where(table.c.name == name)
            ).first()
        stored = None if row is None else str(row.password_hash)
        reason = self._refusal(stored, password, disabled=row is not None and bool(row.disabled))
        token = secrets.token_urlsafe(32)
        with write(self.engine) as connection:
            if reason is not None:
                records.add_audit(connection, now, name[:64], "sign-in refused", reason)
            else:
                connection.execute(
                    insert(schema.sessions).values(
                        token_sha256=token_digest(token),
                        user_name=name,
                        created_at=now,
                        last_seen_at=now,
                        expires_at=now + timedelta(seconds=self.settings.lifetime_s),
                    )
                )
                records.add_audit(connection, now, name, "sign-in", "session opened")
        if reason is not None or row is None:
            raise AuthError("sign-in refused: unknown user, wrong password or disabled user")
        return token, User(name, Role(row.role), False, row.created_at)

    def _refusal(self, stored: str | None, password: str, *, disabled: bool) -> str | None:
        # an unknown name costs a hash check too, so timing does not tell which names exist
        try:
            self._hasher.verify(stored or self._decoy_hash(), password)
        except (VerificationError, InvalidHashError):
            return "unknown user" if stored is None else "wrong password"
        if stored is None:
            return "unknown user"
        return "user disabled" if disabled else None

    def _decoy_hash(self) -> str:
        if self._decoy is None:
            self._decoy = self._hasher.hash(secrets.token_urlsafe(16))
        return self._decoy

    def authenticate(self, token: str) -> User:
        """The user of a live session (its idle timer restarts); raises :class:`AuthError`.

        A read, plus a write only when ``last_seen_at`` is :data:`TOUCH_INTERVAL_S` old."""
        now = self.clock()
        sessions, users = schema.sessions, schema.users
        digest = token_digest(token)
        with read(self.engine) as connection:
            row = connection.execute(
                select(
                    sessions.c.last_seen_at,
                    sessions.c.expires_at,
                    sessions.c.revoked_at,
                    users.c.name,
                    users.c.role,
                    users.c.disabled,
                    users.c.created_at,
                )
                .join(users, users.c.name == sessions.c.user_name)
                .where(sessions.c.token_sha256 == digest)
            ).first()
        if row is None or row.revoked_at is not None or row.disabled:
            raise AuthError("no valid session: sign in")
        last_seen = _aware(row.last_seen_at)
        idle_until = last_seen + timedelta(seconds=self.settings.idle_s)
        if now >= _aware(row.expires_at) or now >= idle_until:
            raise AuthError("session expired: sign in again")
        if now - last_seen >= timedelta(seconds=TOUCH_INTERVAL_S):
            self._touch(digest, now)
        return User(row.name, Role(row.role), False, row.created_at)

    def _touch(self, digest: str, now: datetime) -> None:
        """Restart the idle timer, unless the session ended meanwhile (sign-out, disable)."""
        sessions = schema.sessions
        with write(self.engine) as connection:
            done = connection.execute(
                update(sessions)
                .where(sessions.c.token_sha256 == digest, sessions.c.revoked_at.is_(None))
                .values(last_seen_at=now)
            )
        if done.rowcount == 0:
            raise AuthError("no valid session: sign in")

    def sign_out(self, token: str, actor: str) -> None:
        now = self.clock()
        with write(self.engine) as connection:
            connection.execute(
                update(schema.sessions)
                .where(schema.sessions.c.token_sha256 == token_digest(token))
                .values(revoked_at=now)
            )
            records.add_audit(connection, now, actor, "sign-out", "session closed")

    def audit(self, actor: str, action: str, detail: str) -> None:
        with write(self.engine) as connection:
            records.add_audit(connection, self.clock(), actor, action, detail)

    def audit_log(self) -> list[dict[str, str]]:
        table = schema.audit
        with read(self.engine) as connection:
            rows = connection.execute(
                select(table.c.time, table.c.actor, table.c.action, table.c.detail).order_by(
                    table.c.id
                )
            ).all()
        return [
            {"time": _aware(time).isoformat(), "actor": actor, "action": action, "detail": detail}
            for time, actor, action, detail in rows
        ]


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; the node stores UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


__all__ = [
    "MIN_PASSWORD_LENGTH",
    "PERMISSIONS",
    "TOUCH_INTERVAL_S",
    "Action",
    "AuthError",
    "Role",
    "SessionSettings",
    "User",
    "UserStore",
    "check_password",
    "may",
    "parse_role",
    "token_digest",
]
