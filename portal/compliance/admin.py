"""Compliance administration (/admin/compliance): open a period, list its units page by page,
record each unit's status, publish the list for 公示 after a preview, correct it, export it for
the credit platform, and keep the exposure (曝光) list."""

from __future__ import annotations

import io

from flask import Response, abort, flash, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from portal.access import COMPLIANCE_OFFICERS, READERS, role_required
from portal.compliance import admin_bp as bp
from portal.compliance import admin_queries, credit_services, exports
from portal.compliance import services as compliance
from portal.compliance.admin_forms import (
    CreditExportForm,
    ExposureForm,
    UnitFilterForm,
    WithdrawExposureForm,
)
from portal.compliance.credit import CreditExport, ExposureEntry
from portal.compliance.forms import PeriodForm, RecordStatusForm, RepublishForm, UnitStatusForm
from portal.compliance.labels import COMPLIANCE_STATUS
from portal.compliance.models import CompliancePeriod
from portal.enterprises.models import Enterprise
from portal.exports import XLSX_MIMETYPE, about_rows, xlsx_response
from portal.extensions import db
from portal.forms import ConfirmForm
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.publicity.services import notice_for_subject
from portal.urls import safe_next
from portal.web import paginate, parse_int, redirect_after_post, render

VARIETIES = admin_queries.VARIETIES


def _period_or_404(year: int):
    period = db.session.get(CompliancePeriod, year)
    if period is None:
        abort(404, description=_("该履约年度尚未开启。"))
    return period


def _breadcrumbs(period=None, *tail):
    crumbs = [(_("后台"), url_for("review.index")), (_("履约管理"), url_for(".periods"))]
    if period is not None:
        crumbs.append((_("%(year)s 年度", year=period.year), url_for(".period", year=period.year)))
    crumbs.extend(tail)
    crumbs[-1] = (crumbs[-1][0], None)
    return crumbs


@bp.route("/compliance", methods=["GET", "POST"])
@role_required(READERS)
def periods():
    form = PeriodForm()
    if request.method == "POST":
        if current_user.role != "province":
            abort(403, description=_("只有省级节能主管部门可以开启履约年度。"))
        if form.validate_on_submit():
            try:
                compliance.open_period(
                    form.year.data,
                    form.filing_deadline.data,
                    form.note.data or "",
                    actor=current_user,
                )
            except compliance.ComplianceError:
                form.year.errors.append(_("这个履约年度已经开启。"))
            else:
                db.session.commit()
                flash(_("已开启 %(year)s 年度履约。", year=form.year.data), "success")
                return redirect_after_post(url_for(".period", year=form.year.data))
    periods = list(
        db.session.scalars(select(CompliancePeriod).order_by(CompliancePeriod.year.desc()))
    )
    return render(
        "compliance/admin_periods.html",
        form=form,
        periods=periods,
        is_final=compliance.is_final,
        breadcrumbs=[(_("后台"), url_for("review.index")), (_("履约管理"), None)],
        status_code=400 if form.errors else 200,
    )


def _status_choices():
    return [SelectChoice(code, label) for code, label in COMPLIANCE_STATUS.items()]


# ---- One period: its units, page by page ------------------------------------------------------


@bp.get("/compliance/<int:year>")
@role_required(READERS)
def period(year: int):
    """The period's units, one row each, filtered and paged by keyset (no form per row: a row's
    action opens the unit's record, or loads its form in place with htmx)."""
    period = _period_or_404(year)
    form = UnitFilterForm(request.args)
    page, rows = None, []
    status = 200
    if form.validate():
        page = paginate(
            db.session,
            admin_queries.units_query(year, form.data),
            page=parse_int(request.args.get("page")),
            keyset=True,
            after=request.args.get("after"),
            before=request.args.get("before"),
        )
        rows = admin_queries.unit_rows(period, page.items)
    else:
        status = 400
    notice = notice_for_subject("compliance_period", period.year)
    return render(
        "compliance/admin_period.html",
        "compliance/_admin_units.html",
        period=period,
        form=form,
        page=page,
        rows=rows,
        labels=COMPLIANCE_STATUS,
        notice=notice,
        final=notice is not None and notice.status == "final",
        republish=RepublishForm(prefix="republish"),
        export_form=CreditExportForm(prefix="credit"),
        credit_exports=credit_services.credit_exports(year),
        breadcrumbs=_breadcrumbs(period),
        status_code=status,
    )


def _unit_or_404(year: int, enterprise_id: int) -> Enterprise:
    unit = db.session.get(Enterprise, enterprise_id)
    if unit is None or not admin_queries.unit_in_period(year, enterprise_id):
        abort(404, description=_("这个单位不在该履约年度的名单中。"))
    return unit


