"""Identity before rights: the application with its evidence, the city's decision, transfers,
re-checks of administrators made before identity review, access requests, roles."""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from portal.accounts import identity, services
from portal.accounts.models import AccessRequest, IdentityApplication, User
from portal.audit.models import AuditEvent
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.uploads import UploadRefused, check_document
from tests import factories
from tests.factories import (
    REGISTRATION,
    AuthActions,
    evidence_files,
    mail_link,
    make_uscc,
    outbox,
    pdf_document,
    png_document,
)


def _token(html: str) -> str:
    return factories.csrf_token_in(html)


def _register_and_sign_in(app, client, csrf_token, **changes):
    data = dict(REGISTRATION, csrf_token=csrf_token("/accounts/register"))
    data.update(changes)
    assert client.post("/accounts/register", data=data).status_code == 303
    assert client.get(mail_link(app, "verify")).status_code == 303
    response = client.post(
        "/accounts/login",
        data={
            "csrf_token": csrf_token("/accounts/login"),
            "email": data["email"],
            "password": data["password"],
        },
    )
    assert response.status_code == 303
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == data["email"]))
        application = db.session.scalar(
            select(IdentityApplication).where(IdentityApplication.user_id == user.id)
        )
        return user.id, application.id


def _submit_evidence(client, application_id, files=None, **fields):
    page = client.get("/accounts/application").get_data(as_text=True)
    data = {
        "csrf_token": _token(page),
        "enterprise_name": REGISTRATION["name"],
        "legal_representative": "王法人",
    }
    data.update(fields)
    data.update(evidence_files() if files is None else files)
    return client.post(f"/accounts/application/{application_id}", data=data)


def _city_client(app, auth, division="410100"):
    client = app.test_client()
    AuthActions(app, client).login(auth.make_user("city", division_code=division))
    return client


def _decide(city, application_id, decision="approve", remark="材料齐全，身份属实。", **extra):
    page = city.get(f"/admin/identity/{application_id}").get_data(as_text=True)
    return city.post(
        f"/admin/identity/{application_id}/decide",
        data={"csrf_token": _token(page), "decision": decision, "remark": remark, **extra},
    )


# ---------------------------------------------------------------- a genuine registration


def test_a_new_enterprise_is_approved_by_its_city(app, client, csrf_token, auth):
    uscc = make_uscc()
    user_id, application_id = _register_and_sign_in(app, client, csrf_token, uscc=uscc)
    assert client.get("/accounts/").status_code == 403
    assert _submit_evidence(client, application_id).status_code == 303
    assert "待市级审核" in client.get("/accounts/application").get_data(as_text=True)

    city = _city_client(app, auth)
    listing = city.get("/admin/identity/")
    assert REGISTRATION["name"] in listing.get_data(as_text=True)
    assert "本平台尚未收录该单位" in city.get(f"/admin/identity/{application_id}").get_data(
        as_text=True
    )
    assert _decide(city, application_id).status_code == 303

    with app.app_context():
        user = db.session.get(User, user_id)
        unit = db.session.scalar(select(Enterprise).where(Enterprise.uscc == uscc))
        assert unit.name == REGISTRATION["name"] and not unit.is_public
        assert user.enterprise_id == unit.id and user.is_enterprise_admin
    dashboard = client.get("/accounts/")
    assert dashboard.status_code == 200
    assert client.get("/accounts/colleagues").status_code == 200
    assert "身份核验已通过" in client.get("/accounts/application").get_data(as_text=True)
    assert any("材料齐全" in mail or "Subject:" in mail for mail in outbox(app))


def test_htmx_asks_for_the_rows_only(app, auth):
    city = _city_client(app, auth)
    whole = city.get("/admin/identity/")
    rows = city.get("/admin/identity/", headers={"HX-Request": "true"})
    assert "<h1>" in whole.get_data(as_text=True) and "<h1>" not in rows.get_data(as_text=True)
    assert "没有等待审核" in rows.get_data(as_text=True)
    assert "HX-Request" in rows.headers["Vary"]
    assert city.get("/admin/identity/?status=forged").status_code == 400


