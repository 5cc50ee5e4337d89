"""cache_generation: the response cache's generation, when no Redis holds it

Revision ID: 0022_cache
Revises: 0021_takeback_reports
Create Date: 2026-12-01 02:20:00

"""

import time

import sqlalchemy as sa
from alembic import op

revision = "0022_cache"
down_revision = "0021_takeback_reports"
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        "cache_generation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cache_generation")),
    )
    # Never a value used before: a restored database does not meet entries of another time.
    op.bulk_insert(table, [{"id": 1, "value": time.time_ns()}])


def downgrade():
    op.drop_table("cache_generation")
