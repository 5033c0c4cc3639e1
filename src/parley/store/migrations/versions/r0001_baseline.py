"""Baseline: the node's logs, entries, checkpoints, cosignatures, evidence, outbox and audit.

Revision ID: 0001
Revises: (none)
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "logs",
        sa.Column("id", sa.String(120), primary_key=True),
        sa.Column("party", sa.String(64), nullable=False),
        sa.Column("public_key", sa.LargeBinary, nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("frozen", sa.Boolean, nullable=False),
    )
    op.create_table(
        "entries",
        sa.Column("log_id", sa.String(120), sa.ForeignKey("logs.id"), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("raw", sa.LargeBinary, nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
        sa.Column("msg_id", sa.String(26), nullable=False, unique=True),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("template", sa.Integer),
        sa.Column("in_reply_to", sa.String(26), index=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "checkpoints",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("log_id", sa.String(120), sa.ForeignKey("logs.id"), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("root", sa.String(64), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("log_id", "size"),
    )
    op.create_table(
        "cosignatures",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("log_id", sa.String(120), sa.ForeignKey("logs.id"), nullable=False),
        sa.Column("cosigner", sa.String(120), sa.ForeignKey("logs.id"), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("cosigned_at", sa.BigInteger, nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("log_id", "cosigner", "size"),
    )
    op.create_table(
        "equivocations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("log_id", sa.String(120), sa.ForeignKey("logs.id"), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("held", sa.LargeBinary, nullable=False),
        sa.Column("offered", sa.LargeBinary, nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("log_id", sa.String(120), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.ForeignKeyConstraint(["log_id", "seq"], ["entries.log_id", "entries.seq"]),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("audit", "outbox", "equivocations", "cosignatures", "checkpoints", "entries"):
        op.drop_table(table)
    op.drop_table("logs")