def _status_forms(row, prefix_only=None, posted=None) -> dict:
    """One form per variety of the unit, each with its own prefix (u<id>-<variety>-)."""
    forms = {}
    for cell in row.cells:
        prefix = f"u{row.enterprise.id}-{cell.variety_code}"
        if posted is not None and cell.variety_code == prefix_only:
            form = posted
        else:
            current = cell.record.status if cell.record else cell.suggested
            form = UnitStatusForm(
                formdata=None,
                prefix=prefix,
                status=current,
                actual=cell.record.actual
                if cell.record and cell.record.actual is not None
                else cell.actual,
                rectify_by=cell.record.rectify_by if cell.record else None,
            )
        form.status.choices = _status_choices()
        forms[cell.variety_code] = form
    return forms


def _render_unit(period, unit, posted=None, variety=None, status: int = 200):
    [row] = admin_queries.unit_rows(period, [unit])
    return render(
        "compliance/admin_unit.html",
        "compliance/_admin_unit_forms.html",
        period=period,
        row=row,
        forms=_status_forms(row, variety, posted),
        labels=COMPLIANCE_STATUS,
        back=safe_next(request.args.get("next"), url_for(".period", year=period.year)),
        breadcrumbs=_breadcrumbs(period, (unit.name, None)),
        status_code=status,
    )


def _recorded(form, year: int, enterprise_id: int, variety: str) -> bool:
    """Record the form's status and commit; on a refusal, the reason next to its field."""
    try:
        compliance.record_status(
            year,
            enterprise_id,
            variety,
            form.status.data,
            actual=form.actual.data,
            rectify_by=form.rectify_by.data,
            actor=current_user,
        )
    except compliance.ComplianceError as error:
        db.session.rollback()
        if error.code == "rectify_by":
            form.rectify_by.errors = [_("未履约单位必须给出限期履约日期。")]
        elif error.code == "no_obligation":
            form.status.errors = [_("该单位在本履约期没有履约义务，不能记录履约状态。")]
        else:
            form.status.errors = [_("状态代码无效。")]
        return False
    db.session.commit()
    return True


@bp.get("/compliance/<int:year>/units/<int:enterprise_id>")
@role_required(READERS)
def unit(year: int, enterprise_id: int):
    """One unit's record for the period: each variety's numbers and, for the province, its form;
    the forms alone when htmx loads them into the list."""
    period = _period_or_404(year)
    return _render_unit(period, _unit_or_404(year, enterprise_id))


@bp.post("/compliance/<int:year>/units/<int:enterprise_id>/<variety>")
@role_required(COMPLIANCE_OFFICERS)
def record_unit(year: int, enterprise_id: int, variety: str):
    period = _period_or_404(year)
    if variety not in VARIETIES:
        abort(404)
    unit = _unit_or_404(year, enterprise_id)
    form = UnitStatusForm(prefix=f"u{enterprise_id}-{variety}")
    form.status.choices = _status_choices()
    if form.validate_on_submit() and _recorded(form, year, enterprise_id, variety):
        flash(_("%(name)s 的履约状态已记录。", name=unit.name), "success")
        back = url_for(".unit", year=year, enterprise_id=enterprise_id)
        return redirect_after_post(safe_next(request.args.get("next"), back))
    return _render_unit(period, unit, form, variety, 400)


@bp.post("/compliance/<int:year>/records")
@role_required(COMPLIANCE_OFFICERS)
def record(year: int):
    """Record a status by unit id and variety in the form (for scripts; the pages use record_unit)."""
    _period_or_404(year)
    form = RecordStatusForm()
    form.status.choices = _status_choices()
    if form.validate_on_submit() and _recorded(
        form, year, int(form.enterprise_id.data), form.variety_code.data
    ):
        flash(_("履约状态已记录。"), "success")
        return redirect_after_post(url_for(".period", year=year))
    flash(
        _(
            "未能记录：%(problems)s",
            problems="；".join(e for errs in form.errors.values() for e in errs),
        ),
        "error",
    )
    response = period(year)
    response.status_code = 400
    return response


# ---- Publishing: preview, then a confirming POST ----------------------------------------------


@bp.get("/compliance/<int:year>/publish")
@role_required(COMPLIANCE_OFFICERS)
def publish_preview(year: int):
    """What publishing would make public: counts per status, the rows, and the changes from the
    list published last."""
    period = _period_or_404(year)
    preview = credit_services.preview_publication(year)
    return render(
        "compliance/admin_publish.html",
        period=period,
        preview=preview,
        labels=COMPLIANCE_STATUS,
        cells=credit_services.change_cells,
        confirm=ConfirmForm(prefix="publish"),
        republish=RepublishForm(prefix="republish"),
        breadcrumbs=_breadcrumbs(period, (_("发布预览"), None)),
    )


