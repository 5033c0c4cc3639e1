"""Escalation: the policy copied onto each own message, and its timers.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "escalation_policies",
        sa.Column("msg_id", sa.String(26), primary_key=True),
        sa.Column("log_id", sa.String(120), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("policy", sa.Text, nullable=False),
    )
    op.create_table(
        "escalation_steps",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "msg_id", sa.String(26), sa.ForeignKey("escalation_policies.msg_id"), nullable=False
        ),
        sa.Column("track", sa.String(16), nullable=False),
        sa.Column("level", sa.String(32), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("offset_s", sa.BigInteger, nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), index=True),
        sa.Column("fired_at", sa.DateTime(timezone=True)),
        sa.Column("cancelled_at", sa.DateTime(timezone=True)),
        sa.Column("outcome", sa.String(32)),
        sa.UniqueConstraint("msg_id", "track", "level", "attempt"),
    )


def downgrade() -> None:
    op.drop_table("escalation_steps")
    op.drop_table("escalation_policies")
