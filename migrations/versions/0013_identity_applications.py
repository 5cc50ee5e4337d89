"""Identity applications with their evidence; decisions on access requests; legacy administrators
flagged for the city to re-check

Revision ID: 12
Revises: 0011
Create Date: 2026-12-05 09:00:00

- `identity_application` replaces `enterprise_claim`. Claims move over as kind "claim": a pending
  one becomes a draft (its account is asked for the evidence it never gave), confirmed → approved,
  refused → refused.
- Every active enterprise administrator at upgrade time got the role without the city seeing any
  evidence (registration made the first account the administrator). Each gets a submitted
  application of kind "recheck", so the city of the unit's division finds it in its list. The
  administrator keeps acting meanwhile; a refusal takes the role away.
- `access_request` gets the administrator's decision: status, the role granted, a remark, who.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "identity_application",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("enterprise_name", sa.String(length=120), nullable=False),
        sa.Column("industry_code", sa.String(length=20), nullable=True),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("legal_representative", sa.String(length=60), nullable=False),
        sa.Column("remark", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["decided_by_id"], ["user_account.id"], name=op.f("fk_identity_application_decided_by_id_user_account")),
        sa.ForeignKeyConstraint(["division_code"], ["division.code"], name=op.f("fk_identity_application_division_code_division")),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprise.id"], name=op.f("fk_identity_application_enterprise_id_enterprise")),
        sa.ForeignKeyConstraint(["industry_code"], ["industry.code"], name=op.f("fk_identity_application_industry_code_industry")),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name=op.f("fk_identity_application_user_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_application")),
    )
    op.create_index(op.f("ix_identity_application_division_code"), "identity_application", ["division_code"], unique=False)
    op.create_index(op.f("ix_identity_application_enterprise_id"), "identity_application", ["enterprise_id"], unique=False)
    op.create_index(op.f("ix_identity_application_status"), "identity_application", ["status"], unique=False)
    op.create_index(op.f("ix_identity_application_user_id"), "identity_application", ["user_id"], unique=False)
    op.create_table(
        "identity_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("original_name", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["identity_application.id"], name=op.f("fk_identity_document_application_id_identity_application")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_document")),
    )
    op.create_index(op.f("ix_identity_document_application_id"), "identity_document", ["application_id"], unique=False)

    bind = op.get_bind()
    # Claims made before identity review move over with the unit's own name and division.
    bind.execute(
        sa.text(
            "INSERT INTO identity_application (user_id, kind, status, enterprise_id, division_code,"
            " uscc, enterprise_name, address, legal_representative, remark, created_at, decided_at,"
            " decided_by_id)"
            " SELECT c.user_id, 'claim',"
            " CASE c.status WHEN 'confirmed' THEN 'approved' WHEN 'refused' THEN 'refused'"
            " ELSE 'draft' END,"
            " c.enterprise_id, e.division_code, e.uscc, e.name, '', '', '', c.created_at,"
            " c.decided_at, c.decided_by_id"
            " FROM enterprise_claim c JOIN enterprise e ON e.id = c.enterprise_id ORDER BY c.id"
        )
    )
    # Every administrator who got the role without a check: flagged for the city.
    bind.execute(
        sa.text(
            "INSERT INTO identity_application (user_id, kind, status, enterprise_id, division_code,"
            " uscc, enterprise_name, address, legal_representative, remark, submitted_at)"
            " SELECT u.id, 'recheck', 'submitted', e.id, e.division_code, e.uscc, e.name, '', '',"
            " '', CURRENT_TIMESTAMP"
            " FROM user_account u JOIN enterprise e ON e.id = u.enterprise_id"
            " WHERE u.role = 'enterprise' AND u.is_enterprise_admin = :yes"
            " AND u.is_active_account = :yes ORDER BY u.id"
        ),
        {"yes": True},
    )
    op.drop_index(op.f("ix_enterprise_claim_user_id"), table_name="enterprise_claim")
    op.drop_index(op.f("ix_enterprise_claim_enterprise_id"), table_name="enterprise_claim")
    op.drop_table("enterprise_claim")

    with op.batch_alter_table("access_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=12), nullable=False, server_default="pending"))
        batch_op.add_column(sa.Column("grants_admin", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("remark", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("handled_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_access_request_handled_by_id_user_account"),
            "user_account",
            ["handled_by_id"],
            ["id"],
        )
    # Nothing recorded how a handled request was answered; the administrator saw it.
    bind.execute(sa.text("UPDATE access_request SET status = 'approved' WHERE handled_at IS NOT NULL"))


def downgrade():
    with op.batch_alter_table("access_request", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_access_request_handled_by_id_user_account"), type_="foreignkey")
        batch_op.drop_column("handled_by_id")
        batch_op.drop_column("remark")
        batch_op.drop_column("grants_admin")
        batch_op.drop_column("status")

    op.create_table(
        "enterprise_claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["decided_by_id"], ["user_account.id"], name=op.f("fk_enterprise_claim_decided_by_id_user_account")),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprise.id"], name=op.f("fk_enterprise_claim_enterprise_id_enterprise")),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name=op.f("fk_enterprise_claim_user_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise_claim")),
    )
    op.create_index(op.f("ix_enterprise_claim_enterprise_id"), "enterprise_claim", ["enterprise_id"], unique=False)
    op.create_index(op.f("ix_enterprise_claim_user_id"), "enterprise_claim", ["user_id"], unique=False)
    # Claims on listed units go back; new units, transfers and re-checks had no claim row.
    op.get_bind().execute(
        sa.text(
            "INSERT INTO enterprise_claim (user_id, enterprise_id, status, created_at, decided_at,"
            " decided_by_id)"
            " SELECT user_id, enterprise_id,"
            " CASE status WHEN 'approved' THEN 'confirmed' WHEN 'refused' THEN 'refused'"
            " ELSE 'pending' END,"
            " created_at, decided_at, decided_by_id"
            " FROM identity_application WHERE kind = 'claim' AND enterprise_id IS NOT NULL"
            " ORDER BY id"
        )
    )

    op.drop_index(op.f("ix_identity_document_application_id"), table_name="identity_document")
    op.drop_table("identity_document")
    op.drop_index(op.f("ix_identity_application_user_id"), table_name="identity_application")
    op.drop_index(op.f("ix_identity_application_status"), table_name="identity_application")
    op.drop_index(op.f("ix_identity_application_enterprise_id"), table_name="identity_application")
    op.drop_index(op.f("ix_identity_application_division_code"), table_name="identity_application")
    op.drop_table("identity_application")
