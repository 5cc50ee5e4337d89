"""Accounts: registration, passwords, login security (等保 2.0), TOTP, colleagues, notices.

Functions flush, never commit; mail goes out through portal.mail after the view commits.
Security rules (等保 2.0 level 3, GB/T 22239-2019 8.1.4.1): argon2 hashes; the password policy of passwords.py;
5 failures lock the account for 30 minutes; tokens are signed and expire; messages never say
whether an address has an account, and the work done (a password hash, a mail) is the same either
way, so the time taken does not say it either.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2 import profiles as argon2_profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import case, func, or_, select, update

from portal.access import administers
from portal.accounts.models import AccessRequest, Notice, RecoveryCode, User
from portal.accounts.passwords import MAX_PASSWORD_LENGTH, password_problems  # noqa: F401
from portal.audit.services import record_event, record_new
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.i18n import Message
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.mail import absolute_url, queue_mail

MAX_FAILURES = 5
LOCK_MINUTES = 30
RECOVERY_CODES = 10
VERIFY_MAX_AGE = 3 * 24 * 3600
RESET_MAX_AGE = 3600
INVITE_MAX_AGE = 7 * 24 * 3600
MOBILE = re.compile(r"^1[3-9]\d{9}$")

# PASSWORD_HASHER names the argon2 parameters: "default" (argon2-cffi's RFC 9106 profile) in
# production; the test suite sets "cheapest", which hashes in microseconds instead of ~50 ms.
_HASHERS = {
    "default": PasswordHasher(),
    "cheapest": PasswordHasher.from_parameters(argon2_profiles.CHEAPEST),
}
# Verified against when no account matches, so a wrong address takes as long as a wrong password.
_DUMMY_HASHES = {name: h.hash("not-a-real-password-Aa1") for name, h in _HASHERS.items()}


def _hasher_name() -> str:
    name = current_app.config["PASSWORD_HASHER"]
    # The cheap parameters are for the test suite only; anywhere else they would weaken every hash.
    return name if name in _HASHERS and (name == "default" or current_app.testing) else "default"


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# ---------------------------------------------------------------- passwords


def hash_password(password: str) -> str:
    return _HASHERS[_hasher_name()].hash(password)


def check_password(user: User | None, password: str) -> bool:
    """Verify a password in constant-ish time, rehashing when argon2's parameters changed."""
    name = _hasher_name()
    _hasher = _HASHERS[name]
    if user is None:
        try:
            _hasher.verify(_DUMMY_HASHES[name], password or "")
        except VerificationError:
            pass
        return False
    try:
        _hasher.verify(user.password_hash, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return True


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


# ---------------------------------------------------------------- tokens


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def make_token(salt: str, payload: dict) -> str:
    return _serializer(salt).dumps(payload)


def read_token(salt: str, token: str, max_age: int) -> dict | None:
    """The payload of a valid, unexpired token, else None."""
    try:
        return _serializer(salt).loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None


def user_for_token(salt: str, token: str, max_age: int, key: str, value) -> User | None:
    """The account a valid token names, if `value(user)` still equals the token's `key` (so a
    link dies once the address or the password it was sent for changes)."""
    payload = read_token(salt, token, max_age)
    user = db.session.get(User, payload.get("uid")) if payload else None
    if user is None or value(user) != payload.get(key):
        return None
    return user


def _fingerprint(user: User) -> str:
    # A reset link dies once the password changes: it is bound to the current hash.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


# ---------------------------------------------------------------- registration


def enterprise_admins(enterprise_id: int) -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(
                User.enterprise_id == enterprise_id,
                User.is_enterprise_admin.is_(True),
                User.is_active_account.is_(True),
            )
        )
    )


def is_uscc_registered(uscc: str) -> bool:
    """Whether the enterprise already has an account holder (its administrator)."""
    enterprise = db.session.scalar(select(Enterprise).where(Enterprise.uscc == uscc))
    return enterprise is not None and bool(enterprise_admins(enterprise.id))


def send_verification(user: User) -> None:
    token = make_token("verify-email", {"uid": user.id, "email": user.email})
    queue_mail(
        user.email,
        _("请验证您的邮箱"),
        _(
            "您好，%(name)s：\n请打开以下链接验证邮箱（3 天内有效）：\n%(url)s\n如非本人操作，请忽略本邮件。",
            name=user.name,
            url=absolute_url("accounts.verify_email", token=token),
        ),
    )


