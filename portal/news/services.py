"""Rules for announcements: what is public, Markdown rendering, publicity periods."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import markdown
import nh3
from flask import abort, current_app
from sqlalchemy import Select, and_, func, or_, select

from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.news.models import Announcement, Attachment
from portal.text import to_halfwidth


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
    """The newest public announcements, featured ones first (the home page).

    Featured and the rest are fetched apart: each query then walks one index range in order
    (status, is_featured, published_at) instead of sorting every published row.
    """
    stmt = public_announcements()
    if category:
        stmt = stmt.where(Announcement.category == category)
    order = Announcement.published_at.desc()
    if open_only:
        # Few periods are open at once. Closing soonest first: the reader's deadline, and the order
        # of the (category, publicity_ends_at) index, so no sort of every publicity notice.
        stmt = stmt.where(Announcement.publicity_ends_at > utcnow())
        order = Announcement.publicity_ends_at.asc()
    featured = list(
        db.session.scalars(
            stmt.where(Announcement.is_featured.is_(True)).order_by(order).limit(limit)
        )
    )
    if len(featured) >= limit:
        return featured
    rest = (
        stmt.where(Announcement.is_featured.is_(False)).order_by(order).limit(limit - len(featured))
    )
    return featured + list(db.session.scalars(rest))


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


# --- The public pages: lists, detail, publicity periods, attachments, feeds -----------------------


def local_zone():
    """The portal's time zone (Asia/Shanghai): dates people type are local dates."""
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _local_midnight_utc(day: date) -> datetime:
    """The UTC instant (naive, as stored) at which a local calendar day begins.

    At the ends of the calendar (1 January of year 1, in a time zone east of UTC) there is no such
    instant in a datetime: the bound is then the earliest or latest datetime, which no publication
    time passes.
    """
    try:
        local = datetime.combine(day, time.min, tzinfo=local_zone())
        return local.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        return datetime.min if day.year == 1 else datetime.max


def publicity_open_clause(now: datetime):
    """SQL condition: the announcement's publicity period has begun and not yet ended."""
    return and_(
        Announcement.publicity_ends_at > now,
        or_(Announcement.publicity_starts_at.is_(None), Announcement.publicity_starts_at <= now),
    )


# A keyword filter takes at most this many words; more would only make a slower query.
MAX_KEYWORDS = 5


def keyword_clauses(q: str | None) -> list:
    """SQL conditions: each word of `q` (full-width folded) is in the title, summary or body."""
    words = to_halfwidth(q or "").split()[:MAX_KEYWORDS]
    return [
        or_(
            Announcement.title.icontains(word, autoescape=True),
            Announcement.summary.icontains(word, autoescape=True),
            Announcement.body_md.icontains(word, autoescape=True),
        )
        for word in words
    ]


def filter_announcements(
    category: str | None = None,
    division_code: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    open_only: bool = False,
    now: datetime | None = None,
    q: str | None = None,
) -> tuple[Select, Select]:
    """Return (rows, count) selects of public announcements matching the filters, newest first.

    The date range is inclusive and in local (Asia/Shanghai) days; `featured` does not reorder the
    list, it only matters on the home page. `q` keeps announcements that contain every word.
    """
    now = now or utcnow()
    stmt = public_announcements().where(*keyword_clauses(q))
    if category:
        stmt = stmt.where(Announcement.category == category)
    if division_code:
        stmt = stmt.where(Announcement.division_code == division_code)
    if date_from:
        stmt = stmt.where(Announcement.published_at >= _local_midnight_utc(date_from))
    if date_to:
        end = _local_midnight_utc(date_to + timedelta(days=1)) if date_to < date.max else None
        if end is not None:
            stmt = stmt.where(Announcement.published_at < end)
    if open_only:
        stmt = stmt.where(publicity_open_clause(now))
    count = select(func.count()).select_from(stmt.subquery())
    rows = stmt.order_by(Announcement.published_at.desc(), Announcement.id.desc())
    return rows, count


def announcements_query(filters: dict, now: datetime | None = None) -> tuple[Select, Select]:
    """The list page's query from its filter form's data (AnnouncementFilterForm.data)."""
    return filter_announcements(
        category=filters.get("category") or None,
        division_code=filters.get("division") or None,
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
        open_only=bool(filters.get("open_only")),
        q=filters.get("q") or None,
        now=now,
    )


