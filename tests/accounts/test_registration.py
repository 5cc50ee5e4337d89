"""Registration, email verification and login security, through the client with CSRF on."""

from sqlalchemy import select

from portal.accounts.models import IdentityApplication, User
from portal.enterprises.models import Enterprise
from portal.extensions import db
from tests.factories import REGISTRATION, VALID_USCC, mail_link, outbox


def _register(client, csrf_token, **changes):
    data = dict(REGISTRATION, uscc=VALID_USCC, csrf_token=csrf_token("/accounts/register"))
    data.update(changes)
    return client.post("/accounts/register", data=data)


def test_register_verify_and_log_in(app, client, csrf_token):
    response = _register(client, csrf_token)
    assert response.status_code == 303
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "zhang@example.com"))
        assert user.email_verified_at is None
        assert user.password_hash.startswith("$argon2")
        # No unit until the city approves the identity application the registration opened.
        assert user.enterprise_id is None and not user.is_enterprise_admin
        assert db.session.scalar(select(Enterprise).where(Enterprise.uscc == VALID_USCC)) is None
        application = db.session.scalar(select(IdentityApplication))
        assert (application.user_id, application.kind, application.status) == (
            user.id,
            "new",
            "draft",
        )
    # Not verified yet: the login says so and mails the link again.
    token = csrf_token("/accounts/login")
    response = client.post(
        "/accounts/login",
        data={"csrf_token": token, "email": "zhang@example.com", "password": "Strong-pass-1"},
    )
    assert "尚未验证" in response.get_data(as_text=True)
    response = client.get(mail_link(app, "verify"))
    assert response.status_code == 303
    token = csrf_token("/accounts/login")
    response = client.post(
        "/accounts/login",
        data={"csrf_token": token, "email": "ZHANG@example.com", "password": "Strong-pass-1"},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/accounts/application")
    assert client.get("/accounts/application").status_code == 200
    assert client.get("/accounts/").status_code == 403


def test_wrong_check_character_is_named(client, csrf_token):
    response = _register(client, csrf_token, uscc="91110000600037341A")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "第18位校验码错误" in html and "应为 L" in html


def test_bad_length_and_format(client, csrf_token):
    html = _register(client, csrf_token, uscc="9111000060003734").get_data(as_text=True)
    assert "应为 18 位" in html
    html = _register(client, csrf_token, uscc="91110000600O37341L").get_data(as_text=True)
    assert "格式不正确" in html


def test_registered_code_is_refused_with_access_request(app, client, csrf_token, auth):
    enterprise_id = auth.make_enterprise(uscc=VALID_USCC)
    auth.make_user("enterprise", enterprise_id=enterprise_id, is_enterprise_admin=True)
    response = _register(client, csrf_token, email="other@example.com")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "已有管理员" in html and "/accounts/access-request?uscc=" + VALID_USCC in html
    token = csrf_token("/accounts/access-request")
    response = client.post(
        "/accounts/access-request",
        data={"csrf_token": token, "uscc": VALID_USCC, "name": "李四", "email": "li@example.com"},
    )
    assert response.status_code == 303
    assert any("申请加入" in m or "=E7=94=B3" in m or "Subject" in m for m in outbox(app))


def test_weak_password_and_bad_mobile(client, csrf_token):
    html = _register(
        client, csrf_token, password="password", confirm="password", mobile="12345"
    ).get_data(as_text=True)
    assert "至少 3 类" in html
    assert "11 位中国大陆手机号码" in html


def test_existing_email_is_not_revealed(app, client, csrf_token, auth):
    auth.make_user("enterprise", email="zhang@example.com")
    response = _register(client, csrf_token)
    # Same answer as a new registration; the owner is told by mail instead.
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/accounts/register/sent")
    with app.app_context():
        assert db.session.scalar(select(Enterprise).where(Enterprise.uscc == VALID_USCC)) is None


def test_script_in_text_fields_is_escaped(client, csrf_token):
    evil = "<script>alert(1)</script>"
    html = _register(
        client, csrf_token, name=evil, address=evil, contact_name=evil, mobile="x"
    ).get_data(as_text=True)
    assert evil not in html
    assert "&lt;script&gt;" in html


def test_register_without_csrf_token_is_refused(client):
    response = client.post("/accounts/register", data=dict(REGISTRATION, uscc=VALID_USCC))
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)


def test_registered_code_offers_access_request_in_english_too(client, csrf_token, auth):
    enterprise_id = auth.make_enterprise(uscc=VALID_USCC)
    auth.make_user("enterprise", enterprise_id=enterprise_id, is_enterprise_admin=True)
    client.set_cookie("lang", "en")
    html = _register(client, csrf_token, email="other@example.com").get_data(as_text=True)
    assert "/accounts/access-request?uscc=" + VALID_USCC in html