def verify_email(token: str) -> User | None:
    user = user_for_token("verify-email", token, VERIFY_MAX_AGE, "email", lambda u: u.email)
    if user is None:
        return None
    if user.email_verified_at is None:
        user.email_verified_at = now()
        record_event("account.verify_email", "user", user.id, actor=user)
    return user


def request_access(uscc: str, name: str, email: str, phone: str, message: str) -> None:
    """Ask the enterprise's administrators for an account; silent when there is no such code."""
    enterprise = db.session.scalar(select(Enterprise).where(Enterprise.uscc == uscc))
    if enterprise is None:
        return
    request_row = AccessRequest(
        enterprise_id=enterprise.id,
        name=(name or "").strip(),
        email=normalize_email(email),
        phone=(phone or "").strip(),
        message=(message or "").strip(),
    )
    db.session.add(request_row)
    db.session.flush()
    post_notice(
        enterprise.id,
        Message(_l("%(name)s 申请加入本企业账号"), name=Message.chinese(request_row.name)),
        Message(
            _l("邮箱：%(email)s；说明：%(message)s"),
            email=request_row.email,
            message=Message.chinese(request_row.message),
        ),
        link=url_for("accounts.access_requests"),
        mail=True,
        admins_only=True,
    )


# ---------------------------------------------------------------- login


@dataclass
class LoginResult:
    user: User | None
    ok: bool
    needs_totp: bool = False
    unverified: bool = False


def authenticate(email: str, password: str) -> LoginResult:
    """Check a password with lockout; the caller shows one message for every failure."""
    user = find_user_by_email(email)
    if user is not None and user.locked_until and user.locked_until > now():
        check_password(None, password)
        return LoginResult(None, False)
    if not check_password(user, password) or user is None or not user.is_active:
        if user is not None:
            register_failure(user)
        return LoginResult(None, False)
    if user.email_verified_at is None:
        return LoginResult(user, False, unverified=True)
    user.failed_logins = 0
    user.locked_until = None
    return LoginResult(user, True, needs_totp=user.totp_enabled_at is not None)


def register_failure(user: User) -> None:
    """Count a failed login; the MAX_FAILURES-th locks the account for LOCK_MINUTES.

    One UPDATE … RETURNING counts and locks, so failures sent in parallel are all counted (a read
    followed by a write would let them overwrite each other's count). Every SET expression reads
    the row as it was before the statement, so the count that reaches the limit also locks and
    restarts at 0; only that request sees 0 come back, and only it records and mails the lock.
    """
    counted = func.coalesce(User.failed_logins, 0) + 1
    reached = counted >= MAX_FAILURES
    left = db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(
            failed_logins=case((reached, 0), else_=counted),
            locked_until=case(
                (reached, now() + timedelta(minutes=LOCK_MINUTES)), else_=User.locked_until
            ),
        )
        .returning(User.failed_logins)
        .execution_options(synchronize_session="fetch")
    ).scalar_one()
    if left == 0:
        record_event("account.locked", "user", user.id, remark="5 failed logins", actor=None)
        queue_mail(
            user.email,
            _("账号已临时锁定"),
            _(
                "您的账号连续 5 次登录失败，已锁定 30 分钟。如非本人操作，建议锁定解除后重置密码：%(url)s",
                url=absolute_url("accounts.forgot_password"),
            ),
        )


def record_login(user: User) -> None:
    user.last_login_at = now()
    record_event("account.login", "user", user.id, actor=user)


def end_sessions(user: User, everywhere: bool = False) -> None:
    """End every session of the user on the server: a copied or stolen cookie dies at logout too.

    Sessions are signed cookies, so one cannot be ended alone; bumping the version that the user
    loader compares ends all of them.
    """
    user.session_version = (user.session_version or 1) + 1
    action = "account.logout_everywhere" if everywhere else "account.logout"
    record_event(action, "user", user.id, actor=user)


# ---------------------------------------------------------------- password reset


