"""search_position: each app server's outbox position, and the highest outbox id pruned

Revision ID: 0026_search_positions
Revises: 0025_notice_message
Create Date: 2026-12-02 09:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0026_search_positions"
down_revision = "0025_notice_message"
branch_labels = None
depends_on = None

PRUNED = "(pruned)"


def upgrade():
    op.create_table(
        "search_position",
        sa.Column("server", sa.String(255), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("low", sa.BigInteger(), nullable=False),
        sa.Column("gaps", sa.Integer(), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("server", name=op.f("pk_search_position")),
    )
    # Rows below the oldest one left were pruned before servers recorded their positions.
    op.execute(
        "INSERT INTO search_position (server, position, low, gaps, seen_at) "
        f"SELECT '{PRUNED}', COALESCE(MIN(id) - 1, 0), 0, 0, CURRENT_TIMESTAMP FROM search_outbox"
    )


def downgrade():
    op.drop_table("search_position")
