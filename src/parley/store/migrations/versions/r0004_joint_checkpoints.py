"""Joint checkpoints: both logs' heads in one note signed by both parties.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "joint_checkpoints",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("first_log", sa.String(120), nullable=False),
        sa.Column("first_size", sa.BigInteger, nullable=False),
        sa.Column("second_log", sa.String(120), nullable=False),
        sa.Column("second_size", sa.BigInteger, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("first_log", "first_size", "second_log", "second_size"),
    )


def downgrade() -> None:
    op.drop_table("joint_checkpoints")
