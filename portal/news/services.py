"""Rules for announcements: what is public, Markdown rendering, publicity periods."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from portal.extensions import db
from portal.news.models import Announcement


def utcnow() -> datetime:
    """Naive UTC, as stored in the database."""
    return datetime.now(UTC).replace(tzinfo=None)


def public_announcements():
    """The select of announcements the public may see: published, and not in the future."""
    return select(Announcement).where(
        Announcement.status == "published", Announcement.published_at <= utcnow()
    )


def latest_announcements(
    limit: int = 8, category: str | None = None, open_only: bool = False
) -> list[Announcement]:
    stmt = public_announcements()
    if category:
        stmt = stmt.where(Announcement.category == category)
    if open_only:
        stmt = stmt.where(Announcement.publicity_ends_at > utcnow())
    stmt = stmt.order_by(Announcement.is_featured.desc(), Announcement.published_at.desc()).limit(
        limit
    )
    return list(db.session.scalars(stmt))


# Tags and attributes an announcement body may keep after sanitising (no script, style or events).
ALLOWED_TAGS = {
    "p",
    "br",
    "h2",
    "h3",
    "h4",
    "strong",
    "em",
    "b",
    "i",
    "u",
    "ul",
    "ol",
    "li",
    "blockquote",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "code",
    "pre",
    "hr",
    "sup",
    "sub",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "th": {"scope", "colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
}


def render_markdown(source: str) -> str:
    """Render an announcement's Markdown to HTML that is safe to show (nh3 removes anything else)."""
    import markdown
    import nh3

    html = markdown.markdown(
        source or "", extensions=["tables", "sane_lists"], output_format="html"
    )
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
