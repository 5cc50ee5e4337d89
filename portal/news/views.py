"""Public announcement pages: the list, one announcement, its attachments, feeds and the embed."""

from __future__ import annotations

from feedgen.feed import FeedGenerator
from flask import abort, current_app, make_response, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from portal.extensions import db
from portal.i18n import file_size, localized
from portal.news import bp
from portal.news.forms import CATEGORY_LABELS, AnnouncementFilterForm
from portal.news.services import (
    announcement_body_html,
    as_utc,
    attachment_path,
    feed_announcements,
    filter_announcements,
    get_public_announcement_or_404,
    get_public_attachment_or_404,
    publicity_period,
    revision_history,
)
from portal.reference.models import Division
from portal.reference.services import by_code
from portal.web import frameable, paginate, parse_int, render


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
    page_number = parse_int(request.args.get("page"))
    valid = form.validate()
    page = None
    if valid:
        rows, count = filter_announcements(
            category=form.category.data or None,
            division_code=form.division.data or None,
            date_from=form.date_from.data,
            date_to=form.date_to.data,
            open_only=form.open_only.data,
        )
        page = paginate(db.session, rows, count, page_number)
    category = form.category.data if valid and form.category.data else None
    title = str(CATEGORY_LABELS[category]) if category else _("通知公告")
    response = render(
        "news/index.html",
        "news/_results.html",
        form=form,
        page=page,
        category=category,
        title=title,
        breadcrumbs=[(_("通知公告"), url_for("news.index"))]
        + ([(title, url_for("news.index", category=category))] if category else []),
    )
    if not valid:
        response.status_code = 400
    return response


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
    return make_response(body)


def _feed_category() -> str | None:
    category = request.args.get("category") or None
    if category is not None and category not in CATEGORY_LABELS:
        abort(400, description=_("没有这个栏目，请使用 notice、policy、news 或 publicity。"))
    return category


def _build_feed(category: str | None, self_endpoint: str) -> FeedGenerator:
    """Fill a FeedGenerator with the latest public announcements (Atom and RSS share it)."""
    site = current_app.config["SITE_NAME_EN" if str(get_locale()).startswith("en") else "SITE_NAME"]
    title = f"{site} · {CATEGORY_LABELS[category] if category else _('通知公告')}"
    list_url = url_for("news.index", category=category, _external=True)
    items = feed_announcements(category)
    feed = FeedGenerator()
    feed.id(list_url)
    feed.title(title)
    feed.subtitle(_("河南省用能权有偿使用和交易的通知公告、政策文件、新闻动态和公示公告。"))
    # feedgen gives RSS the last link added, so the list page (alternate) goes after self.
    feed.link(href=url_for(self_endpoint, category=category, _external=True), rel="self")
    feed.link(href=list_url, rel="alternate")
    feed.language("en" if str(get_locale()).startswith("en") else "zh-CN")
    feed.author({"name": current_app.config["SITE_SPONSOR"]})
    for item in items:
        permalink = url_for("news.detail", id=item.id, _external=True)
        entry = feed.add_entry(order="append")
        entry.id(permalink)
        entry.guid(permalink, permalink=True)
        entry.title(item.title)
        entry.link(href=permalink)
        entry.summary(item.summary or item.title)
        entry.published(as_utc(item.published_at))
        entry.updated(as_utc(item.updated_at or item.published_at))
        entry.category(term=item.category, label=str(CATEGORY_LABELS.get(item.category, "")))
        if item.source:
            entry.author({"name": item.source})
    updated = max((as_utc(i.updated_at or i.published_at) for i in items), default=None)
    if updated is not None:
        feed.updated(updated)
    return feed


@bp.get("/feed.atom")
def feed():
    generator = _build_feed(_feed_category(), "news.feed")
    response = make_response(generator.atom_str(pretty=True))
    response.mimetype = "application/atom+xml"
    return response


@bp.get("/feed.rss")
def feed_rss():
    generator = _build_feed(_feed_category(), "news.feed_rss")
    response = make_response(generator.rss_str(pretty=True))
    response.mimetype = "application/rss+xml"
    return response
