"""Mail subscriptions, as a reader uses them: subscribe on the page, confirm by mail, get exactly the
new rows of the list, change the frequency, unsubscribe with one click."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import func, select, update

from portal import create_app
from portal.audit.models import AuditEvent
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.feeds.digests import send_digests, window_end
from portal.feeds.models import DigestDelivery, Subscription
from portal.news.services import utcnow
from portal.publicity.services import publish_publicity
from tests import factories
from tests.factories import csrf_token_in

ZZ, LY = "410100", "410300"
EMAIL = "reader@example.com"


def _old(**kw):
    """Records that were public long before anyone subscribed."""
    return {"created_at": utcnow() - timedelta(days=3), **kw}


@pytest.fixture
def sellers(app):
    with app.app_context():
        zz = factories.enterprise("示例郑州豫能化工有限公司", ZZ, "chemical")
        ly = factories.enterprise("示例洛阳有色金属有限公司", LY, "nonferrous")
        factories.listing(zz, number="OLD-ZZ-1", **_old())
        factories.listing(ly, number="OLD-LY-1", **_old())
        db.session.commit()
        return zz.id, ly.id


def _listings(app, *pairs):
    """Make listings now: (number, seller id) pairs."""
    with app.app_context():
        for number, seller_id in pairs:
            factories.listing(db.session.get(Enterprise, seller_id), number=number)
        db.session.commit()


def _digest(app, seconds: float = 2, now: datetime | None = None):
    with app.app_context():
        return send_digests(now or utcnow() + timedelta(seconds=seconds))


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"\b(?:NEW|OLD)-[A-Z]{2}-\d+\b", text))


def test_a_subscription_gets_exactly_the_new_rows_its_filter_matches_and_unsubscribes_in_one_click(
    app, client, runner, sellers, subscribe, mails
):
    zz, ly = sellers
    subscribe("/listings?division=410100")
    _listings(app, ("NEW-ZZ-1", zz), ("NEW-LY-1", ly), ("NEW-ZZ-2", zz))
    time.sleep(1.1)  # the window ends at a whole second before now: let these rows' second pass
    before = len(mails())
    result = runner.invoke(args=["digest"])
    assert result.exit_code == 0, result.output
    assert "sent 1 digest(s)" in result.output
    digest = mails()[before:]
    assert len(digest) == 1
    message = digest[0]
    assert message["To"] == EMAIL
    assert _numbers(message.text) == {"NEW-ZZ-1", "NEW-ZZ-2"}
    assert "2 条新信息" in message["Subject"]
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe.startswith("http://localhost/subscriptions/unsubscribe/")
    assert unsubscribe in message.text

    # Nothing new: a second run sends nothing.
    assert "sent 0 digest(s)" in runner.invoke(args=["digest"]).output
    assert len(mails()) == before + 1

    # One click, as a mail client does it (RFC 8058): a POST with no cookie and no CSRF token.
    mail_client = app.test_client()
    clicked = mail_client.post(
        unsubscribe.removeprefix("http://localhost"),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert clicked.status_code == 200
    assert "已退订" in clicked.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Subscription)) == 0
        assert db.session.scalar(select(func.count()).select_from(DigestDelivery)) == 0
    _listings(app, ("NEW-ZZ-3", zz))
    _digest(app)
    assert len(mails()) == before + 1


def test_unconfirmed_subscription_gets_nothing_and_the_confirm_link_needs_a_button(
    app, client, csrf_token, sellers, mails
):
    zz, _ly = sellers
    client.post(
        "/subscriptions/new",
        data={
            "csrf_token": csrf_token("/subscriptions/new?target=/listings"),
            "target": "/listings",
            "email": EMAIL,
            "frequency": "immediate",
        },
    )
    (confirmation,) = mails()
    link = re.search(r"http://localhost(/subscriptions/confirm/\S+)", confirmation.text).group(1)
    assert client.get(link).status_code == 200  # a link scanner opening it confirms nothing
    _listings(app, ("NEW-ZZ-1", zz))
    report = _digest(app)
    assert report.sent == [] and len(mails()) == 1
    with app.app_context():
        assert db.session.scalar(select(Subscription.status)) == "pending"


def test_the_page_says_the_same_for_a_new_and_a_known_address(
    app, client, subscribe, mails, sellers
):
    subscribe("/listings")
    with app.app_context():  # the confirmation mail went out an hour ago (no repeat within minutes)
        db.session.execute(
            update(Subscription).values(confirm_sent_at=utcnow() - timedelta(hours=1))
        )
        db.session.commit()
    page = client.get("/subscriptions/new?target=/listings")
    token = csrf_token_in(page.get_data(as_text=True))
    answers = []
    for email in (EMAIL, "someone.else@example.com"):
        response = client.post(
            "/subscriptions/new",
            data={"csrf_token": token, "target": "/listings", "email": email, "frequency": "daily"},
        )
        answers.append((response.status_code, response.location))
        follow = client.get(response.location).get_data(as_text=True)
        assert EMAIL not in follow and "someone.else" not in follow
    assert answers[0] == answers[1]
    known, new = mails()[-2:]
    assert "已经订阅过" in known.text and "/subscriptions/manage/" in known.text
    assert "请打开以下链接确认订阅" in new.text


def test_addresses_are_never_shown_nor_audited(app, client, subscribe, sellers):
    manage = subscribe("/listings?division=410100")
    html = client.get(manage).get_data(as_text=True)
    assert EMAIL not in html and "地区：郑州市" in html
    assert client.get(manage).headers["Cache-Control"] == "no-store"
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.object_type == "subscription")
        )
        actions = []
        for event in events:
            actions.append(event.action)
            assert EMAIL not in f"{event.before}{event.after}{event.remark}{event.actor_label}"
    assert actions == ["subscription.create", "subscription.confirm"]


def test_frequency_changes_and_forgetting_deletes_every_subscription_of_the_address(
    app, client, subscribe, sellers
):
    manage = subscribe("/listings?division=410100")
    subscribe("/trades", frequency="weekly")
    subscribe("/trades", email="other@example.com")
    page = client.get(manage).get_data(as_text=True)
    token = csrf_token_in(page)
    changed = client.post(f"{manage}/frequency", data={"csrf_token": token, "frequency": "daily"})
    assert changed.status_code == 303
    with app.app_context():
        assert (
            db.session.scalar(
                select(Subscription.frequency).where(
                    Subscription.target == "/listings?division=410100"
                )
            )
            == "daily"
        )
    bad = client.post(f"{manage}/frequency", data={"csrf_token": token, "frequency": "hourly"})
    assert bad.status_code == 400
    gone = client.post(f"{manage}/forget", data={"csrf_token": token})
    assert gone.status_code == 200 and "已退订 2 个订阅" in gone.get_data(as_text=True)
    with app.app_context():
        assert list(db.session.scalars(select(Subscription.email))) == ["other@example.com"]
    assert client.get(manage).status_code == 404


def test_unsubscribe_link_asks_before_it_acts(app, client, subscribe, sellers):
    manage = subscribe("/listings")
    unsubscribe = manage.replace("/manage/", "/unsubscribe/")
    page = client.get(unsubscribe)
    assert page.status_code == 200 and "确认退订" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Subscription)) == 1
    assert client.post(unsubscribe).status_code == 200
    again = client.post(unsubscribe)  # a second click: the subscription is gone, and says so
    assert again.status_code == 404 and "可能已经退订" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Subscription)) == 0


def test_a_forged_or_old_token_opens_nothing(client, app, subscribe, sellers):
    manage = subscribe("/listings")
    assert client.get(manage + "x").status_code == 404
    assert client.get("/subscriptions/confirm/abc").status_code == 404
    assert client.get("/subscriptions/manage/eyJzIjoxfQ.abc").status_code == 404


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("/accounts/login", "这个页面不能订阅"),
        ("https://evil.example/listings", "这个页面不能订阅"),
        ("/enterprises", "这个页面不能订阅"),
        ("/listings?division=999999", "不是可选的值"),
        ("/search?q=", "请先输入搜索内容"),
        ("/compliance/2031", "这个页面不能订阅"),
        ("/subscriptions/new", "这个页面不能订阅"),
    ],
)
def test_what_cannot_be_followed_is_refused_with_a_reason(client, target, message):
    response = client.get(f"/subscriptions/new?target={quote(target, safe='')}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_without_a_list_the_page_says_where_to_subscribe(client):
    response = client.get("/subscriptions/new")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'href="/listings"' in html and 'href="/news/?category=publicity"' in html
    assert 'name="email"' not in html


def test_the_subscribe_form_says_what_is_wrong_next_to_the_field(client, csrf_token):
    response = client.post(
        "/subscriptions/new",
        data={
            "csrf_token": csrf_token("/subscriptions/new?target=/listings"),
            "target": "/listings",
            "email": "not-an-address",
            "frequency": "hourly",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "邮箱地址格式不正确" in html and 'aria-invalid="true"' in html


def test_the_subscribe_form_is_rate_limited(app, app_config):
    """`app` empties the tables afterwards; this second app counts requests, as production does."""
    app_config.update(RATELIMIT_ENABLED=True, SUBSCRIBE_RATE_LIMIT="3 per hour")
    limited = create_app(app_config)
    try:
        client = limited.test_client()
        page = client.get("/subscriptions/new?target=/listings").get_data(as_text=True)
        token = csrf_token_in(page)
        codes = [
            client.post(
                "/subscriptions/new",
                data={
                    "csrf_token": token,
                    "target": "/listings",
                    "email": f"r{n}@example.com",
                    "frequency": "daily",
                },
            ).status_code
            for n in range(4)
        ]
    finally:
        with limited.app_context():
            db.session.remove()
            db.engine.dispose()
    assert codes[:3] == [303, 303, 303] and codes[3] == 429


def test_one_address_gets_only_a_few_confirmation_mails(app, client, csrf_token, mails):
    token = csrf_token("/subscriptions/new?target=/listings")
    targets = [
        "/listings",
        "/trades",
        "/news/",
        "/compliance",
        "/listings?division=410100",
        "/listings?division=410300",
        "/trades?division=410100",
    ]
    for target in targets:
        client.post(
            "/subscriptions/new",
            data={"csrf_token": token, "target": target, "email": EMAIL, "frequency": "daily"},
        )
    assert len(mails()) == 5


def test_daily_digest_is_sent_once_per_day_and_covers_the_day(app, sellers, subscribe, mails):
    zz, _ly = sellers
    subscribe("/listings", frequency="daily")
    _listings(app, ("NEW-ZZ-1", zz))
    # Local (Asia/Shanghai) midnight after now, and runs at 07:00 and 09:00 the next morning.
    with app.app_context():
        tomorrow = window_end("daily", utcnow() + timedelta(days=1))
    before = len(mails())
    assert _digest(app, now=tomorrow + timedelta(hours=7)).sent
    assert not _digest(app, now=tomorrow + timedelta(hours=9)).sent
    digest = mails()[before:]
    assert len(digest) == 1 and _numbers(digest[0].text) == {"NEW-ZZ-1"}


def test_weekly_windows_end_on_monday_midnight_local_time(app):
    with app.app_context():
        # Wednesday 2026-12-02 10:00 in Shanghai is 02:00 UTC.
        end = window_end("weekly", datetime(2026, 12, 2, 2, 0))
        assert end == datetime(2026, 11, 29, 16, 0)  # Monday 2026-11-30 00:00 +08:00
        assert window_end("daily", datetime(2026, 12, 2, 2, 0)) == datetime(2026, 12, 1, 16, 0)
        app.config["DIGEST_SETTLE_SECONDS"] = 120
        assert window_end("immediate", datetime(2026, 12, 2, 2, 0, 0, 500)) == datetime(
            2026, 12, 2, 1, 58
        )


def test_repeated_runs_send_each_digest_once(app, sellers, subscribe, mails):
    zz, _ly = sellers
    subscribe("/listings")
    _listings(app, ("NEW-ZZ-1", zz))
    now = utcnow() + timedelta(seconds=2)
    before = len(mails())
    assert len(_digest(app, now=now).sent) == 1
    assert _digest(app, now=now).sent == []
    assert _digest(app, now=now + timedelta(seconds=5)).sent == []
    assert len(mails()) == before + 1
    with (
        app.app_context()
    ):  # a listing made after the runs above (their `now` is ahead of the clock)
        seller = db.session.get(Enterprise, zz)
        factories.listing(seller, number="NEW-ZZ-2", created_at=now + timedelta(seconds=6))
        db.session.commit()
    assert len(_digest(app, now=now + timedelta(seconds=8)).sent) == 1
    assert _numbers(mails()[-1].text) == {"NEW-ZZ-2"}
    with app.app_context():
        windows = list(
            db.session.execute(select(DigestDelivery.window_start, DigestDelivery.window_end))
        )
        assert len(windows) == 2 and windows[0][1] <= windows[1][0]


def test_publicity_notices_category_subscription(app, subscribe, mails):
    subscribe("/news/?category=publicity")
    with app.app_context():
        publish_publicity("other", "x1", "关于某项目节能审查结果的公示", "正文")
        factories.announcement(title="普通通知", category="notice", published_at=utcnow())
        db.session.commit()
    before = len(mails())
    assert len(_digest(app).sent) == 1
    (digest,) = mails()[before:]
    assert "关于某项目节能审查结果的公示" in digest.text and "普通通知" not in digest.text


def test_compliance_publication_subscription(app, subscribe, mails, sellers):
    subscribe("/compliance")
    with app.app_context():
        period = factories.period(2025, published=False)
        period.published_at = utcnow()
        db.session.commit()
    before = len(mails())
    assert len(_digest(app).sent) == 1
    assert "2025 年度履约名单" in mails()[before].text
    assert "/compliance/2025" in mails()[before].text


def test_search_subscription_gets_new_matches(app, subscribe, mails):
    with app.app_context():
        factories.announcement(title="节能改造旧闻", published_at=utcnow() - timedelta(days=5))
        db.session.commit()
    subscribe("/search?q=节能改造")
    with app.app_context():
        factories.announcement(title="节能改造新政策发布", published_at=utcnow())
        factories.announcement(title="无关的通知", published_at=utcnow())
        db.session.commit()
    before = len(mails())
    assert len(_digest(app).sent) == 1
    text = mails()[before].text
    assert "节能改造新政策发布" in text and "旧闻" not in text and "无关" not in text


def test_unconfirmed_subscriptions_are_deleted_after_seven_days(app, client, csrf_token):
    client.post(
        "/subscriptions/new",
        data={
            "csrf_token": csrf_token("/subscriptions/new?target=/listings"),
            "target": "/listings",
            "email": EMAIL,
            "frequency": "daily",
        },
    )
    assert _digest(app, now=utcnow() + timedelta(days=6)).purged == 0
    assert _digest(app, now=utcnow() + timedelta(days=8)).purged == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Subscription)) == 0


def test_english_subscriber_gets_an_english_confirmation_mail(client, csrf_token, mails):
    client.set_cookie("lang", "en")
    client.post(
        "/subscriptions/new",
        data={
            "csrf_token": csrf_token("/subscriptions/new?target=/listings"),
            "target": "/listings",
            "email": EMAIL,
            "frequency": "weekly",
        },
    )
    with client.application.app_context():
        assert db.session.scalar(select(Subscription.locale)) == "en"


def test_subscribe_page_is_linked_from_the_list_with_its_filters(client, sellers):
    html = client.get("/listings?division=410100&status=open&page=1&from=x").get_data(as_text=True)
    link = re.search(r'href="(/subscriptions/new\?target=[^"]+)"', html).group(1)
    page = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert "挂牌信息（地区：郑州市，挂牌状态：挂牌中）" in page
    assert 'value="/listings?division=410100&amp;status=open"' in page
