"""Back-office user administration by the province: create, assign role and scope, (de)activate."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from portal.access import BACK_OFFICE
from portal.accounts.models import AuditFirm, RecoveryCode, User
from portal.accounts.services import hash_password, normalize_email, start_password_reset
from portal.audit.services import record_event, record_new
from portal.extensions import db


class UserAdminError(ValueError):
    def __init__(self, field: str, code: str):
        super().__init__(code)
        self.field = field
        self.code = code


def create_back_office_user(
    email: str,
    name: str,
    role: str,
    *,
    division_code: str | None,
    audit_firm_id: int | None,
    actor,
) -> User:
    """Create a back-office user with no usable password: a reset link lets them set one, and
    the first back-office page sends them to TOTP enrolment (accounts.totp_setup)."""
    email = normalize_email(email)
    if role not in BACK_OFFICE:
        raise UserAdminError("role", "role")
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise UserAdminError("email", "taken")
    if role == "city" and not division_code:
        raise UserAdminError("division_code", "division_required")
    if role == "auditor":
        firm = db.session.get(AuditFirm, audit_firm_id) if audit_firm_id else None
        if firm is None or not firm.is_approved:
            raise UserAdminError("audit_firm_id", "firm_required")
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        password_hash=hash_password(secrets.token_urlsafe(32)),
        division_code=division_code if role == "city" else None,
        audit_firm_id=audit_firm_id if role == "auditor" else None,
    )
    record_new(
        "account.create_back_office",
        user,
        after={
            "email": email,
            "role": role,
            "division": user.division_code,
            "audit_firm": user.audit_firm_id,
        },
        actor=actor,
    )
    start_password_reset(email)
    return user


def set_active(user: User, active: bool, *, actor) -> None:
    """Deactivate (ending every session) or reactivate a back-office user."""
    if user.id == getattr(actor, "id", None):
        raise UserAdminError("active", "self")
    before = {"active": user.is_active_account}
    user.is_active_account = active
    if not active:
        user.session_version = (user.session_version or 1) + 1
    db.session.flush()
    record_event("account.set_active", user, before=before, after={"active": active}, actor=actor)


def reset_totp(user: User, *, actor) -> None:
    """Clear a lost authenticator: the user enrols again at the next sign-in."""
    user.totp_secret = None
    user.totp_enabled_at = None
    user.session_version = (user.session_version or 1) + 1
    for code in db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        db.session.delete(code)
    db.session.flush()
    record_event("account.reset_totp", "user", user.id, actor=actor)
