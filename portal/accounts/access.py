"""Reusable access checks for views. Use these; do not test roles by hand in views.

    from portal.accounts.access import login_required_role, requires_totp, enterprise_required

    @bp.get("/review/")
    @login_required_role("city", "province")   # signed in, one of these roles, TOTP done if back office
    def queue(): ...

    @bp.get("/filings/")
    @enterprise_required                       # signed-in enterprise user with an enterprise
    def index(): ...

    @requires_totp                             # signed in and passed a second factor this session

- Anonymous visitors are sent to the login page (with ?next=); a wrong role gets a Chinese 403.
- Back-office roles (auditor, city, province, editor, supervisor) must have enrolled TOTP and passed
  it in this session (等保 2.0: two factors for administrators). If not enrolled, they are sent to
  accounts.totp_setup; if enrolled but not verified this session, to accounts.login.
- `second_factor_passed()` tells whether the session has passed TOTP.
- A session ends after SESSION_IDLE_MINUTES idle (see accounts.init_app), and every session of a
  user ends when its session_version is bumped (password change, removal).
"""

from __future__ import annotations

from functools import wraps

from flask import abort, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

TOTP_SESSION_KEY = "totp_ok"


def second_factor_passed() -> bool:
    return bool(session.get(TOTP_SESSION_KEY))


def _to_login():
    """Send the visitor to log in; an htmx request (e.g. autosave after a timeout) gets
    HX-Redirect back to the page it came from, so the browser shows the login page whole."""
    if request.htmx:
        from urllib.parse import urlsplit

        from htmx_flask import make_response

        current = urlsplit(request.htmx.current_url or "")
        back = current.path + (f"?{current.query}" if current.query else "")
        return make_response("", 204, redirect=url_for("accounts.login", next=back or None))
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))


def _totp_gate():
    """A redirect when the back-office user still owes a second factor, else None."""
    if current_user.totp_enabled_at is None:
        return redirect(url_for("accounts.totp_setup", next=request.full_path.rstrip("?")))
    if not second_factor_passed():
        return _to_login()
    return None


def requires_totp(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return _to_login()
        gate = _totp_gate()
        if gate is not None:
            return gate
        return view(*args, **kwargs)

    return wrapper


def login_required_role(*roles: str):
    """Signed in with one of `roles`; back-office roles also need TOTP this session."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return _to_login()
            if current_user.role not in roles:
                abort(403, description=_("您的账号没有访问此页面的权限。"))
            if current_user.is_back_office:
                gate = _totp_gate()
                if gate is not None:
                    return gate
            return view(*args, **kwargs)

        return wrapper

    return decorator


def enterprise_required(view):
    """Signed in as an enterprise user who belongs to an enterprise."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return _to_login()
        if current_user.role != "enterprise" or current_user.enterprise_id is None:
            abort(403, description=_("此页面仅供企业用户使用。"))
        return view(*args, **kwargs)

    return wrapper


def enterprise_admin_required(view):
    @wraps(view)
    @enterprise_required
    def wrapper(*args, **kwargs):
        if not current_user.is_enterprise_admin:
            abort(403, description=_("只有企业管理员可以管理同事账号。"))
        return view(*args, **kwargs)

    return wrapper
