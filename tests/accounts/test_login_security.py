"""Lockout, idle timeout, stale sessions, password reset, TOTP and rate limits."""

import re
import time

import pyotp
import pytest

from portal.accounts import services
from portal.accounts.models import User
from portal.extensions import db
from tests.factories import TEST_PASSWORD, csrf_token_in

GENERIC = "邮箱或密码不正确"


def _login(client, csrf_token, email, password):
    token = csrf_token("/accounts/login")
    return client.post(
        "/accounts/login", data={"csrf_token": token, "email": email, "password": password}
    )


def test_unknown_and_wrong_password_get_the_same_message(client, csrf_token, auth):
    auth.make_user("enterprise", email="known@example.com")
    unknown = _login(client, csrf_token, "nobody@example.com", "Whatever-1")
    wrong = _login(client, csrf_token, "known@example.com", "Whatever-1")
    assert unknown.status_code == wrong.status_code == 422
    assert GENERIC in unknown.get_data(as_text=True)
    assert GENERIC in wrong.get_data(as_text=True)


def test_five_failures_lock_the_account_for_thirty_minutes(app, client, csrf_token, auth):
    user_id = auth.make_user("enterprise", email="lock@example.com")
    for _attempt in range(5):
        _login(client, csrf_token, "lock@example.com", "Wrong-pass-1")
    # The right password does not help while locked, and the message is the same.
    response = _login(client, csrf_token, "lock@example.com", TEST_PASSWORD)
    assert response.status_code == 422
    assert GENERIC in response.get_data(as_text=True)
    with app.app_context():
        user = db.session.get(User, user_id)
        remaining = (user.locked_until - services.now()).total_seconds()
        assert 29 * 60 < remaining <= 30 * 60
        user.locked_until = services.now()  # the 30 minutes have passed
        db.session.commit()
    assert _login(client, csrf_token, "lock@example.com", TEST_PASSWORD).status_code == 303


def test_session_ends_after_idle_minutes(app, client, auth):
    auth.login("enterprise")
    assert client.get("/accounts/").status_code == 200
    with client.session_transaction() as session:
        session["seen"] = time.time() - 31 * 60
    response = client.get("/accounts/")
    assert response.status_code == 302
    assert "/accounts/login" in response.headers["Location"]


def test_bumped_session_version_ends_every_session(app, client, auth):
    user_id = auth.login("enterprise")
    with app.app_context():
        db.session.get(User, user_id).session_version += 1
        db.session.commit()
    assert client.get("/accounts/").status_code == 302


def test_password_reset_token_works_once(app, client, csrf_token, auth):
    from tests.factories import mail_link

    auth.make_user("enterprise", email="reset@example.com")
    token = csrf_token("/accounts/password/forgot")
    response = client.post(
        "/accounts/password/forgot", data={"csrf_token": token, "email": "reset@example.com"}
    )
    assert response.status_code == 303
    # An unknown address gets the very same answer.
    other = client.post(
        "/accounts/password/forgot", data={"csrf_token": token, "email": "ghost@example.com"}
    )
    assert other.status_code == 303 and other.headers["Location"] == response.headers["Location"]
    link = mail_link(app, "password/reset")
    token = csrf_token(link)
    weak = client.post(link, data={"csrf_token": token, "password": "short", "confirm": "short"})
    assert weak.status_code == 422
    done = client.post(
        link, data={"csrf_token": token, "password": "New-pass-2024", "confirm": "New-pass-2024"}
    )
    assert done.status_code == 303
    assert client.get(link).status_code == 400  # used: the hash changed
    assert _login(client, csrf_token, "reset@example.com", "New-pass-2024").status_code == 303


def test_expired_reset_token_is_refused(app, client, auth):
    user_id = auth.make_user("enterprise")
    with app.test_request_context():
        user = db.session.get(User, user_id)
        token = services.make_token(
            "reset-password", {"uid": user.id, "fp": services._fingerprint(user)}
        )
        assert services.user_for_reset_token(token) is not None
        real_max_age = services.RESET_MAX_AGE
        services.RESET_MAX_AGE = -1
        try:
            assert services.user_for_reset_token(token) is None
        finally:
            services.RESET_MAX_AGE = real_max_age


