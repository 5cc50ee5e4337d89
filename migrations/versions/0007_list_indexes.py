"""indexes for the public lists' filters and sorts, and the home page

Revision ID: 0007
Revises: 0002
Create Date: 2026-11-26 12:20:00

"""
from alembic import op

revision = "0007"
down_revision = "0002"
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_listing_category_starts", "listing", ["category_code", "starts_on"]),
    ("ix_listing_industry_starts", "listing", ["industry_code", "starts_on"]),
    ("ix_listing_price", "listing", ["listed_price"]),
    ("ix_listing_quantity", "listing", ["quantity"]),
    ("ix_trade_category_date", "trade", ["category_code", "trade_date"]),
    ("ix_trade_industry_date", "trade", ["industry_code", "trade_date"]),
    ("ix_trade_method_date", "trade", ["method", "trade_date"]),
    ("ix_trade_amount", "trade", ["amount"]),
    ("ix_trade_price", "trade", ["unit_price"]),
    ("ix_announcement_status_featured_published", "announcement", ["status", "is_featured", "published_at"]),
    ("ix_announcement_publicity_ends", "announcement", ["publicity_ends_at"]),
]


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
