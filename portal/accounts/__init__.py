"""Accounts: registration, login and its security, TOTP, colleagues, the enterprise dashboard."""

from __future__ import annotations

import time

from flask import Blueprint

bp = Blueprint("accounts", __name__, url_prefix="/accounts")

IDLE_KEY = "seen"


def init_app(app):
    from flask import flash, request, session
    from flask_babel import gettext as _
    from flask_login import current_user, logout_user

    from portal import mail
    from portal.accounts.models import User
    from portal.extensions import db, login_manager

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

    @app.before_request
    def end_idle_session():
        """End a session after SESSION_IDLE_MINUTES without a request (等保 2.0)."""
        if request.endpoint == "static" or not current_user.is_authenticated:
            return None
        stamp = time.time()
        seen = session.get(IDLE_KEY)
        idle = app.config["SESSION_IDLE_MINUTES"] * 60
        if seen is not None and stamp - float(seen) > idle:
            logout_user()
            session.clear()
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


from portal.accounts import views  # noqa: E402,F401  (views attach to bp)
