"""People who sign in: enterprise users and back-office users, and the approved audit firms."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.access import BACK_OFFICE
from portal.accounts.crypto import decrypt_secret, encrypt_secret
from portal.enterprises.models import Enterprise
from portal.extensions import db


class AuditFirm(db.Model):
    """第三方审核机构: an approved third-party auditor organisation."""

    __tablename__ = "audit_firm"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    is_approved: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    name: Mapped[str] = mapped_column(String(60), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(12), default="enterprise", index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), index=True)
    is_enterprise_admin: Mapped[bool] = mapped_column(default=False)
    # A city reviewer sees only enterprises of its own division.
    division_code: Mapped[str | None] = mapped_column(ForeignKey("division.code"))
    audit_firm_id: Mapped[int | None] = mapped_column(ForeignKey("audit_firm.id"))
    is_active_account: Mapped[bool] = mapped_column(default=True)
    email_verified_at: Mapped[datetime | None]
    # Fernet ciphertext (accounts/crypto.py); read and write it through `totp_secret`.
    totp_secret_encrypted: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[datetime | None]
    # The last TOTP time step accepted: a code of that step or an earlier one is a replay.
    totp_last_step: Mapped[int | None]
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    # Bumped to end every session of the user (password change, removal).
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    enterprise: Mapped[Enterprise | None] = relationship()
    audit_firm: Mapped[AuditFirm | None] = relationship()

    @property
    def is_active(self) -> bool:
        return self.is_active_account

    @property
    def is_back_office(self) -> bool:
        return self.role in BACK_OFFICE

    @property
    def totp_secret(self) -> str | None:
        """The TOTP secret in clear (None when not enrolled, or when the key cannot open it)."""
        return decrypt_secret(self.totp_secret_encrypted) if self.totp_secret_encrypted else None

    @totp_secret.setter
    def totp_secret(self, plain: str | None) -> None:
        self.totp_secret_encrypted = encrypt_secret(plain) if plain else None
        self.totp_last_step = None

    def get_id(self) -> str:
        # The session carries the version, so bumping it logs the user out everywhere.
        return f"{self.id}:{self.session_version}"


class RecoveryCode(db.Model):
    """A one-time TOTP recovery code; only its SHA-256 is kept (the code itself is random)."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class AccessRequest(db.Model):
    """A person asks an enterprise's administrator for an account (the code is already registered)."""

    __tablename__ = "access_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(20), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    handled_at: Mapped[datetime | None]


class EnterpriseClaim(db.Model):
    """A new account asks to act for a unit the portal already lists; it grants nothing until the
    city's energy-saving authority confirms who the person is (stop-gap until identity review)."""

    __tablename__ = "enterprise_claim"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    status: Mapped[str] = mapped_column(
        String(12), default="pending"
    )  # pending, confirmed, refused
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    enterprise: Mapped[Enterprise] = relationship()


class Notice(db.Model):
    """An inbox message to an enterprise (every user of it sees it), or to one user."""

    __tablename__ = "inbox_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    # A path inside the portal (built with url_for), shown as a link.
    link: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)
    read_at: Mapped[datetime | None]
