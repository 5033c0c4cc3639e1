"""Opening the node's database, and the one way to write to it.

SQLite is the default (a file path becomes ``sqlite:///<path>``); any SQLAlchemy URL, such as
``postgresql+psycopg://…``, goes through the same code, which uses only portable Core constructs.

On SQLite every connection is set up by an event listener: write-ahead logging, ``synchronous=FULL``
(a commit is on disk before it returns) and foreign keys on. The driver's own implicit transaction
handling is switched off and every write transaction starts with ``BEGIN IMMEDIATE``, so it takes
the write lock before it reads the state it will extend (the next seq of a log). A read
(:func:`read`) starts with a plain ``BEGIN``: under write-ahead logging it reads one snapshot and
neither waits for nor holds the write lock, so session checks, the outbox and the event watcher
never queue behind a send (and a long write never makes a reader fail with "database is locked").

On PostgreSQL (``postgresql+psycopg://…``) no pragma applies: commits are durable by the server's
default, made explicit per session (``synchronous_commit=on``), and writes run at READ COMMITTED.
:func:`write` first takes a transaction-level advisory lock (``pg_advisory_xact_lock``), so writes
are serialised exactly as SQLite's ``BEGIN IMMEDIATE`` serialises them: a writer waits for the one
before it to commit, and every statement after the lock (READ COMMITTED takes a fresh snapshot per
statement) sees that commit, so two writers never compute the same next seq. REPEATABLE READ would
be wrong here: its snapshot is taken by the lock statement itself, before the wait ends. One lock
for all writes rather than ``SELECT … FOR UPDATE`` on a log row covers every write path (sending,
importing, replication, escalation timers) without each remembering to lock; a hotline's write
rate is far below what one lock allows. Reads run at REPEATABLE READ: one snapshot per block.

Every write is one transaction (:func:`write`). A database error during it is not retried: it
raises :class:`StorageError` and the process is expected to stop, so that a supervisor restarts it
and recovery runs (retrying after a failed fsync can report lost data as written).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from parley.errors import ParleyError

#: Seconds a connection waits for another writer's lock before failing.
BUSY_TIMEOUT_S = 30

#: SQLite connections kept open between uses. A server runs up to 40 request threads beside
#: replication and the timers; with SQLAlchemy's default (5, the rest opened and closed again)
#: most requests under load paid for a new connection: opening the file, the pragmas below and
#: reading the schema again. Idle pooled connections hold no transaction (nor any lock).
SQLITE_POOL_SIZE = 24

#: The execution option that marks a connection opened by :func:`read` (begins without the lock).
_READ_ONLY = "parley_read_only"

#: The key of PostgreSQL's advisory lock that every write transaction holds ("parley-w").
WRITE_LOCK_KEY = 0x7061726C65792D77


class StorageError(ParleyError):
    """The database failed (I/O error, disk full, locked, corrupt); the write was not retried."""


def database_url(url_or_path: str | Path) -> str:
    """A SQLAlchemy URL: given as is when it has a scheme, else a SQLite file path."""
    text = str(url_or_path)
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def open_engine(url_or_path: str | Path) -> Engine:
    """An engine on the database, with SQLite's durability settings when it is SQLite."""
    url = database_url(url_or_path)
    if url.startswith("sqlite"):
        in_memory = make_url(url).database in (None, "", ":memory:")  # SQLAlchemy picks its pool
        pooled = (
            {} if in_memory else {"pool_size": SQLITE_POOL_SIZE, "max_overflow": SQLITE_POOL_SIZE}
        )
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S}, **pooled)
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_immediate)
        return engine
    if url.startswith("postgresql"):
        settings = f"-c synchronous_commit=on -c lock_timeout={BUSY_TIMEOUT_S * 1000}"
        return create_engine(
            url, isolation_level="READ COMMITTED", connect_args={"options": settings}
        )
    return create_engine(url)


@contextmanager
def write(engine: Engine) -> Iterator[Connection]:
    """One transaction: committed when the block ends, rolled back if it raises.

    Database failures become :class:`StorageError`; integrity errors (a constraint the caller
    should have checked) and every other exception propagate unchanged after the rollback.
    """
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY}
                )
            yield connection
    except IntegrityError:
        raise
    except DBAPIError as exc:
        raise StorageError(
            f"database write failed and was not retried ({_first_line(exc.orig)}); "
            "stop the node and let it restart"
        ) from exc


@contextmanager
def read(engine: Engine) -> Iterator[Connection]:
    """A connection for reading (one consistent snapshot while the block runs)."""
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execution_options(isolation_level="REPEATABLE READ")
            else:
                connection.execution_options(**{_READ_ONLY: True})
            yield connection
    except DBAPIError as exc:
        raise StorageError(f"database read failed ({_first_line(exc.orig)})") from exc


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN instead of the driver's implicit transactions.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _begin_immediate(connection: Connection) -> None:
    reading = connection.get_execution_options().get(_READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


def _first_line(error: object) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


__all__ = [
    "BUSY_TIMEOUT_S",
    "SQLITE_POOL_SIZE",
    "WRITE_LOCK_KEY",
    "StorageError",
    "database_url",
    "open_engine",
    "read",
    "write",
]
