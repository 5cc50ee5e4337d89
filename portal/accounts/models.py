"""People who sign in: enterprise users and back-office users, and the approved audit firms."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.access import BACK_OFFICE
from portal.accounts.crypto import decrypt_secret, encrypt_secret
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.i18n import shown_text
from portal.reference.models import Division


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
    audit_type = "user"  # the name the audit log has always used for an account

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
    """A person asks an enterprise's administrator for an account (the unit has one already).

    The administrator approves it as a colleague or as another administrator (an invitation goes to
    the address), or refuses it with a remark (the person is told by mail).
    """

    __tablename__ = "access_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(20), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # pending, approved, refused
    status: Mapped[str] = mapped_column(String(12), default="pending")
    # The role the administrator granted: an administrator (True) or a colleague.
    grants_admin: Mapped[bool] = mapped_column(default=False)
    remark: Mapped[str] = mapped_column(Text, default="")
    handled_at: Mapped[datetime | None]
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class IdentityApplication(db.Model):
    """A person asks to act for an enterprise, with evidence the city checks (身份核验).

    kind: `new` (a unit the portal does not list yet), `claim` (a listed unit without an
    administrator), `transfer` (the administrator role of a unit whose only administrator left),
    `recheck` (an administrator who got the role before identity review; marked by migration 12).
    status: draft (the applicant adds the evidence) → submitted → approved or refused. Until an
    application is approved the account acts for no unit (portal.access.acts_for).
    """

    __tablename__ = "identity_application"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(12), default="draft", index=True)
    # The listed unit (claim, transfer, recheck); a new unit gets one when the city approves.
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), index=True)
    # Whose city decides: the listed unit's division, else the one the applicant chose.
    division_code: Mapped[str] = mapped_column(ForeignKey("division.code"), index=True)
    uscc: Mapped[str] = mapped_column(String(18))
    # The unit's name as the applicant typed it (compared with the listed unit's name).
    enterprise_name: Mapped[str] = mapped_column(String(120))
    industry_code: Mapped[str | None] = mapped_column(ForeignKey("industry.code"))
    address: Mapped[str] = mapped_column(String(200), default="")
    legal_representative: Mapped[str] = mapped_column(String(60), default="")
    remark: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    submitted_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    enterprise: Mapped[Enterprise | None] = relationship()
    division: Mapped[Division] = relationship()
    documents: Mapped[list[IdentityDocument]] = relationship(
        back_populates="application", order_by="IdentityDocument.id"
    )

    def document(self, purpose: str) -> IdentityDocument | None:
        """The current file of one purpose (a new upload replaces the old one in a draft)."""
        found = [d for d in self.documents if d.purpose == purpose]
        return found[-1] if found else None


class IdentityDocument(db.Model):
    """A file that proves an identity application: the business licence (营业执照) or the
    authorisation letter (授权委托书). Checked by content (portal.uploads.check_document) and
    stored under its SHA-256 like every upload."""

    __tablename__ = "identity_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("identity_application.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))  # licence, authorisation
    original_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(server_default=func.now())

    application: Mapped[IdentityApplication] = relationship(back_populates="documents")


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
    # {"title": Message JSON, "body": Message JSON}: title and body shown in the reader's
    # language (portal.i18n.Message); title and body above hold the text as first written.
    message: Mapped[dict | None] = mapped_column(JSON)

    def title_html(self):
        return shown_text((self.message or {}).get("title"), self.title)

    def body_html(self):
        return shown_text((self.message or {}).get("body"), self.body)
