"""Who may do what, in one place: the roles, the named role groups, the page decorator, the
object rules that depend only on role and division, and the back-office menu built from them.

    from portal.access import QUEUE, role_required

    @bp.get("/admin/queue")
    @role_required(QUEUE)          # signed in (second factor passed) with a role of the group
    def queue(): ...

A base layer: it imports no feature package (tests/test_import_graph.py). What needs the accounts
models stays in `portal/accounts/access.py`: the second-factor gate before every request, the
pending (password-only) user, and `enterprise_required`. That package also tells Flask-Login where
to send a visitor who must sign in (`login_manager.unauthorized_handler`), which `role_required`
uses. Who may read a filing is `filings.workflow.can_see_filing()`, which uses these groups.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import wraps

from flask import abort, session
from flask_login import current_user

from portal.extensions import login_manager
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l

# ---------------------------------------------------------------- roles and groups
# docs/decisions.md, "Who does what". Each group is a frozenset of role names.

ROLES = ("enterprise", "auditor", "city", "province", "editor", "supervisor")
ROLE_LABELS = {
    "enterprise": _l("企业"),
    "auditor": _l("第三方审核机构"),
    "city": _l("市级节能主管部门"),
    "province": _l("省级节能主管部门"),
    "editor": _l("信息发布"),
    "supervisor": _l("监督"),
}
# Every role but the enterprise: the back office, which must pass a second factor (等保 2.0).
BACK_OFFICE = frozenset(ROLES) - {"enterprise"}
# Take the review steps on a filing (the enterprise is told of their decisions).
REVIEWERS = frozenset({"auditor", "city", "province"})
# Open the review queue and read a submitted filing: the reviewers and the read-only supervisor.
QUEUE = REVIEWERS | {"supervisor"}
# See every unit and the province-wide pages (compliance periods); a city sees its division only.
READERS = frozenset({"province", "supervisor"})
# The government authorities of a division: assign auditors, record construction starts.
AUTHORITIES = frozenset({"city", "province"})
# Answer objections to a 公示 (and see who objected).
OBJECTION_HANDLERS = AUTHORITIES
# Read the objections: those who answer, the supervisor, and the editors who publish the 公示.
OBJECTION_READERS = OBJECTION_HANDLERS | {"supervisor", "editor"}
# Read the register of energy-use rights and the construction ledger.
LEDGER = frozenset({"province", "supervisor", "city"})
# Write and publish announcements.
EDITORS = frozenset({"editor", "province"})
# Record and publish compliance results.
COMPLIANCE_OFFICERS = frozenset({"province"})
# Enter listings and trades.
MARKET_CLERKS = frozenset({"province"})
# Add values to the energy-efficiency benchmark table behind 两高 purchases.
BENCHMARK_KEEPERS = frozenset({"province"})
# Make and correct entries in the register.
REGISTRARS = frozenset({"province"})
# Add reference prices, and record the trading platform's receipts of payment notices (有偿使用).
PRICE_SETTERS = frozenset({"province"})
PAYMENT_CLERKS = frozenset({"province"})
# Buy back (收储) or release the indicators a closure or retrofit freed: the city of the unit.
RESERVE_DECIDERS = frozenset({"city"})
RESERVE_READERS = RESERVE_DECIDERS | READERS
# Withdraw a published 公示 notice.
NOTICE_WITHDRAWERS = frozenset({"province"})
# Manage back-office accounts.
USER_ADMINS = frozenset({"province"})
# Read the audit log.
AUDIT_READERS = frozenset({"supervisor"})
# Decide who may act for an enterprise (身份核验): the city of the unit's division.
IDENTITY_REVIEWERS = frozenset({"city"})
# Read identity applications and their evidence: the deciders, the province and the supervisor.
IDENTITY_READERS = IDENTITY_REVIEWERS | READERS

# ---------------------------------------------------------------- the back-office menu
# (endpoint, label, group): a link shows to the roles of the group, the same group its view requires.
BACK_OFFICE_MENU = (
    ("review.index", _l("后台首页"), BACK_OFFICE),
    ("review.queue", _l("待办审核"), QUEUE),
    ("registry.index", _l("注册登记簿"), LEDGER),
    ("review.construction_reports", _l("开工报告"), LEDGER),
    ("compliance_admin.periods", _l("履约管理"), READERS),
    ("disclosure_admin.market", _l("挂牌与成交录入"), MARKET_CLERKS),
    ("prices_admin.payments", _l("缴款通知"), READERS),
    ("prices_admin.prices", _l("参考价格"), READERS),
    ("prices_admin.reserve", _l("指标收储"), RESERVE_READERS),
    ("benchmarks_admin.index", _l("能效标杆值"), READERS),
    ("publicity.objections", _l("公示异议"), OBJECTION_READERS),
    ("editorial.index", _l("公告编辑"), EDITORS),
    ("accounts_admin.identities", _l("身份核验"), IDENTITY_READERS),
    ("accounts_admin.users", _l("后台用户"), USER_ADMINS),
    ("audit.search", _l("审计日志"), AUDIT_READERS),
)


def back_office_menu(user) -> list[tuple[str, str]]:
    """The (endpoint, label) links of the back-office menu this user may use."""
    if not getattr(user, "is_authenticated", False):
        return []
    return [(endpoint, label) for endpoint, label, group in BACK_OFFICE_MENU if user.role in group]


# ---------------------------------------------------------------- the second factor

TOTP_SESSION_KEY = "totp_ok"


def second_factor_ok(user) -> bool:
    """True when the user has TOTP and passed it in this session."""
    return user.totp_enabled_at is not None and bool(session.get(TOTP_SESSION_KEY))


def owes_second_factor(user) -> bool:
    """A signed-in user who must pass TOTP this session and has not (yet, or ever enrolled):
    every back-office user, and anyone else who enrolled."""
    if not getattr(user, "is_authenticated", False):
        return False
    if not (user.role in BACK_OFFICE or user.totp_enabled_at is not None):
        return False
    return not second_factor_ok(user)


def signed_in() -> bool:
    """Signed in, second factor included (the accounts gate has already made a user who owes it
    anonymous; this asks again so that no page relies on the gate alone)."""
    return current_user.is_authenticated and not owes_second_factor(current_user)


# ---------------------------------------------------------------- the page decorator


def _flatten(roles: Iterable[str | Iterable[str]]) -> frozenset[str]:
    names: set[str] = set()
    for item in roles:
        names.update((item,) if isinstance(item, str) else item)
    unknown = names - set(ROLES)
    if unknown or not names:
        raise ValueError(f"unknown roles: {sorted(unknown)}")
    return frozenset(names)


def role_required(*roles: str | Iterable[str]):
    """Let in a signed-in user (second factor passed) whose role is one of `roles`: role names,
    groups, or both. Anyone else signs in first (Flask-Login's unauthorized handler); a signed-in
    user of another role gets a 403."""
    allowed = _flatten(roles)

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not signed_in():
                return login_manager.unauthorized()
            if current_user.role not in allowed:
                abort(403, description=_("您的账号没有访问此页面的权限。"))
            return view(*args, **kwargs)

        wrapper.allowed_roles = allowed
        return wrapper

    return decorator


# ---------------------------------------------------------------- objects: role and division


def can_see_enterprise(user, enterprise) -> bool:
    """The province and the supervisor see every unit; a city only units of its own division."""
    if user.role in READERS:
        return True
    if user.role == "city":
        return enterprise is not None and enterprise.division_code == user.division_code
    return False


def can_see_division(user, division_code: str | None) -> bool:
    """The province and the supervisor see every division; a city only its own."""
    if user.role in READERS:
        return True
    return user.role == "city" and division_code == user.division_code


def can_decide_identity(user, division_code: str | None) -> bool:
    """Approve or refuse an identity application: only the city of the unit's division."""
    return user.role in IDENTITY_REVIEWERS and can_see_division(user, division_code)


# ---------------------------------------------------------------- enterprises: who acts for one


def acts_for(user, enterprise) -> bool:
    """Whether `user` may act for `enterprise` (an Enterprise or its id) and see its private data:
    holdings, filings, colleagues, notices.

    Only an active enterprise account whose identity was approved belongs to a unit: the city
    approves an identity application (accounts.identity.decide_application), or an approved
    administrator admits a colleague (invitation, access request). Those are the only places that
    set `user.enterprise_id`; an account that registered, or whose application waits or was
    refused, belongs to no unit and so acts for none.
    """
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    if user.role != "enterprise" or enterprise is None:
        return False
    enterprise_id = getattr(enterprise, "id", enterprise)
    return user.enterprise_id is not None and user.enterprise_id == enterprise_id


def administers(user, enterprise) -> bool:
    """Whether `user` is an administrator of `enterprise`: manages colleagues and access requests."""
    return acts_for(user, enterprise) and bool(user.is_enterprise_admin)


def refuse_object():
    """Answer 403 for an object outside the user's jurisdiction."""
    abort(403, description=_l("这条记录不在您的管辖范围内。"))
