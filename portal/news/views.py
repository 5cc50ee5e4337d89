"""Public announcement pages: the list, one announcement, its attachments and the embed.

Their Atom and RSS feeds are built by portal/feeds from the same query as the list."""

from __future__ import annotations

from flask import abort, current_app, make_response, render_template, request, send_file, url_for

from portal.i18n import file_size, localized
from portal.i18n import gettext as _
from portal.lists import render_list
from portal.news import bp
from portal.news.forms import CATEGORY_LABELS, AnnouncementFilterForm
from portal.news.services import (
    announcement_body_html,
    announcements_query,
    attachment_path,
    get_public_announcement_or_404,
    get_public_attachment_or_404,
    publicity_period,
    revision_history,
)
from portal.reference.models import Division
from portal.reference.services import by_code
from portal.web import frameable, render


@bp.context_processor
def news_helpers():
    return {
        "category_labels": CATEGORY_LABELS,
        "file_size": file_size,
        "file_type": file_type,
        "division_name": lambda code: localized(by_code(Division, code)),
        "publicity_of": publicity_period,
    }


def file_type(filename: str, content_type: str) -> str:
    """A short type name: the file's extension (PDF, DOCX…), else its media type."""
    stem, dot, extension = filename.rpartition(".")
    return extension.upper() if dot and stem and len(extension) <= 5 else content_type


@bp.get("/")
def index():
    form = AnnouncementFilterForm(formdata=request.args)
    valid = form.validate()
    category = form.category.data if valid and form.category.data else None
    title = str(CATEGORY_LABELS[category]) if category else _("通知公告")
    return render_list(
        form,
        announcements_query,
        "news/index.html",
        "news/_results.html",
        valid=valid,
        category=category,
        title=title,
        breadcrumbs=[(_("通知公告"), url_for("news.index"))]
        + ([(title, url_for("news.index", category=category))] if category else []),
    )


@bp.get("/<int:id>")
def detail(id: int):
    announcement = get_public_announcement_or_404(id)
    category = announcement.category
    return render(
        "news/detail.html",
        announcement=announcement,
        body_html=announcement_body_html(announcement),
        publicity=publicity_period(announcement),
        history=revision_history(announcement),
        breadcrumbs=[
            (_("通知公告"), url_for("news.index")),
            (str(CATEGORY_LABELS.get(category, "")), url_for("news.index", category=category)),
            (announcement.title, None),
        ],
    )


@bp.get("/<int:id>/attachments/<int:attachment_id>")
def attachment(id: int, attachment_id: int):
    stored = get_public_attachment_or_404(id, attachment_id)
    try:
        path = attachment_path(current_app.config["UPLOAD_DIR"], stored.sha256)
    except ValueError:
        abort(404, description=_("附件文件无法读取，请联系网站管理员。"))
    if not path.is_file():
        abort(404, description=_("附件文件暂时无法下载，请稍后再试或联系网站管理员。"))
    response = send_file(
        path,
        mimetype=stored.content_type,
        as_attachment=True,
        download_name=stored.filename,
        conditional=True,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/<int:id>/embed")
@frameable  # meant to be framed by other sites (city government portals): a widget
def embed(id: int):
    announcement = get_public_announcement_or_404(id)
    body = render_template(
        "news/embed.html",
        announcement=announcement,
        body_html=announcement_body_html(announcement),
        publicity=publicity_period(announcement),
        embedded=True,
    )
    response = make_response(body)
    return response
