"""Editors' pages: the list, new and edit forms with live Markdown preview, withdraw."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from portal.access import EDITORS, role_required
from portal.editorial import bp, services
from portal.editorial.forms import AnnouncementForm, WithdrawForm
from portal.extensions import db
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.i18n import localized
from portal.news.forms import CATEGORY_LABELS
from portal.news.models import ANNOUNCEMENT_CATEGORIES, Announcement
from portal.news.services import render_markdown
from portal.publicity.services import notice_for_announcement
from portal.reference.services import divisions
from portal.uploads import UploadRefused, check_upload
from portal.web import page_of, redirect_after_post, render


def _labels():
    return CATEGORY_LABELS


def _status_labels():
    return {
        "draft": _("草稿"),
        "scheduled": _("定时发布"),
        "published": _("已发布"),
        "withdrawn": _("已撤回"),
    }


def get_announcement_or_404(announcement_id: int) -> Announcement:
    return db.get_or_404(Announcement, announcement_id, description=_("该公告不存在。"))


def _form(obj=None):
    form = (
        AnnouncementForm(obj=obj)
        if obj is not None and request.method == "GET"
        else AnnouncementForm()
    )
    form.category.choices = [SelectChoice(c, _labels()[c]) for c in ANNOUNCEMENT_CATEGORIES]
    form.division_code.choices = [SelectChoice("", _("全省"))] + [
        SelectChoice(d.code, localized(d)) for d in divisions()
    ]
    # Live preview: htmx posts the Markdown as it is typed (the CSRF header comes from base.html).
    form.body_md.render_kw = {
        "hx-post": url_for(".preview"),
        "hx-trigger": "input changed delay:400ms",
        "hx-target": "#preview",
        "rows": 18,
    }
    if obj is not None and request.method == "GET":
        form.division_code.data = obj.division_code or ""
        form.publish_mode.data = {"published": "now", "scheduled": "scheduled"}.get(
            obj.status, "draft"
        )
        if obj.published_at and obj.status == "scheduled":
            form.publish_at.data = _to_local(obj.published_at)
    return form


def _zone():
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _to_utc(local: datetime | None) -> datetime | None:
    if local is None:
        return None
    return local.replace(tzinfo=_zone()).astimezone(UTC).replace(tzinfo=None)


def _to_local(stored: datetime) -> datetime:
    return stored.replace(tzinfo=UTC).astimezone(_zone()).replace(tzinfo=None)


def _draft(form) -> services.Draft:
    return services.Draft(
        title=form.title.data,
        category=form.category.data,
        body_md=form.body_md.data,
        summary=form.summary.data or "",
        source=form.source.data or "",
        division_code=form.division_code.data or None,
        is_featured=bool(form.is_featured.data),
        publish_mode=form.publish_mode.data,
        publish_at=_to_utc(form.publish_at.data),
    )


def _attachment(form):
    upload = request.files.get(form.attachment.name)
    if upload is None or not upload.filename:
        return None
    try:
        return check_upload(upload)
    except UploadRefused as refused:
        form.attachment.errors = [refused.message]
        return False


ERRORS = {
    "future": ("publish_at", _l("定时发布的时间须晚于现在。")),
    "reason_required": ("reason", _l("修改已发布的公告须填写更正说明。")),
    "statutory_category": ("category", _l("公示的栏目不能修改；公示期按规定计算。")),
}


@bp.get("/")
@role_required(EDITORS)
def index():
    status = request.args.get("status") or None
    if status not in (None, "draft", "scheduled", "published", "withdrawn"):
        abort(400, description=_("状态参数无效。"))
    stmt = select(Announcement)
    if status:
        stmt = stmt.where(Announcement.status == status)
    page = page_of(stmt, Announcement.created_at.desc(), Announcement.id.desc())
    return render(
        "editorial/index.html",
        "editorial/_rows.html",
        page=page,
        status=status,
        categories=_labels(),
        statuses=_status_labels(),
        now=services.utcnow(),
        breadcrumbs=[(_("公告编辑"), None)],
    )


def _save(form, announcement=None):
    """Validate, save, attach; return a redirect, or None when the form has errors."""
    if not form.validate_on_submit():
        return None
    upload = _attachment(form)
    if upload is False:
        return None
    draft = _draft(form)
    try:
        if announcement is None:
            announcement = services.create_announcement(draft, actor=current_user)
        else:
            services.update_announcement(
                announcement, draft, actor=current_user, reason=form.reason.data or ""
            )
    except services.EditorialError as error:
        db.session.rollback()
        field, message = ERRORS[error.code]
        getattr(form, field).errors = [str(message)]
        return None
    if upload:
        services.attach_file(announcement, upload, actor=current_user)
    db.session.commit()
    flash(_("已保存。"), "success")
    return redirect_after_post(url_for(".edit", announcement_id=announcement.id))


@bp.route("/new", methods=["GET", "POST"])
@role_required(EDITORS)
def new():
    form = _form()
    done = _save(form)
    if done is not None:
        return done
    return _render_form(form, None)


@bp.route("/<int:announcement_id>", methods=["GET", "POST"])
@role_required(EDITORS)
def edit(announcement_id: int):
    announcement = get_announcement_or_404(announcement_id)
    form = _form(announcement)
    done = _save(form, announcement)
    if done is not None:
        return done
    return _render_form(form, announcement)


def _notice_of(announcement):
    return notice_for_announcement(announcement.id) if announcement is not None else None


def _render_form(form, announcement):
    notice = _notice_of(announcement)
    return render(
        "editorial/form.html",
        form=form,
        announcement=announcement,
        preview_html=render_markdown(form.body_md.data or ""),
        withdraw=WithdrawForm(),
        statuses=_status_labels(),
        public=announcement is not None and services.is_public(announcement),
        notice=notice,
        statutory=announcement is not None and services.carries_statutory_publicity(announcement),
        publicity_days=current_app.config["PUBLICITY_DAYS"],
        breadcrumbs=[
            (_("公告编辑"), url_for(".index")),
            (announcement.title if announcement else _("新建公告"), None),
        ],
        status_code=400 if request.method == "POST" else 200,
    )


@bp.post("/preview")
@role_required(EDITORS)
def preview():
    """The live preview (htmx); without JavaScript the same POST shows a full preview page."""
    html = render_markdown(request.form.get("body_md", ""))
    return render("editorial/preview.html", "editorial/_preview.html", preview_html=html)


@bp.post("/<int:announcement_id>/withdraw")
@role_required(EDITORS)
def withdraw(announcement_id: int):
    announcement = get_announcement_or_404(announcement_id)
    form = WithdrawForm()
    if services.carries_statutory_publicity(announcement):
        flash(
            _("这是带公示期的公示，不能在这里撤回；撤回公示须由省级节能主管部门填写理由。"), "error"
        )
        return redirect_after_post(url_for(".edit", announcement_id=announcement.id))
    if not form.validate_on_submit():
        flash(_("请填写撤回原因。"), "error")
        return redirect_after_post(url_for(".edit", announcement_id=announcement.id))
    services.withdraw_announcement(announcement, form.reason.data, actor=current_user)
    db.session.commit()
    flash(_("已撤回。"), "success")
    return redirect_after_post(url_for(".index"))
