"""The store: SQLite opened durably, one transaction per write, failures not retried."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

from parley.store import schema
from parley.store.engine import StorageError, database_url, open_engine, read, write
from parley.store.migrate import current_revision, head_revision
from parley.store.schema import SchemaVersionError, check_schema, create_schema


def test_a_path_becomes_a_sqlite_url_and_a_url_stays(tmp_path: Path) -> None:
    assert database_url(tmp_path / "n.db") == f"sqlite:///{tmp_path / 'n.db'}"
    url = "postgresql+psycopg://u@localhost/parley"
    assert database_url(url) == url


def test_sqlite_is_durable_on_every_connection(tmp_path: Path) -> None:
    engine = open_engine(tmp_path / "n.db")
    for _ in range(2):  # a fresh connection each time
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        engine.dispose()


def test_schema_is_created_once_at_the_head_revision(tmp_path: Path) -> None:
    engine = open_engine(tmp_path / "n.db")
    with write(engine) as connection:
        create_schema(connection)
    with write(engine) as connection:
        create_schema(connection)  # idempotent
    with read(engine) as connection:
        check_schema(connection)
        assert current_revision(connection) == head_revision()
        revisions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    assert len(revisions) == 1
    engine.dispose()


def test_a_revision_this_parley_does_not_know_is_refused(tmp_path: Path) -> None:
    engine = open_engine(tmp_path / "n.db")
    with write(engine) as connection:
        create_schema(connection)
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with read(engine) as connection, pytest.raises(SchemaVersionError, match="9999 is unknown"):
        check_schema(connection)
    engine.dispose()


def test_a_file_that_is_no_node_database_is_refused(tmp_path: Path) -> None:
    engine = open_engine(tmp_path / "other.db")
    with read(engine) as connection, pytest.raises(SchemaVersionError, match="not a Parley"):
        check_schema(connection)
    engine.dispose()


def test_a_failed_write_leaves_nothing(tmp_path: Path) -> None:
    engine = open_engine(tmp_path / "n.db")
    with write(engine) as connection:
        create_schema(connection)
    audit = schema.audit
    row = {"time": datetime.now(UTC), "actor": "a", "action": "x", "detail": ""}

    def insert_then_fail() -> None:
        with write(engine) as connection:
            connection.execute(insert(audit).values(**row))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        insert_then_fail()
    with read(engine) as connection:
        assert connection.execute(select(audit)).all() == []
    engine.dispose()


def test_a_database_error_is_a_storage_error_not_a_retry(tmp_path: Path) -> None:
    engine = open_engine(tmp_path / "n.db")
    expected = "not retried.*no such table: nowhere"
    with pytest.raises(StorageError, match=expected), write(engine) as connection:
        connection.execute(text("INSERT INTO nowhere VALUES (1)"))
    engine.dispose()


def test_foreign_keys_are_enforced(tmp_path: Path) -> None:
    engine = open_engine(tmp_path / "n.db")
    with write(engine) as connection:
        create_schema(connection)
    with pytest.raises(IntegrityError), write(engine) as connection:
        connection.execute(insert(schema.outbox).values(log_id="nope", seq=0))
    engine.dispose()


def test_a_read_neither_waits_for_nor_blocks_a_writer(tmp_path: Path) -> None:
    import threading
    import time

    engine = open_engine(tmp_path / "n.db")
    with write(engine) as connection:
        connection.exec_driver_sql("CREATE TABLE notes (n INTEGER)")
        connection.exec_driver_sql("INSERT INTO notes VALUES (1)")
    writing, done = threading.Event(), threading.Event()

    def long_write() -> None:
        with write(engine) as connection:
            connection.exec_driver_sql("INSERT INTO notes VALUES (2)")
            writing.set()
            done.wait(10)

    writer = threading.Thread(target=long_write)
    writer.start()
    try:
        assert writing.wait(10)
        started = time.monotonic()
        with read(engine) as connection:  # the writer holds the lock, uncommitted
            seen = connection.exec_driver_sql("SELECT n FROM notes ORDER BY n").scalars().all()
        waited = time.monotonic() - started
    finally:
        done.set()
        writer.join(10)
    assert seen == [1]  # the snapshot before the uncommitted write
    assert waited < 5  # not the 30 s busy wait of a reader taking the write lock
    with read(engine) as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM notes").scalar() == 2


def test_connections_are_kept_open_for_a_servers_threads(tmp_path: Path) -> None:
    """Twelve threads reading and writing at once open about one connection each, once: with
    SQLAlchemy's default pool (5 kept) most uses paid for a new connection and its pragmas."""
    import threading

    from sqlalchemy import event

    from parley.store.engine import SQLITE_POOL_SIZE

    engine = open_engine(tmp_path / "node.db")
    opened: list[object] = []
    event.listen(engine, "connect", lambda *_: opened.append(None))
    with write(engine) as connection:
        create_schema(connection)
    barrier = threading.Barrier(12)

    def worker() -> None:
        barrier.wait()
        for _ in range(20):
            with read(engine) as connection:
                connection.execute(text("SELECT count(*) FROM audit")).scalar_one()

    try:
        threads = [threading.Thread(target=worker) for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(opened) <= 13  # the schema's connection and at most one per thread
        assert engine.pool.size() == SQLITE_POOL_SIZE  # type: ignore[attr-defined]
    finally:
        engine.dispose()
