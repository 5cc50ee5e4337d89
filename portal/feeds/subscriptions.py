"""Mail subscriptions: subscribe (double opt-in), confirm, change the frequency, unsubscribe, forget.

Anyone may follow any public list or search that has a feed (sources.py), filters included. The
address is personal data: it is used only to send this subscription's mails, never shown on a page
or written to the audit log, and deleted with the subscription (unsubscribe, or "forget my
address", which deletes every subscription of the address). Unconfirmed subscriptions are deleted
after CONFIRM_MAX_AGE by `flask digest`.

Every link carries a signed token naming the subscription and its random nonce; only the address's
owner receives it. Confirmation tokens expire; the manage/unsubscribe token lasts as long as the
subscription (it must work from any old digest).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from portal.accounts.services import make_token, normalize_email, read_token
from portal.audit.services import record_event
from portal.extensions import db
from portal.feeds.models import FREQUENCIES, DigestDelivery, Subscription
from portal.feeds.sources import Located, source_for_endpoint, utcnow
from portal.i18n import gettext as _
from portal.i18n import is_english
from portal.mail import absolute_url, queue_mail

CONFIRM_MAX_AGE = timedelta(days=7)
# No second confirmation mail for the same subscription within this time.
RESEND_AFTER = timedelta(minutes=10)
# At most this many unconfirmed subscriptions per address at once: a stranger cannot use the form
# to send an address more than a few confirmation mails.
PENDING_PER_ADDRESS = 5
MAX_TARGET_LENGTH = 600

MANAGE_SALT = "subscription"
CONFIRM_SALT = "subscription-confirm"


class SubscriptionError(ValueError):
    """A subscription refused; `code` names why (the view turns it into a message)."""

    def __init__(self, code: str, description: str = ""):
        super().__init__(code)
        self.code = code
        self.description = description


# ---- what is followed ----------------------------------------------------------------------------


def locate_target(target: str) -> Located:
    """Resolve a page address ("/listings?division=410100") into its list, checked as the page checks it.

    SubscriptionError("target") when it is not a public list with a feed; ("filters") when the
    page itself would refuse its query string, with the page's own message.
    """
    if not target or len(target) > MAX_TARGET_LENGTH:
        raise SubscriptionError("target")
    split = urlsplit(target)
    if split.scheme or split.netloc or not split.path.startswith("/"):
        raise SubscriptionError("target")
    adapter = current_app.url_map.bind("localhost")
    path = split.path
    try:
        try:
            endpoint, view_args = adapter.match(path, method="GET")
        except RequestRedirect as moved:  # "/news" → "/news/"
            path = urlsplit(moved.new_url).path
            endpoint, view_args = adapter.match(path, method="GET")
    except HTTPException as error:
        raise SubscriptionError("target") from error
    source = source_for_endpoint(endpoint)
    if source is None or not source.subscribable:
        raise SubscriptionError("target")
    args = MultiDict(parse_qsl(split.query, keep_blank_values=False))
    try:
        located = source.locate(view_args, args)
    except HTTPException as error:
        if error.code == 400:  # the page's own message about its filters
            raise SubscriptionError("filters", str(error.description or "")) from error
        raise SubscriptionError("target") from error
    if source.name == "search" and not located.filters["q"].strip():
        raise SubscriptionError("empty_search")
    return located


# ---- tokens --------------------------------------------------------------------------------------


def _payload(subscription: Subscription) -> dict:
    return {"s": subscription.id, "n": subscription.nonce}


def manage_token(subscription: Subscription) -> str:
    return make_token(MANAGE_SALT, _payload(subscription))


def confirm_token(subscription: Subscription) -> str:
    return make_token(CONFIRM_SALT, _payload(subscription))


def _from_payload(payload) -> Subscription | None:
    if not isinstance(payload, dict) or not isinstance(payload.get("s"), int):
        return None
    subscription = db.session.get(Subscription, payload["s"])
    if subscription is None or not secrets.compare_digest(
        str(payload.get("n", "")), subscription.nonce
    ):
        return None
    return subscription


def subscription_for_token(token: str) -> Subscription | None:
    """The subscription a manage/unsubscribe link names, or None (bad, or already deleted)."""
    return _from_payload(read_token(MANAGE_SALT, token, None))


def subscription_for_confirm_token(token: str) -> Subscription | None:
    return _from_payload(read_token(CONFIRM_SALT, token, int(CONFIRM_MAX_AGE.total_seconds())))


def manage_url(subscription: Subscription) -> str:
    return absolute_url("feeds.manage", token=manage_token(subscription))


def unsubscribe_url(subscription: Subscription) -> str:
    return absolute_url("feeds.unsubscribe", token=manage_token(subscription))


def list_unsubscribe_headers(subscription: Subscription) -> dict[str, str]:
    """One-click unsubscribe (RFC 2369, RFC 8058): a POST to this address unsubscribes."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(subscription)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


# ---- subscribing ---------------------------------------------------------------------------------


