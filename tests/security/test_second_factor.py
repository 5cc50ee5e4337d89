"""The second factor: one gate for every request, no replay, secrets encrypted, rebinding guarded."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from sqlalchemy import select, text

from portal.accounts import services
from portal.accounts.models import User
from portal.extensions import db
from tests.factories import TEST_PASSWORD, checked_pdf, csrf_token_in, make_filing
from tests.factories import login as session_login

BACK_OFFICE = ("auditor", "city", "province", "editor", "supervisor")


@pytest.fixture
def filing_with_pdf(app):
    """A submitted filing of a 郑州 enterprise with a PDF attachment: (filing id, attachment id)."""
    from portal.filings.services import add_attachment

    with app.test_request_context():
        filing = make_filing("closure", "submitted")
        owner = db.session.get(User, filing.created_by_id)
        filing.status = "draft"  # the enterprise attaches while drafting
        attachment = add_attachment(filing, checked_pdf(), "", owner)
        filing.status = "submitted"
        db.session.commit()
        return filing.id, attachment.id


def _get_rules(app, filing_id: int, attachment_id: int) -> list[str]:
    """Every GET URL of the app: rules without arguments, and those taking a filing or
    attachment id, filled with real ones."""
    urls = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint.endswith("static"):
                continue
            args = set(rule.arguments)
            values = {}
            if args - {"filing_id", "attachment_id"}:
                continue
            if "filing_id" in args:
                values["filing_id"] = filing_id
            if "attachment_id" in args:
                values["attachment_id"] = attachment_id
            urls.append(url_for(rule.endpoint, **values))
    return sorted(set(urls))


def _pending_client(app, auth, role: str):
    """A client that passed the password step of a back-office account with no TOTP yet."""
    client = app.test_client()
    auth.client = client
    user_id = auth.make_user(role, totp=False)
    with app.app_context():
        email = db.session.get(User, user_id).email
    html = client.get("/accounts/login").get_data(as_text=True)
    token = csrf_token_in(html)
    response = client.post(
        "/accounts/login", data={"csrf_token": token, "email": email, "password": TEST_PASSWORD}
    )
    assert response.status_code == 303
    assert "/accounts/security/totp" in response.headers["Location"]
    return client, user_id


def _step_of(client, response) -> str:
    """Where a redirect finally leads (a page sending visitors to log in leads a pending user on
    to the second factor); HX-Redirect counts as a redirect."""
    location = response.headers.get("Location") or response.headers.get("HX-Redirect") or ""
    for _hop in range(3):
        if not location.startswith("/accounts/login?") and location != "/accounts/login":
            break
        location = client.get(location).headers.get("Location", "")
    return location


@pytest.mark.parametrize("role", BACK_OFFICE)
def test_unenrolled_back_office_gets_no_filing_or_pdf(app, auth, filing_with_pdf, role):
    filing_id, attachment_id = filing_with_pdf
    client, _user_id = _pending_client(app, auth, role)
    for url in (
        f"/filings/{filing_id}",
        f"/filings/attachments/{attachment_id}",
        "/admin/",
        "/admin/queue",
        "/admin/users",
        "/admin/audit/",
        "/admin/registry/",
        "/admin/editorial/",
    ):
        response = client.get(url)
        assert response.status_code in (302, 303), (url, response.status_code)
        assert b"%PDF" not in response.data
        assert _step_of(client, response).startswith("/accounts/security/totp"), url
    htmx = client.get("/admin/", headers={"HX-Request": "true"})
    assert "/accounts/security/totp" in htmx.headers.get("HX-Redirect", "")


def test_no_get_route_serves_an_unenrolled_back_office_user_more_than_a_visitor(
    app, auth, filing_with_pdf
):
    filing_id, attachment_id = filing_with_pdf
    urls = _get_rules(app, filing_id, attachment_id)
    assert f"/filings/{filing_id}" in urls and f"/filings/attachments/{attachment_id}" in urls
    visitor = app.test_client()
    client, _user_id = _pending_client(app, auth, "province")
    checked = 0
    # the pages that enrol or ask for the second factor are the pending user's own
    own = {"/accounts/security/totp", "/accounts/login/second-factor"}
    for url in sorted(set(urls) - own):
        anonymous = visitor.get(url)
        pending = client.get(url)
        if anonymous.status_code != 200:
            assert pending.status_code != 200, url
        if anonymous.status_code in (302, 303) and "/accounts/login" in anonymous.location:
            # where a visitor is sent to log in, the pending user is sent to the second factor
            assert _step_of(client, pending).startswith("/accounts/security/totp"), url
        # A streamed response holds its request context until closed: the last opened first.
        pending.close()
        anonymous.close()
        checked += 1
    assert checked > 40


def test_signed_in_session_without_totp_is_turned_back_into_a_pending_one(
    app, client, request, filing_with_pdf
):
    """A session signed in some other way (or kept over a TOTP reset) still gets no data."""
    people = request.getfixturevalue("users")
    filing_id, attachment_id = filing_with_pdf
    with app.app_context():
        session_login(client, db.session.get(User, people["no_totp"]))
    for url in (f"/filings/{filing_id}", f"/filings/attachments/{attachment_id}", "/admin/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert _step_of(client, response).startswith("/accounts/security/totp"), url
    # an enrolled user whose session has not passed TOTP is sent to type the code
    client2 = app.test_client()
    with app.app_context():
        session_login(client2, db.session.get(User, people["province"]))
    with client2.session_transaction() as session:
        session["totp_ok"] = False
    response = client2.get(f"/filings/{filing_id}")
    assert response.status_code == 302
    assert _step_of(client2, response).startswith("/accounts/login/second-factor")


def test_public_pages_and_logout_stay_open_while_pending(app, auth):
    client, _user_id = _pending_client(app, auth, "city")
    assert client.get("/").status_code == 200
    assert client.get("/accounts/security/totp").status_code == 200
    html = client.get("/accounts/security/totp").get_data(as_text=True)
    token = csrf_token_in(html)
    assert client.post("/accounts/logout", data={"csrf_token": token}).status_code in (302, 303)
    assert "/accounts/login" in client.get("/accounts/security/totp").headers["Location"]


def test_enrolment_finishes_the_login_and_opens_the_back_office(app, auth):
    client, user_id = _pending_client(app, auth, "province")
    page = client.get("/accounts/security/totp?next=/admin/").get_data(as_text=True)
    secret = re.search(r"<code>([A-Z2-7]{16,})</code>", page).group(1)
    token = csrf_token_in(page)
    done = client.post(
        "/accounts/security/totp?next=/admin/",
        data={"csrf_token": token, "code": pyotp.TOTP(secret).now()},
    )
    html = done.get_data(as_text=True)
    assert done.status_code == 200 and 'href="/admin/"' in html
    assert client.get("/admin/").status_code == 200
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user.totp_secret == secret and user.totp_last_step is not None


def test_a_code_is_accepted_once(app, auth):
    user_id = auth.make_user("city")
    secret = auth.secrets[user_id]
    code = pyotp.TOTP(secret).now()
    with app.test_request_context():
        user = db.session.get(User, user_id)
        assert services.verify_second_factor(user, code)
        db.session.commit()
        assert not services.verify_second_factor(user, code)
        # an older code (the previous step) is refused too
        earlier = pyotp.TOTP(secret).at(time.time() - 30)
        assert not services.verify_second_factor(user, earlier)


def test_replayed_code_is_refused_at_login(app, client, auth, csrf_token):
    user_id = auth.login("province")
    auth.logout()
    with app.app_context():
        user = db.session.get(User, user_id)
        email, step = user.email, user.totp_last_step
    # The code the login just used (its time step is stored), even if a new step began since.
    code = pyotp.TOTP(auth.secrets[user_id]).at(step * 30)
    token = csrf_token("/accounts/login")
    client.post(
        "/accounts/login", data={"csrf_token": token, "email": email, "password": TEST_PASSWORD}
    )
    response = client.post(
        "/accounts/login/second-factor", data={"csrf_token": token, "code": code}
    )
    assert response.status_code == 422
    assert client.get("/admin/").status_code == 302


def test_secret_is_encrypted_at_rest(app, auth):
    user_id = auth.make_user("supervisor")
    secret = auth.secrets[user_id]
    with app.app_context():
        row = db.session.execute(
            text("SELECT * FROM user_account WHERE id = :id"), {"id": user_id}
        ).mappings()
        values = [str(v) for v in next(iter(row)).values()]
        assert not any(secret in v for v in values)
        stored = db.session.scalar(select(User.totp_secret_encrypted).where(User.id == user_id))
        assert stored.startswith("gAAAAA")  # a Fernet token
        assert db.session.get(User, user_id).totp_secret == secret


def test_key_from_setting_or_derived_from_secret_key(app):
    from cryptography.fernet import Fernet

    from portal.accounts import crypto

    with app.test_request_context():
        derived = crypto.encrypt_secret("JBSWY3DPEHPK3PXP")
        key = Fernet.generate_key().decode()
        app.config["TOTP_ENCRYPTION_KEY"] = key
        own = crypto.encrypt_secret("JBSWY3DPEHPK3PXP")
        assert Fernet(key.encode()).decrypt(own.encode()) == b"JBSWY3DPEHPK3PXP"
        assert crypto.decrypt_secret(derived) is None  # a different key does not open it
        app.config["TOTP_ENCRYPTION_KEY"] = (
            f"{key},{crypto.derive_key(app.config['SECRET_KEY']).decode()}"
        )
        assert crypto.decrypt_secret(derived) == "JBSWY3DPEHPK3PXP"  # rotation: old key listed


def test_rebinding_needs_the_current_code(app, client, auth, csrf_token):
    user_id = auth.login("city")
    old_secret = auth.secrets[user_id]
    page = client.get("/accounts/security/totp?codes=1").get_data(as_text=True)
    assert 'name="current_code"' in page
    new_secret = re.search(r"<code>([A-Z2-7]{16,})</code>", page).group(1)
    token = csrf_token("/accounts/security/totp?codes=1")
    new_code = pyotp.TOTP(new_secret).now()
    missing = client.post(
        "/accounts/security/totp?codes=1", data={"csrf_token": token, "code": new_code}
    )
    assert missing.status_code == 422
    wrong = client.post(
        "/accounts/security/totp?codes=1",
        data={"csrf_token": token, "code": new_code, "current_code": "000000"},
    )
    assert wrong.status_code == 422
    assert "当前验证器的验证码不正确" in wrong.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, user_id).totp_secret == old_secret
    good = client.post(
        "/accounts/security/totp?codes=1",
        data={
            "csrf_token": token,
            "code": new_code,
            "current_code": pyotp.TOTP(old_secret).at(time.time() + 30),  # not yet used
        },
    )
    assert good.status_code == 200
    with app.app_context():
        assert db.session.get(User, user_id).totp_secret == new_secret


def test_disabling_totp_needs_password_and_code(app, client, auth, csrf_token):
    user_id = auth.make_user("enterprise", totp=True)
    auth.login(user_id)
    token = csrf_token("/accounts/security")
    client.post(
        "/accounts/security/totp/disable",
        data={"csrf_token": token, "password": TEST_PASSWORD, "code": "000000"},
    )
    with app.app_context():
        assert db.session.get(User, user_id).totp_enabled_at is not None
