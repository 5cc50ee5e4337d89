"""Every `next` goes through portal.urls.safe_next: only a path on this site."""

from __future__ import annotations

import re

import pyotp
import pytest

from portal.urls import safe_next
from tests.factories import csrf_token_in

PAYLOADS = [
    "/%5Cevil.example",
    "/%5cevil.example",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "https://evil.example",
    "javascript:alert(1)",
    "/%2F/evil.example",
    "/\t/evil.example",
    "/%09/evil.example",
    "http:/evil.example",
    "evil.example",
    "",
]


@pytest.mark.parametrize("target", PAYLOADS)
def test_payloads_fall_back_to_the_default(target):
    assert safe_next(target, "/home") == "/home"


@pytest.mark.parametrize(
    "target", ["/admin/", "/filings/3?tab=files", "/search?q=%E8%83%BD%E8%80%97"]
)
def test_paths_on_this_site_pass(target):
    assert safe_next(target, "/home") == target


@pytest.mark.parametrize("target", PAYLOADS[:7])
def test_login_ignores_foreign_next(app, client, csrf_token, auth, target):
    user_id = auth.make_user("enterprise")
    from portal.accounts.models import User
    from portal.extensions import db
    from tests.factories import TEST_PASSWORD

    with app.app_context():
        email = db.session.get(User, user_id).email
    token = csrf_token("/accounts/login")
    response = client.post(
        "/accounts/login",
        data={"csrf_token": token, "email": email, "password": TEST_PASSWORD, "next": target},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/accounts/"


@pytest.mark.parametrize("target", PAYLOADS[:7])
def test_totp_enrolment_ignores_foreign_next(app, client, auth, target):
    from portal.accounts.models import User
    from portal.extensions import db
    from tests.factories import TEST_PASSWORD

    user_id = auth.make_user("province", totp=False)
    with app.app_context():
        email = db.session.get(User, user_id).email
    html = client.get("/accounts/login").get_data(as_text=True)
    token = csrf_token_in(html)
    client.post(
        "/accounts/login",
        data={"csrf_token": token, "email": email, "password": TEST_PASSWORD, "next": target},
    )
    page = client.get("/accounts/security/totp", query_string={"next": target}).get_data(
        as_text=True
    )
    secret = re.search(r"<code>([A-Z2-7]{16,})</code>", page).group(1)
    done = client.post(
        "/accounts/security/totp",
        query_string={"next": target},
        data={"csrf_token": token, "code": pyotp.TOTP(secret).now()},
    )
    html = done.get_data(as_text=True)
    assert done.status_code == 200
    link = re.search(r'<a class="button" href="([^"]*)">', html).group(1)
    assert link == "/admin/"


@pytest.mark.parametrize("target", PAYLOADS[:7])
def test_language_switch_ignores_foreign_next(client, csrf_token, target):
    token = csrf_token("/accounts/login")
    response = client.post(
        "/preferences/language", data={"csrf_token": token, "lang": "en", "next": target}
    )
    assert response.headers["Location"] == "/"
