"""公示 withdrawal (who, when, why); the audit key id of each audit entry

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 10:00:00

Existing audit entries get key_id "sha256": they were hashed without a key. A migration cannot
rely on reading the key (it lives outside the database, in the environment or the instance folder
of the app server), so it does not rehash: run `flask audit rekey` once after `flask db upgrade`.
Until then `flask audit verify` names the first unkeyed entry.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("key_id", sa.String(length=16), nullable=False, server_default="sha256")
        )
    with op.batch_alter_table("publicity_notice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("withdrawal_reason", sa.Text(), nullable=False, server_default="")
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_publicity_notice_withdrawn_by_id_user_account"),
            "user_account",
            ["withdrawn_by_id"],
            ["id"],
        )


def downgrade():
    with op.batch_alter_table("publicity_notice", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_publicity_notice_withdrawn_by_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_column("withdrawal_reason")
        batch_op.drop_column("withdrawn_by_id")
        batch_op.drop_column("withdrawn_at")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_column("key_id")
