"""`flask digest`: mail each active subscription the rows that became public since its last digest.

Each subscription has a high-water mark, `sent_until`. A run takes the subscriptions one at a time,
each in its own transaction:
1. lock the row (PostgreSQL: FOR UPDATE SKIP LOCKED, so a second run skips what the first holds);
2. the window is [sent_until, end), where `end` is now − DIGEST_SETTLE_SECONDS for immediate
   digests, the last local (Asia/Shanghai) midnight for daily ones and the last Monday 00:00 for
   weekly ones; nothing is due while sent_until ≥ end;
3. ask the list's own source for its rows that became public in the window (sources.py);
4. move the mark by compare-and-set (`UPDATE … WHERE sent_until = <start>`) and, if there were
   rows, insert a DigestDelivery (unique per subscription and window start) and queue the mail;
5. commit; the mail leaves after the commit (portal.mail).
A run that overlaps another or repeats it finds the mark moved (step 2 or 4), the unique window
taken (4), or the row locked (1, or SQLite's "database is locked"), and sends nothing for that
subscription. So each window is mailed at most once, and windows follow each other without gaps.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from portal.extensions import db
from portal.feeds.models import DigestDelivery, Subscription
from portal.feeds.sources import Entry, Located, utcnow
from portal.feeds.subscriptions import (
    SubscriptionError,
    describe,
    list_unsubscribe_headers,
    locate_target,
    manage_url,
    purge_unconfirmed,
    unsubscribe_url,
)
from portal.i18n import formats, is_english
from portal.i18n import gettext as _
from portal.mail import queue_mail

log = logging.getLogger(__name__)

# A digest lists at most this many rows, and says how many more there are, with the list's link.
DIGEST_MAX_ITEMS = 200


@dataclass
class DigestReport:
    sent: list[int] = field(default_factory=list)  # subscription ids mailed
    empty: int = 0  # windows closed with no new rows (no mail)
    not_due: int = 0
    skipped: int = 0  # held or taken by another run
    purged: int = 0


def window_end(frequency: str, now: datetime) -> datetime:
    """Where the window of a digest run at `now` (naive UTC) ends, in naive UTC, whole seconds."""
    settle = timedelta(seconds=int(current_app.config["DIGEST_SETTLE_SECONDS"]))
    cutoff = (now - settle).replace(microsecond=0)
    if frequency == "immediate":
        return cutoff
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    local = cutoff.replace(tzinfo=UTC).astimezone(zone)
    start_of_day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if frequency == "weekly":
        start_of_day -= timedelta(days=start_of_day.weekday())
    return start_of_day.astimezone(UTC).replace(tzinfo=None)


def send_digests(now: datetime | None = None) -> DigestReport:
    """Send every digest that is due. Commits once per subscription; safe to run at any time."""
    now = now or utcnow()
    report = DigestReport()
    report.purged = purge_unconfirmed(now)
    db.session.commit()
    ids = list(
        db.session.scalars(
            select(Subscription.id).where(Subscription.status == "active").order_by(Subscription.id)
        )
    )
    db.session.commit()  # end the read: each subscription gets a transaction of its own
    for subscription_id in ids:
        try:
            outcome = send_digest(subscription_id, now)
            db.session.commit()
        except (IntegrityError, OperationalError) as error:
            # Another run holds or has just sent this window (unique window, a lock, SQLite busy).
            db.session.rollback()
            log.info("digest %s skipped: %s", subscription_id, error.__class__.__name__)
            outcome = "skipped"
        if outcome == "sent":
            report.sent.append(subscription_id)
        elif outcome == "empty":
            report.empty += 1
        elif outcome == "not_due":
            report.not_due += 1
        else:
            report.skipped += 1
    return report


def send_digest(subscription_id: int, now: datetime) -> str:
    """Close one subscription's due window, inside the caller's transaction.

    "sent", "empty" (the mark moved, nothing to mail), "not_due", or "skipped" (another run has it).
    """
    subscription = db.session.scalar(
        select(Subscription)
        .where(Subscription.id == subscription_id, Subscription.status == "active")
        .with_for_update(skip_locked=True)
    )
    if subscription is None:
        return "skipped"
    end = window_end(subscription.frequency, now)
    start = subscription.sent_until or end
    if start >= end:
        return "not_due"
    located, entries, total = _new_entries(subscription, start, end)
    moved = db.session.execute(
        update(Subscription)
        .where(Subscription.id == subscription.id, Subscription.sent_until == start)
        .values(sent_until=end)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        db.session.rollback()
        return "skipped"
    if not total:
        return "empty"
    db.session.add(
        DigestDelivery(
            subscription_id=subscription.id,
            window_start=start,
            window_end=end,
            item_count=total,
            sent_at=now,
        )
    )
    db.session.flush()  # a second run's row for the same window fails here, before any mail
    _mail_digest(subscription, located, entries, total, start, end)
    return "sent"


def _new_entries(subscription: Subscription, start: datetime, end: datetime):
    """(list, entries, total): the rows of the subscription's list that became public in
    [start, end); the list is None when its page is gone for now."""
    try:
        located = locate_target(subscription.target)
    except SubscriptionError:
        # The page is gone for now (a withdrawn compliance list): nothing of it is public.
        return None, [], 0
    with force_locale(subscription.locale):
        fmt = formats()
        rows, total = located.source.new_rows(located, start, end, DIGEST_MAX_ITEMS)
        entries = [located.source.entry(row, fmt) for row in rows]
    return located, entries, total


def _mail_digest(
    subscription: Subscription,
    located: Located,
    entries: list[Entry],
    total: int,
    start: datetime,
    end: datetime,
) -> None:
    with force_locale(subscription.locale):
        fmt = formats()
        what = describe(located)
        site = current_app.config["SITE_NAME_EN" if is_english() else "SITE_NAME"]
        lines = [
            _(
                "您订阅的“%(what)s”有 %(count)s 条新信息（%(start)s 至 %(end)s）：",
                what=what,
                count=fmt.num(total),
                start=fmt.fdatetime(start),
                end=fmt.fdatetime(end),
            ),
            "",
        ]
        for number, entry in enumerate(entries, 1):
            lines.append(f"{number}. {entry.title}")
            if entry.summary and entry.summary != entry.title:
                lines.append(f"   {entry.summary}")
            lines.append(f"   {entry.url}")
            lines.append("")
        if total > len(entries):
            lines += [_("另有 %(n)s 条，请在网页上查看。", n=fmt.num(total - len(entries))), ""]
        lines += [
            _("查看完整列表：%(url)s", url=located.page_url()),
            _("更改发送频率：%(url)s", url=manage_url(subscription)),
            _("退订（一键，退订后邮箱地址即删除）：%(url)s", url=unsubscribe_url(subscription)),
            "",
            _("您收到本邮件，是因为这个地址在%(site)s确认订阅了上述列表。", site=site),
        ]
        subject = _("%(what)s：%(count)s 条新信息", what=what, count=fmt.num(total))
    queue_mail(
        subscription.email,
        subject,
        "\n".join(lines),
        headers=list_unsubscribe_headers(subscription),
    )