def subscribe(
    email: str, located: Located, frequency: str, locale: str, now: datetime | None = None
) -> Subscription | None:
    """Ask `email` to confirm a subscription to the list; the same answer whatever the address.

    A new address gets a confirmation mail; a pending one gets it again (not within RESEND_AFTER);
    an active one is told it is subscribed already, with its manage link. Returns None when the
    address has too many unconfirmed subscriptions (nothing is sent).
    """
    if frequency not in FREQUENCIES:
        raise SubscriptionError("frequency")
    now = now or utcnow()
    email = normalize_email(email)
    target = located.page_path
    subscription = db.session.scalar(
        select(Subscription).where(Subscription.email == email, Subscription.target == target)
    )
    if subscription is None:
        pending = db.session.scalar(
            select(func.count())
            .select_from(Subscription)
            .where(Subscription.email == email, Subscription.status == "pending")
        )
        if pending >= PENDING_PER_ADDRESS:
            return None
        subscription = Subscription(
            email=email,
            target=target,
            frequency=frequency,
            locale=locale,
            status="pending",
            nonce=secrets.token_hex(16),
            created_at=now,
        )
        try:
            with db.session.begin_nested():
                db.session.add(subscription)
        except IntegrityError:
            # The same address and list, submitted twice at once: the other request made it.
            return None
        record_event(
            "subscription.create",
            subscription,
            after={"target": target, "frequency": frequency},
        )
    elif subscription.confirm_sent_at and now - subscription.confirm_sent_at < RESEND_AFTER:
        return subscription
    elif subscription.status == "pending":
        subscription.frequency, subscription.locale = frequency, locale
    subscription.confirm_sent_at = now
    _mail_confirmation(subscription, located)
    return subscription


def _mail_confirmation(subscription: Subscription, located: Located) -> None:
    with force_locale(subscription.locale):
        what = describe(located)
        if subscription.status == "active":
            subject = _("您已订阅：%(what)s", what=what)
            body = _(
                "您好：\n\n有人（可能是您本人）在%(site)s再次订阅了“%(what)s”。这个地址已经订阅过，无需再次确认。\n\n"
                "更改发送频率或退订：\n%(manage)s\n\n如非本人操作，可以忽略本邮件，或用上面的链接退订。",
                site=_site_name(),
                what=what,
                manage=manage_url(subscription),
            )
        else:
            subject = _("请确认订阅：%(what)s", what=what)
            body = _(
                "您好：\n\n有人（可能是您本人）用这个邮箱地址在%(site)s订阅了“%(what)s”，发送频率：%(frequency)s。\n\n"
                "请打开以下链接确认订阅（%(days)s 天内有效）：\n%(url)s\n\n"
                "如非本人操作，请忽略本邮件：不确认就不会收到任何邮件，这个地址也会在 %(days)s 天后删除。",
                site=_site_name(),
                what=what,
                frequency=frequency_label(subscription.frequency),
                days=CONFIRM_MAX_AGE.days,
                url=absolute_url("feeds.confirm", token=confirm_token(subscription)),
            )
        queue_mail(subscription.email, subject, body)


def confirm(subscription: Subscription, now: datetime | None = None) -> bool:
    """Activate a pending subscription; True if this call did. Rows new from now on are sent.

    The high-water mark starts at the whole second, so a row stored with a database clock of
    one-second precision in the same second is not lost.
    """
    if subscription.status != "pending":
        return False
    now = now or utcnow()
    subscription.status = "active"
    subscription.confirmed_at = now
    subscription.sent_until = now.replace(microsecond=0)
    record_event("subscription.confirm", "subscription", subscription.id)
    return True


def change_frequency(subscription: Subscription, frequency: str) -> None:
    if frequency not in FREQUENCIES:
        raise SubscriptionError("frequency")
    if frequency == subscription.frequency:
        return
    before = subscription.frequency
    subscription.frequency = frequency
    record_event(
        "subscription.frequency",
        subscription,
        before={"frequency": before},
        after={"frequency": frequency},
    )


def unsubscribe(subscription: Subscription) -> None:
    """Delete the subscription, its address and the record of its digests."""
    record_event("subscription.delete", subscription, before={"target": subscription.target})
    db.session.execute(
        delete(DigestDelivery).where(DigestDelivery.subscription_id == subscription.id)
    )
    db.session.delete(subscription)
    db.session.flush()


def forget_address(subscription: Subscription) -> int:
    """Delete every subscription of this subscription's address; the number deleted."""
    others = list(
        db.session.scalars(select(Subscription).where(Subscription.email == subscription.email))
    )
    for each in others:
        unsubscribe(each)
    return len(others)


def purge_unconfirmed(now: datetime | None = None) -> int:
    """Delete subscriptions never confirmed within CONFIRM_MAX_AGE, addresses included."""
    cutoff = (now or utcnow()) - CONFIRM_MAX_AGE
    stale = list(
        db.session.scalars(
            select(Subscription).where(
                Subscription.status == "pending",
                func.coalesce(Subscription.confirm_sent_at, Subscription.created_at) < cutoff,
            )
        )
    )
    for subscription in stale:
        db.session.delete(subscription)
    if stale:
        record_event("subscription.purge", "subscription", "", after={"count": len(stale)})
    db.session.flush()
    return len(stale)


# ---- words ---------------------------------------------------------------------------------------


def describe(located: Located) -> str:
    """The list followed, for people: "挂牌信息（地区：郑州市）"."""
    filters = located.description()
    title = located.title()
    return f"{title}（{'，'.join(filters)}）" if filters else title


def frequency_label(frequency: str) -> str:
    return {
        "immediate": _("有新信息即发送"),
        "daily": _("每日汇总"),
        "weekly": _("每周汇总"),
    }.get(frequency, frequency)


def _site_name() -> str:
    return current_app.config["SITE_NAME_EN" if is_english() else "SITE_NAME"]
