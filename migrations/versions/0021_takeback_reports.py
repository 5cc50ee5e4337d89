"""construction start reports, the take-back's 公示, and a holder's movements by id

Revision ID: 0021_takeback_reports
Revises: 0020_benchmarks
Create Date: 2026-12-01 02:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0021_takeback_reports"
down_revision = "0020_benchmarks"
branch_labels = None
depends_on = None


def upgrade():
    # The public profile reads a holder's entries newest first, a page at a time.
    op.create_index("ix_ledger_entry_holder_id", "ledger_entry", ["holder_key", "id"], unique=False)
    with op.batch_alter_table("construction_obligation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("take_back_announcement_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_construction_obligation_take_back_announcement_id_announcement"),
            "announcement",
            ["take_back_announcement_id"],
            ["id"],
        )
    op.create_table(
        "construction_start_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("obligation_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("original_name", sa.String(length=200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("remark", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["obligation_id"],
            ["construction_obligation.id"],
            name=op.f("fk_construction_start_report_obligation_id_construction_obligation"),
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_construction_start_report_enterprise_id_enterprise"),
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"],
            ["user_account.id"],
            name=op.f("fk_construction_start_report_submitted_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_construction_start_report_decided_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_construction_start_report")),
    )
    with op.batch_alter_table("construction_start_report", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_construction_start_report_obligation_id"), ["obligation_id"]
        )
        batch_op.create_index(
            batch_op.f("ix_construction_start_report_enterprise_id"), ["enterprise_id"]
        )
        batch_op.create_index(batch_op.f("ix_construction_start_report_status"), ["status"])


def downgrade():
    op.drop_table("construction_start_report")
    with op.batch_alter_table("construction_obligation", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_construction_obligation_take_back_announcement_id_announcement"),
            type_="foreignkey",
        )
        batch_op.drop_column("take_back_announcement_id")
    op.drop_index("ix_ledger_entry_holder_id", table_name="ledger_entry")
