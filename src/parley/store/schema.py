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
  at ``due_at`` (null until the track's start is known), claimed once by setting ``fired_at``;
* ``joint_checkpoints``: both logs' heads in one note signed by both parties (see
  :mod:`parley.hotline.joint`);
* ``incidents``, ``incident_history``, ``incident_accounts``, ``incident_encounters``,
  ``incident_positions``, ``incident_messages``: the incident registry (see
  :mod:`parley.incidents`);
* ``activities``: notified military activities, ours and the peer's, with the declared and the
  observed forces side by side (see :mod:`parley.activities`).

The schema is created and upgraded by Alembic migrations (:mod:`parley.store.migrate`): a table
or column added here needs a new revision in ``parley/store/migrations/versions/``.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Float,
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

#: The forces of an activity, each a ``declared_…`` and an ``observed_…`` column of ``activities``.
ACTIVITY_FORCES = (
    "troops",
    "battle_tanks",
    "armoured_combat_vehicles",
    "artillery_pieces",
    "aircraft_sorties",
    "ships",
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

#: Joint checkpoints: both logs' heads (in origin order) in one note signed by both parties.
joint_checkpoints = Table(
    "joint_checkpoints",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("first_log", String(120), nullable=False),
    Column("first_size", BigInteger, nullable=False),
    Column("second_log", String(120), nullable=False),
    Column("second_size", BigInteger, nullable=False),
    Column("note", Text, nullable=False),
    Column("stored_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("first_log", "first_size", "second_log", "second_size"),
)


#: The incident registry (:mod:`parley.incidents`): one row per incident, with the class the rules
#: gave, where and when, its state and how the hotline exchange about it stands.
incidents = Table(
    "incidents",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("origin", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("track_a", String(64), nullable=False),
    Column("track_b", String(64), nullable=False),
    Column("our_track", String(64), nullable=False),
    Column("their_track", String(64), nullable=False),
    Column("start", DateTime(timezone=True), nullable=False),
    Column("end", DateTime(timezone=True), nullable=False),
    Column("cpa_time", DateTime(timezone=True), nullable=False),
    Column("lat", Float),
    Column("lon", Float),
    Column("min_slant_m", Float),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("opened_by", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("notified_by", String(64)),
    Column("notification_msg_id", String(26)),
    Column("peer_incident_id", String(64), index=True),
    Column("summary", Text, nullable=False),
)

#: Every change of an incident: who, when, what, the state before and after.
incident_history = Table(
    "incident_history",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", String(64), ForeignKey("incidents.id"), nullable=False, index=True),
    Column("time", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("from_state", String(16)),
    Column("to_state", String(16), nullable=False),
    Column("detail", Text, nullable=False),
    Column("msg_id", String(26)),
)

#: Each party's accounts of an incident (``side`` ours or theirs), the latest of each in force.
incident_accounts = Table(
    "incident_accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", String(64), ForeignKey("incidents.id"), nullable=False, index=True),
    Column("side", String(8), nullable=False),
    Column("party", String(64), nullable=False),
    Column("classification", String(16)),
    Column("nature", String(32)),
    Column("text", Text, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("recorded_by", String(64), nullable=False),
    Column("msg_id", String(26)),
)

#: The encounters of an incident, each as its JSON contract v1 record (canonical JSON text).
incident_encounters = Table(
    "incident_encounters",
    metadata,
    Column("encounter_id", String(64), primary_key=True),
    Column("incident_id", String(64), ForeignKey("incidents.id"), nullable=False, index=True),
    Column("severity", String(16), nullable=False),
    Column("record", Text, nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
)

#: Both tracks' reported positions over the incident's episodes: the evidence a map is drawn from.
incident_positions = Table(
    "incident_positions",
    metadata,
    Column("incident_id", String(64), ForeignKey("incidents.id"), primary_key=True),
    Column("track", String(64), primary_key=True),
    Column("time", DateTime(timezone=True), primary_key=True),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("alt_m", Float),
    Column("speed_mps", Float),
    Column("course_deg", Float),
)

#: The hotline messages attached to incidents, each message once (what the registry has applied).
incident_messages = Table(
    "incident_messages",
    metadata,
    Column("msg_id", String(26), primary_key=True),
    Column("incident_id", String(64), ForeignKey("incidents.id"), nullable=False, index=True),
    Column("direction", String(8), nullable=False),
    Column("role", String(16), nullable=False),
    Column("linked_at", DateTime(timezone=True), nullable=False),
)

#: Military activities (:mod:`parley.activities`): ours and the peer's (``origin``), each with its
#: area (GeoJSON), window, declared and observed forces, and the hotline message that notified it.
activities = Table(
    "activities",
    metadata,
    Column("origin", String(8), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("party", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("notice", String(16), nullable=False),
    Column("area", Text, nullable=False),
    Column("start_at", DateTime(timezone=True), nullable=False),
    Column("end_at", DateTime(timezone=True), nullable=False),
    *(Column(f"declared_{name}", Integer) for name in ACTIVITY_FORCES),
    *(Column(f"observed_{name}", Integer) for name in ACTIVITY_FORCES),
    Column("notified_at", DateTime(timezone=True)),
    Column("msg_id", String(26), index=True),
    Column("observed_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
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
    "ACTIVITY_FORCES",
    "SchemaVersionError",
    "activities",
    "audit",
    "check_schema",
    "checkpoints",
    "cosignatures",
    "create_schema",
    "entries",
    "equivocations",
    "escalation_policies",
    "escalation_steps",
    "incident_accounts",
    "incident_encounters",
    "incident_history",
    "incident_messages",
    "incident_positions",
    "incidents",
    "joint_checkpoints",
    "logs",
    "metadata",
    "outbox",
    "sessions",
    "users",
]