PUBLISH_REFUSALS = {
    "empty": _l("还没有任何履约记录，不能发布名单。"),
    "published": _l("该年度名单已经在公示中或已公示完毕。"),
    "not_published": _l("该年度名单尚未发布，请先发布。"),
    "unchanged": _l("名单内容没有变化，无需更正。"),
}


def _refused(year: int, error):
    """Publishing or correcting the list was refused: say why on the preview."""
    db.session.rollback()
    flash(str(PUBLISH_REFUSALS.get(error.code, _("不能发布或更正。"))), "error")
    return redirect_after_post(url_for(".publish_preview", year=year))


@bp.post("/compliance/<int:year>/publish")
@role_required(COMPLIANCE_OFFICERS)
def publish(year: int):
    _period_or_404(year)
    form = ConfirmForm(prefix="publish")
    if not form.validate_on_submit():
        abort(400)
    try:
        notice = compliance.publish_list(year, actor=current_user)
    except compliance.ComplianceError as error:
        return _refused(year, error)
    db.session.commit()
    flash(_("履约名单已发布公示，公示期满后自动生效。"), "success")
    return redirect_after_post(url_for(".period", year=int(notice.subject_id)))


@bp.post("/compliance/<int:year>/republish")
@role_required(COMPLIANCE_OFFICERS)
def republish(year: int):
    _period_or_404(year)
    form = RepublishForm(prefix="republish")
    if not form.validate_on_submit():
        flash(_("请填写更正原因。"), "error")
        return redirect_after_post(url_for(".publish_preview", year=year))
    try:
        compliance.republish_list(year, form.reason.data, actor=current_user)
    except compliance.ComplianceError as error:
        return _refused(year, error)
    db.session.commit()
    flash(_("已更正并重新发布，原名单保留在修改记录中。"), "success")
    return redirect_after_post(url_for(".period", year=year))


# ---- Exports ------------------------------------------------------------------------------------


@bp.get("/compliance/<int:year>/non-compliant.<fmt>")
@role_required(READERS)
def export_non_compliant(year: int, fmt: str):
    """The units that missed their obligation, with machine field names (an older interface;
    the credit platform gets every unit's status from credit_export)."""
    _period_or_404(year)
    if fmt == "csv":
        body, mimetype = compliance.export_csv(year), "text/csv; charset=utf-8"
    elif fmt == "json":
        body, mimetype = compliance.export_json(year), "application/json"
    elif fmt == "xlsx":
        dataset = exports.NON_COMPLIANT
        about = about_rows(dataset, [], url_for(".period", year=year, _external=True))
        rows = compliance.non_compliant_rows(year)
        filename = f"non-compliant-{year}.xlsx"
        return xlsx_response(dataset.columns, rows, filename, about, str(dataset.title))
    else:
        abort(404)
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="non-compliant-{year}.{fmt}"'},
    )


@bp.post("/compliance/<int:year>/credit-exports")
@role_required(COMPLIANCE_OFFICERS)
def credit_export(year: int):
    """Export every unit's status for the credit platform; the file is kept and listed."""
    _period_or_404(year)
    form = CreditExportForm(prefix="credit")
    if not form.validate_on_submit():
        flash(_("请选择文件格式后再导出。"), "error")
        return redirect_after_post(url_for(".period", year=year, _anchor="credit"))
    try:
        made = credit_services.create_credit_export(year, form.file_format.data, actor=current_user)
    except credit_services.CreditError as error:
        db.session.rollback()
        messages = {"empty": _("该年度还没有任何履约记录，没有可报送的内容。")}
        flash(messages.get(error.code, _("不能导出。")), "error")
        return redirect_after_post(url_for(".period", year=year, _anchor="credit"))
    db.session.commit()
    flash(
        _("已生成报送文件：%(rows)s 行，SHA-256 %(sha)s。", rows=made.row_count, sha=made.sha256),
        "success",
    )
    return redirect_after_post(url_for(".period", year=year, _anchor="credit"))


