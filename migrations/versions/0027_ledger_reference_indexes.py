"""indexes on the columns that refer to a ledger entry: its correction and a take-back

Revision ID: 0027_ledger_reference_indexes
Revises: 0026_search_positions
Create Date: 2026-12-01 13:00:00

Without them, each check of a reference to an entry (the corrections of an entry; SQLite's foreign
key check when an entry's row goes) reads the whole ledger. Partial: most rows refer to none.
"""

import sqlalchemy as sa
from alembic import op

revision = "0027_ledger_reference_indexes"
down_revision = "0026_search_positions"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_ledger_entry_corrects_entry_id", "ledger_entry", "corrects_entry_id"),
    ("ix_construction_obligation_take_back_entry_id", "construction_obligation", "take_back_entry_id"),
)


def upgrade():
    for name, table, column in INDEXES:
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(name, table, [column], sqlite_where=where, postgresql_where=where)


def downgrade():
    for name, table, _column in INDEXES:
        op.drop_index(name, table_name=table)
