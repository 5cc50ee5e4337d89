"""mail subscriptions to public lists, and the record of digests sent

Revision ID: 16
Revises: 0011
Create Date: 2026-12-01 10:00:00

"""

from alembic import op
import sqlalchemy as sa

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("target", sa.String(length=600), nullable=False),
        sa.Column("frequency", sa.String(length=12), nullable=False),
        sa.Column("locale", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("confirm_sent_at", sa.DateTime(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("sent_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription")),
        sa.UniqueConstraint("email", "target", name="uq_subscription_email_target"),
    )
    op.create_index(op.f("ix_subscription_email"), "subscription", ["email"])
    op.create_index("ix_subscription_status_frequency", "subscription", ["status", "frequency"])
    op.create_table(
        "digest_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("window_end", sa.DateTime(), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscription.id"],
            name=op.f("fk_digest_delivery_subscription_id_subscription"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_delivery")),
        sa.UniqueConstraint("subscription_id", "window_start", name="uq_digest_delivery_window"),
    )
    op.create_index(
        op.f("ix_digest_delivery_subscription_id"), "digest_delivery", ["subscription_id"]
    )


def downgrade():
    op.drop_index(op.f("ix_digest_delivery_subscription_id"), table_name="digest_delivery")
    op.drop_table("digest_delivery")
    op.drop_index("ix_subscription_status_frequency", table_name="subscription")
    op.drop_index(op.f("ix_subscription_email"), table_name="subscription")
    op.drop_table("subscription")
