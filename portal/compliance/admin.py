"""Compliance administration (/admin/compliance): open a period, record each unit's status,
publish the list for 公示, correct it, and export it."""

from __future__ import annotations

from flask import Response, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from portal.access import COMPLIANCE_OFFICERS, READERS, role_required
from portal.compliance import admin_bp as bp
from portal.compliance import exports
from portal.compliance import services as compliance
from portal.compliance.forms import PeriodForm, RecordStatusForm, RepublishForm
from portal.compliance.labels import COMPLIANCE_STATUS
from portal.compliance.models import CompliancePeriod
from portal.exports import about_rows, xlsx_response
from portal.extensions import db
from portal.forms import ConfirmForm
from portal.publicity.services import notice_for_subject
from portal.web import redirect_after_post, render


def _period_or_404(year: int):
    period = db.session.get(CompliancePeriod, year)
    if period is None:
        abort(404, description=_("该履约年度尚未开启。"))
    return period


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
    response = render(
        "compliance/admin_periods.html",
        form=form,
        periods=periods,
        is_final=compliance.is_final,
        breadcrumbs=[(_("后台"), url_for("review.index")), (_("履约管理"), None)],
    )
    if form.errors:
        response.status_code = 400
    return response


def _status_choices():
    return [SelectChoice(code, label) for code, label in COMPLIANCE_STATUS.items()]


@bp.get("/compliance/<int:year>")
@role_required(READERS)
def period(year: int):
    period = _period_or_404(year)
    return _render_period(period)


def _render_period(period, status_form=None, status: int = 200):
    form = status_form or RecordStatusForm()
    form.status.choices = _status_choices()
    response = render(
        "compliance/admin_period.html",
        period=period,
        rows=compliance.period_overview(period.year),
        form=form,
        status_choices=_status_choices(),
        labels=COMPLIANCE_STATUS,
        notice=notice_for_subject("compliance_period", period.year),
        confirm=ConfirmForm(),
        republish=RepublishForm(),
        final=compliance.is_final(period.year),
        breadcrumbs=[
            (_("后台"), url_for("review.index")),
            (_("履约管理"), url_for(".periods")),
            (_("%(year)s 年度", year=period.year), None),
        ],
    )
    response.status_code = status
    return response


@bp.post("/compliance/<int:year>/records")
@role_required(COMPLIANCE_OFFICERS)
def record(year: int):
    period = _period_or_404(year)
    form = RecordStatusForm()
    form.status.choices = _status_choices()
    if form.validate_on_submit():
        try:
            compliance.record_status(
                year,
                int(form.enterprise_id.data),
                form.variety_code.data,
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
        else:
            db.session.commit()
            flash(_("履约状态已记录。"), "success")
            return redirect_after_post(url_for(".period", year=year))
    flash(
        _(
            "未能记录：%(problems)s",
            problems="；".join(e for errs in form.errors.values() for e in errs),
        ),
        "error",
    )
    return _render_period(period, form, 400)


@bp.post("/compliance/<int:year>/publish")
@role_required(COMPLIANCE_OFFICERS)
def publish(year: int):
    _period_or_404(year)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        notice = compliance.publish_list(year, actor=current_user)
    except compliance.ComplianceError as error:
        db.session.rollback()
        messages = {
            "empty": _("还没有任何履约记录，不能发布名单。"),
            "published": _("该年度名单已经在公示中或已公示完毕。"),
        }
        flash(messages.get(error.code, _("不能发布。")), "error")
        return redirect_after_post(url_for(".period", year=year))
    db.session.commit()
    flash(_("履约名单已发布公示，公示期满后自动生效。"), "success")
    return redirect_after_post(url_for(".period", year=int(notice.subject_id)))


@bp.get("/compliance/<int:year>/non-compliant.<fmt>")
@role_required(READERS)
def export_non_compliant(year: int, fmt: str):
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


@bp.post("/compliance/<int:year>/republish")
@role_required(COMPLIANCE_OFFICERS)
def republish(year: int):
    _period_or_404(year)
    form = RepublishForm()
    if not form.validate_on_submit():
        flash(_("请填写更正原因。"), "error")
        return redirect_after_post(url_for(".period", year=year))
    try:
        compliance.republish_list(year, form.reason.data, actor=current_user)
    except compliance.ComplianceError as error:
        db.session.rollback()
        messages = {
            "not_published": _("该年度名单尚未发布，请先发布。"),
            "unchanged": _("名单内容没有变化，无需更正。"),
        }
        flash(messages.get(error.code, _("不能更正。")), "error")
        return redirect_after_post(url_for(".period", year=year))
    db.session.commit()
    flash(_("已更正并重新发布，原名单保留在修改记录中。"), "success")
    return redirect_after_post(url_for(".period", year=year))
