"""`flask digest` runs that overlap or repeat send each digest once (SQLite and PostgreSQL)."""

from __future__ import annotations

import secrets
import threading
from datetime import timedelta

from sqlalchemy import func, select

from portal.extensions import db
from portal.feeds.digests import send_digest, send_digests
from portal.feeds.models import DigestDelivery, Subscription
from portal.news.services import utcnow
from tests import factories

SUBSCRIBERS = 12


def _world(app, subscribers: int) -> None:
    """Active subscriptions to the listings of 郑州, confirmed an hour ago, and two new listings."""
    with app.app_context():
        start = (utcnow() - timedelta(hours=1)).replace(microsecond=0)
        for n in range(subscribers):
            db.session.add(
                Subscription(
                    email=f"r{n}@example.com",
                    target="/listings?division=410100",
                    frequency="immediate",
                    locale="zh_Hans_CN",
                    status="active",
                    nonce=secrets.token_hex(16),
                    created_at=start,
                    confirmed_at=start,
                    sent_until=start,
                )
            )
        seller = factories.enterprise("示例郑州豫能化工有限公司", "410100", "chemical")
        factories.listing(seller, created_at=utcnow() - timedelta(minutes=30))
        factories.listing(seller, created_at=utcnow() - timedelta(minutes=20))
        db.session.commit()


def _counts(app, mails) -> tuple[int, int]:
    with app.app_context():
        deliveries = db.session.scalar(select(func.count()).select_from(DigestDelivery))
    return len(mails()), deliveries


def test_two_runs_at_once_send_each_digest_once(app, mails):
    _world(app, SUBSCRIBERS)
    now = utcnow()
    reports, errors = [], []
    barrier = threading.Barrier(2)

    def run():
        try:
            with app.app_context():
                barrier.wait()
                reports.append(send_digests(now))
                db.session.remove()
        except Exception as error:  # noqa: BLE001 — reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    assert sorted(sum((r.sent for r in reports), [])) == sorted(
        set(sum((r.sent for r in reports), []))
    )
    assert sum(len(r.sent) for r in reports) == SUBSCRIBERS
    assert _counts(app, mails) == (SUBSCRIBERS, SUBSCRIBERS)
    # And once more, later: nothing new, nothing sent.
    with app.app_context():
        assert send_digests(now + timedelta(minutes=5)).sent == []
    assert _counts(app, mails) == (SUBSCRIBERS, SUBSCRIBERS)


def test_a_run_that_meets_a_digest_in_progress_leaves_it_to_that_run(app, mails):
    """Run A has taken the subscription and not yet committed; run B starts and must skip it
    (PostgreSQL: the row is locked, SKIP LOCKED; SQLite: the write waits, then fails as locked;
    it waits 0.2 s here instead of the 5 s a portal's connection waits)."""
    app.config["SQLITE_BUSY_TIMEOUT_MS"] = 200
    _world(app, 1)
    now = utcnow()
    with app.app_context():
        subscription_id = db.session.scalar(select(Subscription.id))
        assert send_digest(subscription_id, now) == "sent"  # A: in progress, not committed
        other: list = []

        def run_b():
            with app.app_context():
                other.append(send_digests(now))
                db.session.remove()

        thread = threading.Thread(target=run_b)
        thread.start()
        thread.join(60)
        assert other and other[0].sent == [] and other[0].skipped == 1
        assert _counts(app, mails) == (0, 0)
        db.session.commit()  # A finishes: its mail leaves now
    assert _counts(app, mails) == (1, 1)
    with app.app_context():
        again = send_digests(now)
    assert again.sent == [] and again.not_due == 1
    assert _counts(app, mails) == (1, 1)


def test_a_window_sent_by_another_run_is_refused_by_the_unique_window(app, mails):
    """Even if a run read an old mark, the delivery row for that window exists: nothing is sent."""
    _world(app, 1)
    now = utcnow()
    with app.app_context():
        subscription = db.session.scalar(select(Subscription))
        start = subscription.sent_until
        db.session.add(
            DigestDelivery(
                subscription_id=subscription.id,
                window_start=start,
                window_end=now.replace(microsecond=0),
                item_count=2,
                sent_at=now,
            )
        )
        db.session.commit()
        report = send_digests(now)
    assert report.sent == [] and report.skipped == 1
    assert _counts(app, mails) == (0, 1)
    with app.app_context():
        assert db.session.scalar(select(Subscription.sent_until)) == start
