"""Activities: notified military activities with declared and observed forces.

Revision ID: 0005
Revises: 0004i
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004i"
branch_labels: str | None = None
depends_on: str | None = None

#: As ``parley.store.schema.ACTIVITY_FORCES`` when this revision was written (a migration keeps
#: its own copy: the schema module may change after it).
FORCES = (
    "troops",
    "battle_tanks",
    "armoured_combat_vehicles",
    "artillery_pieces",
    "aircraft_sorties",
    "ships",
)


def upgrade() -> None:
    op.create_table(
        "activities",
        sa.Column("origin", sa.String(8), primary_key=True),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("party", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("notice", sa.String(16), nullable=False),
        sa.Column("area", sa.Text, nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        *(sa.Column(f"declared_{name}", sa.Integer) for name in FORCES),
        *(sa.Column(f"observed_{name}", sa.Integer) for name in FORCES),
        sa.Column("notified_at", sa.DateTime(timezone=True)),
        sa.Column("msg_id", sa.String(26), index=True),
        sa.Column("observed_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("activities")
