"""Authoring rules: save, publish now or later, correct after publication (keeping history),
withdraw, and attach files. Search follows through its own after-commit outbox (portal.search)."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import UTC, datetime

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from portal.audit.services import record_event, record_new
from portal.extensions import db
from portal.news.models import Announcement, AnnouncementRevision, Attachment
from portal.news.services import render_markdown
from portal.publicity.services import notice_for_announcement, notice_for_editorial
from portal.uploads import store_upload


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class EditorialError(ValueError):
    def __init__(self, field: str, code: str):
        super().__init__(code)
        self.field = field
        self.code = code


@dataclass
class Draft:
    title: str
    category: str
    body_md: str
    summary: str = ""
    source: str = ""
    division_code: str | None = None
    is_featured: bool = False
    publish_mode: str = "draft"  # draft / now / scheduled
    publish_at: datetime | None = None  # naive UTC


def _snapshot(a: Announcement) -> dict:
    return {
        "title": a.title,
        "category": a.category,
        "status": a.status,
        "published_at": a.published_at,
        "is_featured": a.is_featured,
        "publicity_ends_at": a.publicity_ends_at,
        "body_sha": hashlib.sha256((a.body_md or "").encode()).hexdigest()[:16],
    }


def carries_statutory_publicity(a: Announcement) -> bool:
    """Whether an announcement is a 公示 in force or done: public, with a notice (公示期).

    Its period comes from the rules and nobody edits it; only the province withdraws it.
    """
    return a.id is not None and is_public(a) and notice_for_announcement(a.id) is not None


def _apply(a: Announcement, draft: Draft, now: datetime, *, actor=None) -> None:
    statutory = carries_statutory_publicity(a)
    if statutory and draft.category != a.category:
        raise EditorialError("category", "statutory_category")
    a.title = draft.title.strip()
    a.category = draft.category
    a.summary = (draft.summary or "").strip()
    a.body_md = draft.body_md
    a.body_html = render_markdown(draft.body_md)
    a.source = (draft.source or "").strip()
    a.division_code = draft.division_code or None
    a.is_featured = bool(draft.is_featured)
    if a.status != "published" or draft.publish_mode == "scheduled":
        if draft.publish_mode == "now":
            a.status, a.published_at = "published", now
        elif draft.publish_mode == "scheduled":
            if draft.publish_at is None or draft.publish_at <= now:
                raise EditorialError("publish_at", "future")
            a.status, a.published_at = "scheduled", draft.publish_at
        else:
            a.status, a.published_at = "draft", None
    if statutory:
        return  # a 公示's dates are the rules': the editor corrects the text only
    if a.category == "publicity" and a.status in ("published", "scheduled"):
        db.session.add(a)
        db.session.flush()
        # The period starts when the 公示 is published (never before now).
        notice_for_editorial(a, max(a.published_at or now, now), actor=actor)
    else:
        a.publicity_starts_at = a.publicity_ends_at = None


def create_announcement(draft: Draft, *, actor, now: datetime | None = None) -> Announcement:
    now = now or utcnow()
    announcement = Announcement(status="draft")
    _apply(announcement, draft, now, actor=actor)
    record_new("announcement.create", announcement, after=_snapshot(announcement), actor=actor)
    return announcement


def is_public(a: Announcement, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return a.status == "published" and a.published_at is not None and a.published_at <= now


def update_announcement(
    a: Announcement, draft: Draft, *, actor, reason: str = "", now: datetime | None = None
) -> Announcement:
    """Edit; once public, the id (permalink) stays, the old text is kept with the reason, and
    the page shows 更新于."""
    now = now or utcnow()
    before = _snapshot(a)
    was_public = is_public(a, now)
    if was_public:
        if not (reason or "").strip():
            raise EditorialError("reason", "reason_required")
        if draft.publish_mode in ("draft", "scheduled"):
            draft.publish_mode = "now"  # a public item is corrected, not unpublished (see withdraw)
        a.revisions.append(
            AnnouncementRevision(
                title=a.title, body_md=a.body_md, reason=reason.strip(), replaced_at=now
            )
        )
    _apply(a, draft, now, actor=actor)
    if was_public:
        a.updated_at = now
    db.session.flush()
    record_event(
        "announcement.correct" if was_public else "announcement.update",
        a,
        before=before,
        after=_snapshot(a),
        remark=reason or "",
        actor=actor,
    )
    return a


def withdraw_announcement(a: Announcement, reason: str, *, actor) -> None:
    """Take an announcement down. A 公示 is never withdrawn here: its withdrawal is the
    province's decision (publicity.services.withdraw_notice), which keeps it public with the reason.
    """
    if a.id is not None and notice_for_announcement(a.id) is not None and is_public(a):
        raise EditorialError("reason", "statutory_withdraw")
    before = _snapshot(a)
    a.status = "withdrawn"
    db.session.flush()
    record_event(
        "announcement.withdraw",
        a,
        before=before,
        after=_snapshot(a),
        remark=reason,
        actor=actor,
    )


def attach_file(a: Announcement, upload, *, actor) -> Attachment:
    """Store a checked upload (portal.uploads) and keep PDF text for search."""
    store_upload(upload)
    attachment = Attachment(
        filename=upload.original_name,
        content_type=upload.content_type,
        size=upload.size,
        sha256=upload.sha256,
        text=pdf_text(upload.data) if upload.content_type == "application/pdf" else "",
    )
    a.attachments.append(attachment)
    db.session.flush()
    record_event(
        "announcement.attach",
        a,
        after={"attachment": attachment.id, "file": attachment.filename, "sha256": upload.sha256},
        actor=actor,
    )
    return attachment


def pdf_text(data: bytes, limit: int = 200_000) -> str:
    """The text of a PDF, for search; empty when it cannot be read (a scan, a damaged file)."""
    try:
        reader = PdfReader(io.BytesIO(data))
        parts = []
        for page in reader.pages:
            parts.append(page.extract_text() or "")
            if sum(map(len, parts)) > limit:
                break
        return "\n".join(parts)[:limit]
    except (PdfReadError, ValueError, KeyError, TypeError, OSError):
        return ""
