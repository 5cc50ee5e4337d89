"""Announcements made in the tests themselves, through the ORM."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from portal.extensions import db
from portal.news.models import Announcement, AnnouncementRevision, Attachment
from portal.news.services import render_markdown, utcnow


@pytest.fixture
def make_announcement(app):
    """Create an announcement (published an hour ago unless told otherwise); return its id."""

    def make(
        title="关于开展用能权交易试点工作的通知",
        category="notice",
        status="published",
        published_at=None,
        body_md="各省辖市发展改革委：\n\n现将有关事项通知如下。",
        revisions=(),
        attachments=(),
        **fields,
    ) -> int:
        with app.app_context():
            announcement = Announcement(
                title=title,
                category=category,
                status=status,
                published_at=published_at or (utcnow() - timedelta(hours=1)),
                body_md=body_md,
                body_html=fields.pop("body_html", render_markdown(body_md)),
                **fields,
            )
            for revision in revisions:
                announcement.revisions.append(AnnouncementRevision(**revision))
            for attachment in attachments:
                announcement.attachments.append(Attachment(**attachment))
            db.session.add(announcement)
            db.session.commit()
            return announcement.id

    return make


@pytest.fixture
def stored_file(app):
    """Write bytes into UPLOAD_DIR at <sha256[:2]>/<sha256>, as the upload store does; return the
    attachment fields."""
    from pathlib import Path

    def store(data: bytes, filename: str, content_type: str) -> dict:
        sha256 = hashlib.sha256(data).hexdigest()
        folder = Path(app.config["UPLOAD_DIR"]) / sha256[:2]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / sha256).write_bytes(data)
        return {
            "filename": filename,
            "content_type": content_type,
            "size": len(data),
            "sha256": sha256,
        }

    return store
