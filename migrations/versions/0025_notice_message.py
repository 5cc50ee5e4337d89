"""inbox_notice.message: the notice's title and body as msgids and parameters, shown translated

Revision ID: 0025_notice_message
Revises: 0024_compliance_unit_copies
Create Date: 2026-12-01 08:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0025_notice_message"
down_revision = "0024_compliance_unit_copies"
branch_labels = None
depends_on = None


def upgrade():
    # Older notices keep only their text, shown as it was written.
    op.add_column("inbox_notice", sa.Column("message", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("inbox_notice") as batch:
        batch.drop_column("message")