def start_password_reset(email: str) -> None:
    """Mail a reset link when the address has an account; do nothing visible otherwise."""
    user = find_user_by_email(email)
    if user is None or not user.is_active:
        return
    token = make_token("reset-password", {"uid": user.id, "fp": _fingerprint(user)})
    queue_mail(
        user.email,
        _("重置密码"),
        _(
            "请在 1 小时内打开以下链接设置新密码：\n%(url)s\n如非本人操作，请忽略本邮件，您的密码不会改变。",
            url=absolute_url("accounts.reset_password", token=token),
        ),
    )


def user_for_reset_token(token: str) -> User | None:
    return user_for_token("reset-password", token, RESET_MAX_AGE, "fp", _fingerprint)


def set_password(user: User, password: str, actor: User | None = None) -> None:
    """Change the password and end every session of the user."""
    user.password_hash = hash_password(password)
    user.session_version = (user.session_version or 1) + 1
    user.failed_logins = 0
    user.locked_until = None
    record_event("account.set_password", "user", user.id, actor=actor or user)


# ---------------------------------------------------------------- TOTP


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(
        name=user.email, issuer_name=current_app.config["SITE_NAME"]
    )


def totp_step(secret: str | None, code: str, at: float | None = None) -> int | None:
    """The time step (30 s) whose code `code` is, within one step of now; None if it is none."""
    code = re.sub(r"\s", "", code or "")
    if not secret or len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(at if at is not None else time.time()) // totp.interval
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def check_totp_code(secret: str, code: str) -> bool:
    return totp_step(secret, code) is not None


def _code_hash(code: str) -> str:
    return hashlib.sha256(re.sub(r"[\s-]", "", code or "").lower().encode()).hexdigest()


def enable_totp(user: User, secret: str, step: int | None = None) -> list[str]:
    """Turn TOTP on (or bind a new authenticator) and return fresh recovery codes (shown once,
    stored hashed). `step` is the step of the code that proved the binding: it is spent."""
    rebinding = user.totp_enabled_at is not None
    user.totp_secret = secret
    user.totp_last_step = step
    user.totp_enabled_at = now()
    for old in db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        db.session.delete(old)
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _i in range(RECOVERY_CODES)]
    for code in codes:
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_code_hash(code)))
    db.session.flush()
    record_event(
        "account.rebind_totp" if rebinding else "account.enable_totp", "user", user.id, actor=user
    )
    return codes


def disable_totp(user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    for old in db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        db.session.delete(old)
    record_event("account.disable_totp", "user", user.id, actor=user)


def _spend_totp_step(user: User, step: int) -> bool:
    """Record `step` as used unless it or a later one already was (one UPDATE, so two requests
    racing with the same code cannot both pass)."""
    result = db.session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    db.session.refresh(user, ["totp_last_step"])
    return True


def verify_second_factor(user: User, code: str) -> bool:
    """Accept a TOTP code not used before, or an unused recovery code (which is then spent)."""
    step = totp_step(user.totp_secret, code) if user.totp_enabled_at is not None else None
    if step is not None:
        return _spend_totp_step(user, step)
    row = db.session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _code_hash(code),
            RecoveryCode.used_at.is_(None),
        )
    )
    if row is None:
        return False
    row.used_at = now()
    record_event("account.use_recovery_code", "user", user.id, actor=user)
    return True


def recovery_codes_left(user: User) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


# ---------------------------------------------------------------- colleagues


def colleagues_of(user: User) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.enterprise_id == user.enterprise_id, User.is_active_account.is_(True))
            .order_by(User.id)
        )
    )


def invite_colleague(admin: User, email: str, as_admin: bool = False) -> None:
    """Mail an invitation link (as a colleague, or as another administrator); an address that
    already has an account is told nothing new."""
    email = normalize_email(email)
    token = make_token(
        "invite",
        {"eid": admin.enterprise_id, "email": email, "by": admin.id, "admin": bool(as_admin)},
    )
    record_event(
        "account.invite",
        "enterprise",
        admin.enterprise_id,
        after={"email": email, "admin": bool(as_admin)},
        actor=admin,
    )
    queue_mail(
        email,
        _("%(name)s 邀请您加入企业账号", name=admin.enterprise.name),
        _(
            "%(who)s 邀请您以 %(enterprise)s 员工身份使用河南省用能权交易平台。请在 7 天内打开以下链接设置密码：\n%(url)s",
            who=admin.name or admin.email,
            enterprise=admin.enterprise.name,
            url=absolute_url("accounts.accept_invitation", token=token),
        ),
    )