def test_submission_names_what_is_missing_and_keeps_what_passed(app, client, csrf_token):
    _, application_id = _register_and_sign_in(app, client, csrf_token, uscc=make_uscc())
    # A text file named .pdf: refused by content, next to its field; the licence is kept.
    files = {
        "licence": (io.BytesIO(pdf_document()), "执照.pdf"),
        "authorisation": (io.BytesIO(b"I authorise myself."), "委托书.pdf"),
    }
    response = _submit_evidence(client, application_id, files=files)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    error = re.search(r'<p class="error" id="authorisation-error"[^>]*>(.*?)</p>', html)
    assert "无法识别为 PDF" in error.group(1) and "已上传：执照.pdf" in html
    with app.app_context():
        application = db.session.get(IdentityApplication, application_id)
        assert application.status == "draft" and application.document("licence") is not None
    # Now only the letter: the kept licence counts.
    files = {"authorisation": (io.BytesIO(png_document()), "委托书.png")}
    assert _submit_evidence(client, application_id, files=files).status_code == 303
    with app.app_context():
        assert db.session.get(IdentityApplication, application_id).status == "submitted"


def test_a_draft_without_evidence_is_not_submitted(app, client, csrf_token):
    _, application_id = _register_and_sign_in(app, client, csrf_token, uscc=make_uscc())
    response = _submit_evidence(client, application_id, files={}, legal_representative="")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "此项必填" in html and "营业执照" in html
    with app.app_context():
        assert db.session.get(IdentityApplication, application_id).status == "draft"


