"""Access checks that need the accounts models. The roles, the role groups and the page decorator
`role_required` are in `portal/access.py`; this module holds the rest:

    from portal.accounts.access import requires_totp, enterprise_required

    @bp.get("/filings/")
    @enterprise_required                       # acts for its enterprise (an approved identity)
    def index(): ...

    @requires_totp                             # signed in and passed a second factor this session

The second factor is decided in ONE place, `second_factor_gate()`, before every request:
- Back-office roles (`portal.access.BACK_OFFICE`: auditor, city, province, editor, supervisor) must
  have enrolled TOTP and passed it in this session (等保 2.0: two factors for administrators);
  anyone else who enrolled must pass it too (`portal.access.owes_second_factor`). Until then the
  person is not signed in at all: the login keeps only a *pending* user id in
  the session (`pending_user()`), which the TOTP pages (enrol, verify) use. A session that is
  signed in but owes the factor (a TOTP reset, a session made some other way) is turned back into
  a pending one by the gate. So such a person gets exactly what an anonymous visitor gets: the
  public pages, static files, log out, and the TOTP pages; every other page sends them to enrol or
  verify (`_to_login()`, HX-Redirect for htmx; it is also Flask-Login's unauthorized handler, which
  `portal.access.role_required` calls).
- `role_required` and `requires_totp` are then thin: signed in, and the role.
- A session ends after SESSION_IDLE_MINUTES idle (see accounts.init_app), and every session of a
  user ends when its session_version is bumped (password change, removal, TOTP reset).
"""

from __future__ import annotations

import time
from functools import wraps
from urllib.parse import urlsplit

from flask import abort, redirect, request, session, url_for
from flask_login import current_user, logout_user
from htmx_flask import make_response

from portal.access import (
    TOTP_SESSION_KEY,
    acts_for,
    administers,
    owes_second_factor,
    second_factor_ok,
    signed_in,
)
from portal.accounts import bp
from portal.accounts.models import User
from portal.extensions import db, login_manager
from portal.i18n import gettext as _
from portal.urls import safe_next
from portal.web import render

PENDING_KEY = "pending_uid"
PENDING_NEXT = "pending_next"
PENDING_AT = "pending_at"
# The password step is good for this long while the person enrols or types the code.
PENDING_MINUTES = 15


# ---------------------------------------------------------------- the pending (password-only) user


def start_pending(user, next_url: str = "") -> None:
    """Remember who passed the password step; they are not signed in until the second factor."""
    session.pop(TOTP_SESSION_KEY, None)
    session[PENDING_KEY] = user.id
    session[PENDING_NEXT] = safe_next(next_url, "")
    session[PENDING_AT] = time.time()


def clear_pending() -> None:
    for key in (PENDING_KEY, PENDING_NEXT, PENDING_AT):
        session.pop(key, None)


def pending_user():
    """The user who passed the password step in this session and owes the second factor."""
    user_id, started = session.get(PENDING_KEY), session.get(PENDING_AT)
    if not user_id or started is None:
        return None
    if time.time() - float(started) > PENDING_MINUTES * 60:
        clear_pending()
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        clear_pending()
        return None
    return user


def pending_next() -> str:
    return safe_next(session.get(PENDING_NEXT), "")


def second_factor_url(user, next_url: str | None = None) -> str:
    """Where a pending user goes: enrolment when they have no TOTP yet, else the code page."""
    target = safe_next(next_url, "") or None
    if user.totp_enabled_at is None:
        return url_for("accounts.totp_setup", next=target)
    return url_for("accounts.second_factor", next=target)


@bp.before_app_request
def second_factor_gate():
    """Turn a signed-in user who owes the second factor into a pending (anonymous) one."""
    if request.endpoint == "static" or not owes_second_factor(current_user):
        return None
    user = current_user._get_current_object()
    next_url = request.full_path.rstrip("?") if request.method == "GET" else ""
    logout_user()
    start_pending(user, next_url)
    return None  # the request goes on as an anonymous visitor's


# ---------------------------------------------------------------- decorators


def _send(url: str):
    if request.htmx:
        return make_response("", 204, redirect=url)
    return redirect(url)


def _to_login():
    """Send the visitor to log in, or a pending user to the second factor; an htmx request
    (e.g. autosave after a timeout) gets HX-Redirect back to the page it came from, so the browser
    shows the login page whole."""
    if request.htmx:
        current = urlsplit(request.htmx.current_url or "")
        back = current.path + (f"?{current.query}" if current.query else "")
    else:
        back = request.full_path.rstrip("?")
    back = safe_next(back, "") or None
    user = pending_user()
    if user is not None:
        return _send(second_factor_url(user, back))
    return _send(url_for("accounts.login", next=back))


login_manager.unauthorized_handler(_to_login)


def requires_totp(view):
    """Signed in and passed TOTP this session (a user who never enrolled is sent to enrol)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not signed_in():
            return _to_login()
        if not second_factor_ok(current_user):
            return _send(url_for("accounts.totp_setup", next=safe_next(request.full_path, "")))
        return view(*args, **kwargs)

    return wrapper


def enterprise_account_required(view):
    """Signed in with an enterprise account, whether or not it acts for a unit yet: the pages of
    the account's own identity application."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not signed_in():
            return _to_login()
        if current_user.role != "enterprise":
            abort(403, description=_("此页面仅供企业用户使用。"))
        return view(*args, **kwargs)

    return wrapper


def enterprise_required(view):
    """Signed in as an enterprise user who acts for its enterprise (`portal.access.acts_for`: an
    approved identity). An account whose identity application is not approved sees only that
    application: every enterprise page answers 403 with a page that links to it."""

    @wraps(view)
    @enterprise_account_required
    def wrapper(*args, **kwargs):
        if not acts_for(current_user, current_user.enterprise_id):
            return render(
                "accounts/identity_pending.html",
                breadcrumbs=[(_("我的企业"), None)],
            ), 403
        return view(*args, **kwargs)

    return wrapper


def enterprise_admin_required(view):
    @wraps(view)
    @enterprise_required
    def wrapper(*args, **kwargs):
        if not administers(current_user, current_user.enterprise_id):
            abort(403, description=_("只有企业管理员可以管理同事账号。"))
        return view(*args, **kwargs)

    return wrapper
