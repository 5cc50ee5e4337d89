"""TOTP secrets encrypted at rest, the last accepted TOTP step, claims on listed enterprises

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 14:30:00

The existing secrets are encrypted with the configured key (TOTP_ENCRYPTION_KEY, else derived from
SECRET_KEY), so run `flask db upgrade` with the production settings.
"""

import base64

from alembic import op
import sqlalchemy as sa
from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _fernet():
    """The key portal/accounts/crypto.py used when this revision was written, copied here so that a
    later change there cannot change what this revision does: the Fernet keys of TOTP_ENCRYPTION_KEY
    (comma-separated, the first encrypts), else one derived from SECRET_KEY with HKDF-SHA256 and
    info `portal/totp-secret/v1`. Only the configured key values are read from the app."""
    config = current_app.config
    keys = [k.strip() for k in (config.get("TOTP_ENCRYPTION_KEY") or "").split(",") if k.strip()]
    if keys:
        return MultiFernet([Fernet(k.encode("ascii")) for k in keys])
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"portal/totp-secret/v1").derive(
        config["SECRET_KEY"].encode("utf-8")
    )
    return MultiFernet([Fernet(base64.urlsafe_b64encode(raw))])


def upgrade():
    op.add_column("user_account", sa.Column("totp_secret_encrypted", sa.String(length=255), nullable=True))
    op.add_column("user_account", sa.Column("totp_last_step", sa.Integer(), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, totp_secret FROM user_account WHERE totp_secret IS NOT NULL")
    ).all()
    if rows:
        fernet = _fernet()
        for user_id, secret in rows:
            bind.execute(
                sa.text("UPDATE user_account SET totp_secret_encrypted = :token WHERE id = :id"),
                {"token": fernet.encrypt(secret.encode("ascii")).decode("ascii"), "id": user_id},
            )
    # SQLite ≥ 3.35 drops a plain column in place (no table copy, so foreign keys stay intact).
    op.drop_column("user_account", "totp_secret")

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


def downgrade():
    op.drop_index(op.f("ix_enterprise_claim_user_id"), table_name="enterprise_claim")
    op.drop_index(op.f("ix_enterprise_claim_enterprise_id"), table_name="enterprise_claim")
    op.drop_table("enterprise_claim")

    op.add_column("user_account", sa.Column("totp_secret", sa.String(length=64), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT id, totp_secret_encrypted FROM user_account WHERE totp_secret_encrypted IS NOT NULL"
        )
    ).all()
    if rows:
        fernet = _fernet()
        for user_id, token in rows:
            bind.execute(
                sa.text("UPDATE user_account SET totp_secret = :secret WHERE id = :id"),
                {"secret": fernet.decrypt(token.encode("ascii")).decode("ascii"), "id": user_id},
            )
    op.drop_column("user_account", "totp_last_step")
    op.drop_column("user_account", "totp_secret_encrypted")
