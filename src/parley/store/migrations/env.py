"""Alembic's environment: migrations run only on the connection given by ``upgrade_to_head``.

No ``alembic.ini`` and no URL: :mod:`parley.store.migrate` builds the configuration in code and
passes the open connection (inside the caller's transaction) in ``config.attributes``.
"""

from alembic import context
from sqlalchemy import Connection

from parley.store.schema import metadata


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError("Parley's migrations run through parley.store.migrate.upgrade_to_head")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite alters a table by copying it; later revisions use op.batch_alter_table for that.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
