"""The public compliance lists (履约名单): the periods, one period's list, and its download."""

from __future__ import annotations

from flask import request, url_for

from portal.compliance import bp, credit_services, exports, services
from portal.compliance.forms import ComplianceFilterForm, ExposureFilterForm
from portal.compliance.labels import COMPLIANCE_LEGEND, COMPLIANCE_STATUS
from portal.exports import download
from portal.i18n import gettext as _
from portal.lists import render_list
from portal.urls import public_url
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
    counts = services.period_status_counts(year)
    return render_list(
        form,
        lambda filters: services.compliance_query(year, filters),
        "compliance/period.html",
        "compliance/_results.html",
        total=lambda filters: services.period_total(counts, filters),
        labels=LABELS,
        period=shown,
        periods=services.published_periods(),
        counts=counts,
        legend=COMPLIANCE_LEGEND,
        breadcrumbs=[
            (_("履约名单"), url_for(".index")),
            (_("%(year)s 年度", year=year), None),
        ],
    )


def _export(year: int, file_format: str):
    services.get_published_period_or_404(year)
    form = ComplianceFilterForm(request.args)
    if not form.validate():
        return period(year)
    stmt, _count = services.compliance_query(year, form.data, with_unit=True)
    stmt = stmt.options(*exports.LOADS)
    page_url = public_url("compliance.period", year=year, **form.active)
    return download(
        exports.COMPLIANCE_RECORDS, form, stmt, file_format, f"compliance-{year}", page_url
    )


@bp.get("/compliance/<int:year>/export.csv")
def export_csv(year: int):
    return _export(year, "csv")


@bp.get("/compliance/<int:year>/export.xlsx")
def export_xlsx(year: int):
    return _export(year, "xlsx")


# ---- 曝光: units that failed to comply, or falsified data in trading, once the province confirms


@bp.get("/compliance/exposure")
def exposure():
    form = ExposureFilterForm(request.args)
    return render_list(
        form,
        credit_services.public_exposure_query,
        "compliance/exposure.html",
        "compliance/_exposure_results.html",
        reasons=exports.EXPOSURE_REASONS,
        breadcrumbs=[(_("履约名单"), url_for(".index")), (_("曝光名单"), None)],
    )


def _exposure_export(file_format: str):
    form = ExposureFilterForm(request.args)
    if not form.validate():
        return exposure()
    stmt, _count = credit_services.public_exposure_query(form.data)
    page_url = public_url("compliance.exposure", **form.active)
    return download(exports.EXPOSURES, form, stmt, file_format, "exposure", page_url)


@bp.get("/compliance/exposure.csv")
def exposure_csv():
    return _exposure_export("csv")


@bp.get("/compliance/exposure.xlsx")
def exposure_xlsx():
    return _exposure_export("xlsx")