def get_public_announcement_or_404(announcement_id: int) -> Announcement:
    """Load an announcement the public may see; drafts, future and withdrawn ones are a 404."""
    announcement = db.session.scalar(
        public_announcements().where(Announcement.id == announcement_id)
    )
    if announcement is None:
        abort(404, description=_l("该公告不存在，或尚未公开、已撤回。"))
    return announcement


def get_public_attachment_or_404(announcement_id: int, attachment_id: int) -> Attachment:
    """Load an attachment of a public announcement; an attachment of another one is a 404."""
    announcement = get_public_announcement_or_404(announcement_id)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.announcement_id != announcement.id:
        abort(404, description=_l("该附件不存在，或不属于这条公告。"))
    return attachment


def announcement_body_html(announcement: Announcement) -> str:
    """The sanitised body; rendered again from the Markdown when no rendering was stored."""
    return announcement.body_html or render_markdown(announcement.body_md)


@dataclass(frozen=True)
class PublicityPeriod:
    """Where an announcement stands in its publicity period (公示期) at one instant."""

    starts_at: datetime | None
    ends_at: datetime
    state: str  # "upcoming", "open" or "ended"
    days_left: int = 0
    hours_left: int = 0

    @property
    def is_open(self) -> bool:
        return self.state == "open"

    @property
    def under_an_hour(self) -> bool:
        return self.is_open and self.days_left == 0 and self.hours_left == 0


def publicity_period(
    announcement: Announcement, now: datetime | None = None
) -> PublicityPeriod | None:
    """Compute the publicity state and the whole days and hours left (rounded down); None if none."""
    ends_at = announcement.publicity_ends_at
    if ends_at is None:
        return None
    now = now or utcnow()
    starts_at = announcement.publicity_starts_at
    if starts_at is not None and now < starts_at:
        return PublicityPeriod(starts_at, ends_at, "upcoming")
    if now >= ends_at:
        return PublicityPeriod(starts_at, ends_at, "ended")
    left = ends_at - now
    return PublicityPeriod(starts_at, ends_at, "open", left.days, left.seconds // 3600)


@dataclass(frozen=True)
class Correction:
    """One earlier version of an announcement and the change that replaced it."""

    number: int
    valid_from: datetime | None
    replaced_at: datetime
    reason: str
    title_before: str
    title_after: str
    removed: list[str]
    added: list[str]

    @property
    def title_changed(self) -> bool:
        return self.title_before != self.title_after


def revision_history(announcement: Announcement) -> list[Correction]:
    """List each earlier version, oldest first, with what the correction changed and why."""
    revisions = list(announcement.revisions)
    versions = [(r.title, r.body_md) for r in revisions] + [
        (announcement.title, announcement.body_md)
    ]
    history = []
    for index, revision in enumerate(revisions):
        before_lines = (versions[index][1] or "").splitlines()
        after_lines = (versions[index + 1][1] or "").splitlines()
        removed: list[str] = []
        added: list[str] = []
        matcher = difflib.SequenceMatcher(a=before_lines, b=after_lines, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                continue
            removed += [line for line in before_lines[i1:i2] if line.strip()]
            added += [line for line in after_lines[j1:j2] if line.strip()]
        history.append(
            Correction(
                number=index + 1,
                valid_from=announcement.published_at
                if index == 0
                else revisions[index - 1].replaced_at,
                replaced_at=revision.replaced_at,
                reason=revision.reason,
                title_before=versions[index][0],
                title_after=versions[index + 1][0],
                removed=removed,
                added=added,
            )
        )
    return history


SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def attachment_path(upload_dir: str | Path, sha256: str) -> Path:
    """Resolve where a stored file lives (UPLOAD_DIR/<sha256[:2]>/<sha256>).

    Refuse anything that is not a SHA-256 in hex, or that resolves outside UPLOAD_DIR (a symlink
    pointing elsewhere, say), with ValueError.
    """
    if not isinstance(sha256, str) or not SHA256_HEX.fullmatch(sha256):
        raise ValueError("not a SHA-256 hex digest")
    root = Path(upload_dir).resolve()
    path = (root / sha256[:2] / sha256).resolve()
    if not path.is_relative_to(root):
        raise ValueError("attachment path escapes the upload folder")
    return path
