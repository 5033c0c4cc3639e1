"""The store's contract, run on every engine: SQLite and PostgreSQL through the same code.

Each test gets an empty database of its engine (``conftest.py``); the PostgreSQL cases need a
server (``make test`` starts one) and fail without it when ``PARLEY_REQUIRE_POSTGRES=1``.
"""

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, func, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

from parley.hotline import records
from parley.hotline.node import Node, init_node, load_node
from parley.store import schema
from parley.store.engine import read, write
from parley.store.migrate import (
    alembic_config,
    check_schema,
    current_revision,
    head_revision,
    upgrade_to_head,
)
from parley.store.schema import SchemaVersionError

#: The ``make_database`` fixture: an empty database of the named engine, its URL or file path.
MakeDatabase = Callable[[str], str]
NOW = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
LOG = "parley/nato/0123456789abcdef"
OTHER_LOG = "parley/russia/fedcba9876543210"
#: Every byte value, then the bytes that break text handling: NUL and 0xff runs, a lone CR.
AWKWARD_BYTES = bytes(range(256)) + b"\x00\x00\xff\xff\x00\r\xfe\xff"


def _with_logs(engine: Engine) -> None:
    upgrade_to_head(engine)
    with write(engine) as connection:
        for log_id, party in ((LOG, "nato"), (OTHER_LOG, "russia")):
            connection.execute(
                insert(schema.logs).values(
                    id=log_id, party=party, public_key=bytes(32), role="own", frozen=False
                )
            )


def _insert_entry(
    connection: Connection, seq: int, msg_id: str, raw: bytes = b"entry", log_id: str = LOG
) -> None:
    connection.execute(
        insert(schema.entries).values(
            log_id=log_id,
            seq=seq,
            raw=raw,
            entry_hash="0" * 64,
            msg_id=msg_id,
            type="message",
            template=6,
            in_reply_to=None,
            received_at=NOW,
        )
    )


def _msg_id(number: int) -> str:
    return f"01HX{number:022d}"


def _seqs(engine: Engine, log_id: str = LOG) -> list[int]:
    with read(engine) as connection:
        found = connection.execute(
            select(schema.entries.c.seq)
            .where(schema.entries.c.log_id == log_id)
            .order_by(schema.entries.c.seq)
        ).scalars()
        return [int(seq) for seq in found]


# --- the schema, made by the migrations ---------------------------------------------------------


def test_the_migrations_make_exactly_the_tables_of_schema_py(engine: Engine) -> None:
    upgrade_to_head(engine)
    with read(engine) as connection:
        tables = set(inspect(connection).get_table_names())
        differences = compare_metadata(MigrationContext.configure(connection), schema.metadata)
        assert current_revision(connection) == head_revision()
        check_schema(connection)
    assert tables == {*schema.metadata.tables, "alembic_version"}
    assert "entries" in tables
    # Empty unless a table or column was changed in schema.py without a migration revision.
    assert differences == []


def test_upgrading_twice_changes_nothing(engine: Engine) -> None:
    _with_logs(engine)
    upgrade_to_head(engine)
    upgrade_to_head(engine, create=False)
    with read(engine) as connection:
        assert records.log_exists(connection, LOG)
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1


def test_a_database_at_the_baseline_is_upgraded_keeping_its_rows(engine: Engine) -> None:
    with write(engine) as connection:
        command.upgrade(alembic_config(connection), "0001")
        assert current_revision(connection) == "0001"
        connection.execute(
            insert(schema.logs).values(
                id=LOG, party="nato", public_key=b"\x00\xff", role="own", frozen=False
            )
        )
        _insert_entry(connection, 0, _msg_id(0), raw=AWKWARD_BYTES)
    with read(engine) as connection:
        assert "entries" in inspect(connection).get_table_names()
        with pytest.raises(SchemaVersionError, match="revision 0001, this Parley needs"):
            check_schema(connection)
    upgrade_to_head(engine, create=False)
    with read(engine) as connection:
        check_schema(connection)
        assert set(inspect(connection).get_table_names()) >= set(schema.metadata.tables)
        assert records.raw_entries(connection, LOG) == [AWKWARD_BYTES]


def test_opening_an_empty_database_as_a_node_is_refused(engine: Engine) -> None:
    with pytest.raises(SchemaVersionError, match="not a Parley node database"):
        upgrade_to_head(engine, create=False)
    with read(engine) as connection:
        assert inspect(connection).get_table_names() == []


def test_a_database_with_other_tables_is_not_taken_over(engine: Engine) -> None:
    with write(engine) as connection:
        connection.execute(text("CREATE TABLE payroll (id INTEGER PRIMARY KEY)"))
    with pytest.raises(SchemaVersionError, match=r"holds tables \(payroll\)"):
        upgrade_to_head(engine)
    with read(engine) as connection:
        assert inspect(connection).get_table_names() == ["payroll"]


