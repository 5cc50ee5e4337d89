"""merge the feature branches (search, accounts and filings, back office, list indexes)

Revision ID: 0008
Revises: 0003, 0004, 0006, 0007
Create Date: 2026-11-26 13:00:00

"""

revision = "0008"
down_revision = ("0003", "0004", "0006", "0007")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
