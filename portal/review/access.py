"""Back-office access, in one place: who may open a page, and which objects a user may see.

Each view asks `require_role(...)` for the page and one of the `can_*` rules (through a
get_<thing>_or_404) for each object. A city reviewer sees only enterprises of its own division; the
province and the supervisor see all; an auditor sees only what is assigned to its firm.
"""

from __future__ import annotations

from flask import abort
from flask_babel import lazy_gettext as _l

from portal.accounts.access import login_required_role
from portal.accounts.access import second_factor_ok as accounts_second_factor_ok

# Who may do what in the back office (docs/decisions.md, "Who does what"): the city authority, the
# province and the third-party auditor review filings; the province and the read-only supervisor see
# every unit, a city only the units of its own division.
REVIEWERS = ("city", "province", "auditor")
READERS = ("province", "supervisor")


def second_factor_ok(user) -> bool:
    """True when the user has TOTP and passed it in this session (accounts decides)."""
    return accounts_second_factor_ok(user)


def require_role(*roles: str):
    """Let a signed-in user with one of `roles` in; the accounts package decides login and TOTP."""
    return login_required_role(*roles)


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
