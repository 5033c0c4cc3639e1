"""The engines the store contract runs on: SQLite always, PostgreSQL when a server is given.

``make test`` starts a throwaway server (``tools/postgres.sh``) and sets
``PARLEY_TEST_POSTGRES_URL`` and ``PARLEY_REQUIRE_POSTGRES=1``: without a server the PostgreSQL
cases then fail. Plain ``pytest`` without the URL skips them with a message.
"""

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from parley.store.engine import open_engine

URL_VARIABLE = "PARLEY_TEST_POSTGRES_URL"
REQUIRE_VARIABLE = "PARLEY_REQUIRE_POSTGRES"
ENGINES = ("sqlite", "postgres")

#: A fresh, empty database of an engine: its URL (or SQLite file path).
MakeDatabase = Callable[[str], str]


def postgres_server_url() -> str:
    """The server's URL, or a skip (a failure when PostgreSQL is required) naming the variable."""
    url = os.environ.get(URL_VARIABLE, "").strip()
    if url:
        return url
    reason = f"no PostgreSQL server: {URL_VARIABLE} is not set (make test starts one)"
    if os.environ.get(REQUIRE_VARIABLE) == "1":
        pytest.fail(f"{REQUIRE_VARIABLE}=1 but {reason}; see tools/postgres.sh", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def make_database(tmp_path: Path) -> Iterator[MakeDatabase]:
    """Creates empty databases (a new PostgreSQL database each), dropped after the test."""
    created: list[tuple[Engine, str]] = []

    def make(engine_name: str) -> str:
        if engine_name == "sqlite":
            return str(tmp_path / f"{uuid.uuid4().hex}.db")
        server = make_url(postgres_server_url())
        name = f"parley_contract_{uuid.uuid4().hex[:16]}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        created.append((admin, name))
        return server.set(database=name).render_as_string(hide_password=False)

    yield make
    for admin, name in created:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database(make_database: MakeDatabase, engine_name: str) -> str:
    """An empty database on the engine of this parametrisation."""
    return make_database(engine_name)


@pytest.fixture
def engine(database: str) -> Iterator[Engine]:
    opened = open_engine(database)
    yield opened
    opened.dispose()
