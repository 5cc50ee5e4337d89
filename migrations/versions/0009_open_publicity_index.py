"""indexes: announcements whose publicity period is open; trades by category and method

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 13:05:00

"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_announcement_category_publicity_ends", "announcement", ["category", "publicity_ends_at"]
    )
    op.create_index("ix_trade_category_method_date", "trade", ["category_code", "method", "trade_date"])


def downgrade():
    op.drop_index("ix_trade_category_method_date", table_name="trade")
    op.drop_index("ix_announcement_category_publicity_ends", table_name="announcement")
