"""Announcements (通知公告, 政策文件, 新闻动态, 公示公告) and their attachments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db

ANNOUNCEMENT_CATEGORIES = ("notice", "policy", "news", "publicity")
ANNOUNCEMENT_STATUSES = ("draft", "scheduled", "published", "withdrawn")


class Announcement(db.Model):
    __tablename__ = "announcement"
    __table_args__ = (
        Index("ix_announcement_status_published", "status", "published_at"),
        Index("ix_announcement_category_published", "category", "published_at"),
        # A category's published announcements, counted (to the cap) from the index alone.
        Index("ix_announcement_category_status_published", "category", "status", "published_at"),
        # The home page: featured first, then newest.
        Index("ix_announcement_status_featured_published", "status", "is_featured", "published_at"),
        Index("ix_announcement_publicity_ends", "publicity_ends_at"),
        # "正在公示" on the home page: few open periods among many publicity notices.
        Index("ix_announcement_category_publicity_ends", "category", "publicity_ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(12))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")
    # Markdown as written; body_html is the sanitised rendering (news/services.py: render_markdown).
    body_md: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(120), default="")
    division_code: Mapped[str | None] = mapped_column(ForeignKey("division.code"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="draft")
    is_featured: Mapped[bool] = mapped_column(default=False)
    published_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]
    # A publicity period (公示期): objections may be raised until it ends.
    publicity_starts_at: Mapped[datetime | None]
    publicity_ends_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="announcement", cascade="all, delete-orphan", order_by="Attachment.id"
    )
    revisions: Mapped[list[AnnouncementRevision]] = relationship(
        back_populates="announcement",
        cascade="all, delete-orphan",
        order_by="AnnouncementRevision.id",
    )


class Attachment(db.Model):
    """A file attached to an announcement, stored outside static/ under its SHA-256."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcement.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    # Extracted text (PDF), for search; empty when none could be extracted.
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    announcement: Mapped[Announcement] = relationship(back_populates="attachments")


class AnnouncementRevision(db.Model):
    """An earlier version of a published announcement, kept when it is corrected (更新于)."""

    __tablename__ = "announcement_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcement.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body_md: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(500), default="")
    replaced_at: Mapped[datetime] = mapped_column(server_default=func.now())

    announcement: Mapped[Announcement] = relationship(back_populates="revisions")
