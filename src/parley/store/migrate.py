"""The node database's schema, created and upgraded by Alembic migrations, run from code.

The scripts are package data in :mod:`parley.store.migrations` (``versions/r0001_baseline.py``
onwards); no ``alembic.ini`` is read. A database's revision is Alembic's ``alembic_version``
table, which replaced the earlier ``schema_version`` table: one record of the version, kept by the
tool that changes it. Upgrades run inside one write transaction (both SQLite and PostgreSQL have
transactional DDL), so a failed upgrade leaves the database as it was and two processes opening the
same database upgrade it once.

To add a revision: change :mod:`parley.store.schema`, then add ``versions/rNNNN_<what>.py`` with
``down_revision`` the previous head; the contract tests fail while the migrated schema and the
tables in ``schema.py`` differ.
"""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect

from parley.store.engine import write
from parley.store.schema import SchemaVersionError

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection) -> Config:
    """Alembic's configuration, in code, running on ``connection``."""
    config = Config()
    # A ConfigParser value: a literal % in the path must be doubled.
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The revision this Parley's schema is at."""
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    if head is None:  # pragma: no cover - the package always ships its revisions
        raise SchemaVersionError(f"{MIGRATIONS}: no migration scripts")
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at, or None when it has none."""
    heads = MigrationContext.configure(connection).get_current_heads()
    return heads[0] if len(heads) == 1 else None if not heads else ",".join(sorted(heads))


def upgrade_to_head(target: Engine | Connection, *, create: bool = True) -> None:
    """Bring the database to :func:`head_revision`: create the schema, or run newer revisions.

    With ``create=False`` a database without a revision is refused instead of created (opening an
    existing node must not turn some other database into an empty node).
    """
    if isinstance(target, Connection):
        _upgrade(target, create)
        return
    with write(target) as connection:
        _upgrade(connection, create)


def check_schema(connection: Connection) -> None:
    """Raise :class:`SchemaVersionError` unless the database is at :func:`head_revision`."""
    found = _known_revision(connection)
    if found is None:
        raise SchemaVersionError("not a Parley node database (no alembic_version table)")
    if found != head_revision():
        raise SchemaVersionError(
            f"database schema revision {found}, this Parley needs {head_revision()} "
            "(opening the node upgrades it)"
        )


def _upgrade(connection: Connection, create: bool) -> None:
    found = _known_revision(connection)
    if found is None:
        tables = inspect(connection).get_table_names()
        if not create:
            raise SchemaVersionError("not a Parley node database (no alembic_version table)")
        if tables:
            raise SchemaVersionError(
                f"the database holds tables ({', '.join(sorted(tables)[:5])}) but no Parley "
                "schema revision: not a node database, or one made before migrations"
            )
    if found != head_revision():
        command.upgrade(alembic_config(connection), "head")


def _known_revision(connection: Connection) -> str | None:
    """The database's revision, refused when this Parley does not know it (a newer schema)."""
    found = current_revision(connection)
    if found is None:
        return None
    script = ScriptDirectory(str(MIGRATIONS))
    known = {revision.revision for revision in script.walk_revisions()}
    if found not in known:
        raise SchemaVersionError(
            f"database schema revision {found} is unknown to this Parley (made by a newer "
            f"version; this one knows up to {head_revision()})"
        )
    return found


__all__ = [
    "MIGRATIONS",
    "SchemaVersionError",
    "alembic_config",
    "check_schema",
    "current_revision",
    "head_revision",
    "upgrade_to_head",
]
