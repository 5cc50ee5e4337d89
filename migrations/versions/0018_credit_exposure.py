"""the credit platform exports of each period, and the public exposure (曝光) list

Revision ID: 0018_credit_exposure
Revises: 0017_holdings
Create Date: 2026-11-30 21:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0018_credit_exposure"
down_revision = "0017_holdings"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "credit_export",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_year", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("file_format", sa.String(length=8), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["period_year"],
            ["compliance_period.year"],
            name=op.f("fk_credit_export_period_year_compliance_period"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_credit_export_created_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_export")),
    )
    op.create_index(
        "ix_credit_export_period_created", "credit_export", ["period_year", "created_at"]
    )
    op.create_table(
        "exposure_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("period_year", sa.Integer(), nullable=True),
        sa.Column("trade_number", sa.String(length=40), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("exposed_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("proposed_at", sa.DateTime(), nullable=False),
        sa.Column("proposed_by_id", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(), nullable=True),
        sa.Column("withdrawn_by_id", sa.Integer(), nullable=True),
        sa.Column("withdraw_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_exposure_entry_enterprise_id_enterprise"),
        ),
        sa.ForeignKeyConstraint(
            ["period_year"],
            ["compliance_period.year"],
            name=op.f("fk_exposure_entry_period_year_compliance_period"),
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_id"],
            ["user_account.id"],
            name=op.f("fk_exposure_entry_proposed_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["confirmed_by_id"],
            ["user_account.id"],
            name=op.f("fk_exposure_entry_confirmed_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["withdrawn_by_id"],
            ["user_account.id"],
            name=op.f("fk_exposure_entry_withdrawn_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exposure_entry")),
    )
    op.create_index(op.f("ix_exposure_entry_enterprise_id"), "exposure_entry", ["enterprise_id"])
    op.create_index("ix_exposure_status_exposed", "exposure_entry", ["status", "exposed_on", "id"])
    # The back office's list of a period: the units of one status, or with a shortfall, read
    # from the index alone.
    op.create_index(
        "ix_compliance_record_period_status_unit",
        "compliance_record",
        ["period_year", "status", "enterprise_id"],
    )
    op.create_index(
        "ix_compliance_record_period_shortfall_unit",
        "compliance_record",
        ["period_year", "shortfall", "enterprise_id"],
    )


def downgrade():
    op.drop_index("ix_compliance_record_period_shortfall_unit", table_name="compliance_record")
    op.drop_index("ix_compliance_record_period_status_unit", table_name="compliance_record")
    op.drop_index("ix_exposure_status_exposed", table_name="exposure_entry")
    op.drop_index(op.f("ix_exposure_entry_enterprise_id"), table_name="exposure_entry")
    op.drop_table("exposure_entry")
    op.drop_index("ix_credit_export_period_created", table_name="credit_export")
    op.drop_table("credit_export")
