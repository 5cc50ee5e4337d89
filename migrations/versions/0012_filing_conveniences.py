"""A filing names the filing it was copied from; a filing holds a given file content once

Revision ID: 14
Revises: 0011
Create Date: 2026-12-05 10:00:00

Before the unique index on the enterprise's current attachments (filing, SHA-256) is built, any
content the enterprise attached twice to one filing keeps its first attachment; the later ones are
marked removed (removed_at set), not deleted, so the versions that name them still do. Their bytes
were stored once already. The back office's files (audit reports, opinions) are not concerned.
"""

import sqlalchemy as sa
from alembic import op

# The enterprise's attachment purposes when this revision was written.
ENTERPRISE_FILES = "removed_at IS NULL AND purpose IN ('evidence', 'verification_report')"

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # SQLite adds a column with its reference in place. Batch mode would copy the filing table,
        # and with foreign keys on SQLite refuses to drop a table that other tables point at.
        op.execute(
            "ALTER TABLE filing ADD COLUMN copied_from_id INTEGER "
            "CONSTRAINT fk_filing_copied_from_id_filing REFERENCES filing (id)"
        )
    else:
        op.add_column("filing", sa.Column("copied_from_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_filing_copied_from_id_filing", "filing", "filing", ["copied_from_id"], ["id"]
        )
    op.create_index("ix_filing_copied_from_id", "filing", ["copied_from_id"], unique=False)

    bind.execute(
        sa.text(
            "UPDATE filing_attachment SET removed_at = CURRENT_TIMESTAMP "
            f"WHERE {ENTERPRISE_FILES} AND EXISTS ("
            " SELECT 1 FROM filing_attachment AS earlier"
            " WHERE earlier.filing_id = filing_attachment.filing_id"
            " AND earlier.sha256 = filing_attachment.sha256"
            " AND earlier.removed_at IS NULL"
            " AND earlier.purpose IN ('evidence', 'verification_report')"
            " AND earlier.id < filing_attachment.id)"
        )
    )
    op.create_index(
        "uq_filing_attachment_current_content",
        "filing_attachment",
        ["filing_id", "sha256"],
        unique=True,
        sqlite_where=sa.text(ENTERPRISE_FILES),
        postgresql_where=sa.text(ENTERPRISE_FILES),
    )


def downgrade():
    op.drop_index("uq_filing_attachment_current_content", table_name="filing_attachment")
    op.drop_index("ix_filing_copied_from_id", table_name="filing")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite ≥ 3.35 drops a plain column in place; the reference goes with it.
        op.execute("ALTER TABLE filing DROP COLUMN copied_from_id")
    else:
        op.drop_constraint("fk_filing_copied_from_id_filing", "filing", type_="foreignkey")
        op.drop_column("filing", "copied_from_id")