def test_a_newer_schema_revision_is_refused(engine: Engine) -> None:
    upgrade_to_head(engine)
    with write(engine) as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
    with pytest.raises(SchemaVersionError, match="f00d is unknown to this Parley"):
        upgrade_to_head(engine)


def test_commits_are_durable_and_writes_serialised(engine: Engine, engine_name: str) -> None:
    with write(engine) as connection:
        if engine_name == "sqlite":
            settings = [
                connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous")
            ]
            assert settings == ["wal", 2]  # 2: FULL
        else:
            settings = [
                connection.exec_driver_sql(f"SHOW {name}").scalar()
                for name in ("synchronous_commit", "fsync", "transaction_isolation")
            ]
            assert settings == ["on", "on", "read committed"]
            held = connection.exec_driver_sql(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND pid = pg_backend_pid()"
            ).scalar()
            assert held == 1  # the write lock


# --- transactions and constraints ---------------------------------------------------------------


def test_a_failure_mid_transaction_leaves_nothing(engine: Engine) -> None:
    _with_logs(engine)

    def write_two_then_fail() -> None:
        with write(engine) as connection:
            _insert_entry(connection, 0, _msg_id(0))
            records.add_to_outbox(connection, LOG, 0)
            raise RuntimeError("the signer failed")

    with pytest.raises(RuntimeError, match="signer"):
        write_two_then_fail()
    assert _seqs(engine) == []
    with read(engine) as connection:
        assert records.outbox_seqs(connection, LOG) == []


def test_a_constraint_failure_rolls_back_the_writes_before_it(engine: Engine) -> None:
    _with_logs(engine)

    def write_then_break_a_foreign_key() -> None:
        with write(engine) as connection:
            _insert_entry(connection, 0, _msg_id(0))
            records.add_audit(connection, NOW, "nato", "send", "seq 0")
            records.add_to_outbox(connection, LOG, 7)  # no entry 7: the foreign key refuses it

    with pytest.raises(IntegrityError):
        write_then_break_a_foreign_key()
    assert _seqs(engine) == []
    with read(engine) as connection:
        assert records.audit_rows(connection) == []


def test_one_log_cannot_hold_a_seq_twice(engine: Engine) -> None:
    _with_logs(engine)
    with write(engine) as connection:
        _insert_entry(connection, 0, _msg_id(0))
        _insert_entry(connection, 0, _msg_id(1), log_id=OTHER_LOG)  # the other log: allowed
    with pytest.raises(IntegrityError), write(engine) as connection:
        _insert_entry(connection, 0, _msg_id(2))
    assert _seqs(engine) == [0]
    assert _seqs(engine, OTHER_LOG) == [0]


def test_a_msg_id_is_stored_once_across_both_logs(engine: Engine) -> None:
    _with_logs(engine)
    with write(engine) as connection:
        _insert_entry(connection, 0, _msg_id(5))
    with pytest.raises(IntegrityError), write(engine) as connection:
        _insert_entry(connection, 0, _msg_id(5), log_id=OTHER_LOG)
    assert _seqs(engine, OTHER_LOG) == []


def test_raw_bytes_come_back_exactly(engine: Engine) -> None:
    _with_logs(engine)
    with write(engine) as connection:
        _insert_entry(connection, 0, _msg_id(0), raw=AWKWARD_BYTES)
        _insert_entry(connection, 1, _msg_id(1), raw=b"\x00")
        _insert_entry(connection, 2, _msg_id(2), raw=b"\xff" * 70_000)
    with read(engine) as connection:
        raws = records.raw_entries(connection, LOG)
        stored = records.stored_entries(connection, LOG)
    assert raws == [AWKWARD_BYTES, b"\x00", b"\xff" * 70_000]
    assert len(raws[0]) == 264
    assert [bytes(entry.raw) for entry in stored] == raws


# --- concurrency ---------------------------------------------------------------------------------


def _next_seq(connection: Connection) -> int:
    table = schema.entries
    found = connection.execute(
        select(func.max(table.c.seq)).where(table.c.log_id == LOG)
    ).scalar_one()
    return 0 if found is None else int(found) + 1


