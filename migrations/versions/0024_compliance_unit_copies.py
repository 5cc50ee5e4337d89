"""compliance_record.division_code and industry_code: the unit's, copied, indexed with the name key

Revision ID: 0024_compliance_unit_copies
Revises: 0023_pinyin_sort_keys
Create Date: 2026-12-01 04:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0024_compliance_unit_copies"
down_revision = "0023_pinyin_sort_keys"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "compliance_record",
        sa.Column("division_code", sa.String(6), nullable=False, server_default=""),
    )
    op.add_column(
        "compliance_record",
        sa.Column("industry_code", sa.String(20), nullable=False, server_default=""),
    )
    for column in ("division_code", "industry_code"):
        # A correlated subquery: the same statement on SQLite and PostgreSQL.
        op.execute(
            f"UPDATE compliance_record SET {column} = COALESCE("
            f"(SELECT enterprise.{column} FROM enterprise "
            f"WHERE enterprise.id = compliance_record.enterprise_id), '')"
        )
        op.create_index(
            f"ix_compliance_period_{column.split('_')[0]}_name",
            "compliance_record",
            ["period_year", column, "sort_name", "id"],
        )


def downgrade():
    op.drop_index("ix_compliance_period_industry_name", table_name="compliance_record")
    op.drop_index("ix_compliance_period_division_name", table_name="compliance_record")
    op.drop_column("compliance_record", "industry_code")
    op.drop_column("compliance_record", "division_code")
