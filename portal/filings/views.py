"""Filing pages: list, edit (autosaved draft), attachments, summary and confirm, timeline, withdraw."""

from __future__ import annotations

import functools

from flask import current_app, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import RequestEntityTooLarge

from portal.accounts.access import enterprise_required
from portal.extensions import db
from portal.filings import bp, services, workflow
from portal.filings.forms import AttachmentForm, ConfirmForm, RemarkForm
from portal.i18n import gettext as _
from portal.uploads import UploadRefused, check_upload, send_stored
from portal.web import enterprise_crumbs, redirect_after_post, render

KIND_LABELS_KEYS = ("voluntary", "retrofit", "closure", "compliance", "purchase")


def _crumbs(filing=None, last=None):
    crumbs = enterprise_crumbs((_("我的申报"), url_for("filings.index")))
    if filing is not None:
        crumbs.append((filing.number, url_for("filings.detail", filing_id=filing.id)))
    if last:
        crumbs.append((last, None))
    return crumbs


def _attachment_form(filing):
    return AttachmentForm(
        meta={"csrf": False},
        purposes=[(p, services.purpose_label(p)) for p in services.PURPOSES[filing.kind]],
        max_mb=current_app.config["MAX_UPLOAD_MB"],
    )


def _edit_page(filing, form, errors=None, upload_errors=None, status=200, duplicate_of=None):
    """The edit page; `errors` are shown next to their fields, and `duplicate_of` (an attachment
    id) marks the file that an upload just now turned out to repeat."""
    for name, messages in (errors or {}).items():
        if name in form:
            form[name].errors = list(messages)
    attachment_form = _attachment_form(filing)
    attachment_form.file.errors = list(upload_errors or []) + list((errors or {}).get("file", []))
    return render(
        "filings/edit.html",
        filing=filing,
        form=form,
        attachment_form=attachment_form,
        computed=services.computed_for(filing),
        duplicate_of=duplicate_of,
        provenance=services.provenance(filing, current_user),
        breadcrumbs=_crumbs(filing, _("填写")),
    ), status


def _save(filing):
    """Save the posted fields; two saves of one draft at once (autosave racing the button) are
    last-write-wins for the same enterprise, so a version clash is retried once, not a 500."""
    filing_id = filing.id
    try:
        errors = services.save_draft(filing, request.form, current_user)
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        filing = services.get_filing_or_404(filing_id, current_user)
        errors = services.save_draft(filing, request.form, current_user)
        db.session.commit()
    return errors


@bp.get("/")
@enterprise_required
def index():
    return render(
        "filings/index.html",
        filings=services.filings_of(current_user.enterprise_id),
        kinds=KIND_LABELS_KEYS,
        breadcrumbs=_crumbs(),
    )


@bp.post("/new/<kind>")
@enterprise_required
def create(kind: str):
    filing = services.create_filing(kind, current_user)
    db.session.commit()
    return redirect_after_post(url_for("filings.edit", filing_id=filing.id))


@bp.get("/<int:filing_id>")
def detail(filing_id: int):
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login", next=request.path))
    filing = services.get_filing_or_404(filing_id, current_user)
    # Only the enterprise edits its draft; a reviewer opening a returned filing reads it.
    if (
        filing.is_editable
        and current_user.role == "enterprise"
        and workflow.owns(current_user, filing)
    ):
        return redirect(url_for("filings.edit", filing_id=filing.id))
    return render(
        "filings/detail.html",
        filing=filing,
        snapshot=filing.versions[-1].data if filing.versions else services.snapshot(filing),
        form=services.build_form(filing),
        computed=services.computed_for(filing),
        can_withdraw=workflow.step_for(filing, "withdraw") is not None
        and workflow.owns(current_user, filing)
        and current_user.role == "enterprise",
        withdraw_form=RemarkForm(meta={"csrf": False}),
        can_copy=services.can_copy(current_user, filing),
        provenance=services.provenance(filing, current_user),
        corrections=services.corrections_of(filing),
        current_corrections=services.current_corrections(filing),
        breadcrumbs=_crumbs(filing),
    )


