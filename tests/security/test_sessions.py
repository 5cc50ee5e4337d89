"""Sessions end on the server: logout, log out everywhere, absolute lifetime, session protection;
the proxy setting, security headers and the rate-limit storage warning."""

import logging
import time

import pytest
from sqlalchemy import select

from portal import create_app
from portal.accounts import LOGIN_KEY, session_identifier
from portal.extensions import db
from tests.factories import csrf_token_in


def _token(client, path: str = "/accounts/security") -> str:
    html = client.get(path).get_data(as_text=True)
    return csrf_token_in(html)


def _copy_session(app, client, remote_addr: str = "127.0.0.1"):
    """A second client holding a copy of `client`'s session cookie, as a thief would."""
    name = app.config["SESSION_COOKIE_NAME"]
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = remote_addr
    other.set_cookie(name, client.get_cookie(name).value, domain="localhost")
    return other


def _signed_in(client, **kw) -> bool:
    response = client.get("/accounts/security", **kw)
    assert response.status_code in (200, 302)
    return response.status_code == 200


@pytest.fixture
def extra_apps(app):
    """Apps made by a test beside `app` (whose teardown empties the tables); their engines are
    closed afterwards."""
    made = []
    yield made
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def test_a_cookie_replayed_after_logout_is_refused(app, client, auth):
    auth.login("enterprise")
    thief = _copy_session(app, client)
    assert _signed_in(thief)
    auth.logout()
    assert not _signed_in(client)
    assert not _signed_in(thief)


def test_logout_records_the_event_and_bumps_the_session_version(app, client, auth):
    from portal.accounts.models import User
    from portal.audit.models import AuditEvent

    user_id = auth.login("enterprise")
    auth.logout()
    with app.app_context():
        assert db.session.get(User, user_id).session_version == 2
        actions = db.session.scalars(select(AuditEvent.action)).all()
        assert "account.logout" in actions


