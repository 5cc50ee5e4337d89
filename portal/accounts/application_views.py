"""The enterprise side of identity: the account's own application, and the administrator's pages
for access requests and colleagues' roles. Thin views over accounts.identity."""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_login import current_user

from portal.accounts import bp, identity, services
from portal.accounts.access import enterprise_account_required, enterprise_admin_required
from portal.accounts.forms import AccessDecisionForm, ApplicationForm, EmptyForm
from portal.accounts.models import User
from portal.extensions import db, limiter
from portal.i18n import gettext as _
from portal.uploads import UploadRefused, check_document
from portal.web import enterprise_crumbs, redirect_after_post, render

LIMIT_UPLOADS = "10 per minute;60 per hour"


def _application_page(form=None, status: int = 200):
    applications = identity.applications_of(current_user)
    current = applications[0] if applications else None
    if form is None and current is not None and current.status == "draft":
        form = ApplicationForm(
            formdata=None,
            enterprise_name=current.enterprise_name,
            legal_representative=current.legal_representative,
        )
    return render(
        "accounts/application.html",
        applications=applications,
        current=current,
        form=form,
        again_form=EmptyForm(prefix="again"),
        notices=services.notices_for(current_user, limit=20),
        kind_labels=identity.KIND_LABELS,
        status_labels=identity.STATUS_LABELS,
        purpose_labels=identity.PURPOSE_LABELS,
        breadcrumbs=[(_("身份核验申请"), None)],
    ), status


@bp.get("/application")
@enterprise_account_required
def application():
    """The account's identity application: what it lacks, where it stands, the city's remark."""
    return _application_page()


@bp.post("/application/<int:application_id>")
@enterprise_account_required
@limiter.limit(LIMIT_UPLOADS)
def application_submit(application_id: int):
    """Save the typed fields and every file that passes the check; submit when nothing is missing.
    A refused file is named next to its field, and the rest is kept."""
    draft = identity.get_own_application_or_404(application_id, current_user)
    if draft.status != "draft":
        flash(_("申请已提交，不能再修改。"), "error")
        return redirect_after_post(url_for("accounts.application"))
    form = ApplicationForm()
    valid = form.validate_on_submit()  # first: validating clears every field's errors
    if form.csrf_token.errors:
        abort(400)
    files = {}
    for purpose in identity.PURPOSES:
        storage = request.files.get(purpose)
        if storage is None or not storage.filename:
            continue
        try:
            files[purpose] = check_document(storage)
        except UploadRefused as refused:
            getattr(form, purpose).errors = [refused.message]
    identity.save_draft(
        draft,
        current_user,
        enterprise_name=form.enterprise_name.data or draft.enterprise_name,
        legal_representative=form.legal_representative.data or draft.legal_representative,
        files=files,
    )
    refused_files = any(getattr(form, p).errors for p in identity.PURPOSES)
    if valid and not refused_files:
        try:
            identity.submit_application(draft, current_user)
        except identity.IdentityError as problem:
            form.form_errors.append(problem.message)
        else:
            db.session.commit()
            flash(_("申请已提交，所在地市节能主管部门审核后会通知您。"), "success")
            return redirect_after_post(url_for("accounts.application"))
    # What passed is kept: the applicant fixes only what was refused.
    db.session.commit()
    return _application_page(form, 422)


@bp.post("/application/new")
@enterprise_account_required
def application_new():
    """Start a new draft: after a refusal, or a colleague asking for the administrator role."""
    form = EmptyForm(prefix="again")
    if not form.validate_on_submit():
        abort(400)
    try:
        identity.open_again(current_user)
    except identity.IdentityError as problem:
        if problem.code == "admin":
            abort(403, description=problem.message)
        flash(problem.message, "error")
    else:
        db.session.commit()
        flash(_("已新建申请，请补充材料后提交。"), "success")
    return redirect_after_post(url_for("accounts.application"))


# ---------------------------------------------------------------- the administrator's pages


def _access_page(forms=None, status: int = 200):
    waiting, decided = identity.access_requests_of(current_user.enterprise_id)
    forms = forms or {}
    for row in waiting:
        forms.setdefault(row.id, AccessDecisionForm(formdata=None, prefix=f"r{row.id}"))
    return render(
        "accounts/access_requests.html",
        waiting=waiting,
        decided=decided,
        forms=forms,
        breadcrumbs=enterprise_crumbs((_("加入申请"), None)),
    ), status


@bp.get("/access-requests")
@enterprise_admin_required
def access_requests():
    """Requests to join the unit: approve as a colleague or an administrator, or refuse."""
    return _access_page()


@bp.post("/access-requests/<int:request_id>")
@enterprise_admin_required
def decide_access_request(request_id: int):
    row = identity.get_access_request_or_404(request_id, current_user)
    form = AccessDecisionForm(prefix=f"r{row.id}")
    if form.validate_on_submit():
        try:
            identity.decide_access_request(
                row,
                current_user,
                approve=form.decision.data != "refuse",
                as_admin=form.decision.data == "admin",
                remark=form.remark.data,
            )
        except identity.IdentityError as problem:
            form.form_errors.append(problem.message)
        else:
            db.session.commit()
            if form.decision.data == "refuse":
                flash(_("已拒绝 %(name)s 的申请，并邮件告知。", name=row.name), "success")
            else:
                flash(
                    _(
                        "已同意 %(name)s 的申请，邀请邮件已发至 %(email)s。",
                        name=row.name,
                        email=row.email,
                    ),
                    "success",
                )
            return redirect_after_post(url_for("accounts.access_requests"))
    if form.csrf_token.errors:
        abort(400)
    return _access_page({row.id: form}, 422)


@bp.post("/colleagues/<int:user_id>/role/<any(admin, staff):role>")
@enterprise_admin_required
def change_role(user_id: int, role: str):
    """Make a colleague an administrator, or an administrator a colleague."""
    form = EmptyForm()
    colleague = db.session.get(User, user_id)
    if colleague is None or colleague.enterprise_id != current_user.enterprise_id:
        abort(404)
    if not form.validate_on_submit():
        abort(400)
    try:
        identity.change_role(current_user, colleague, role == "admin")
    except identity.IdentityError as problem:
        flash(problem.message, "error")
    else:
        db.session.commit()
        flash(_("已调整 %(name)s 的身份。", name=colleague.name or colleague.email), "success")
    return redirect_after_post(url_for("accounts.colleagues"))
