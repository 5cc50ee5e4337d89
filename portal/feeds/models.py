"""Mail subscriptions to a list, a search or a category, and the digests sent for them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db

FREQUENCIES = ("immediate", "daily", "weekly")
# pending: waiting for the address to confirm (double opt-in); active: digests are sent.
# An unsubscribed subscription is deleted, its address with it.
SUBSCRIPTION_STATUSES = ("pending", "active")


class Subscription(db.Model):
    """One address following one public list (its page address, filters included).

    The address is personal data: kept only for this subscription, never shown on a page or in the
    audit log, and deleted with the row when the subscriber unsubscribes.
    """

    __tablename__ = "subscription"
    __table_args__ = (
        UniqueConstraint("email", "target", name="uq_subscription_email_target"),
        Index("ix_subscription_status_frequency", "status", "frequency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    # The page followed, as a path and canonical query string: "/listings?division=410100".
    target: Mapped[str] = mapped_column(String(600))
    frequency: Mapped[str] = mapped_column(String(12), default="daily")
    locale: Mapped[str] = mapped_column(String(12), default="zh_Hans_CN")
    status: Mapped[str] = mapped_column(String(12), default="pending")
    # Random, in every link of the subscription: a link made for a deleted row never fits a new
    # row that happens to get the same id.
    nonce: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    confirm_sent_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]
    # High-water mark: rows that became public before this instant (UTC) have been considered.
    # Moved only together with a DigestDelivery row, by a compare-and-set (feeds/digests.py).
    sent_until: Mapped[datetime | None]


class DigestDelivery(db.Model):
    """A digest that was sent: the window of new rows it covered. One per window and subscription."""

    __tablename__ = "digest_delivery"
    __table_args__ = (
        UniqueConstraint("subscription_id", "window_start", name="uq_digest_delivery_window"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("subscription.id", ondelete="CASCADE"), index=True
    )
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    item_count: Mapped[int]
    sent_at: Mapped[datetime]