def _attempt(step, *args, **kwargs) -> bool:
    """Run one workflow step and commit it; a refused step is rolled back and its reason
    flashed. Says whether the step was taken."""
    try:
        step(*args, **kwargs)
    except workflow.TransitionError as refused:
        db.session.rollback()
        flash(str(refused.message), "error")
        return False
    db.session.commit()
    return True


def _editable_or_redirect(filing_id):
    filing = services.get_filing_or_404(filing_id, current_user)
    if not workflow.owns(current_user, filing):
        return filing, redirect(url_for("filings.detail", filing_id=filing.id))
    if not filing.is_editable:
        flash(_("该申报已提交，不能再修改；如需修改，请先撤回（审核开始前）。"), "error")
        return filing, redirect_after_post(url_for("filings.detail", filing_id=filing.id))
    return filing, None


def editable(view):
    """A view of a draft that its enterprise may still change: it gets the filing, not its id.
    Another enterprise's filing, or one already submitted, redirects to the filing's page."""

    @functools.wraps(view)
    def guarded(filing_id: int):
        filing, gate = _editable_or_redirect(filing_id)
        return gate if gate is not None else view(filing)

    return guarded


@bp.get("/<int:filing_id>/edit")
@enterprise_required
@editable
def edit(filing):
    form = services.build_form(filing)
    # What was typed comes back with its problems in place, as it was when autosaved.
    errors = services.lenient_errors(form) if filing.draft_data else {}
    return _edit_page(filing, form, errors, duplicate_of=request.args.get("duplicate", type=int))


@bp.post("/<int:filing_id>/draft")
@enterprise_required
@editable
def save_draft(filing):
    """Autosave (htmx) or the 保存草稿 button: store what was typed, answer errors in place."""
    errors = _save(filing)
    if request.htmx:
        form = services.build_form(filing)
        for name, messages in errors.items():
            form[name].errors = messages
        return render(
            "filings/_autosave.html",
            filing=filing,
            form=form,
            computed=services.computed_for(filing),
        )
    flash(_("草稿已保存。"), "success")
    return redirect(url_for("filings.edit", filing_id=filing.id), code=303)


@bp.post("/<int:filing_id>/submit")
@enterprise_required
@editable
def submit(filing):
    """Save, check every rule, then show the summary to confirm (or the problems in place)."""
    _save(filing)
    form = services.build_form(filing)
    errors = services.strict_errors(filing, form)
    if errors:
        return _edit_page(filing, services.build_form(filing), errors, status=422)
    return redirect_after_post(url_for("filings.confirm", filing_id=filing.id))


@bp.route("/<int:filing_id>/confirm", methods=["GET", "POST"])
@enterprise_required
@editable
def confirm(filing):
    form = ConfirmForm(meta={"csrf": False})
    if request.method == "POST":
        if not _attempt(
            services.submit_filing,
            filing,
            current_user,
            expected_version=request.form.get("version", type=int),
            expected_benchmark_id=request.form.get("benchmark_id", type=int),
        ):
            return redirect_after_post(url_for("filings.edit", filing_id=filing.id))
        flash(
            _("申报已提交，内容已锁定。审核进展会显示在时间线上，并通过消息和邮件通知您。"),
            "success",
        )
        return redirect_after_post(url_for("filings.detail", filing_id=filing.id))
    errors = services.strict_errors(filing, services.build_form(filing))
    if errors:
        return _edit_page(filing, services.build_form(filing), errors, status=422)
    return render(
        "filings/confirm.html",
        filing=filing,
        form=form,
        fields=services.build_form(filing),
        snapshot=services.snapshot(filing),
        computed=services.computed_for(filing),
        breadcrumbs=_crumbs(filing, _("确认提交")),
    )


