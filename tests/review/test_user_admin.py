from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db


def test_province_creates_a_city_reviewer(app, client, users, sign_in, csrf_token):
    sign_in(users["province"])
    token = csrf_token("/admin/users")
    missing = client.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "email": "zz@example.gov.cn",
            "name": "郑州审核",
            "role": "city",
        },
    )
    assert missing.status_code == 400 and "必须选择所属省辖市" in missing.get_data(as_text=True)
    done = client.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "email": "ZZ@example.gov.cn",
            "name": "郑州审核",
            "role": "city",
            "division_code": "410100",
        },
    )
    assert done.status_code == 303
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "zz@example.gov.cn"))
        assert user.role == "city" and user.division_code == "410100"
        assert user.totp_enabled_at is None  # enrols at first sign-in
    taken = client.post(
        "/admin/users",
        data={"csrf_token": token, "email": "zz@example.gov.cn", "name": "x", "role": "editor"},
    )
    assert "已经有账号" in taken.get_data(as_text=True)


def test_deactivation_and_access(app, client, users, sign_in, csrf_token):
    sign_in(users["city"])
    assert client.get("/admin/users").status_code == 403
    sign_in(users["province"])
    token = csrf_token("/admin/users")
    assert (
        client.post(
            f"/admin/users/{users['editor']}/deactivate", data={"csrf_token": token}
        ).status_code
        == 303
    )
    with app.app_context():
        assert not db.session.get(User, users["editor"]).is_active_account
    sign_in(users["editor"])
    assert client.get("/admin/editorial/").status_code == 302  # no session for a removed user


def test_user_without_totp_is_sent_to_enrol(app, client, users, sign_in):
    sign_in(users["no_totp"])
    response = client.get("/admin/users")
    assert response.status_code == 302 and "totp" in response.headers["Location"]


def test_every_back_office_role_has_a_start_page(app, client, users, sign_in):
    for role in ("city", "province", "auditor", "editor", "supervisor"):
        sign_in(users[role])
        page = client.get("/admin/")
        assert page.status_code == 200, role
        assert "后台菜单" in page.get_data(as_text=True)
