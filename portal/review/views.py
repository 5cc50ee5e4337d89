"""Back-office pages: thin views over review/services.py, review/compliance.py and friends."""

from __future__ import annotations

from flask import Response, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from portal.access import (
    AUTHORITIES,
    BACK_OFFICE,
    COMPLIANCE_OFFICERS,
    QUEUE,
    READERS,
    REVIEWERS,
    role_required,
)
from portal.accounts.models import AuditFirm
from portal.disclosure.labels import COMPLIANCE_STATUS
from portal.disclosure.models import CompliancePeriod
from portal.extensions import db
from portal.filings import workflow
from portal.filings.models import KINDS, Filing
from portal.forms import whole_number
from portal.publicity.services import notice_for_subject
from portal.review import bp, compliance, services
from portal.review.forms import (
    ActionForm,
    AssignAuditorForm,
    ConfirmForm,
    PeriodForm,
    QueueFilterForm,
    RecordStatusForm,
    RepublishForm,
)
from portal.uploads import UploadRefused, check_upload
from portal.web import paginate, parse_int, redirect_after_post, render


def _workflow():
    return workflow


def get_filing_or_404(filing_id: int, for_user):
    """Load a filing the user may see: a city its division, an auditor its assigned claims."""
    filing = db.session.get(Filing, filing_id)
    if filing is None:
        abort(404, description=_("该申报不存在。"))
    if not services.can_see_filing(for_user, filing):
        abort(403, description=_("这份申报不在您的办理范围内。"))
    return filing


def _kind_choices():
    return [SelectChoice("", _("全部类型"))] + [
        SelectChoice(kind, services.KIND_TITLES[kind]) for kind in KINDS
    ]


@bp.get("/")
@role_required(BACK_OFFICE)
def index():
    """The back-office start page: what waits for this user."""
    waiting = services.waiting_count(current_user) if current_user.role in REVIEWERS else None
    return render("review/home.html", waiting=waiting, breadcrumbs=[(_("后台"), None)])


@bp.get("/queue")
@role_required(QUEUE)
def queue():
    form = QueueFilterForm(request.args)
    form.kind.choices = _kind_choices()
    form.validate()
    stmt, count = services.queue_query(
        current_user, kind=form.kind.data or None, overdue_only=bool(form.overdue.data)
    )
    page = paginate(db.session, stmt, count, parse_int(request.args.get("page")))
    return render(
        "review/queue.html",
        "review/_queue_rows.html",
        form=form,
        page=page,
        age_of=services.age_of,
        workflow=_workflow(),
        kinds=services.KIND_TITLES,
        overdue_days=services.OVERDUE_DAYS,
        breadcrumbs=[(_("后台"), url_for(".index")), (_("待办审核"), None)],
    )


def _action_form(filing, data=None):
    form = ActionForm(data) if data is not None else ActionForm()
    workflow = _workflow()
    steps = services.manual_steps(filing, current_user)
    form.action.choices = [
        SelectChoice(step.action, workflow.ACTION_LABELS.get(step.action, step.action))
        for step in steps
    ]
    if not form.version.data:
        form.version.data = str(filing.version)
    return form, steps


def _assign_form(filing):
    if not services.can_assign_auditor(current_user, filing):
        return None
    form = AssignAuditorForm()
    firms = db.session.scalars(
        select(AuditFirm).where(AuditFirm.is_approved.is_(True)).order_by(AuditFirm.name)
    )
    form.audit_firm_id.choices = [SelectChoice(str(f.id), f.name) for f in firms]
    if filing.audit_firm_id and not form.audit_firm_id.data:
        form.audit_firm_id.data = str(filing.audit_firm_id)
    return form


def _render_filing(filing, form, steps, status: int = 200, assign=None):
    response = render(
        "review/filing.html",
        filing=filing,
        form=form,
        steps=steps,
        workflow=_workflow(),
        age=services.age_of(filing),
        kinds=services.KIND_TITLES,
        notice=notice_for_subject("filing", filing.id),
        assign=assign or _assign_form(filing),
        breadcrumbs=[
            (_("后台"), url_for(".index")),
            *([(_("待办审核"), url_for(".queue"))] if current_user.role in REVIEWERS else []),
            (filing.number, None),
        ],
    )
    response.status_code = status
    return response


@bp.get("/filings/<int:filing_id>")
@role_required(QUEUE)
def filing(filing_id: int):
    found = get_filing_or_404(filing_id, for_user=current_user)
    form, steps = _action_form(found)
    return _render_filing(found, form, steps)


@bp.post("/filings/<int:filing_id>/act")
@role_required(REVIEWERS)
def act(filing_id: int):
    found = get_filing_or_404(filing_id, for_user=current_user)
    workflow = _workflow()
    form, steps = _action_form(found, request.form | request.files)
    if not form.validate_on_submit():
        return _render_filing(found, form, steps, 400)
    report = None
    if form.action.data == "audit_savings" and request.files.get("report"):
        try:
            report = check_upload(request.files["report"])
        except UploadRefused as refused:
            form.report.errors = [refused.message]
            return _render_filing(found, form, steps, 400)
    try:
        step = services.act_on_filing(
            found,
            form.action.data,
            current_user,
            form.remark.data,
            whole_number(form.version.data),
            verified_energy=form.verified_energy.data,
            verified_coal=form.verified_coal.data,
            report=report,
        )
    except workflow.Conflict as conflict:
        db.session.rollback()
        found = get_filing_or_404(filing_id, for_user=current_user)
        form, steps = _action_form(found)
        flash(str(conflict.message), "error")
        return _render_filing(found, form, steps, 409)
    except services.ReviewError as error:
        db.session.rollback()
        found = get_filing_or_404(filing_id, for_user=current_user)
        form, steps = _action_form(found, request.form | request.files)
        getattr(form, error.field, form.remark).errors = [error.message]
        return _render_filing(found, form, steps, 400)
    except workflow.TransitionError as refused:
        db.session.rollback()
        found = get_filing_or_404(filing_id, for_user=current_user)
        form, steps = _action_form(found, request.form | request.files)
        form.action.errors = [str(refused.message)]
        return _render_filing(found, form, steps, 400)
    db.session.commit()
    flash(
        _("已办理：%(action)s。", action=workflow.ACTION_LABELS.get(step.action, step.action)),
        "success",
    )
    return redirect_after_post(url_for(".queue"))


