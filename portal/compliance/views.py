"""The public compliance lists (履约名单): the periods, one period's list, and its download."""

from __future__ import annotations

from flask import request, url_for
from flask_babel import gettext as _

from portal.compliance import bp, services
from portal.compliance.forms import ComplianceFilterForm
from portal.compliance.labels import COMPLIANCE_LEGEND, COMPLIANCE_STATUS
from portal.lists import csv_response, render_list
from portal.web import render

LABELS = {"compliance_status": COMPLIANCE_STATUS}


@bp.get("/compliance")
def index():
    periods = services.published_periods()
    counts = {p.year: services.period_status_counts(p.year) for p in periods}
    return render(
        "compliance/index.html",
        periods=periods,
        counts=counts,
        labels=LABELS,
        legend=COMPLIANCE_LEGEND,
        breadcrumbs=[(_("履约名单"), None)],
    )


@bp.get("/compliance/<int:year>")
def period(year: int):
    shown = services.get_published_period_or_404(year)
    form = ComplianceFilterForm(request.args)
    return render_list(
        form,
        lambda filters: services.compliance_query(year, filters),
        "compliance/period.html",
        "compliance/_results.html",
        labels=LABELS,
        period=shown,
        periods=services.published_periods(),
        counts=services.period_status_counts(year),
        legend=COMPLIANCE_LEGEND,
        breadcrumbs=[
            (_("履约名单"), url_for(".index")),
            (_("%(year)s 年度", year=year), None),
        ],
    )


COMPLIANCE_EXPORT = (
    [
        "统一社会信用代码",
        "单位名称",
        "地区代码",
        "行业",
        "履约期",
        "交易品种",
        "配额",
        "买入",
        "卖出",
        "收回",
        "持有量",
        "实际用能量",
        "履约状态",
        "缺口量",
        "整改期限",
    ],
    lambda r: [
        r.enterprise.uscc,
        r.enterprise.name,
        r.enterprise.division_code,
        r.enterprise.industry_code,
        r.period_year,
        r.variety_code,
        r.quota,
        r.bought,
        r.sold,
        r.taken_back,
        r.holdings,
        "" if r.actual is None else r.actual,
        r.status,
        "" if r.shortfall is None else r.shortfall,
        r.rectify_by or "",
    ],
)


@bp.get("/compliance/<int:year>/export.csv")
def export_csv(year: int):
    services.get_published_period_or_404(year)
    form = ComplianceFilterForm(request.args)
    if not form.validate():
        return period(year)
    stmt, _count = services.compliance_query(year, form.data)
    header, row = COMPLIANCE_EXPORT
    return csv_response(stmt, header, row, f"compliance-{year}.csv")
