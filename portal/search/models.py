"""The search outbox: every committed change to a searchable record, for every app server's index."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String, func
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


class SearchPosition(db.Model):
    """How far each app server's index has applied the outbox, and the pruned horizon.

    `position` is the highest outbox id applied; `low` the highest id below which every row is
    applied or known never to commit (position, or just under the lowest open gap). Pruning stays
    at or below the lowest `low` of the servers seen recently. The row named PRUNED holds in
    `position` the highest id pruned: a server whose `low` is below it has missed rows and rebuilds.
    """

    __tablename__ = "search_position"

    PRUNED = "(pruned)"

    server: Mapped[str] = mapped_column(String(255), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, default=0)
    low: Mapped[int] = mapped_column(BigInteger, default=0)
    gaps: Mapped[int] = mapped_column(default=0)
    seen_at: Mapped[datetime]
