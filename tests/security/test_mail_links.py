"""Links in mail start from PUBLIC_BASE_URL, never from the request's Host; headers stay one line."""

import re
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from portal import create_app
from portal.extensions import db
from tests.conftest import make_uscc
from tests.factories import csrf_token_in

BASE = "https://ynq.example.gov.cn"


def _messages(app) -> list:
    folder = Path(app.config["MAIL_OUTBOX_DIR"])
    parser = BytesParser(policy=policy.default)
    return [parser.parsebytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))]


def _body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


@pytest.fixture
def app_config(app_config):
    # As in the probe: no SERVER_NAME, so nothing but PUBLIC_BASE_URL can stop a forged Host.
    app_config.pop("SERVER_NAME")
    app_config["PUBLIC_BASE_URL"] = BASE
    return app_config


def test_forged_host_reset_mail_links_to_the_public_base_url(app, client, auth):
    auth.make_user("enterprise", email="victim@example.com")
    evil = "http://evil.example"
    html = client.get("/accounts/password/forgot", base_url=evil).get_data(as_text=True)
    token = csrf_token_in(html)
    response = client.post(
        "/accounts/password/forgot",
        data={"csrf_token": token, "email": "victim@example.com"},
        base_url=evil,
        headers={"X-Forwarded-Host": "evil.example"},
    )
    assert response.status_code == 303
    (message,) = _messages(app)
    body = _body(message)
    assert "evil.example" not in message.as_string()
    link = re.search(r"https?://\S+", body).group(0)
    assert link.startswith(f"{BASE}/accounts/password/reset/")
    # The link works on the real site.
    assert client.get(link.removeprefix(BASE)).status_code == 200


def test_registration_and_lockout_mails_link_to_the_public_base_url(app, client, auth):
    from portal.accounts import services

    user_id = auth.make_user("enterprise", email="owner@example.com")
    with app.test_request_context("/", base_url="http://evil.example"):
        from portal.accounts.models import User

        user = db.session.get(User, user_id)
        services.send_verification(user)
        for _attempt in range(services.MAX_FAILURES):
            services.register_failure(user)
        services.invite_colleague(user, "new@example.com")
        db.session.commit()
    links = [re.search(r"https?://\S+", _body(m)).group(0) for m in _messages(app)]
    assert len(links) == 3
    assert all(link.startswith(f"{BASE}/accounts/") for link in links), links


def test_notice_mail_outside_a_request_links_to_the_public_base_url(app, auth):
    """`flask tick` posts notices with no request at all; the link still has the right address."""
    from portal.accounts.services import post_notice

    enterprise_id = auth.make_enterprise()
    auth.make_user("enterprise", email="boss@example.com", enterprise_id=enterprise_id)
    with app.app_context():
        post_notice(enterprise_id, "公示期结束", "您的申报已完成公示。", link="/accounts/")
        db.session.commit()
    (message,) = _messages(app)
    assert _body(message).endswith(f"{BASE}/accounts/\n")


def test_absolute_url_keeps_a_path_prefix_of_the_base(app_config):
    app = create_app(app_config | {"PUBLIC_BASE_URL": "https://gov.example/ynq/"})
    try:
        from portal.mail import absolute_url

        with app.app_context():
            assert absolute_url("accounts.login") == "https://gov.example/ynq/accounts/login"
            assert (
                absolute_url("accounts.reset_password", token="a.b")
                == "https://gov.example/ynq/accounts/password/reset/a.b"
            )
    finally:
        with app.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("base", ["ynq.example.gov.cn", "javascript:alert(1)", "https://"])
def test_a_public_base_url_that_is_not_an_address_is_refused(app_config, base):
    with pytest.raises(RuntimeError, match="PUBLIC_BASE_URL"):
        create_app(app_config | {"PUBLIC_BASE_URL": base})


def test_trusted_hosts_refuse_any_other_host(app_config, monkeypatch):
    monkeypatch.setenv("TRUSTED_HOSTS", "localhost, ynq.example.gov.cn")
    app = create_app(app_config)
    try:
        assert app.config["TRUSTED_HOSTS"] == ["localhost", "ynq.example.gov.cn"]
        client = app.test_client()
        assert client.get("/accounts/login").status_code == 200
        assert (
            client.get("/accounts/login", base_url="http://ynq.example.gov.cn").status_code == 200
        )
        assert client.get("/accounts/login", base_url="http://evil.example").status_code == 400
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_a_line_break_in_a_name_does_not_break_a_mail(app, client, csrf_token, auth):
    """The access request's name goes into the administrator's mail subject."""
    enterprise_id = auth.make_enterprise(uscc=make_uscc(4242))
    auth.make_user(
        "enterprise",
        email="admin@example.com",
        enterprise_id=enterprise_id,
        is_enterprise_admin=True,
    )
    form = {
        "csrf_token": csrf_token("/accounts/access-request"),
        "uscc": make_uscc(4242),
        "email": "wang@example.com",
        "phone": "",
        "message": "",
    }
    # CR and LF are control characters: a one-line field refuses them beside the field.
    refused = client.post(
        "/accounts/access-request",
        data=form | {"name": "王五\r\nBcc: spy@evil.example\nX-Injected: 1"},
    )
    assert refused.status_code == 422 and "控制字符" in refused.get_data(as_text=True)
    assert _messages(app) == []
    # A Unicode line separator is text to the form, and the mail still folds it.
    response = client.post(
        "/accounts/access-request",
        data=form | {"name": "王五\u2028Bcc: spy@evil.example\u2029X-Injected: 1"},
    )
    assert response.status_code == 303
    (message,) = _messages(app)
    assert message["Bcc"] is None and message["X-Injected"] is None
    assert message["To"] == "admin@example.com"
    subject = message["Subject"]
    assert "\n" not in subject and "\r" not in subject
    assert subject.startswith("王五 Bcc: spy@evil.example X-Injected: 1")


def test_every_header_is_folded_in_one_place(app):
    from portal.mail import build_message

    with app.app_context():
        app.config["MAIL_SENDER"] = "noreply@example.com\r\nBcc: spy@evil.example"
        message = build_message(
            "a@example.com\nCc: spy@evil.example", "第一行\u2028第二行\x00", "正文"
        )
    raw = message.as_string()
    assert "\nBcc:" not in raw and "\nCc:" not in raw
    assert message["Subject"] == "第一行 第二行"
