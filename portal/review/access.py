"""Back-office access, in one place: who may open a page, and which objects a user may see.

Each view asks `require_role(...)` for the page and one of the `can_*` rules (through a
get_<thing>_or_404) for each object. A city reviewer sees only enterprises of its own division; the
province and the supervisor see all; an auditor sees only what is assigned to its firm.
"""

from __future__ import annotations

from functools import wraps

from flask import abort, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

# Who may do what in the back office (DOMAIN.md "People who use the portal").
REVIEWERS = ("city", "province", "auditor")
READERS = ("province", "supervisor")


def second_factor_ok(user) -> bool:
    """True when a back-office user has TOTP and passed it in this session (fallback check)."""
    from flask import session

    return user.totp_enabled_at is not None and bool(session.get("totp_ok"))


def require_role(*roles: str):
    """Let a signed-in, TOTP-verified user with one of `roles` in; anyone else is refused.

    The accounts package owns login and TOTP; its `login_required_role` decides when it exists.
    """
    try:
        from portal.accounts.access import login_required_role
    except ImportError:
        return _local_require_role(*roles)
    return login_required_role(*roles)


def _local_require_role(*roles: str):
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                from flask import current_app

                if "accounts.login" in current_app.view_functions:
                    return redirect(url_for("accounts.login", next=request.full_path))
                abort(401)
            if current_user.role not in roles:
                abort(403, description=_l("您的角色不能使用这个页面。"))
            if not second_factor_ok(current_user):
                from flask import current_app

                for endpoint in ("accounts.totp_setup", "accounts.totp_verify"):
                    if endpoint in current_app.view_functions:
                        return redirect(url_for(endpoint, next=request.full_path))
                abort(403, description=_l("后台用户必须先启用并通过动态口令（TOTP）验证。"))
            return view(*args, **kwargs)

        return wrapped

    return decorator


def can_see_enterprise(user, enterprise) -> bool:
    """The province and the supervisor see every unit; a city only units of its own division."""
    if user.role in READERS:
        return True
    if user.role == "city":
        return enterprise is not None and enterprise.division_code == user.division_code
    return False


def can_see_division(user, division_code: str | None) -> bool:
    if user.role in READERS:
        return True
    return user.role == "city" and division_code == user.division_code


def refuse_object():
    abort(403, description=_l("这条记录不在您的管辖范围内。"))
