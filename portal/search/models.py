"""The search outbox: every committed change to a searchable record, for every app server's index."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, func
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db


class SearchOutbox(db.Model):
    """One change to apply to each server's index; written in the same transaction as the change."""

    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    model: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str] = mapped_column(String(64))
    op: Mapped[str] = mapped_column(String(8))  # "upsert" or "delete"
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)
