"""Registering with the USCC of a unit the portal already lists grants nothing until the city checks."""

from __future__ import annotations

from sqlalchemy import select

from portal.accounts import services
from portal.accounts.models import EnterpriseClaim, User
from portal.extensions import db
from tests.factories import REGISTRATION, VALID_USCC, mail_link


def _register(client, csrf_token, **changes):
    data = dict(REGISTRATION, uscc=VALID_USCC, csrf_token=csrf_token("/accounts/register"))
    data.update(changes)
    return client.post("/accounts/register", data=data)


def _verify_and_log_in(app, client, csrf_token):
    assert client.get(mail_link(app, "verify")).status_code == 303
    token = csrf_token("/accounts/login")
    response = client.post(
        "/accounts/login",
        data={
            "csrf_token": token,
            "email": REGISTRATION["email"],
            "password": REGISTRATION["password"],
        },
    )
    assert response.status_code == 303


def test_claiming_a_listed_unit_grants_nothing(app, client, csrf_token, auth):
    # A unit the portal lists (as the demo data does), with no administrator yet, and data of its own.
    enterprise_id = auth.make_enterprise(name="已收录的化工厂", uscc=VALID_USCC)
    with app.test_request_context():
        from portal.enterprises.models import Enterprise
        from tests.factories import make_filing

        make_filing("closure", "submitted", enterprise=db.session.get(Enterprise, enterprise_id))
        db.session.commit()
    response = _register(client, csrf_token)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/accounts/register/sent")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == REGISTRATION["email"]))
        assert user.enterprise_id is None and not user.is_enterprise_admin
        claim = db.session.scalar(select(EnterpriseClaim).where(EnterpriseClaim.user_id == user.id))
        assert claim.enterprise_id == enterprise_id and claim.status == "pending"
    _verify_and_log_in(app, client, csrf_token)
    dashboard = client.get("/accounts/")
    html = dashboard.get_data(as_text=True)
    assert dashboard.status_code == 403
    assert "企业认领待核实" in html and "已收录的化工厂" not in html
    for url in ("/filings/", "/accounts/colleagues", "/accounts/notices"):
        assert client.get(url).status_code == 403, url
    assert client.get("/filings/1").status_code in (302, 404)

    # once the city confirms, the account is the unit's administrator
    with app.test_request_context():
        city = db.session.get(User, auth.make_user("city"))
        claim = db.session.scalar(select(EnterpriseClaim))
        services.decide_enterprise_claim(claim, True, actor=city)
        db.session.commit()
    assert client.get("/accounts/").status_code == 200


def test_a_new_enterprise_registers_as_before(app, client, csrf_token):
    assert _register(client, csrf_token).status_code == 303
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == REGISTRATION["email"]))
        assert user.enterprise_id is not None and user.is_enterprise_admin
        assert db.session.scalar(select(EnterpriseClaim)) is None
    _verify_and_log_in(app, client, csrf_token)
    assert client.get("/accounts/").status_code == 200


def test_unit_with_an_administrator_still_offers_the_access_request(client, csrf_token, auth):
    enterprise_id = auth.make_enterprise(uscc=VALID_USCC)
    auth.make_user("enterprise", enterprise_id=enterprise_id, is_enterprise_admin=True)
    response = _register(client, csrf_token, email="other@example.com")
    assert response.status_code == 422
    assert "/accounts/access-request?uscc=" + VALID_USCC in response.get_data(as_text=True)
