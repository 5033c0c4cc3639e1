"""The tables of a hotline node, in SQLAlchemy Core (portable to SQLite and PostgreSQL).

* ``logs``: the two logs a node holds, its own (``role = 'own'``) and the peer's (``'peer'``),
  with the owner's public key and whether the log is frozen by equivocation;
* ``entries``: every entry of both logs as the exact bytes signed (own) or received (peer), with
  columns extracted for queries; the raw bytes are the truth, ``verify`` checks the rest against
  them. Acknowledgement and answer states are derived from ``in_reply_to`` here;
* ``checkpoints``: signed checkpoints (notes) of both logs, one per size;
* ``cosignatures``: cosignature notes over a checkpoint of ``log_id`` made by ``cosigner``: the
  peer's over ours are our delivery receipts, ours over the peer's travel back as its receipts;
* ``equivocations``: evidence, both raw entries;
* ``outbox``: own entries not yet covered by a receipt;
* ``audit``: who did what, when;
* ``users`` and ``sessions``: who may sign in, with which role (Argon2id password hashes), and
  the SHA-256 of each session token with its expiry (see :mod:`parley.hotline.users`);
* ``escalation_policies``: the escalation policy copied onto each own message when it was sent
  (and onto each peer message when escalation first saw it);
* ``escalation_steps``: its timers, one row per notification step (track, level, attempt), due
  at ``due_at`` (null until the track's start is known), claimed once by setting ``fired_at``.

The schema is created and upgraded by Alembic migrations (:mod:`parley.store.migrate`): a table
or column added here needs a new revision in ``parley/store/migrations/versions/``.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from parley.errors import ParleyError

metadata = MetaData()

logs = Table(
    "logs",
    metadata,
    Column("id", String(120), primary_key=True),
    Column("party", String(64), nullable=False),
    Column("public_key", LargeBinary, nullable=False),
    Column("role", String(8), nullable=False),
    Column("frozen", Boolean, nullable=False, default=False),
)

entries = Table(
    "entries",
    metadata,
    Column("log_id", String(120), ForeignKey("logs.id"), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("raw", LargeBinary, nullable=False),
    Column("entry_hash", String(64), nullable=False),
    Column("msg_id", String(26), nullable=False, unique=True),
    Column("type", String(20), nullable=False),
    Column("template", Integer),
    Column("in_reply_to", String(26), index=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("log_id", String(120), ForeignKey("logs.id"), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("root", String(64), nullable=False),
    Column("note", Text, nullable=False),
    Column("stored_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("log_id", "size"),
)

cosignatures = Table(
    "cosignatures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("log_id", String(120), ForeignKey("logs.id"), nullable=False),
    Column("cosigner", String(120), ForeignKey("logs.id"), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("note", Text, nullable=False),
    Column("cosigned_at", BigInteger, nullable=False),
    Column("stored_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("log_id", "cosigner", "size"),
)

equivocations = Table(
    "equivocations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("log_id", String(120), ForeignKey("logs.id"), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("held", LargeBinary, nullable=False),
    Column("offered", LargeBinary, nullable=False),
    Column("detected_at", DateTime(timezone=True), nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("log_id", String(120), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    ForeignKeyConstraint(["log_id", "seq"], ["entries.log_id", "entries.seq"]),
)

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("time", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("detail", Text, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(32), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("user_name", String(64), ForeignKey("users.name"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

escalation_policies = Table(
    "escalation_policies",
    metadata,
    Column("msg_id", String(26), primary_key=True),
    Column("log_id", String(120), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("policy", Text, nullable=False),
)

escalation_steps = Table(
    "escalation_steps",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("msg_id", String(26), ForeignKey("escalation_policies.msg_id"), nullable=False),
    Column("track", String(16), nullable=False),
    Column("level", String(32), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("offset_s", BigInteger, nullable=False),
    Column("due_at", DateTime(timezone=True), index=True),
    Column("fired_at", DateTime(timezone=True)),
    Column("cancelled_at", DateTime(timezone=True)),
    Column("outcome", String(32)),
    UniqueConstraint("msg_id", "track", "level", "attempt"),
)


class SchemaVersionError(ParleyError):
    """The database is not a node database, or was made by a newer version of Parley."""


def create_schema(connection: Connection) -> None:
    """Create the schema, or upgrade it to this Parley's revision (see :mod:`.migrate`)."""
    from parley.store.migrate import upgrade_to_head  # migrate imports this module

    upgrade_to_head(connection)


def check_schema(connection: Connection) -> None:
    """Raise :class:`SchemaVersionError` unless the database is at this Parley's revision."""
    from parley.store.migrate import check_schema as check_revision

    check_revision(connection)


__all__ = [
    "SchemaVersionError",
    "audit",
    "check_schema",
    "checkpoints",
    "cosignatures",
    "create_schema",
    "entries",
    "equivocations",
    "escalation_policies",
    "escalation_steps",
    "logs",
    "metadata",
    "outbox",
    "sessions",
    "users",
]
