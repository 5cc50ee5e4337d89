"""Accounts: registration, identity review, login and its security, TOTP, colleagues, notices,
and the administration of back-office users."""

from __future__ import annotations

import hashlib
import time

from flask import Blueprint, flash, request, session
from flask_login import current_user, logout_user, user_logged_in

from portal import mail
from portal.accounts.models import User
from portal.extensions import db, login_manager
from portal.i18n import gettext as _

bp = Blueprint("accounts", __name__, url_prefix="/accounts")
# The back office of accounts: back-office users (/admin/users, the province) and identity review
# (/admin/identity, the cities).
admin_bp = Blueprint("accounts_admin", __name__, url_prefix="/admin")

IDLE_KEY = "seen"
# When the session's login happened; a session without it (e.g. one that a "remember me"
# cookie would open) is ended, so no session outlives SESSION_ABSOLUTE_HOURS.
LOGIN_KEY = "login_at"


def session_identifier() -> str:
    """Bind a session to the client's address and browser, as "strong" session protection needs.

    request.remote_addr is the peer, or with PROXY_COUNT > 0 the address ProxyFix took from the
    trusted proxies; a client-sent X-Forwarded-For never counts by itself (Flask-Login's own
    identifier reads that header first, so a thief could forge the victim's address).
    """
    agent = request.headers.get("User-Agent", "")
    return hashlib.sha512(f"{request.remote_addr}|{agent}".encode()).hexdigest()


def init_app(app):
    mail.init_app(app)

    @login_manager.user_loader
    def load_user(user_id: str):
        """Parse "id:session_version"; a stale version (password changed, removed) is no user."""
        try:
            raw_id, raw_version = user_id.split(":", 1)
            user = db.session.get(User, int(raw_id))
        except (ValueError, TypeError):
            return None
        if user is None or not user.is_active or str(user.session_version) != raw_version:
            return None
        return user

    login_manager.login_message = None
    login_manager._session_identifier_generator = session_identifier

    @user_logged_in.connect_via(app)
    def stamp_login(_sender, user=None, **_extra):
        session[LOGIN_KEY] = time.time()

    def end_session() -> None:
        session.clear()
        logout_user()  # after clear(): it marks a "remember me" cookie for deletion

    @app.before_request
    def end_old_session():
        """End a session SESSION_ABSOLUTE_HOURS after its login, however active."""
        if request.endpoint == "static" or not current_user.is_authenticated:
            return None
        login_at = session.get(LOGIN_KEY)
        lifetime = app.config["SESSION_ABSOLUTE_HOURS"] * 3600
        if login_at is not None and time.time() - float(login_at) <= lifetime:
            return None
        end_session()
        flash(
            _(
                "为安全起见，登录 %(n)s 小时后需要重新登录。",
                n=app.config["SESSION_ABSOLUTE_HOURS"],
            ),
            "error",
        )
        return None

    @app.before_request
    def end_idle_session():
        """End a session after SESSION_IDLE_MINUTES without a request (等保 2.0)."""
        if request.endpoint == "static" or not current_user.is_authenticated:
            return None
        stamp = time.time()
        seen = session.get(IDLE_KEY)
        idle = app.config["SESSION_IDLE_MINUTES"] * 60
        if seen is not None and stamp - float(seen) > idle:
            end_session()
            flash(
                _(
                    "您已超过 %(n)s 分钟未操作，为安全起见已退出登录。您的草稿已保存，请重新登录。",
                    n=app.config["SESSION_IDLE_MINUTES"],
                ),
                "error",
            )
            return None
        session[IDLE_KEY] = stamp
        return None


# The views attach to the blueprints.
from portal.accounts import (  # noqa: E402,F401
    admin,
    application_views,
    identity_views,
    views,
)