@pytest.mark.parametrize(
    ("data", "accepted"),
    [
        (pdf_document(), True),
        (png_document(), True),
        (b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", False),  # no pages
        (png_document()[:-30], False),  # cut short
        (b"%PDF-1.7\n" + b"\x00" * 200, False),
        (b"plain text, named licence.pdf", False),
        (b"PK\x03\x04" + b"\x00" * 100, False),
    ],
    ids=["pdf", "png", "empty-pdf", "truncated-png", "garbage-pdf", "text", "zip"],
)
def test_documents_are_checked_by_content(ctx, data, accepted):
    from werkzeug.datastructures import FileStorage

    storage = FileStorage(stream=io.BytesIO(data), filename="licence.pdf")
    if accepted:
        assert check_document(storage).size == len(data)
    else:
        with pytest.raises(UploadRefused):
            check_document(storage)


def test_a_spreadsheet_is_not_evidence(ctx):
    from openpyxl import Workbook
    from werkzeug.datastructures import FileStorage

    buffer = io.BytesIO()
    Workbook().save(buffer)
    storage = FileStorage(stream=io.BytesIO(buffer.getvalue()), filename="licence.xlsx")
    with pytest.raises(UploadRefused) as refused:
        check_document(storage)
    assert "PDF" in refused.value.message


# ---------------------------------------------------------------- the name difference


def test_name_difference_marks_what_differs(ctx):
    unit = factories.enterprise("示例郑州豫能化工有限公司")
    applicant = factories.user("enterprise")
    typed = factories.identity_application(applicant, unit, name="示例郑州豫能化工有限责任公司")
    difference = identity.name_difference(typed)
    assert not difference.same
    assert ("责任", True) in difference.stated
    assert "".join(text for text, _ in difference.registered) == "示例郑州豫能化工有限公司"
    assert not any(differs for _, differs in difference.registered)
    # Full-width letters and spaces are not differences.
    same = factories.identity_application(applicant, unit, name="示例郑州豫能化工 有限公司")
    assert identity.name_difference(same).same
    new = factories.identity_application(applicant, None, kind="new")
    assert identity.name_difference(new) is None


# ---------------------------------------------------------------- jurisdiction


def test_another_city_can_neither_see_nor_decide(ctx):
    unit = factories.enterprise("示例郑州豫能化工有限公司", "410100")
    applicant = factories.user("enterprise", verified=True)
    application = factories.identity_application(applicant, unit)
    luoyang = factories.make_user("city", division="410300")
    for status in ("submitted", "all"):
        statement = identity.applications_for(luoyang, status)
        assert application not in db.session.scalars(statement).all()
    with pytest.raises(identity.IdentityError) as refused:
        identity.decide_application(application, luoyang, approve=True, remark="同意")
    assert refused.value.code == "jurisdiction"
    province = factories.make_user("province")
    with pytest.raises(identity.IdentityError):
        identity.decide_application(application, province, approve=True, remark="同意")
    assert application.status == "submitted" and applicant.enterprise_id is None


def test_a_claim_on_a_unit_under_another_city_goes_to_that_city(ctx):
    """The applicant chose 洛阳, but the unit is 郑州's: 郑州 decides."""
    unit = factories.enterprise("示例郑州豫能化工有限公司", "410100")
    applicant = factories.user("enterprise", verified=True)
    typed = SimpleNamespace(uscc=unit.uscc, division_code="410300", industry_code=None, address="")
    application = identity.open_application(applicant, typed, unit.name)
    assert application.division_code == "410100" and application.kind == "claim"


def test_a_draft_is_not_shown_to_the_city(app, client, csrf_token, auth):
    _, application_id = _register_and_sign_in(app, client, csrf_token, uscc=make_uscc())
    city = _city_client(app, auth)
    assert city.get(f"/admin/identity/{application_id}").status_code == 404
    assert REGISTRATION["name"] not in city.get("/admin/identity/?status=all").get_data(
        as_text=True
    )


# ---------------------------------------------------------------- one administrator per unit


def test_a_claim_is_not_approved_once_the_unit_has_an_administrator(ctx):
    unit = factories.enterprise("示例郑州豫能化工有限公司")
    first = factories.identity_application(factories.user("enterprise"), unit)
    second = factories.identity_application(factories.user("enterprise"), unit)
    city = factories.make_user("city", division="410100")
    identity.decide_application(first, city, approve=True, remark="属实")
    with pytest.raises(identity.IdentityError) as refused:
        identity.decide_application(second, city, approve=True, remark="属实")
    assert refused.value.code == "has_admin"
    with pytest.raises(identity.IdentityError):
        identity.classify(unit.uscc, transfer=False)


def test_transfer_when_the_only_administrator_left(app, client, csrf_token, auth):
    uscc = make_uscc()
    unit_id = auth.make_enterprise(name=REGISTRATION["name"], uscc=uscc)
    old_admin = auth.make_user("enterprise", enterprise_id=unit_id, is_enterprise_admin=True)
    user_id, application_id = _register_and_sign_in(
        app, client, csrf_token, uscc=uscc, transfer="y", email="successor@example.com"
    )
    assert _submit_evidence(client, application_id).status_code == 303
    city = _city_client(app, auth)
    detail = city.get(f"/admin/identity/{application_id}").get_data(as_text=True)
    assert "移交管理员" in detail and "deactivate_previous" in detail
    assert _decide(city, application_id, deactivate_previous="y").status_code == 303
    with app.app_context():
        old, new = db.session.get(User, old_admin), db.session.get(User, user_id)
        assert not old.is_enterprise_admin and not old.is_active_account
        assert new.enterprise_id == unit_id and new.is_enterprise_admin
        events = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.object_id == str(old_admin))
        ).all()
        assert "identity.transfer_from" in events


def test_a_colleague_asks_for_the_administrator_role(app, client, auth):
    unit_id = auth.make_enterprise()
    admin = auth.make_user("enterprise", enterprise_id=unit_id, is_enterprise_admin=True)
    colleague = auth.login("enterprise", enterprise_id=unit_id, is_enterprise_admin=False)
    page = client.get("/accounts/application").get_data(as_text=True)
    assert "申请成为管理员" in page
    assert (
        client.post(
            "/accounts/application/new", data={"again-csrf_token": _token(page)}
        ).status_code
        == 303
    )
    with app.test_request_context():
        application = db.session.scalar(select(IdentityApplication))
        assert (application.kind, application.status) == ("transfer", "draft")
        # The colleague still acts for its unit meanwhile.
    assert client.get("/accounts/").status_code == 200
    assert _submit_evidence(client, application.id).status_code == 303
    city = _city_client(app, auth)
    assert _decide(city, application.id).status_code == 303  # previous admin kept, demoted
    with app.app_context():
        assert db.session.get(User, colleague).is_enterprise_admin
        previous = db.session.get(User, admin)
        assert not previous.is_enterprise_admin and previous.is_active_account


