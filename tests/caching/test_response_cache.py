"""Anonymous pages: compression, validators and Cache-Control, the response cache and its
invalidation (portal/caching.py)."""

from __future__ import annotations

import gzip
import time
import uuid
from datetime import timedelta

import brotli
import pytest
import redis

from portal import caching
from portal.extensions import db
from tests import factories

BROWSER = {"Accept-Encoding": "gzip, deflate, br"}


def _cache_status(response) -> str | None:
    return response.headers.get("X-Cache")


def _text(response) -> str:
    """The body as the visitor's browser would show it, whatever its encoding."""
    data = response.get_data()
    encoding = response.headers.get("Content-Encoding")
    if encoding == "br":
        data = brotli.decompress(data)
    elif encoding == "gzip":
        data = gzip.decompress(data)
    return data.decode("utf-8")


@pytest.fixture
def make_app(app, app_config):
    """make_app(**settings): another app on the same database (another worker or server); its
    engine is closed after the test, before `app` empties the tables."""
    from portal import create_app

    made = []

    def make(**settings):
        made.append(create_app({**app_config, **settings}))
        return made[-1]

    yield make
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def trades(app):
    with app.app_context():
        buyer = factories.make_enterprise("缓存测试买方有限公司")
        numbers = [factories.trade(buyer).number for _ in range(3)]
        db.session.commit()
    return numbers


# ---------------------------------------------------------------- compression


@pytest.mark.parametrize("encoding, decode", [("br", brotli.decompress), ("gzip", gzip.decompress)])
def test_a_page_comes_compressed_and_decodes_to_the_same_html(client, trades, encoding, decode):
    plain = client.get("/trades", headers={"Accept-Encoding": "identity"})
    packed = client.get("/trades", headers={"Accept-Encoding": encoding})
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == encoding
    assert decode(packed.get_data()) == plain.get_data()
    assert len(packed.get_data()) < len(plain.get_data()) / 2
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert int(packed.headers["Content-Length"]) == len(packed.get_data())


def test_no_encoding_unless_accepted(client, trades):
    response = client.get("/trades")
    assert "Content-Encoding" not in response.headers
    assert "Accept-Encoding" in response.headers["Vary"]
    assert trades[0] in response.get_data(as_text=True)


def test_brotli_is_preferred_and_quality_zero_refused(client, trades):
    assert client.get("/trades", headers=BROWSER).headers["Content-Encoding"] == "br"
    refused = client.get("/trades", headers={"Accept-Encoding": "br;q=0, gzip"})
    assert refused.headers["Content-Encoding"] == "gzip"


def test_tiny_bodies_and_binary_files_are_not_compressed(client, trades):
    assert "Content-Encoding" not in client.get("/healthz", headers=BROWSER).headers
    with client.get("/statistics/daily.xlsx", headers=BROWSER) as xlsx:
        assert xlsx.status_code == 200
        assert xlsx.get_data()[:2] == b"PK"
        assert "Content-Encoding" not in xlsx.headers


def test_feeds_json_and_svg_are_compressed(client, trades):
    feed = client.get("/trades/feed.atom", headers={"Accept-Encoding": "gzip"})
    assert feed.headers["Content-Encoding"] == "gzip"
    assert b"<feed" in gzip.decompress(feed.get_data())
    api = client.get("/api/v1/trades", headers={"Accept-Encoding": "br"})
    assert api.headers["Content-Encoding"] == "br"
    assert brotli.decompress(api.get_data()).startswith(b"{")


def test_a_csv_export_still_streams_compressed(client, trades):
    plain = client.get("/trades/export.csv").get_data()
    response = client.get("/trades/export.csv", headers={"Accept-Encoding": "br"}, buffered=False)
    assert response.status_code == 200
    assert response.is_streamed
    assert response.headers["Content-Encoding"] == "br"
    assert "Content-Length" not in response.headers
    chunks = iter(response.response)
    first = next(chunks)  # produced while the rest is still to be written
    body = first + b"".join(chunks)
    response.close()
    assert brotli.decompress(body) == plain
    assert _cache_status(response) is None  # a stream is never stored


def test_static_files_are_compressed_too(client):
    css = next(name for name in caching_static_names(client) if name.endswith(".css"))
    with client.get(f"/static/{css}", headers={"Accept-Encoding": "gzip"}) as response:
        assert response.status_code == 200
        assert response.headers["Content-Encoding"] == "gzip"
        packed = response.get_data()
    with client.get(f"/static/{css}") as plain:
        assert gzip.decompress(packed) == plain.get_data()