def test_totp_enrolment_and_login_with_code_or_recovery_code(app, client, csrf_token, auth):
    user_id = auth.login("enterprise")
    page = client.get("/accounts/security/totp").get_data(as_text=True)
    secret = re.search(r"<code>([A-Z2-7]{16,})</code>", page).group(1)
    token = csrf_token("/accounts/security/totp")
    bad = client.post("/accounts/security/totp", data={"csrf_token": token, "code": "000000"})
    assert bad.status_code == 422
    good = client.post(
        "/accounts/security/totp", data={"csrf_token": token, "code": pyotp.TOTP(secret).now()}
    )
    codes = re.findall(r"<code>([0-9a-f]{8}-[0-9a-f]{8})</code>", good.get_data(as_text=True))
    assert len(codes) == 10
    auth.logout()
    with app.app_context():
        email = db.session.get(User, user_id).email
    response = _login(client, csrf_token, email, TEST_PASSWORD)
    assert response.headers["Location"].endswith("/accounts/login/second-factor")
    token = csrf_token("/accounts/login/second-factor")
    wrong = client.post("/accounts/login/second-factor", data={"csrf_token": token, "code": "123"})
    assert wrong.status_code == 422
    ok = client.post("/accounts/login/second-factor", data={"csrf_token": token, "code": codes[0]})
    assert ok.status_code == 303
    with app.app_context():
        assert services.recovery_codes_left(db.session.get(User, user_id)) == 9


def test_back_office_without_totp_is_sent_to_enrol(app, client, auth):
    from portal.access import role_required

    @role_required("city")
    def page():
        return "ok"

    app.add_url_rule("/test-city-only", "test_city_only", page)
    auth.login("city", totp=False)
    response = client.get("/test-city-only")
    assert response.status_code == 302
    assert "/accounts/security/totp" in response.headers["Location"]


def test_role_required_refuses_other_roles(app, client, auth):
    from portal.access import role_required

    @role_required("province")
    def page():
        return "ok"

    app.add_url_rule("/test-province-only", "test_province_only", page)
    assert client.get("/test-province-only").status_code == 302  # anonymous → login
    auth.login("enterprise")
    response = client.get("/test-province-only")
    assert response.status_code == 403
    assert "没有访问此页面的权限" in response.get_data(as_text=True)
    auth.logout()
    auth.login("province")
    assert client.get("/test-province-only").get_data(as_text=True) == "ok"


@pytest.fixture
def limited_app(app_config):
    from portal import create_app

    app_config["RATELIMIT_ENABLED"] = True
    app = create_app(app_config)
    yield app
    from portal.extensions import limiter

    with app.app_context():
        limiter.reset()
        db.session.remove()
        db.engine.dispose()  # this second app has its own engine; close its connections


def test_login_is_rate_limited(limited_app):
    client = limited_app.test_client()
    html = client.get("/accounts/login").get_data(as_text=True)
    token = csrf_token_in(html)
    responses = [
        client.post(
            "/accounts/login",
            data={"csrf_token": token, "email": "x@example.com", "password": "Wrong-pass-1"},
        )
        for _i in range(12)
    ]
    assert responses[0].status_code == 422
    assert responses[-1].status_code == 429
    # RFC 6585: the refusal says when to come back (the end of the limit's window).
    assert int(responses[-1].headers["Retry-After"]) >= 1
    assert responses[-1].mimetype == "text/html"


def test_colleague_invite_accept_and_remove(app, client, csrf_token, auth):
    from tests.factories import mail_link

    admin_id = auth.login("enterprise")
    token = csrf_token("/accounts/colleagues")
    response = client.post(
        "/accounts/colleagues/invite", data={"csrf_token": token, "email": "mate@example.com"}
    )
    assert response.status_code == 303
    auth.logout()
    link = mail_link(app, "invitation")
    token = csrf_token(link)
    response = client.post(
        link,
        data={
            "csrf_token": token,
            "name": "同事",
            "phone": "13900001111",
            "password": "Mate-pass-2024",
            "confirm": "Mate-pass-2024",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        mate = db.session.query(User).filter_by(email="mate@example.com").one()
        admin = db.session.get(User, admin_id)
        assert mate.enterprise_id == admin.enterprise_id and not mate.is_enterprise_admin
        mate_id = mate.id
    auth.login(admin_id)
    token = csrf_token("/accounts/colleagues")
    client.post(f"/accounts/colleagues/{mate_id}/remove", data={"csrf_token": token})
    with app.app_context():
        assert db.session.get(User, mate_id).is_active_account is False
    # A colleague who is not an administrator cannot manage accounts.
    auth.logout()
    other = auth.make_user("enterprise", is_enterprise_admin=False)
    auth.login(other)
    assert client.get("/accounts/colleagues").status_code == 403


def test_outbox_page_in_debug_only(app, client):
    assert client.get("/accounts/dev/outbox").status_code == 200
    app.testing = False
    try:
        assert client.get("/accounts/dev/outbox").status_code == 404
    finally:
        app.testing = True
