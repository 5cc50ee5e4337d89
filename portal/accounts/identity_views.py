"""The city's identity review (身份核验), in the back office: the list of applications of its
division, one application with its evidence and the name difference, and the decision. The
province and the supervisor read them; only the city of the unit's division decides."""

from __future__ import annotations

from flask import abort, flash, request, send_file, url_for
from flask_login import current_user

from portal.access import IDENTITY_READERS, IDENTITY_REVIEWERS, can_decide_identity, role_required
from portal.accounts import admin_bp as bp
from portal.accounts import identity
from portal.accounts.forms import IdentityDecisionForm, IdentityFilterForm
from portal.extensions import db
from portal.i18n import gettext as _
from portal.uploads import path_for
from portal.web import paginate, parse_int, redirect_after_post, render

# The list's status filter: the value in the address → the services' status.
STATUS_FILTER = {"": "submitted", "approved": "approved", "refused": "refused", "all": "all"}


def _crumbs(last=None):
    crumbs = [(_("后台"), url_for("review.index")), (_("身份核验"), None)]
    if last:
        crumbs[-1] = (_("身份核验"), url_for("accounts_admin.identities"))
        crumbs.append((last, None))
    return crumbs


@bp.get("/identity/", endpoint="identities")
@role_required(IDENTITY_READERS)
def identities():
    """The applications of the user's division: waiting ones first by default."""
    form = IdentityFilterForm(request.args)
    if not form.validate():
        return render(
            "accounts/identities.html",
            "accounts/_identity_rows.html",
            form=form,
            page=None,
            breadcrumbs=_crumbs(),
        ), 400
    page = paginate(
        db.session,
        identity.applications_for(current_user, STATUS_FILTER[form.status.data or ""]),
        page=parse_int(request.args.get("page"), 1),
    )
    return render(
        "accounts/identities.html",
        "accounts/_identity_rows.html",
        form=form,
        page=page,
        kind_labels=identity.KIND_LABELS,
        status_labels=identity.STATUS_LABELS,
        names={a.id: identity.name_difference(a) for a in page.items},
        breadcrumbs=_crumbs(),
    )


def _detail(application, form=None, status: int = 200):
    decides = can_decide_identity(current_user, application.division_code)
    if form is None and decides and application.status == "submitted":
        form = IdentityDecisionForm(formdata=None)
    return render(
        "accounts/identity.html",
        application=application,
        difference=identity.name_difference(application),
        accounts=identity.unit_accounts(application),
        form=form if decides else None,
        kind_labels=identity.KIND_LABELS,
        status_labels=identity.STATUS_LABELS,
        purpose_labels=identity.PURPOSE_LABELS,
        breadcrumbs=_crumbs(_("申请 %(id)s", id=application.id)),
    ), status


@bp.get("/identity/<int:application_id>", endpoint="identity")
@role_required(IDENTITY_READERS)
def identity_page(application_id: int):
    return _detail(identity.get_application_or_404(application_id, current_user))


@bp.post("/identity/<int:application_id>/decide")
@role_required(IDENTITY_REVIEWERS)
def decide_identity(application_id: int):
    """Approve or refuse, with a remark; only the city of the application's division."""
    application = identity.get_application_or_404(application_id, current_user)
    if not can_decide_identity(current_user, application.division_code):
        abort(403, description=_("只有该单位所在地市的节能主管部门可以审核这份申请。"))
    form = IdentityDecisionForm()
    if form.validate_on_submit():
        try:
            identity.decide_application(
                application,
                current_user,
                approve=form.decision.data == "approve",
                remark=form.remark.data,
                deactivate_previous=bool(form.deactivate_previous.data),
            )
        except identity.IdentityError as problem:
            form.form_errors.append(problem.message)
        else:
            db.session.commit()
            flash(
                _("已通过申请 %(id)s。", id=application.id)
                if application.status == "approved"
                else _("已退回申请 %(id)s（不通过）。", id=application.id),
                "success",
            )
            return redirect_after_post(url_for("accounts_admin.identities"))
    if form.csrf_token.errors:
        abort(400)
    return _detail(application, form, 422)


@bp.get("/identity/documents/<int:document_id>")
@role_required(IDENTITY_READERS)
def identity_document(document_id: int):
    """Show a piece of evidence inline (PDF or image), only to those who may read its application."""
    item = identity.get_document_or_404(document_id, current_user)
    response = send_file(
        path_for(item.sha256),
        mimetype=item.content_type,
        as_attachment=bool(request.args.get("download")),
        download_name=item.original_name,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
