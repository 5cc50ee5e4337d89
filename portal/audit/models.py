from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db


class AuditEvent(db.Model):
    """One state change: who, when, from where, what, and the values before and after.

    `hash` is an HMAC-SHA256, under the key named by `key_id` (audit/keys.py), of every field and
    the previous entry's hash, so an edit or a deletion breaks the chain, and a recomputed hash
    without the key does not verify.
    """

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(index=True)
    actor_label: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(45), default="")
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[str] = mapped_column(Text, default="")
    after: Mapped[str] = mapped_column(Text, default="")
    remark: Mapped[str] = mapped_column(Text, default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Which audit key sealed the entry; "sha256" marks entries from before the key (to rekey).
    key_id: Mapped[str] = mapped_column(String(16), default="sha256", server_default="sha256")


class AuditChainHead(db.Model):
    """A single row that every writer locks first, so the chain never forks under concurrency."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