def read_invitation(token: str) -> dict | None:
    """The payload of a valid invitation whose sender still administers the unit."""
    payload = read_token("invite", token, INVITE_MAX_AGE)
    if not payload or db.session.get(Enterprise, payload.get("eid")) is None:
        return None
    sender = db.session.get(User, payload.get("by"))
    if sender is None or not administers(sender, payload["eid"]):
        return None
    return payload


def accept_invitation(payload: dict, name: str, phone: str, password: str) -> User | None:
    """Create the colleague's account. An enterprise account of that address that acts for no unit
    (say, its own claim was refused) joins instead, with the new password: the link reached the
    address, as a reset link would. None when the address has any other account."""
    existing = find_user_by_email(payload["email"])
    if existing is not None:
        if existing.role != "enterprise" or existing.enterprise_id is not None:
            return None
        if not existing.is_active:
            return None
        existing.enterprise_id = payload["eid"]
        existing.is_enterprise_admin = bool(payload.get("admin"))
        existing.name = name.strip() or existing.name
        existing.phone = phone.strip() or existing.phone
        set_password(existing, password)
        existing.email_verified_at = existing.email_verified_at or now()
        record_event(
            "account.accept_invitation",
            existing,
            after={"enterprise": payload["eid"], "admin": existing.is_enterprise_admin},
            actor=existing,
        )
        return existing
    user = User(
        email=payload["email"],
        name=name.strip(),
        phone=phone.strip(),
        password_hash=hash_password(password),
        role="enterprise",
        # An approved administrator admitted this person (portal.access.acts_for).
        enterprise_id=payload["eid"],
        is_enterprise_admin=bool(payload.get("admin")),
        email_verified_at=now(),  # the link arrived at this address
    )
    record_new(
        "account.accept_invitation",
        user,
        after={"enterprise": payload["eid"], "admin": bool(payload.get("admin"))},
        actor=user,
    )
    return user


def remove_colleague(admin: User, colleague: User) -> None:
    """Deactivate a colleague's account and end its sessions (the history keeps its name)."""
    colleague.is_active_account = False
    colleague.session_version = (colleague.session_version or 1) + 1
    record_event(
        "account.remove_colleague",
        colleague,
        before={"active": True},
        after={"active": False},
        actor=admin,
    )


# ---------------------------------------------------------------- notices (inbox + mail)


def post_notice(
    enterprise_id: int,
    title: str | Message,
    body: str | Message = "",
    link: str = "",
    mail: bool = True,
    admins_only: bool = False,
) -> Notice:
    """Put a notice in the enterprise's inbox and, by default, mail its users.

    A title or body given as a Message is shown in each reader's language; the mail goes out in
    the language of the moment.
    """
    kept = {
        part: text.to_json()
        for part, text in (("title", title), ("body", body))
        if isinstance(text, Message)
    }
    title, body = str(title), str(body)
    notice = Notice(
        enterprise_id=enterprise_id,
        title=title[:200],
        body=body,
        link=link,
        message=kept or None,
    )
    db.session.add(notice)
    db.session.flush()
    if mail:
        recipients = (
            enterprise_admins(enterprise_id)
            if admins_only
            else list(
                db.session.scalars(
                    select(User).where(
                        User.enterprise_id == enterprise_id, User.is_active_account.is_(True)
                    )
                )
            )
        )
        for person in recipients:
            text = body + (f"\n{absolute_url('enterprise.dashboard')}" if link else "")
            queue_mail(person.email, title, text)
    return notice


def notices_for(user: User, limit: int = 20) -> list[Notice]:
    if user.enterprise_id is None:
        return list(
            db.session.scalars(
                select(Notice)
                .where(Notice.user_id == user.id)
                .order_by(Notice.id.desc())
                .limit(limit)
            )
        )
    return list(
        db.session.scalars(
            select(Notice)
            .where((Notice.enterprise_id == user.enterprise_id) | (Notice.user_id == user.id))
            .order_by(Notice.id.desc())
            .limit(limit)
        )
    )
