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
* ``audit``: who did what, when.

The schema is created with :func:`create_schema`; its version is in ``schema_version``.
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
    insert,
    select,
)
from sqlalchemy.exc import DBAPIError

from parley.errors import ParleyError

SCHEMA_VERSION = 1

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
)

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


class SchemaVersionError(ParleyError):
    """The database was made by another version of Parley's schema."""


def create_schema(connection: Connection) -> None:
    """Create every table (if missing) and record the schema version."""
    metadata.create_all(connection)
    found = connection.execute(select(schema_version.c.version)).scalars().all()
    if not found:
        connection.execute(insert(schema_version).values(version=SCHEMA_VERSION))


def check_schema(connection: Connection) -> None:
    """Raise :class:`SchemaVersionError` unless the database holds this schema version."""
    try:
        found = connection.execute(select(schema_version.c.version)).scalars().all()
    except DBAPIError as exc:  # a file that is not a node database at all
        raise SchemaVersionError("not a Parley node database (no schema_version table)") from exc
    if found != [SCHEMA_VERSION]:
        raise SchemaVersionError(
            f"database schema version {found}, this Parley needs {SCHEMA_VERSION}"
        )


__all__ = [
    "SCHEMA_VERSION",
    "SchemaVersionError",
    "audit",
    "check_schema",
    "checkpoints",
    "cosignatures",
    "create_schema",
    "entries",
    "equivocations",
    "logs",
    "metadata",
    "outbox",
    "schema_version",
]
