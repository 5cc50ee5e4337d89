"""公示: what each publicity announcement is about, and the objections (异议) raised against it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.news.models import Announcement

# What a 公示 may be about; the announcement itself stays a plain news item.
# construction_take_back: one `flask tick` run's take-backs under the 2-year start rule.
SUBJECT_TYPES = ("filing", "compliance_period", "punishment", "construction_take_back", "other")
# open: in its period; final: ended with no upheld objection; reopened: an objection was upheld;
# withdrawn: the province withdrew it, with a reason, before it became final.
NOTICE_STATUSES = ("open", "final", "reopened", "withdrawn")
OBJECTION_STATUSES = ("pending", "upheld", "dismissed")


class PublicityNotice(db.Model):
    """Link a 公示 announcement to the decision it publishes, and track whether it became final."""

    __tablename__ = "publicity_notice"
    __table_args__ = (Index("ix_publicity_notice_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcement.id"), unique=True)
    subject_type: Mapped[str] = mapped_column(String(24))
    subject_id: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    created_at: Mapped[datetime]
    finalized_at: Mapped[datetime | None]
    reopened_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    withdrawal_reason: Mapped[str] = mapped_column(Text, default="", server_default="")

    announcement: Mapped[Announcement] = relationship(lazy="joined")


class Objection(db.Model):
    """异议: raised under a real name during a publicity period; never shown publicly but its outcome."""

    __tablename__ = "objection"

    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcement.id"), index=True)
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("publicity_notice.id"), index=True)
    subject_type: Mapped[str] = mapped_column(String(24), default="other")
    subject_id: Mapped[str] = mapped_column(String(64), default="")
    real_name: Mapped[str] = mapped_column(String(40))
    contact: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    answered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    announcement: Mapped[Announcement] = relationship(lazy="joined")
    notice: Mapped[PublicityNotice | None] = relationship()