# --- compliance administration ------------------------------------------------------------------


def _period_or_404(year: int):
    period = db.session.get(CompliancePeriod, year)
    if period is None:
        abort(404, description=_("该履约年度尚未开启。"))
    return period


@bp.route("/compliance", methods=["GET", "POST"])
@role_required(READERS)
def compliance_periods():
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
                return redirect_after_post(url_for(".compliance_period", year=form.year.data))
    periods = list(
        db.session.scalars(select(CompliancePeriod).order_by(CompliancePeriod.year.desc()))
    )
    response = render(
        "review/compliance_periods.html",
        form=form,
        periods=periods,
        is_final=compliance.is_final,
        breadcrumbs=[(_("后台"), url_for(".index")), (_("履约管理"), None)],
    )
    if form.errors:
        response.status_code = 400
    return response


def _status_choices():
    return [SelectChoice(code, label) for code, label in COMPLIANCE_STATUS.items()]


@bp.get("/compliance/<int:year>")
@role_required(READERS)
def compliance_period(year: int):
    period = _period_or_404(year)
    return _render_period(period)


def _render_period(period, status_form=None, status: int = 200):
    form = status_form or RecordStatusForm()
    form.status.choices = _status_choices()
    response = render(
        "review/compliance_period.html",
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
            (_("后台"), url_for(".index")),
            (_("履约管理"), url_for(".compliance_periods")),
            (_("%(year)s 年度", year=period.year), None),
        ],
    )
    response.status_code = status
    return response


@bp.post("/compliance/<int:year>/records")
@role_required(COMPLIANCE_OFFICERS)
def record_compliance(year: int):
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
            else:
                form.status.errors = [_("状态代码无效。")]
        else:
            db.session.commit()
            flash(_("履约状态已记录。"), "success")
            return redirect_after_post(url_for(".compliance_period", year=year))
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
def publish_compliance(year: int):
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
        return redirect_after_post(url_for(".compliance_period", year=year))
    db.session.commit()
    flash(_("履约名单已发布公示，公示期满后自动生效。"), "success")
    return redirect_after_post(url_for(".compliance_period", year=int(notice.subject_id)))


@bp.get("/compliance/<int:year>/non-compliant.<fmt>")
@role_required(READERS)
def export_non_compliant(year: int, fmt: str):
    _period_or_404(year)
    if fmt == "csv":
        body, mimetype = compliance.export_csv(year), "text/csv; charset=utf-8"
    elif fmt == "json":
        body, mimetype = compliance.export_json(year), "application/json"
    else:
        abort(404)
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="non-compliant-{year}.{fmt}"'},
    )


@bp.post("/compliance/<int:year>/republish")
@role_required(COMPLIANCE_OFFICERS)
def republish_compliance(year: int):
    _period_or_404(year)
    form = RepublishForm()
    if not form.validate_on_submit():
        flash(_("请填写更正原因。"), "error")
        return redirect_after_post(url_for(".compliance_period", year=year))
    try:
        compliance.republish_list(year, form.reason.data, actor=current_user)
    except compliance.ComplianceError as error:
        db.session.rollback()
        messages = {
            "not_published": _("该年度名单尚未发布，请先发布。"),
            "unchanged": _("名单内容没有变化，无需更正。"),
        }
        flash(messages.get(error.code, _("不能更正。")), "error")
        return redirect_after_post(url_for(".compliance_period", year=year))
    db.session.commit()
    flash(_("已更正并重新发布，原名单保留在修改记录中。"), "success")
    return redirect_after_post(url_for(".compliance_period", year=year))


@bp.post("/filings/<int:filing_id>/auditor")
@role_required(AUTHORITIES)
def assign_auditor(filing_id: int):
    found = get_filing_or_404(filing_id, for_user=current_user)
    workflow = _workflow()
    assign = _assign_form(found)
    if assign is None:
        abort(409, description=_("当前环节不能指定审核机构。"))
    if assign.validate_on_submit():
        version = request.form.get("version", "")
        try:
            services.assign_audit_firm(
                found,
                int(assign.audit_firm_id.data),
                current_user,
                assign.remark.data or "",
                whole_number(version),
            )
        except workflow.Conflict as conflict:
            db.session.rollback()
            flash(str(conflict.message), "error")
            return redirect_after_post(url_for(".filing", filing_id=filing_id))
        except services.ReviewError as error:
            db.session.rollback()
            found = get_filing_or_404(filing_id, for_user=current_user)
            assign = _assign_form(found)
            assign.audit_firm_id.errors = [error.message]
        else:
            db.session.commit()
            flash(_("已指定第三方审核机构。"), "success")
            return redirect_after_post(url_for(".filing", filing_id=filing_id))
    form, steps = _action_form(found)
    return _render_filing(found, form, steps, 400, assign=assign)
