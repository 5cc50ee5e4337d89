"""filing corrections (核减) made by reviewers

Revision ID: 0016_review_workbench
Revises: 0018_credit_exposure
Create Date: 2026-11-30 21:30:00

"""

from alembic import op
import sqlalchemy as sa

revision = "0016_review_workbench"
down_revision = "0018_credit_exposure"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "filing_correction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filing_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("variety_code", sa.String(length=10), nullable=False),
        sa.Column("original", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("corrected", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(length=12), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["filing_id"], ["filing.id"], name=op.f("fk_filing_correction_filing_id_filing")
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["user_account.id"],
            name=op.f("fk_filing_correction_actor_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filing_correction")),
    )
    op.create_index(
        op.f("ix_filing_correction_filing_id"), "filing_correction", ["filing_id"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_filing_correction_filing_id"), table_name="filing_correction")
    op.drop_table("filing_correction")
