"""The takeover: a visitor registers with the USCC of a unit the portal shows publicly, types a
made-up name, verifies the address and signs in. The account must get nothing of the unit, before
and after it submits evidence, until the city of the unit's division approves; the city sees the
name difference, another city cannot even open the application."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.accounts.models import IdentityApplication, Notice, User
from portal.audit.models import AuditEvent
from portal.extensions import db
from tests.factories import (
    REGISTRATION,
    VALID_USCC,
    AuthActions,
    csrf_token_in,
    evidence_files,
    mail_link,
    outbox,
)

MADE_UP_NAME = "冒名顶替贸易有限公司"
REAL_NAME = "示例郑州豫能化工有限公司"


def _register(client, csrf_token, **changes):
    data = dict(REGISTRATION, uscc=VALID_USCC, csrf_token=csrf_token("/accounts/register"))
    data.update(changes)
    return client.post("/accounts/register", data=data)


def _verify_and_log_in(app, client, csrf_token):
    assert client.get(mail_link(app, "verify")).status_code == 303
    response = client.post(
        "/accounts/login",
        data={
            "csrf_token": csrf_token("/accounts/login"),
            "email": REGISTRATION["email"],
            "password": REGISTRATION["password"],
        },
    )
    assert response.status_code == 303
    return response


def _token(html: str) -> str:
    return csrf_token_in(html)


def _listed_unit_with_data(app, auth):
    """A public unit with a filing, a colleague-less past: what the visitor is after."""
    enterprise_id = auth.make_enterprise(name=REAL_NAME, uscc=VALID_USCC, is_public=True)
    with app.app_context():
        from portal.enterprises.models import Enterprise
        from tests.factories import make_filing

        filing = make_filing(
            "closure", "submitted", enterprise=db.session.get(Enterprise, enterprise_id)
        )
        db.session.commit()
        return enterprise_id, filing.id


ENTERPRISE_PAGES = (
    "/accounts/",
    "/accounts/notices",
    "/accounts/colleagues",
    "/accounts/access-requests",
    "/filings/",
)


def _assert_sees_nothing(client, filing_id):
    for url in ENTERPRISE_PAGES:
        response = client.get(url)
        assert response.status_code == 403, url
        assert REAL_NAME not in response.get_data(as_text=True), url
    assert client.get(f"/filings/{filing_id}").status_code in (302, 403, 404)
    token = _token(client.get("/accounts/application").get_data(as_text=True))
    assert client.post("/filings/new/voluntary", data={"csrf_token": token}).status_code == 403
    invite = client.post(
        "/accounts/colleagues/invite", data={"csrf_token": token, "email": "x@example.com"}
    )
    assert invite.status_code == 403


def test_the_takeover_fails(app, client, csrf_token, auth):
    enterprise_id, filing_id = _listed_unit_with_data(app, auth)
    assert _register(client, csrf_token, name=MADE_UP_NAME).status_code == 303
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == REGISTRATION["email"]))
        assert user.enterprise_id is None and not user.is_enterprise_admin
        application = db.session.scalar(select(IdentityApplication))
        assert (application.kind, application.status, application.enterprise_id) == (
            "claim",
            "draft",
            enterprise_id,
        )
        application_id = application.id

    login = _verify_and_log_in(app, client, csrf_token)
    assert login.headers["Location"].endswith("/accounts/application")
    page = client.get("/accounts/application").get_data(as_text=True)
    assert "营业执照" in page and REAL_NAME not in page
    _assert_sees_nothing(client, filing_id)

    # Evidence submitted: still nothing until the city decides.
    token = _token(page)
    response = client.post(
        f"/accounts/application/{application_id}",
        data={
            "csrf_token": token,
            "enterprise_name": MADE_UP_NAME,
            "legal_representative": "张冒名",
            **evidence_files(),
        },
    )
    assert response.status_code == 303
    _assert_sees_nothing(client, filing_id)

    # The city of 郑州 sees the made-up name against the listed one, marked.
    city = app.test_client()
    AuthActions(app, city).login(auth.make_user("city", division_code="410100"))
    listing = city.get("/admin/identity/").get_data(as_text=True)
    assert MADE_UP_NAME in listing and "名称不一致" in listing
    detail = city.get(f"/admin/identity/{application_id}").get_data(as_text=True)
    registered = re.search(r'<dd id="name-registered">(.*?)</dd>', detail).group(1)
    assert "<mark>" in registered and re.sub(r"</?mark>", "", registered) == REAL_NAME
    assert "<mark>冒名顶替贸易</mark>有限公司" in detail

    # Another city cannot open it, nor decide it, nor read its evidence.
    other = app.test_client()
    AuthActions(app, other).login(auth.make_user("city", division_code="410300"))
    assert MADE_UP_NAME not in other.get("/admin/identity/?status=all").get_data(as_text=True)
    assert other.get(f"/admin/identity/{application_id}").status_code == 403
    other_token = _token(other.get("/admin/identity/").get_data(as_text=True))
    refused = other.post(
        f"/admin/identity/{application_id}/decide",
        data={"csrf_token": other_token, "decision": "approve", "remark": "同意"},
    )
    assert refused.status_code == 403
    with app.app_context():
        document_id = db.session.get(IdentityApplication, application_id).documents[0].id
        assert db.session.get(IdentityApplication, application_id).status == "submitted"
    assert other.get(f"/admin/identity/documents/{document_id}").status_code == 403
    shown = city.get(f"/admin/identity/documents/{document_id}")
    assert shown.status_code == 200 and shown.data.startswith(b"%PDF")
    shown.close()

    # The city refuses: the account still acts for nothing, and is told why.
    city_token = _token(detail)
    response = city.post(
        f"/admin/identity/{application_id}/decide",
        data={"csrf_token": city_token, "decision": "refuse", "remark": "名称与营业执照不符。"},
    )
    assert response.status_code == 303
    _assert_sees_nothing(client, filing_id)
    page = client.get("/accounts/application").get_data(as_text=True)
    assert "名称与营业执照不符。" in page and "未通过" in page
    assert any("身份核验未通过" in mail or "Subject:" in mail for mail in outbox(app))
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == REGISTRATION["email"]))
        assert user.enterprise_id is None
        assert db.session.scalar(select(Notice).where(Notice.user_id == user.id)) is not None
        actions = list(
            db.session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.object_type.in_(["identity_application", "user"]))
                .order_by(AuditEvent.id)
            )
        )
    for step in (
        "account.register",
        "identity.open",
        "identity.edit",
        "identity.upload",
        "identity.submit",
        "identity.refuse",
    ):
        assert step in actions, step


def test_a_unit_with_an_administrator_cannot_be_claimed(app, client, csrf_token, auth):
    enterprise_id = auth.make_enterprise(uscc=VALID_USCC)
    auth.make_user("enterprise", enterprise_id=enterprise_id, is_enterprise_admin=True)
    response = _register(client, csrf_token, email="other@example.com")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "/accounts/access-request?uscc=" + VALID_USCC in html
    assert 'name="transfer"' in html  # the way out when the only administrator has left
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "other@example.com")) is None
        assert db.session.scalar(select(IdentityApplication)) is None
