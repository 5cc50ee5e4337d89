"""indexes for a list in another order than its default: a period's compliance list in the
shortfall order (alone or by status, division or industry) or by division in the status order, a
division's listings by price or quantity

Revision ID: 0028_filter_sort_indexes
Revises: 0027_ledger_reference_indexes
Create Date: 2026-12-01 22:30:00

Without them the database sorts every row the filter keeps before it returns the first page: 8-13
ms at 100,000 records on SQLite; with them a page is the first rows of one index range (0.1 ms).
"""

from alembic import op

revision = "0028_filter_sort_indexes"
down_revision = "0027_ledger_reference_indexes"
branch_labels = None
depends_on = None

# The shortfall order is DESC NULLS LAST (portal/compliance/services.py, COMPLIANCE_SORTS):
# PostgreSQL's index is written in that order; SQLite ignores postgresql_ops and reads its
# ascending index backwards.
SHORTFALL = {"postgresql_ops": {"shortfall": "DESC NULLS LAST"}}
INDEXES = (
    *(
        (
            f"ix_compliance_period_{name}shortfall",
            "compliance_record",
            ["period_year", *leading, "shortfall", "sort_name", "id"],
            SHORTFALL,
        )
        for name, leading in (
            ("", ()),
            ("status_", ("status",)),
            ("division_", ("division_code",)),
            ("industry_", ("industry_code",)),
        )
    ),
    (
        "ix_compliance_period_division_status",
        "compliance_record",
        ["period_year", "division_code", "status", "sort_name", "id"],
        {},
    ),
    ("ix_listing_division_price", "listing", ["division_code", "listed_price", "id"], {}),
    ("ix_listing_division_quantity", "listing", ["division_code", "quantity", "id"], {}),
)


def upgrade():
    for name, table, columns, options in INDEXES:
        op.create_index(name, table, columns, **options)
    # The planner's statistics for the new indexes: SQLite has none until ANALYZE, and then
    # guesses that one of them serves a period's list in name order (a sort of 25,000 rows,
    # 115 ms, instead of one index range).
    for table in sorted({index[1] for index in INDEXES}):
        op.execute(f"ANALYZE {table}")


def downgrade():
    for name, table, _columns, _options in INDEXES:
        op.drop_index(name, table_name=table)
