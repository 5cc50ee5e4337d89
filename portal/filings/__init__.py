"""Filings (申报): voluntary participation, retrofit and closure claims, compliance, 两高 purchases."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from portal.access import ROLE_LABELS
from portal.filings import construction, services, workflow
from portal.i18n import lazy_gettext as _l

bp = Blueprint(
    "filings", __name__, url_prefix="/filings", static_folder="static", static_url_path="/static"
)
# The enterprise's home at /accounts/ (filings/dashboard.py).
home_bp = Blueprint("enterprise", __name__, url_prefix="/accounts")

KIND_LABELS = {
    "voluntary": _l("自愿参与申请"),
    "retrofit": _l("节能改造节能量申报"),
    "closure": _l("关停指标申报"),
    "compliance": _l("履约申报"),
    "purchase": _l("两高项目用能权申购"),
}
KIND_HELP = {
    "voluntary": _l("自愿承担履约义务、参与用能权交易。已纳入碳排放权交易的单位不能申请。"),
    "retrofit": _l("节能改造形成的节能量，经第三方机构审核、市级确权、省级登记后成为指标。"),
    "closure": _l("主动关停设施，按关停前一年的能耗或煤耗核定指标。统调燃煤机组除外。"),
    "compliance": _l("报送履约期内经核查的实际能耗和煤耗，系统计算与持有量的差额。"),
    "purchase": _l("新建、扩建“两高”项目按行业能效标杆值 × 设计产能申购用能权。"),
}


def init_app(app):
    app.jinja_env.globals.update(
        status_label=lambda code: workflow.STATUS_LABELS.get(code, code),
        action_label=lambda code: workflow.ACTION_LABELS.get(code, code),
        role_label=lambda code: ROLE_LABELS.get(code, code),
        kind_label=lambda code: KIND_LABELS.get(code, code),
        kind_help=lambda code: KIND_HELP.get(code, ""),
        purpose_label=services.purpose_label,
        visible_attachments=_visible_attachments,
        construction_of=_construction_of,
    )


def _construction_of(filing) -> list:
    """A granted 两高 purchase's start obligations, for its page (construction.ObligationView)."""
    if filing.kind != "purchase" or filing.granted_on is None:
        return []
    return construction.obligations_of(filing.enterprise_id, source_id=filing.number)


def _visible_attachments(filing) -> list:
    """The filing's files the current user may see (workflow.can_see_attachment decides)."""
    return workflow.visible_attachments(current_user, filing)


# The views attach to bp; todo adds the filings to the dashboard's 待办.
from portal.filings import construction_views, dashboard, todo, views  # noqa: E402,F401
