"""market_daily_summary and market_monthly_summary: trades per day and month, variety, category and
division, filled from the trades

Revision ID: 0015_market_summary
Revises: 0014
Create Date: 2026-11-30 21:30:00

"""

from alembic import op
import sqlalchemy as sa

revision = "0015_market_summary"
down_revision = "0014"
branch_labels = None
depends_on = None

# The same figures as portal/disclosure/summary.py: summary_select(), written out here so that
# this revision does not change when the application code does. "all" is the market-wide row; a
# trade also counts once under each distinct division of its buyer and seller.
FILL = """
INSERT INTO market_daily_summary
    (division_code, variety_code, category_code, day, month, trades, volume, amount, high, low)
SELECT division_code, variety_code, category_code, day, {month}, COUNT(*),
       SUM(CAST(ROUND(quantity * 10000) AS BIGINT)), SUM(CAST(ROUND(amount * 100) AS BIGINT)),
       MAX(unit_price), MIN(unit_price)
FROM (
    SELECT 'all' AS division_code, variety_code, category_code, trade_date AS day,
           quantity, amount, unit_price
    FROM trade
    UNION ALL
    SELECT buyer_division_code, variety_code, category_code, trade_date, quantity, amount,
           unit_price
    FROM trade WHERE buyer_division_code IS NOT NULL
    UNION ALL
    SELECT seller_division_code, variety_code, category_code, trade_date, quantity, amount,
           unit_price
    FROM trade
    WHERE seller_division_code IS NOT NULL
      AND (buyer_division_code IS NULL OR buyer_division_code <> seller_division_code)
) AS counted
GROUP BY division_code, variety_code, category_code, day
"""

FILL_MONTHS = """
INSERT INTO market_monthly_summary
    (division_code, variety_code, category_code, month, trades, volume, amount, high, low)
SELECT division_code, variety_code, category_code, month, SUM(trades), SUM(volume), SUM(amount),
       MAX(high), MIN(low)
FROM market_daily_summary
GROUP BY division_code, variety_code, category_code, month
"""


def upgrade():
    op.create_table(
        "market_daily_summary",
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("variety_code", sa.String(length=10), nullable=False),
        sa.Column("category_code", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("trades", sa.Integer(), nullable=False),
        sa.Column("volume", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("high", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("low", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.PrimaryKeyConstraint(
            "division_code",
            "variety_code",
            "category_code",
            "day",
            name=op.f("pk_market_daily_summary"),
        ),
    )
    op.create_index(
        "ix_market_daily_summary_division_day", "market_daily_summary", ["division_code", "day"]
    )
    op.create_index(
        "ix_market_daily_summary_month",
        "market_daily_summary",
        ["division_code", "variety_code", "category_code", "month"],
    )
    op.create_table(
        "market_monthly_summary",
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("variety_code", sa.String(length=10), nullable=False),
        sa.Column("category_code", sa.String(length=20), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("trades", sa.Integer(), nullable=False),
        sa.Column("volume", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("high", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("low", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.PrimaryKeyConstraint(
            "division_code",
            "variety_code",
            "category_code",
            "month",
            name=op.f("pk_market_monthly_summary"),
        ),
    )
    if op.get_bind().dialect.name == "postgresql":
        month = "CAST(date_trunc('month', day) AS DATE)"
    else:
        month = "date(day, 'start of month')"
    op.execute(FILL.format(month=month))
    op.execute(FILL_MONTHS)


def downgrade():
    op.drop_table("market_monthly_summary")
    with op.batch_alter_table("market_daily_summary") as batch_op:
        batch_op.drop_index("ix_market_daily_summary_month")
        batch_op.drop_index("ix_market_daily_summary_division_day")
    op.drop_table("market_daily_summary")