def test_log_out_everywhere_ends_the_sessions_of_other_devices(app, client, auth):
    from tests.factories import AuthActions

    user_id = auth.login("enterprise")
    laptop = app.test_client()
    AuthActions(app, laptop).login(user_id)
    assert _signed_in(laptop)
    page = client.get("/accounts/security").get_data(as_text=True)
    assert "在所有设备上退出登录" in page
    response = client.post(
        "/accounts/security/logout-everywhere", data={"csrf_token": _token(client)}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/accounts/login")
    assert "已在所有设备上退出登录" in client.get("/accounts/login").get_data(as_text=True)
    assert not _signed_in(client)
    assert not _signed_in(laptop)


def test_log_out_everywhere_needs_the_csrf_token(app, client, auth):
    auth.login("enterprise")
    response = client.post("/accounts/security/logout-everywhere", data={})
    assert response.status_code == 400
    assert _signed_in(client)


def test_a_session_older_than_the_absolute_lifetime_ends(app, client, auth):
    auth.login("enterprise")
    with client.session_transaction() as session:
        session[LOGIN_KEY] = time.time() - 11 * 3600
    assert _signed_in(client)  # active all along, and younger than 12 hours
    with client.session_transaction() as session:
        session[LOGIN_KEY] = time.time() - 12 * 3600 - 60
    response = client.get("/accounts/security")
    assert response.status_code == 302
    assert "/accounts/login" in response.headers["Location"]
    assert "登录 12 小时后需要重新登录" in client.get("/accounts/login").get_data(as_text=True)


def test_a_remember_me_cookie_opens_no_session(app, client, auth):
    """The portal never sets one; one signed with the key still cannot start a session."""
    from flask_login.utils import encode_cookie

    from portal.accounts.models import User

    user_id = auth.make_user("enterprise")
    with app.test_request_context():
        cookie = encode_cookie(db.session.get(User, user_id).get_id())
    client.set_cookie("remember_token", cookie, domain="localhost")
    assert not _signed_in(client)
    assert not _signed_in(client)


def test_a_forwarded_for_header_does_not_change_the_session_identifier(app):
    with app.test_request_context(environ_base={"REMOTE_ADDR": "192.0.2.1"}):
        plain = session_identifier()
    with app.test_request_context(
        environ_base={"REMOTE_ADDR": "192.0.2.1"}, headers={"X-Forwarded-For": "203.0.113.9"}
    ):
        assert session_identifier() == plain


def test_a_signed_in_client_may_send_any_forwarded_for(app, client, auth):
    auth.login("enterprise")
    assert _signed_in(client, headers={"X-Forwarded-For": "203.0.113.9"})


def test_forging_forwarded_for_does_not_get_past_session_protection(app, client, auth):
    """A thief elsewhere who claims the victim's address in X-Forwarded-For is still refused."""
    auth.login("enterprise")  # from 127.0.0.1
    thief = _copy_session(app, client, remote_addr="198.51.100.7")
    assert not _signed_in(thief, headers={"X-Forwarded-For": "127.0.0.1"})
    assert _signed_in(client)


def _last_login_ip(app) -> str:
    from portal.audit.models import AuditEvent

    with app.app_context():
        return db.session.scalars(
            select(AuditEvent.ip)
            .where(AuditEvent.action == "account.login")
            .order_by(AuditEvent.id.desc())
        ).first()


def test_without_trusted_proxies_the_peer_address_counts(app, client, auth):
    auth.login("enterprise")
    assert _last_login_ip(app) == "127.0.0.1"


@pytest.mark.parametrize(
    ("count", "forwarded_for"),
    [
        # The client claims 10.9.9.9; each proxy appends the address it saw.
        (1, "10.9.9.9, 203.0.113.5"),
        (2, "10.9.9.9, 203.0.113.5, 198.51.100.20"),
    ],
)
def test_behind_trusted_proxies_the_client_address_counts(
    app_config, extra_apps, count, forwarded_for
):
    from tests.factories import AuthActions

    app = create_app(app_config | {"PROXY_COUNT": count})
    extra_apps.append(app)
    client = app.test_client()
    client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded_for
    AuthActions(app, client).login("enterprise")
    assert _last_login_ip(app) == "203.0.113.5"


def test_hsts_is_off_by_default_and_sent_when_configured(app, app_config, client, extra_apps):
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = create_app(app_config | {"HSTS_SECONDS": 31536000})
    extra_apps.append(secure)
    for path in ("/", "/accounts/login", "/static/css/portal.css"):
        with secure.test_client().get(path) as response:
            header = response.headers["Strict-Transport-Security"]
        assert header == "max-age=31536000; includeSubDomains"


def test_pages_behind_login_are_not_stored(app, client, auth):
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")
    for path in ("/accounts/login", "/admin/", "/filings/"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path
    auth.login("enterprise")
    assert client.get("/").headers["Cache-Control"] == "no-store"
    assert client.get("/news/").headers["Cache-Control"] == "no-store"
    with client.get("/static/css/portal.css") as response:
        assert "no-store" not in response.headers.get("Cache-Control", "")


def test_memory_rate_limits_under_gunicorn_warn_loudly(
    app_config, extra_apps, monkeypatch, capsys, caplog
):
    monkeypatch.setenv("SERVER_SOFTWARE", "gunicorn/23.0.0")
    settings = app_config | {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}
    with caplog.at_level(logging.WARNING, logger="portal"):
        extra_apps.append(create_app(settings))
    assert "RATELIMIT_STORAGE_URI=redis://" in capsys.readouterr().err
    assert any("memory://" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")

    caplog.clear()
    extra_apps.append(create_app(settings | {"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/5"}))
    assert "RATELIMIT_STORAGE_URI" not in capsys.readouterr().err

    monkeypatch.delenv("SERVER_SOFTWARE")
    extra_apps.append(create_app(settings))
    assert "RATELIMIT_STORAGE_URI" not in capsys.readouterr().err


def test_htmx_keeps_no_history_snapshot_of_signed_in_pages(client, auth):
    """htmx stores snapshots of pushed pages in localStorage; none of a signed-in user's pages."""
    anonymous = client.get("/listings").get_data(as_text=True)
    assert '"historyCacheSize": 20' in anonymous
    auth.login("enterprise")
    signed_in = client.get("/listings").get_data(as_text=True)
    assert '"historyCacheSize": 0' in signed_in