def caching_static_names(client) -> list[str]:
    from pathlib import Path

    folder = Path(client.application.static_folder)
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*.css"))


# ---------------------------------------------------------------- headers and 304


def test_anonymous_pages_are_public_with_an_etag_and_answer_304(client, trades):
    first = client.get("/trades", headers=BROWSER)
    assert first.headers["Cache-Control"] == "public, max-age=60"
    etag = first.headers["ETag"]
    again = client.get("/trades", headers={**BROWSER, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    other = client.get("/trades", headers={**BROWSER, "If-None-Match": 'W/"other"'})
    assert other.status_code == 200


def test_304_without_rendering_when_the_entry_is_gone(app, client, trades):
    etag = client.get("/trades").headers["ETag"]
    app.extensions["portal_cache"].store.clear()
    again = client.get("/trades", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["ETag"] == etag


def test_a_change_gives_a_new_etag(app, client, trades):
    etag = client.get("/trades").headers["ETag"]
    _withdraw(app, trades[0])
    response = client.get("/trades", headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response.headers["ETag"] != etag


def test_downloads_and_api_carry_validators(client, trades):
    csv = client.get("/trades/export.csv")
    assert csv.headers["ETag"].startswith('W/"')
    assert "public" in csv.headers["Cache-Control"]
    assert (
        client.get("/trades/export.csv", headers={"If-None-Match": csv.headers["ETag"]}).status_code
        == 304
    )
    api = client.get("/api/v1/trades")
    assert (
        client.get("/api/v1/trades", headers={"If-None-Match": api.headers["ETag"]}).status_code
        == 304
    )


def test_feeds_keep_their_own_conditional_get(client, trades):
    feed = client.get("/trades/feed.atom")
    assert feed.headers["Cache-Control"] == "public, max-age=300"
    assert feed.headers["Last-Modified"]
    repeat = client.get("/trades/feed.atom", headers={"If-None-Match": feed.headers["ETag"]})
    assert repeat.status_code == 304
    since = client.get(
        "/trades/feed.atom", headers={"If-Modified-Since": feed.headers["Last-Modified"]}
    )
    assert since.status_code == 304


def test_signed_in_pages_are_private_and_never_stored(client, trades, users, sign_in):
    anonymous = client.get("/trades")
    assert _cache_status(anonymous) == "miss"
    sign_in(users["province"])
    first = client.get("/trades")
    second = client.get("/trades")
    for response in (first, second):
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
        assert _cache_status(response) is None
        assert "ETag" not in response.headers
        assert "/accounts/logout" in response.get_data(as_text=True)
    client.get("/accounts/logout")
    client.delete_cookie("session", domain="localhost")
    page = client.get("/trades").get_data(as_text=True)
    assert "/accounts/logout" not in page


def test_private_areas_are_never_stored(client, users, sign_in):
    assert _cache_status(client.get("/accounts/login")) is None
    response = client.get("/accounts/login")
    assert "public" not in response.headers.get("Cache-Control", "")


def test_a_response_that_sets_a_cookie_is_never_stored(client, trades):
    switched = client.get("/trades?lang=en")
    assert "lang=en" in switched.headers.get("Set-Cookie", "")
    assert _cache_status(switched) is None
    # With the cookie saved, the same link no longer sets it, and may be stored.
    assert _cache_status(client.get("/trades?lang=en")) == "miss"
    assert _cache_status(client.get("/trades?lang=en")) == "hit"


def test_a_page_with_a_csrf_form_is_never_stored(client):
    response = client.get("/subscriptions/new?source=trades")
    if response.status_code != 200:
        pytest.skip("the subscription page needs other arguments")
    assert _cache_status(response) is None
    assert "public" not in response.headers.get("Cache-Control", "")


def test_a_session_cookie_bypasses_the_cache(client, trades):
    client.get("/trades")
    client.set_cookie("session", "anything", domain="localhost")
    assert _cache_status(client.get("/trades")) is None


# ---------------------------------------------------------------- the cache itself


def test_the_second_request_is_a_hit_with_the_same_body(client, trades):
    first = client.get("/trades?variety=energy", headers=BROWSER)
    second = client.get("/trades?variety=energy", headers=BROWSER)
    assert (_cache_status(first), _cache_status(second)) == ("miss", "hit")
    assert second.get_data() == first.get_data()
    assert second.headers["Content-Encoding"] == "br"
    assert second.headers["X-Request-ID"] != first.headers["X-Request-ID"]


def test_the_query_string_is_keyed_in_any_order(client, trades):
    client.get("/trades?variety=energy&sort=-amount")
    assert _cache_status(client.get("/trades?sort=-amount&variety=energy")) == "hit"
    assert _cache_status(client.get("/trades?variety=coal")) == "miss"


def test_each_encoding_has_its_own_entry(client, trades):
    client.get("/trades", headers={"Accept-Encoding": "br"})
    gz = client.get("/trades", headers={"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip"
    plain = client.get("/trades")
    assert "Content-Encoding" not in plain.headers
    assert trades[0] in plain.get_data(as_text=True)


def test_htmx_gets_its_fragment_and_the_browser_its_page(client, trades):
    full = client.get("/trades")
    fragment = client.get("/trades", headers={"HX-Request": "true"})
    full_again = client.get("/trades")
    fragment_again = client.get("/trades", headers={"HX-Request": "true"})
    assert "<html" in full.get_data(as_text=True)
    assert "<html" not in fragment.get_data(as_text=True)
    assert trades[0] in fragment.get_data(as_text=True)
    assert full_again.get_data() == full.get_data()
    assert fragment_again.get_data() == fragment.get_data()
    assert _cache_status(fragment_again) == "hit"
    assert "HX-Request" in fragment.headers["Vary"]


def test_english_and_chinese_are_not_mixed(client, trades):
    chinese = client.get("/trades")
    client.set_cookie("lang", "en", domain="localhost")
    english = client.get("/trades")
    english_again = client.get("/trades")
    client.delete_cookie("lang", domain="localhost")
    chinese_again = client.get("/trades")
    assert '<html lang="zh-CN"' in chinese.get_data(as_text=True)
    assert '<html lang="en"' in english.get_data(as_text=True)
    assert _cache_status(english_again) == "hit"
    assert '<html lang="en"' in english_again.get_data(as_text=True)
    assert '<html lang="zh-CN"' in chinese_again.get_data(as_text=True)
    assert _cache_status(chinese_again) == "hit"


def test_elderly_mode_has_its_own_entry(client, trades):
    client.get("/trades")
    client.set_cookie("care", "1", domain="localhost")
    response = client.get("/trades")
    assert _cache_status(response) == "miss"
    assert 'class="care"' in response.get_data(as_text=True)


def test_unkeyed_headers_and_cookies_neither_split_nor_poison_entries(client, trades):
    client.get("/trades")
    poisoned = client.get(
        "/trades",
        headers={
            "X-Forwarded-Host": "evil.example",
            "X-Forwarded-Proto": "https",
            "X-Original-URL": "/admin",
            "User-Agent": "evil",
        },
    )
    assert _cache_status(poisoned) == "hit"
    client.set_cookie("tracking", "abc", domain="localhost")
    assert _cache_status(client.get("/trades")) == "hit"
    assert "evil.example" not in client.get("/trades").get_data(as_text=True)


def test_another_host_has_its_own_entry(client, trades):
    client.get("/trades")
    other = client.get("/trades", base_url="http://mirror.localhost")
    assert _cache_status(other) != "hit"


def test_errors_are_not_stored(client):
    assert _cache_status(client.get("/trades/NO-SUCH")) is None
    assert _cache_status(client.get("/trades?page=999")) is None


# ---------------------------------------------------------------- invalidation


def _withdraw(app, number):
    from portal.disclosure import entry

    with app.app_context():
        entry.withdraw_trade(number, "录入错误", actor=None)
        db.session.commit()


def test_a_withdrawn_trade_is_gone_at_once(app, client, trades):
    assert trades[0] in client.get("/trades").get_data(as_text=True)
    assert _cache_status(client.get("/trades")) == "hit"
    _withdraw(app, trades[0])
    response = client.get("/trades")
    assert _cache_status(response) == "miss"
    assert trades[0] not in response.get_data(as_text=True)
    assert trades[1] in response.get_data(as_text=True)


def test_an_edited_announcement_shows_at_once(app, client):
    from portal.editorial import services as editorial
    from portal.news.models import Announcement

    with app.app_context():
        ident = factories.announcement(title="缓存测试原标题").id
        db.session.commit()
    assert "缓存测试原标题" in client.get(f"/news/{ident}").get_data(as_text=True)
    assert "缓存测试原标题" in client.get("/news/").get_data(as_text=True)
    with app.app_context():
        row = db.session.get(Announcement, ident)
        draft = editorial.Draft(
            title="缓存测试新标题", category=row.category, body_md=row.body_md, publish_mode="now"
        )
        editorial.update_announcement(row, draft, actor=None, reason="更正标题")
        db.session.commit()
    for url in (f"/news/{ident}", "/news/", "/"):
        page = client.get(url, headers=BROWSER)
        assert "缓存测试新标题" in _text(page), url


def test_a_published_compliance_list_shows_at_once(app, client):
    from portal.compliance import services as compliance

    with app.app_context():
        factories.period(2024, published=False)
        unit = factories.make_enterprise("缓存测试履约单位")
        factories.compliance(unit, 2024)
        db.session.commit()
    assert client.get("/compliance/2024").status_code == 404
    listing = client.get("/compliance").get_data(as_text=True)
    with app.app_context():
        compliance.publish_list(2024, actor=None)
        db.session.commit()
    assert client.get("/compliance").get_data(as_text=True) != listing
    page = client.get("/compliance/2024")
    assert page.status_code == 200
    assert "缓存测试履约单位" in page.get_data(as_text=True)


def test_a_write_to_a_private_table_keeps_the_entries(app, client, trades, users):
    client.get("/trades")
    with app.app_context():
        factories.make_user("enterprise")
        db.session.commit()
    assert _cache_status(client.get("/trades")) == "hit"


def test_a_rolled_back_write_keeps_the_entries(app, client, trades):
    client.get("/trades")
    with app.app_context():
        factories.make_enterprise("回滚的企业")
        db.session.rollback()
    assert _cache_status(client.get("/trades")) == "hit"


def test_a_core_statement_outside_the_orm_counts_too(app, client, trades):
    from sqlalchemy import text

    client.get("/trades")
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text("UPDATE trade SET buyer_name = '直接改名的买方' WHERE id > 0"))
    response = client.get("/trades")
    assert _cache_status(response) == "miss"
    assert "直接改名的买方" in response.get_data(as_text=True)


def test_a_scheduled_announcement_appears_when_its_time_comes(app, client):
    from portal.news.services import utcnow

    with app.app_context():
        factories.announcement(
            title="定时发布的缓存测试", published_at=utcnow() + timedelta(seconds=2)
        )
        db.session.commit()
    before = client.get("/news/")
    assert "定时发布的缓存测试" not in before.get_data(as_text=True)
    assert int(before.headers["Cache-Control"].rsplit("=", 1)[1]) <= 2
    time.sleep(2.2)
    assert "定时发布的缓存测试" in client.get("/news/").get_data(as_text=True)


def test_tick_bumps_the_generation(app, client, trades, runner):
    client.get("/trades")
    result = runner.invoke(args=["tick"])
    assert result.exit_code == 0, result.output
    assert _cache_status(client.get("/trades")) == "miss"


def test_the_generation_lives_in_the_database_without_redis(make_app):
    app = make_app(CACHE_REDIS_URL="", RATELIMIT_STORAGE_URI="memory://")
    assert isinstance(app.extensions["portal_cache"].store, caching.MemoryStore)
    st = app.extensions["portal_cache"]
    # The row is made by the migration, and again by the first bump after the tables were emptied.
    caching.bump_generation(app)
    before = caching._read_generation(st)
    caching.bump_generation(app)
    assert int(caching._read_generation(st)) == int(before) + 1
    with app.app_context():
        factories.make_enterprise("代数测试企业")
        db.session.commit()
    assert int(caching._read_generation(st)) == int(before) + 2


def test_the_cache_can_be_turned_off(make_app, trades):
    app = make_app(CACHE_ENABLED=False)
    client = app.test_client()
    client.get("/trades")
    response = client.get("/trades", headers={"Accept-Encoding": "br"})
    assert _cache_status(response) is None
    assert response.headers["Content-Encoding"] == "br"


# ---------------------------------------------------------------- stores


def test_the_memory_store_drops_the_least_recently_used_past_its_bound():
    store = caching.MemoryStore(max_bytes=250)
    store.set("a", b"x" * 100, 60)
    store.set("b", b"y" * 100, 60)
    assert store.get("a") == b"x" * 100  # a is now the most recently used
    store.set("c", b"z" * 100, 60)
    assert store.get("b") is None
    assert store.get("a") and store.get("c")
    assert store.size == 200
    store.set("huge", b"h" * 300, 60)
    assert store.get("huge") is None


def test_the_memory_store_expires_entries():
    store = caching.MemoryStore(max_bytes=1000)
    store.set("a", b"x", 0.01)
    time.sleep(0.02)
    assert store.get("a") is None
    assert store.size == 0


REDIS_URL = "redis://127.0.0.1:6379/5"


@pytest.fixture
def redis_settings():
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    return {"CACHE_REDIS_URL": REDIS_URL, "CACHE_KEY_PREFIX": f"t{uuid.uuid4().hex}"}


def test_redis_holds_entries_and_generation_for_every_server(make_app, redis_settings, trades):
    redis_app = make_app(**redis_settings)
    first = redis_app.test_client()
    # Another server: its own process memory, the same Redis and database.
    other = make_app(**redis_settings).test_client()
    assert _cache_status(first.get("/trades")) == "miss"
    assert _cache_status(other.get("/trades")) == "hit"
    store = redis_app.extensions["portal_cache"].store
    assert isinstance(store, caching.RedisStore)
    generation = store.read_generation()
    _withdraw(redis_app, trades[0])
    assert int(store.read_generation()) > int(generation)
    response = other.get("/trades")
    assert _cache_status(response) == "miss"
    assert trades[0] not in response.get_data(as_text=True)
    assert _cache_status(first.get("/trades")) == "hit"


def test_a_worker_keeps_its_own_copy_of_redis_entries(make_app, redis_settings, trades):
    app = make_app(**redis_settings)
    client = app.test_client()
    client.get("/trades")
    store = app.extensions["portal_cache"].store
    for key in store.client.scan_iter(match=f"{redis_settings['CACHE_KEY_PREFIX']}:page:*"):
        store.client.delete(key)
    assert _cache_status(client.get("/trades")) == "hit"  # from this worker's memory
    _withdraw(app, trades[0])  # a new generation: the copy is never read again
    assert trades[0] not in client.get("/trades").get_data(as_text=True)


def test_cache_bump_command(app, client, trades, runner):
    client.get("/trades")
    result = runner.invoke(args=["cache-bump"])
    assert result.exit_code == 0, result.output
    assert "generation now" in result.output
    assert _cache_status(client.get("/trades")) == "miss"


# ---------------------------------------------------------------- the WSGI fast path


def test_a_hit_is_served_before_flask_with_its_own_request_id(app, client, trades, caplog):
    import logging

    app.extensions["portal_cache"].log_requests = True
    client.get("/trades")
    with caplog.at_level(logging.INFO, logger="portal.access"):
        hit = client.get("/trades", headers={"X-Request-ID": "abcdef12-3456"})
    assert _cache_status(hit) == "hit"
    assert hit.headers["X-Request-ID"] == "abcdef12-3456"
    (record,) = [r for r in caplog.records if r.name == "portal.access"]
    assert record.endpoint == "cache" and record.status == 200
    assert record.request_id == "abcdef12-3456"
    head = client.head("/trades")
    assert head.status_code == 200 and head.get_data() == b""
    assert client.get("/trades", headers={"If-None-Match": hit.headers["ETag"]}).status_code == 304


def test_the_fast_path_and_the_app_choose_the_same_language(app):
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    from portal import i18n

    st = app.extensions["portal_cache"]
    cases = [
        ("", None),
        ("?lang=en", None),
        ("?lang=EN", "zh_Hans_CN"),
        ("?lang=zh-cn", "en"),
        ("?lang=fr", "en"),
        ("?lang=", "en"),
        ("", "en"),
        ("", "fr"),
        ("", "zh_Hans_CN"),
        ("?lang=%20en%20", None),
    ]
    for query, cookie in cases:
        headers = {"Cookie": f"lang={cookie}"} if cookie else {}
        with app.test_request_context(f"/trades{query}", headers=headers):
            chosen = i18n.select_locale()
        request = Request(EnvironBuilder(path=f"/trades{query}", headers=headers).get_environ())
        assert caching.locale_of(st, request) == chosen, (query, cookie)


def test_behind_a_proxy_the_scheme_is_keyed_as_the_app_sees_it(make_app, trades):
    proxied = make_app(PROXY_COUNT=1)
    client = proxied.test_client()
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    client.get("/trades", headers=https)
    assert _cache_status(client.get("/trades", headers=https)) == "hit"
    assert _cache_status(client.get("/trades")) == "miss"


@pytest.mark.parametrize(
    "statement, counts",
    [
        ("SELECT * FROM trade", False),
        ("INSERT INTO audit_event (id) VALUES (1)", False),
        ('UPDATE "user_account" SET name = 1', False),
        ("INSERT INTO trade (id) VALUES (1)", True),
        ("  update listing set status = 'x'", True),
        ("DELETE FROM announcement WHERE id = 1", True),
        ('TRUNCATE "audit_event", "trade" RESTART IDENTITY CASCADE', True),
        ("WITH x AS (SELECT 1) SELECT * FROM x", False),
        ("WITH x AS (SELECT 1) INSERT INTO trade SELECT * FROM x", True),
        ("INSERT OR REPLACE INTO holding (id) VALUES (1)", True),
    ],
)
def test_which_statements_advance_the_generation(statement, counts):
    assert caching.writes_public_data(statement) is counts
