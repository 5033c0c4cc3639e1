"""The incident registry: incidents, their history, both parties' accounts, evidence, messages.

Revision ID: 0004i
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0004i"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def _incident_ref() -> sa.Column[str]:
    return sa.Column(
        "incident_id", sa.String(64), sa.ForeignKey("incidents.id"), nullable=False, index=True
    )


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("track_a", sa.String(64), nullable=False),
        sa.Column("track_b", sa.String(64), nullable=False),
        sa.Column("our_track", sa.String(64), nullable=False),
        sa.Column("their_track", sa.String(64), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cpa_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lat", sa.Float),
        sa.Column("lon", sa.Float),
        sa.Column("min_slant_m", sa.Float),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_by", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notified_by", sa.String(64)),
        sa.Column("notification_msg_id", sa.String(26)),
        sa.Column("peer_incident_id", sa.String(64), index=True),
        sa.Column("summary", sa.Text, nullable=False),
    )
    op.create_table(
        "incident_history",
        sa.Column("id", sa.Integer, primary_key=True),
        _incident_ref(),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_state", sa.String(16)),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("msg_id", sa.String(26)),
    )
    op.create_table(
        "incident_accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        _incident_ref(),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("party", sa.String(64), nullable=False),
        sa.Column("classification", sa.String(16)),
        sa.Column("nature", sa.String(32)),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("msg_id", sa.String(26)),
    )
    op.create_table(
        "incident_encounters",
        sa.Column("encounter_id", sa.String(64), primary_key=True),
        _incident_ref(),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("record", sa.Text, nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "incident_positions",
        sa.Column("incident_id", sa.String(64), sa.ForeignKey("incidents.id"), primary_key=True),
        sa.Column("track", sa.String(64), primary_key=True),
        sa.Column("time", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("alt_m", sa.Float),
        sa.Column("speed_mps", sa.Float),
        sa.Column("course_deg", sa.Float),
    )
    op.create_table(
        "incident_messages",
        sa.Column("msg_id", sa.String(26), primary_key=True),
        _incident_ref(),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "incident_messages",
        "incident_positions",
        "incident_encounters",
        "incident_accounts",
        "incident_history",
        "incidents",
    ):
        op.drop_table(table)
