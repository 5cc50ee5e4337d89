"""Back-office pages: thin views over review/services.py, review/compliance.py and friends."""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from portal.access import (
    AUTHORITIES,
    BACK_OFFICE,
    QUEUE,
    REVIEWERS,
    role_required,
)
from portal.accounts.models import AuditFirm
from portal.extensions import db
from portal.filings import workflow
from portal.filings.models import KINDS, Filing
from portal.forms import whole_number
from portal.publicity.services import notice_for_subject
from portal.review import bp, services
from portal.review.forms import ActionForm, AssignAuditorForm, QueueFilterForm
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
