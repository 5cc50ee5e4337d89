"""有偿使用: reference prices, payment notices of 两高 purchases, and city reserve (收储) offers

Revision ID: 0019_prices
Revises: 0016_review_workbench
Create Date: 2026-12-01 02:04:19.009566

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0019_prices"
down_revision = "0016_review_workbench"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "reference_price",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("variety_code", sa.String(length=10), nullable=False),
        sa.Column("category_code", sa.String(length=20), nullable=False),
        sa.Column("price", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_code"],
            ["category.code"],
            name=op.f("fk_reference_price_category_code_category"),
        ),
        sa.ForeignKeyConstraint(
            ["entered_by_id"],
            ["user_account.id"],
            name=op.f("fk_reference_price_entered_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["variety_code"], ["variety.code"], name=op.f("fk_reference_price_variety_code_variety")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_price")),
    )
    with op.batch_alter_table("reference_price", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reference_price_in_force",
            ["variety_code", "category_code", "effective_from"],
            unique=False,
        )

    op.create_table(
        "payment_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filing_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("variety_code", sa.String(length=10), nullable=False),
        sa.Column("category_code", sa.String(length=20), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("amount", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("price_id", sa.Integer(), nullable=True),
        sa.Column("price_source", sa.Text(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("pay_to", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("receipt_reference", sa.String(length=64), nullable=True),
        sa.Column("paid_amount", sa.Numeric(precision=20, scale=2), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("receipt_recorded_at", sa.DateTime(), nullable=True),
        sa.Column("receipt_recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("close_reason", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_code"],
            ["category.code"],
            name=op.f("fk_payment_notice_category_code_category"),
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_payment_notice_enterprise_id_enterprise"),
        ),
        sa.ForeignKeyConstraint(
            ["filing_id"], ["filing.id"], name=op.f("fk_payment_notice_filing_id_filing")
        ),
        sa.ForeignKeyConstraint(
            ["issued_by_id"],
            ["user_account.id"],
            name=op.f("fk_payment_notice_issued_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["price_id"],
            ["reference_price.id"],
            name=op.f("fk_payment_notice_price_id_reference_price"),
        ),
        sa.ForeignKeyConstraint(
            ["receipt_recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_payment_notice_receipt_recorded_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["variety_code"], ["variety.code"], name=op.f("fk_payment_notice_variety_code_variety")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_notice")),
        sa.UniqueConstraint("receipt_reference", name=op.f("uq_payment_notice_receipt_reference")),
    )
    with op.batch_alter_table("payment_notice", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_notice_enterprise_id"), ["enterprise_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_payment_notice_filing_id"), ["filing_id"], unique=False
        )
        batch_op.create_index("ix_payment_notice_status_due", ["status", "due_on"], unique=False)
        batch_op.create_index(
            "uq_payment_notice_open_per_filing",
            ["filing_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('issued', 'paid')"),
            postgresql_where=sa.text("status IN ('issued', 'paid')"),
        )

    op.create_table(
        "reserve_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filing_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("variety_code", sa.String(length=10), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("offered_at", sa.DateTime(), nullable=False),
        sa.Column("decide_by", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("unit_price", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("amount", sa.Numeric(precision=20, scale=2), nullable=True),
        sa.Column("remark", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_reserve_offer_decided_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["division_code"],
            ["division.code"],
            name=op.f("fk_reserve_offer_division_code_division"),
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_reserve_offer_enterprise_id_enterprise"),
        ),
        sa.ForeignKeyConstraint(
            ["filing_id"], ["filing.id"], name=op.f("fk_reserve_offer_filing_id_filing")
        ),
        sa.ForeignKeyConstraint(
            ["variety_code"], ["variety.code"], name=op.f("fk_reserve_offer_variety_code_variety")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reserve_offer")),
        sa.UniqueConstraint("filing_id", "variety_code", name="uq_reserve_offer_filing_variety"),
    )
    with op.batch_alter_table("reserve_offer", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reserve_offer_division_status", ["division_code", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_reserve_offer_enterprise_id"), ["enterprise_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("reserve_offer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reserve_offer_enterprise_id"))
        batch_op.drop_index("ix_reserve_offer_division_status")

    op.drop_table("reserve_offer")
    with op.batch_alter_table("payment_notice", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_payment_notice_open_per_filing",
            sqlite_where=sa.text("status IN ('issued', 'paid')"),
            postgresql_where=sa.text("status IN ('issued', 'paid')"),
        )
        batch_op.drop_index("ix_payment_notice_status_due")
        batch_op.drop_index(batch_op.f("ix_payment_notice_filing_id"))
        batch_op.drop_index(batch_op.f("ix_payment_notice_enterprise_id"))

    op.drop_table("payment_notice")
    with op.batch_alter_table("reference_price", schema=None) as batch_op:
        batch_op.drop_index("ix_reference_price_in_force")

    op.drop_table("reference_price")