@bp.post("/<int:filing_id>/withdraw")
@enterprise_required
def withdraw(filing_id: int):
    filing = services.get_filing_or_404(filing_id, current_user)
    form = RemarkForm(meta={"csrf": False})
    form.validate()
    if _attempt(
        services.withdraw_filing,
        filing,
        current_user,
        remark=form.remark.data or "",
        expected_version=request.form.get("version", type=int),
    ):
        flash(_("申报已撤回。"), "success")
    return redirect_after_post(url_for("filings.detail", filing_id=filing_id))


@bp.post("/<int:filing_id>/copy")
@enterprise_required
def copy(filing_id: int):
    """Start a new draft from a withdrawn or refused filing, its fields and files included."""
    source = services.get_filing_or_404(filing_id, current_user)
    try:
        draft = services.copy_filing(source, current_user)
    except workflow.TransitionError as refused:
        db.session.rollback()
        flash(str(refused.message), "error")
        return redirect_after_post(url_for("filings.detail", filing_id=filing_id))
    db.session.commit()
    flash(
        _(
            "已将 %(source)s 复制为新草稿 %(number)s，附件一并带入。请核对修改后再提交。",
            source=source.number,
            number=draft.number,
        ),
        "success",
    )
    return redirect_after_post(url_for("filings.edit", filing_id=draft.id))


@bp.post("/<int:filing_id>/delete")
@enterprise_required
@editable
def delete(filing):
    if not _attempt(services.delete_draft, filing, current_user):
        return redirect_after_post(url_for("filings.edit", filing_id=filing.id))
    flash(_("草稿已删除。"), "success")
    return redirect_after_post(url_for("filings.index"))


# ---------------------------------------------------------------- attachments


@bp.post("/<int:filing_id>/attachments")
@enterprise_required
@editable
def upload(filing):
    """Save the typed fields first, then check the file; a refusal keeps everything typed."""
    _save(filing)
    try:
        checked = check_upload(request.files.get("file"))
    except UploadRefused as refused:
        form = services.build_form(filing)
        errors = services.lenient_errors(form)
        return _edit_page(filing, form, errors, upload_errors=[refused.message], status=422)
    attachment, added = services.attach_upload(
        filing, checked, request.form.get("purpose", ""), current_user
    )
    db.session.commit()
    if not added:
        # Said next to the file it repeats (filings/_attachments.html), not in a banner.
        target = url_for("filings.edit", filing_id=filing.id, duplicate=attachment.id)
        return redirect(f"{target}#attachment-{attachment.id}", code=303)
    flash(_("已上传：%(name)s", name=checked.original_name), "success")
    return redirect(url_for("filings.edit", filing_id=filing.id) + "#attachments", code=303)


@bp.post("/attachments/<int:attachment_id>/remove")
@enterprise_required
def remove_attachment(attachment_id: int):
    attachment = services.get_attachment_or_404(attachment_id, current_user)
    filing_id = attachment.filing_id
    if _attempt(services.remove_attachment, attachment, current_user):
        flash(_("附件已删除。"), "success")
    return redirect_after_post(url_for("filings.edit", filing_id=filing_id) + "#attachments")


@bp.get("/attachments/<int:attachment_id>")
def attachment(attachment_id: int):
    """Show or download a file, only to people who may see its filing."""
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login", next=request.path))
    item = services.get_attachment_or_404(attachment_id, current_user)
    return send_stored(item, download=bool(request.args.get("download")))


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error):
    """A body over MAX_CONTENT_LENGTH: the draft is already saved; say why and go back."""
    filing_id = (request.view_args or {}).get("filing_id")
    flash(
        _(
            "文件超过 %(mb)s MB，未能上传。已填写的内容已自动保存，请压缩或拆分文件后重试。",
            mb=current_app.config["MAX_UPLOAD_MB"],
        ),
        "error",
    )
    if filing_id and current_user.is_authenticated:
        return redirect_after_post(url_for("filings.edit", filing_id=filing_id) + "#attachments")
    return redirect_after_post(url_for("filings.index"))