def test_an_administrator_cannot_apply_for_its_own_role(client, auth):
    auth.login("enterprise")
    page = client.get("/accounts/application").get_data(as_text=True)
    response = client.post("/accounts/application/new", data={"again-csrf_token": _token(page)})
    assert response.status_code == 403


def test_a_refused_applicant_applies_again(app, client, csrf_token, auth):
    _, application_id = _register_and_sign_in(app, client, csrf_token, uscc=make_uscc())
    assert _submit_evidence(client, application_id).status_code == 303
    city = _city_client(app, auth)
    assert _decide(city, application_id, "refuse", "授权委托书未盖章。").status_code == 303
    page = client.get("/accounts/application").get_data(as_text=True)
    assert "授权委托书未盖章。" in page and "重新申请" in page
    response = client.post("/accounts/application/new", data={"again-csrf_token": _token(page)})
    assert response.status_code == 303
    page = client.get("/accounts/application").get_data(as_text=True)
    assert "补充材料并提交" in page and "以往的申请" in page
    # One open application at a time.
    client.post("/accounts/application/new", data={"again-csrf_token": _token(page)})
    with app.app_context():
        assert len(db.session.scalars(select(IdentityApplication)).all()) == 2


def test_a_decided_application_is_not_decided_again(ctx):
    application = factories.identity_application(
        factories.user("enterprise"), factories.enterprise()
    )
    city = factories.make_user("city", division="410100")
    identity.decide_application(application, city, approve=False, remark="不符")
    with pytest.raises(identity.IdentityError):
        identity.decide_application(application, city, approve=True, remark="改判")
    with pytest.raises(identity.IdentityError):
        identity.decide_application(
            factories.identity_application(factories.user("enterprise")),
            city,
            approve=True,
            remark=" ",
        )


# ---------------------------------------------------------------- administrators before review


def test_refusing_a_recheck_takes_the_unit_away(ctx):
    unit = factories.enterprise()
    admin = factories.user("enterprise", enterprise_id=unit.id, is_enterprise_admin=True)
    flagged = factories.identity_application(admin, unit, kind="recheck", documents=False)
    city = factories.make_user("city", division="410100")
    version = admin.session_version
    identity.decide_application(flagged, city, approve=False, remark="无法联系到该单位。")
    assert admin.enterprise_id is None and not admin.is_enterprise_admin
    assert admin.session_version == version + 1


def test_the_migration_flags_administrators_made_before_review(app):
    """Revision 12 turns claims into applications and flags every active administrator."""
    from pathlib import Path

    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    directory = str(Path(__file__).resolve().parents[2] / "migrations")
    with app.app_context():
        downgrade(directory=directory, revision="0011")
        try:
            with db.engine.begin() as conn:
                uscc = make_uscc()
                conn.execute(
                    text(
                        "INSERT INTO enterprise (uscc, name, division_code, industry_code, address,"
                        " in_carbon_trading, is_public, profile)"
                        " VALUES (:uscc, '存量化工厂', '410300', 'chemical', '', false, true, '')"
                    ),
                    {"uscc": uscc},
                )
                unit = conn.scalar(text("SELECT id FROM enterprise WHERE uscc = :u"), {"u": uscc})
                for email, admin, eid in (
                    ("old-admin@example.com", True, unit),
                    ("old-staff@example.com", False, unit),
                    ("old-claimant@example.com", False, None),
                ):
                    conn.execute(
                        text(
                            "INSERT INTO user_account (email, name, phone, password_hash, role,"
                            " enterprise_id, is_enterprise_admin, is_active_account,"
                            " failed_logins, session_version)"
                            " VALUES (:e, '', '', '!', 'enterprise', :eid, :admin, true, 0, 1)"
                        ),
                        {"e": email, "eid": eid, "admin": admin},
                    )
                claimant = conn.scalar(
                    text("SELECT id FROM user_account WHERE email = 'old-claimant@example.com'")
                )
                conn.execute(
                    text(
                        "INSERT INTO enterprise_claim (user_id, enterprise_id, status)"
                        " VALUES (:u, :e, 'pending')"
                    ),
                    {"u": claimant, "e": unit},
                )
        finally:
            upgrade(directory=directory)
        rows = {
            (a.user.email, a.kind, a.status, a.division_code)
            for a in db.session.scalars(select(IdentityApplication))
        }
        db.session.remove()
    assert rows == {
        ("old-admin@example.com", "recheck", "submitted", "410300"),
        ("old-claimant@example.com", "claim", "draft", "410300"),
    }