@bp.get("/compliance/<int:year>/credit-exports/<int:export_id>")
@role_required(COMPLIANCE_OFFICERS)
def credit_export_file(year: int, export_id: int):
    """The kept file of one export, byte for byte (its SHA-256 is on the list)."""
    made = db.session.get(CreditExport, export_id)
    if made is None or made.period_year != year:
        abort(404)
    mimetype = XLSX_MIMETYPE if made.file_format == "xlsx" else "text/csv"
    response = send_file(
        io.BytesIO(made.content),
        mimetype=mimetype,
        as_attachment=True,
        download_name=credit_services.export_file_name(made),
        max_age=0,
    )
    response.headers["Digest"] = f"sha-256={made.sha256}"
    return response


# ---- 曝光 ----------------------------------------------------------------------------------------


def _render_exposures(form=None, status: int = 200):
    form = form or ExposureForm(prefix="exposure")
    return render(
        "compliance/admin_exposure.html",
        form=form,
        entries=credit_services.admin_exposures(),
        reasons=exports.EXPOSURE_REASONS,
        withdraw_form=lambda entry: WithdrawExposureForm(prefix=f"withdraw-{entry.id}"),
        confirm_form=lambda entry: ConfirmForm(prefix=f"confirm-{entry.id}"),
        breadcrumbs=_breadcrumbs(None, (_("曝光名单"), None)),
        status_code=status,
    )


@bp.get("/compliance/exposure")
@role_required(READERS)
def exposures():
    return _render_exposures()


EXPOSURE_MESSAGES = {
    "uscc": ("uscc", "统一社会信用代码无效，请核对 18 位代码。"),
    "unknown_unit": ("uscc", "没有以此统一社会信用代码登记的单位。"),
    "period_year": ("period_year", "原因为未履约时须填写履约年度。"),
    "period_unpublished": ("period_year", "该年度的履约名单尚未公布，不能以未履约曝光。"),
    "not_non_compliant": ("period_year", "该单位在这一年度没有被记录为未履约。"),
    "trade_number": ("trade_number", "原因为交易数据造假时须填写成交编号。"),
    "unknown_trade": ("trade_number", "没有这个成交编号的成交记录。"),
    "detail": ("detail", "原因为交易数据造假时须写明事实。"),
    "reason": ("reason", "请选择曝光原因。"),
}


@bp.post("/compliance/exposure")
@role_required(COMPLIANCE_OFFICERS)
def propose_exposure():
    form = ExposureForm(prefix="exposure")
    if form.validate_on_submit():
        try:
            credit_services.propose_exposure(
                form.uscc.data,
                form.reason.data,
                form.exposed_on.data,
                period_year=form.period_year.data,
                trade_number=form.trade_number.data,
                detail=form.detail.data or "",
                actor=current_user,
            )
        except credit_services.CreditError as error:
            db.session.rollback()
            name, message = EXPOSURE_MESSAGES.get(error.code, ("reason", "不能提出曝光。"))
            form[name].errors = [_(message)]
        else:
            db.session.commit()
            flash(_("已提出曝光，确认后才会公开。"), "success")
            return redirect_after_post(url_for(".exposures"))
    return _render_exposures(form, 400)


def _entry_or_404(entry_id: int) -> ExposureEntry:
    entry = db.session.get(ExposureEntry, entry_id)
    if entry is None:
        abort(404)
    return entry


@bp.post("/compliance/exposure/<int:entry_id>/confirm")
@role_required(COMPLIANCE_OFFICERS)
def confirm_exposure(entry_id: int):
    entry = _entry_or_404(entry_id)
    form = ConfirmForm(prefix=f"confirm-{entry_id}")
    if not form.validate_on_submit():
        abort(400)
    try:
        credit_services.confirm_exposure(entry, actor=current_user)
    except credit_services.CreditError:
        db.session.rollback()
        flash(_("这条记录已确认或已撤销。"), "error")
        return redirect_after_post(url_for(".exposures"))
    db.session.commit()
    flash(_("已确认曝光，已在公开的曝光名单中显示。"), "success")
    return redirect_after_post(url_for(".exposures"))


@bp.post("/compliance/exposure/<int:entry_id>/withdraw")
@role_required(COMPLIANCE_OFFICERS)
def withdraw_exposure(entry_id: int):
    entry = _entry_or_404(entry_id)
    form = WithdrawExposureForm(prefix=f"withdraw-{entry_id}")
    if not form.validate_on_submit():
        flash(_("请填写撤销原因。"), "error")
        return redirect_after_post(url_for(".exposures"))
    try:
        credit_services.withdraw_exposure(entry, form.reason.data, actor=current_user)
    except credit_services.CreditError:
        db.session.rollback()
        flash(_("这条记录已经撤销。"), "error")
        return redirect_after_post(url_for(".exposures"))
    db.session.commit()
    flash(_("已撤销。"), "success")
    return redirect_after_post(url_for(".exposures"))
