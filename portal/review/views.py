"""Back-office pages: thin views over review/services.py, review/compliance.py and friends."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, flash, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from portal.access import (
    AUTHORITIES,
    BACK_OFFICE,
    QUEUE,
    REVIEWERS,
    ROLE_LABELS,
    role_required,
)
from portal.accounts.models import AuditFirm
from portal.exports import Column, csv_response, xlsx_response
from portal.extensions import db
from portal.filings import services as filings
from portal.filings import workflow
from portal.filings.models import KINDS, Filing, FilingAttachment
from portal.forms import whole_number
from portal.i18n import fmt_datetime, localized
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.lists import ALL
from portal.publicity.services import notice_for_subject
from portal.reference.services import divisions
from portal.review import bp, services
from portal.review.forms import (
    QUEUE_SORT_LABELS,
    ActionForm,
    AssignAuditorForm,
    CorrectionForm,
    QueueFilterForm,
)
from portal.uploads import UploadRefused, check_upload, send_stored
from portal.web import current_date, paginate, parse_int, redirect_after_post, render


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


@bp.get("/")
@role_required(BACK_OFFICE)
def index():
    """The back-office start page: what waits for this user."""
    waiting = services.waiting_count(current_user) if current_user.role in REVIEWERS else None
    return render("review/home.html", waiting=waiting, breadcrumbs=[(_("后台"), None)])


def _queue_form():
    """The queue's filters, validated; a city's queue is its own division, so it has no choice."""
    form = QueueFilterForm(request.args)
    form.kind.choices = [ALL] + [(kind, services.KIND_TITLES[kind]) for kind in KINDS]
    statuses = sorted(
        {status for kind in KINDS for status in services.queue_statuses(current_user, kind)}
    )
    form.status.choices = [ALL] + [
        (status, workflow.STATUS_LABELS.get(status, status)) for status in statuses
    ]
    form.division.choices = [ALL] + [(d.code, localized(d)) for d in divisions()]
    form.sort.choices = [("", QUEUE_SORT_LABELS["waiting"])] + [
        (key, label) for key, label in QUEUE_SORT_LABELS.items() if key != "waiting"
    ]
    valid = form.validate()
    return form, valid


def _queue_stmt(form):
    return services.queue_query(
        current_user,
        kind=form.kind.data or None,
        overdue_only=bool(form.overdue.data),
        status=form.status.data or None,
        division=(form.division.data or None) if current_user.role != "city" else None,
        sort=form.sort.data or None,
    )


def _queue_context(form):
    return {
        "form": form,
        "export_args": form.active | ({"sort": form.sort.data} if form.sort.data else {}),
        "age_of": services.age_of,
        "workflow": _workflow(),
        "kinds": services.KIND_TITLES,
        "working_days": services.working_days_table(),
        "role_labels": ROLE_LABELS,
        "show_division": current_user.role != "city",
        "breadcrumbs": [(_("后台"), url_for(".index")), (_("待办审核"), None)],
    }


@bp.get("/queue")
@role_required(QUEUE)
def queue():
    form, valid = _queue_form()
    if not valid:
        return render(
            "review/queue.html",
            "review/_queue_rows.html",
            page=None,
            **_queue_context(form),
            status_code=400,
        )
    stmt, count = _queue_stmt(form)
    page = paginate(db.session, stmt, count, parse_int(request.args.get("page")))
    return render("review/queue.html", "review/_queue_rows.html", page=page, **_queue_context(form))


QUEUE_COLUMNS = (
    Column("number", _l("编号"), lambda row, _n: row[0].number, "code"),
    Column("kind", _l("类型"), lambda row, _n: str(services.KIND_TITLES.get(row[0].kind, ""))),
    Column("enterprise", _l("单位"), lambda row, _n: row[0].enterprise.name),
    Column("uscc", _l("统一社会信用代码"), lambda row, _n: row[0].enterprise.uscc, "code"),
    Column("division", _l("地区代码"), lambda row, _n: row[0].division_code, "code"),
    Column(
        "status",
        _l("当前状态"),
        lambda row, _n: str(workflow.STATUS_LABELS.get(row[0].status, row[0].status)),
    ),
    Column(
        "waiting_role",
        _l("办理方"),
        lambda row, _n: str(ROLE_LABELS.get(row[1].deadline.role, "")) if row[1].deadline else "",
    ),
    Column(
        "since",
        _l("到达本环节"),
        lambda row, _n: row[1].deadline.since if row[1].deadline else None,
        "date",
    ),
    Column(
        "due",
        _l("办理期限"),
        lambda row, _n: row[1].deadline.due if row[1].deadline else None,
        "date",
    ),
    Column(
        "overdue",
        _l("是否超期"),
        lambda row, _n: _("超期") if row[1].overdue else _("未超期"),
    ),
)


@bp.get("/queue/export.<any(csv, xlsx):file_format>")
@role_required(QUEUE)
def queue_export(file_format: str):
    """The queue as filtered and sorted on the page, as CSV or XLSX (for the back office only)."""
    form, valid = _queue_form()
    if not valid:
        abort(400, description=_("筛选条件有误，请返回待办列表修改。"))
    stmt, _count = _queue_stmt(form)
    # Read in full before the response: a queue is at most a few thousand filings, and nothing
    # touches the database while the CSV streams (its session stays closed after the request).
    stmt = stmt.options(selectinload(Filing.enterprise), selectinload(Filing.events))
    rows = [(f, services.age_of(f)) for f in db.session.scalars(stmt)]
    filename = f"queue-{current_date().isoformat()}"
    if file_format == "csv":
        return csv_response(QUEUE_COLUMNS, rows, f"{filename}.csv")
    about = [
        (_l("数据集"), _l("待办审核")),
        (_l("筛选条件"), "；".join(f"{k}：{v}" for k, v in form.described()) or _l("无")),
        (_l("排序"), form.sort_described() or QUEUE_SORT_LABELS["waiting"]),
        (_l("导出时间"), fmt_datetime(datetime.now(UTC), "yyyy-MM-dd HH:mm:ss xxx")),
        (_l("导出人"), current_user.name),
        (_l("说明"), _l("后台内部数据，不得公开。")),
    ]
    return xlsx_response(QUEUE_COLUMNS, rows, f"{filename}.xlsx", about, str(_("待办审核")))


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


def _correction_form(filing, data=None):
    if not services.can_correct(current_user, filing):
        return None
    form = CorrectionForm(data) if data is not None else CorrectionForm()
    form_fields = filings.build_form(filing)
    fields = filings.correctable_fields(filing)
    labels = {
        "verified_energy_savings": _("核定节能量（能耗指标）"),
        "verified_coal_savings": _("核定节煤量（煤炭指标）"),
        "required_quantity": _("需申购的指标"),
    }
    form.field.choices = [
        SelectChoice(
            name,
            str(form_fields[name].label.text) if name in form_fields else labels.get(name, name),
        )
        for name in fields
        if getattr(filing, name, None) is not None
    ]
    if not form.version.data:
        form.version.data = str(filing.version)
    return form


def _versions(filing):
    """Each submitted version, newest first, with what changed against the one before."""
    return [
        (version, filings.version_changes(filing, version)) for version in reversed(filing.versions)
    ]


def _render_filing(filing, form, steps, status: int = 200, assign=None, correction=None):
    submitted = filing.versions[-1].data if filing.versions else filings.snapshot(filing)
    corrections = filings.current_corrections(filing)
    return render(
        "review/filing.html",
        filing=filing,
        form=form,
        steps=steps,
        workflow=_workflow(),
        age=services.age_of(filing),
        kinds=services.KIND_TITLES,
        notice=notice_for_subject("filing", filing.id),
        assign=assign or _assign_form(filing),
        correction=correction or _correction_form(filing),
        submitted_form=filings.build_form(filing),
        submitted=submitted,
        shown_value=filings.shown_value,
        computed=filings.computed_for(filing),
        quantities=[
            (name, variety, getattr(filing, name, None), corrections.get(name))
            for name, variety in filings.correctable_fields(filing).items()
        ],
        corrections=filings.corrections_of(filing),
        versions=_versions(filing),
        history=services.history_of(filing),
        files=workflow.visible_attachments(current_user, filing),
        assigned=filings.auditor_assigned(filing),
        role_labels=ROLE_LABELS,
        breadcrumbs=[
            (_("后台"), url_for(".index")),
            *([(_("待办审核"), url_for(".queue"))] if current_user.role in REVIEWERS else []),
            (filing.number, None),
        ],
        status_code=status,
    )


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
            auction_price=form.auction_price.data,
            auction_source=form.auction_source.data or "",
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


def _changed_meanwhile(conflict, filing_id: int):
    """Someone acted on the filing since the page was loaded: say so, and show it as it is now."""
    db.session.rollback()
    flash(str(conflict.message), "error")
    return redirect_after_post(url_for(".filing", filing_id=filing_id))


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
            return _changed_meanwhile(conflict, filing_id)
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


@bp.post("/filings/<int:filing_id>/correct")
@role_required(REVIEWERS)
def correct(filing_id: int):
    """核减: lower one of the filing's quantities, with a reason."""
    found = get_filing_or_404(filing_id, for_user=current_user)
    workflow = _workflow()
    correction = _correction_form(found, request.form)
    if correction is None:
        abort(403, description=_("当前环节不能核减数量。"))
    if correction.validate_on_submit():
        try:
            services.correct_quantity(
                found,
                correction.field.data,
                correction.corrected.data,
                correction.reason.data,
                current_user,
                whole_number(correction.version.data),
            )
        except workflow.Conflict as conflict:
            return _changed_meanwhile(conflict, filing_id)
        except services.ReviewError as error:
            db.session.rollback()
            found = get_filing_or_404(filing_id, for_user=current_user)
            correction = _correction_form(found, request.form)
            getattr(correction, error.field, correction.reason).errors = [error.message]
        else:
            db.session.commit()
            flash(_("已核减，企业会收到通知。"), "success")
            return redirect_after_post(url_for(".filing", filing_id=filing_id) + "#corrections")
    form, steps = _action_form(found)
    return _render_filing(found, form, steps, 400, correction=correction)


@bp.get("/filings/<int:filing_id>/files/<int:attachment_id>")
@role_required(QUEUE)
def attachment(filing_id: int, attachment_id: int):
    """A filing's file for the back office: the filing and the file must both be visible to the
    user (workflow.can_see_attachment: never a file added after the last submission). The type
    is the one stored when the upload was checked by its content, never the file name's."""
    found = get_filing_or_404(filing_id, for_user=current_user)
    item = db.session.get(FilingAttachment, attachment_id)
    if (
        item is None
        or item.filing_id != found.id
        or item.removed_at is not None
        or not workflow.can_see_attachment(current_user, item)
    ):
        abort(404)
    return send_stored(item, download=bool(request.args.get("download")), framed=True)