# ---------------------------------------------------------------- access requests and roles


def _request_access(client, csrf_token, uscc, email, name="李四"):
    response = client.post(
        "/accounts/access-request",
        data={
            "csrf_token": csrf_token("/accounts/access-request"),
            "uscc": uscc,
            "name": name,
            "email": email,
            "message": "我是能源管理部的。",
        },
    )
    assert response.status_code == 303


def test_an_access_request_worked_through_by_the_administrator(app, client, csrf_token, auth):
    uscc = make_uscc()
    unit_id = auth.make_enterprise(uscc=uscc)
    visitor = app.test_client()

    def visitor_token(path):
        return _token(visitor.get(path).get_data(as_text=True))

    _request_access(visitor, visitor_token, uscc, "li@example.com")
    _request_access(visitor, visitor_token, uscc, "zhao@example.com", name="赵六")
    admin_id = auth.login("enterprise", enterprise_id=unit_id, is_enterprise_admin=True)
    page = client.get("/accounts/access-requests").get_data(as_text=True)
    assert "li@example.com" in page and "我是能源管理部的。" in page
    with app.app_context():
        li, zhao = db.session.scalars(select(AccessRequest).order_by(AccessRequest.id)).all()
        li_id, zhao_id = li.id, zhao.id

    # Refusing needs a reason, which the person is mailed.
    response = client.post(
        f"/accounts/access-requests/{zhao_id}",
        data={f"r{zhao_id}-csrf_token": _token(page), f"r{zhao_id}-decision": "refuse"},
    )
    assert response.status_code == 422 and "不同意时请写明理由" in response.get_data(as_text=True)
    response = client.post(
        f"/accounts/access-requests/{zhao_id}",
        data={
            f"r{zhao_id}-csrf_token": _token(page),
            f"r{zhao_id}-decision": "refuse",
            f"r{zhao_id}-remark": "本单位没有此人。",
        },
    )
    assert response.status_code == 303

    # Approved as a colleague: the invitation opens an account that acts for the unit.
    response = client.post(
        f"/accounts/access-requests/{li_id}",
        data={f"r{li_id}-csrf_token": _token(page), f"r{li_id}-decision": "staff"},
    )
    assert response.status_code == 303
    link = mail_link(app, "invitation")
    token = visitor_token(link)
    response = visitor.post(
        link,
        data={
            "csrf_token": token,
            "name": "李四",
            "phone": "13912345678",
            "password": "Strong-pass-2",
            "confirm": "Strong-pass-2",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        li_user = db.session.scalar(select(User).where(User.email == "li@example.com"))
        assert li_user.enterprise_id == unit_id and not li_user.is_enterprise_admin
        assert {r.status for r in db.session.scalars(select(AccessRequest))} == {
            "approved",
            "refused",
        }
        actions = db.session.scalars(select(AuditEvent.action)).all()
        assert "access_request.approve" in actions and "access_request.refuse" in actions
        li_user_id = li_user.id
    page = client.get("/accounts/access-requests").get_data(as_text=True)
    assert "没有等待处理的加入申请" in page and "本单位没有此人。" in page

    # The administrator changes the colleague's role, and cannot leave the unit without one.
    colleagues = client.get("/accounts/colleagues").get_data(as_text=True)
    token = _token(colleagues)
    assert (
        client.post(
            f"/accounts/colleagues/{li_user_id}/role/admin", data={"csrf_token": token}
        ).status_code
        == 303
    )
    assert (
        client.post(
            f"/accounts/colleagues/{li_user_id}/role/staff", data={"csrf_token": token}
        ).status_code
        == 303
    )
    with app.test_request_context():
        admin = db.session.get(User, admin_id)
        with pytest.raises(identity.IdentityError) as refused:
            identity.change_role(admin, admin, False)
        assert refused.value.code == "last_admin"


def test_an_invitation_dies_with_its_senders_role(ctx):
    unit = factories.enterprise()
    admin = factories.user("enterprise", enterprise_id=unit.id, is_enterprise_admin=True)
    services.invite_colleague(admin, "new@example.com", as_admin=True)
    token = services.make_token(
        "invite", {"eid": unit.id, "email": "new@example.com", "by": admin.id, "admin": True}
    )
    assert services.read_invitation(token)["admin"] is True
    admin.is_enterprise_admin = False
    assert services.read_invitation(token) is None


def test_a_request_of_another_unit_is_not_found(app, client, auth):
    other = auth.make_enterprise("另一家单位")
    with app.app_context():
        row = AccessRequest(enterprise_id=other, name="王五", email="w@example.com")
        db.session.add(row)
        db.session.commit()
        row_id = row.id
    auth.login("enterprise")
    page = client.get("/accounts/access-requests").get_data(as_text=True)
    response = client.post(
        f"/accounts/access-requests/{row_id}",
        data={f"r{row_id}-csrf_token": _token(page), f"r{row_id}-decision": "staff"},
    )
    assert response.status_code == 404


def test_an_account_without_a_unit_joins_by_invitation(ctx):
    """Someone whose own claim went nowhere asks the administrator instead and is let in."""
    unit = factories.enterprise()
    admin = factories.user("enterprise", enterprise_id=unit.id, is_enterprise_admin=True)
    waiting = factories.user("enterprise", email="waiting@example.com", verified=True)
    member_elsewhere = factories.user(
        "enterprise", email="busy@example.com", enterprise_id=factories.enterprise().id
    )
    payload = {"eid": unit.id, "email": waiting.email, "by": admin.id, "admin": False}
    version = waiting.session_version
    assert services.accept_invitation(payload, "等待者", "", "Strong-pass-3") is waiting
    assert waiting.enterprise_id == unit.id and not waiting.is_enterprise_admin
    assert waiting.session_version == version + 1
    payload = dict(payload, email=member_elsewhere.email)
    assert services.accept_invitation(payload, "忙人", "", "Strong-pass-3") is None


def test_no_element_id_repeats_on_the_identity_pages(app, client, csrf_token, auth):
    """Each page has several forms; every id on it appears once."""
    uscc = make_uscc()
    unit_id = auth.make_enterprise(uscc=uscc)
    with app.app_context():
        for n in range(2):
            db.session.add(
                AccessRequest(enterprise_id=unit_id, name=f"申请人{n}", email=f"r{n}@e.cn")
            )
        db.session.commit()
    admin = app.test_client()
    AuthActions(app, admin).login(
        auth.make_user("enterprise", enterprise_id=unit_id, is_enterprise_admin=True)
    )
    auth.make_user("enterprise", enterprise_id=unit_id, is_enterprise_admin=False)
    _, application_id = _register_and_sign_in(app, client, csrf_token, uscc=make_uscc())
    assert _submit_evidence(client, application_id).status_code == 303
    city = _city_client(app, auth)
    pages = [
        (admin, "/accounts/access-requests"),
        (admin, "/accounts/colleagues"),
        (client, "/accounts/application"),
        (city, "/admin/identity/"),
        (city, f"/admin/identity/{application_id}"),
    ]
    for who, url in pages:
        html = who.get(url).get_data(as_text=True)
        ids = re.findall(r'\sid="([^"]+)"', html)
        repeated = {i for i in ids if ids.count(i) > 1}
        assert not repeated, (url, repeated)