def _in_thread(work: Callable[[], None], errors: list[BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            work()
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_second_writer_waits_and_then_sees_the_first_ones_seq(engine: Engine) -> None:
    _with_logs(engine)
    first_has_read = threading.Event()
    taken: dict[str, int] = {}
    errors: list[BaseException] = []

    def first() -> None:
        with write(engine) as connection:
            taken["first"] = _next_seq(connection)
            first_has_read.set()
            time.sleep(0.3)  # the second writer starts while this transaction is open
            _insert_entry(connection, taken["first"], _msg_id(1))

    def second() -> None:
        with write(engine) as connection:
            taken["second"] = _next_seq(connection)
            _insert_entry(connection, taken["second"], _msg_id(2))

    threads = [_in_thread(first, errors)]
    assert first_has_read.wait(10)
    threads.append(_in_thread(second, errors))
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert taken == {"first": 0, "second": 1}
    assert _seqs(engine) == [0, 1]


def test_many_concurrent_writers_take_every_seq_once(engine: Engine) -> None:
    _with_logs(engine)
    errors: list[BaseException] = []

    def writer(number: int) -> Callable[[], None]:
        def work() -> None:
            for attempt in range(8):
                with write(engine) as connection:
                    _insert_entry(
                        connection, _next_seq(connection), _msg_id(number * 100 + attempt)
                    )

        return work

    threads = [_in_thread(writer(number), errors) for number in range(4)]
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert _seqs(engine) == list(range(32))


# --- the node on every engine -------------------------------------------------------------------


def _node(tmp_path: Path, make_database: MakeDatabase, engine_name: str, party: str) -> Node:
    if engine_name == "sqlite":  # the default: node.db in the directory
        return init_node(tmp_path / party, party)
    return init_node(tmp_path / party, party, database=make_database(engine_name))


@pytest.mark.parametrize(
    ("nato_engine", "russia_engine"),
    [
        ("sqlite", "sqlite"),
        ("sqlite", "postgres"),
        ("postgres", "sqlite"),
        ("postgres", "postgres"),
    ],
)
def test_two_nodes_on_any_engines_exchange_bundles_and_verify(
    tmp_path: Path, make_database: MakeDatabase, nato_engine: str, russia_engine: str
) -> None:
    nato = _node(tmp_path, make_database, nato_engine, "nato")
    russia = _node(tmp_path, make_database, russia_engine, "russia")
    with nato, russia:
        nato.trust(russia.identity_json(), "https://russia.example")
        russia.trust(nato.identity_json(), "https://nato.example")
        sent = [nato.send(6, {"sequence": str(number)}) for number in range(3)]
        nato.export_bundle(tmp_path / "1.bundle")
        russia.import_bundle(tmp_path / "1.bundle")
        assert [view.msg_id for view in russia.inbox()] == sent
        russia.ack(sent[0])
        russia.export_bundle(tmp_path / "2.bundle")
        nato.import_bundle(tmp_path / "2.bundle")
        assert nato.log().own[1].states == ("recorded", "delivered", "acknowledged")
        assert nato.outbox() == []
        assert nato.verify().ok, nato.verify().to_json()
        assert russia.verify().ok, russia.verify().to_json()
        with read(nato.engine) as mine, read(russia.engine) as theirs:
            for log_id in (nato.log_id, russia.log_id):  # identical copies of both logs
                assert records.raw_entries(mine, log_id) == records.raw_entries(theirs, log_id)
            assert records.log_size(mine, nato.log_id) == 4  # catalogue + 3 messages


def test_a_node_keeps_its_database_url_and_reopens(
    tmp_path: Path, make_database: MakeDatabase, engine_name: str
) -> None:
    database = make_database(engine_name)
    if engine_name == "sqlite":
        database = f"sqlite:///{database}"
    with init_node(tmp_path / "n", "nato", database=database) as node:
        log_id = node.log_id
    assert f'database = "{database}"' in (tmp_path / "n" / "node.toml").read_text()
    assert not (tmp_path / "n" / "node.db").exists()
    with load_node(tmp_path / "n") as node:
        assert node.log_id == log_id
        assert [view.type for view in node.log().own] == ["catalogue"]
    with pytest.raises(Exception, match="already holds a node"):
        init_node(tmp_path / "again", "nato", database=database)


def test_two_node_processes_sending_at_once_never_take_the_same_seq(
    tmp_path: Path, make_database: MakeDatabase, engine_name: str
) -> None:
    nato = _node(tmp_path, make_database, engine_name, "nato")
    russia = _node(tmp_path, make_database, "sqlite", "russia")
    nato.trust(russia.identity_json(), "https://russia.example")
    russia.close()
    nato.close()
    writers = [load_node(tmp_path / "nato") for _ in range(2)]  # as two processes would
    errors: list[BaseException] = []

    def sender(node: Node, number: int) -> Callable[[], None]:
        def work() -> None:
            for count in range(5):
                node.send(6, {"sequence": str(number * 10 + count)})

        return work

    with writers[0] as node, writers[1]:
        threads = [
            _in_thread(sender(writer, number), errors) for number, writer in enumerate(writers)
        ]
        for thread in threads:
            thread.join(120)
        assert errors == []
        with read(node.engine) as connection:
            stored = records.stored_entries(connection, node.log_id)
        assert [entry.seq for entry in stored] == list(range(11))
        assert node.verify().ok, node.verify().to_json()
