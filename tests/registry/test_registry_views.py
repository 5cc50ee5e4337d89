from decimal import Decimal

from portal.extensions import db
from portal.registry import services
from tests.factories import make_enterprise


def _two_enterprises(app):
    with app.app_context():
        zz = make_enterprise("郑州企业", "410100")
        ly = make_enterprise("洛阳企业", "410300")
        services.issue_indicators(zz.id, "energy", 100, "确权")
        services.issue_indicators(ly.id, "coal", 5, "确权")
        db.session.commit()
        return zz.id, ly.id, zz.uscc


def test_city_sees_only_its_division(app, client, users, sign_in):
    zz, ly, _ = _two_enterprises(app)
    sign_in(users["city"])
    page = client.get("/admin/registry/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "郑州企业" in html and "洛阳企业" not in html
    assert client.get(f"/admin/registry/holders/enterprise:{zz}").status_code == 200
    assert client.get(f"/admin/registry/holders/enterprise:{ly}").status_code == 403
    fragment = client.get("/admin/registry/", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True)
    assert "HX-Request" in fragment.headers["Vary"]


def test_roles_and_second_factor_are_enforced(app, client, users, sign_in):
    assert client.get("/admin/registry/").status_code in (302, 401)
    sign_in(users["editor"])
    assert client.get("/admin/registry/").status_code == 403
    sign_in(users["no_totp"])
    assert client.get("/admin/registry/").status_code in (302, 403)


def test_province_issues_by_hand_and_overdraw_is_refused(app, client, users, sign_in, csrf_token):
    zz, _, uscc = _two_enterprises(app)
    sign_in(users["province"])
    token = csrf_token("/admin/registry/entries/new")
    form = {"csrf_token": token, "kind": "take_back", "holder": uscc, "variety_code": "energy"}
    refused = client.post(
        "/admin/registry/entries/new", data=form | {"quantity": "100.0001", "reason": "收回"}
    )
    assert refused.status_code == 200 and "余额不足" in refused.get_data(as_text=True)
    done = client.post(
        "/admin/registry/entries/new", data=form | {"quantity": "30", "reason": "收回"}
    )
    assert done.status_code == 303
    with app.app_context():
        assert services.balances(zz) == {"energy": Decimal("70")}
    missing = client.post(
        "/admin/registry/entries/new", data=form | {"quantity": "1", "reason": ""}
    )
    assert "请写明事由" in missing.get_data(as_text=True)


def test_construction_start_is_recorded_by_the_city(app, client, users, sign_in, csrf_token):
    from datetime import date

    from portal.registry.models import ConstructionObligation

    with app.app_context():
        zz = make_enterprise("郑州项目", "410100")
        ly = make_enterprise("洛阳项目", "410300")
        services.issue_indicators(zz.id, "energy", 100, "申购")
        mine = services.open_construction_obligation(
            zz.id, "郑州新项目", "energy", 100, date(2025, 1, 1)
        )
        theirs = services.open_construction_obligation(
            ly.id, "洛阳新项目", "energy", 50, date(2025, 1, 1)
        )
        db.session.commit()
        mine_id, theirs_id = mine.id, theirs.id
    sign_in(users["city"])
    page = client.get("/admin/registry/construction").get_data(as_text=True)
    assert "郑州新项目" in page and "洛阳新项目" not in page
    token = csrf_token("/admin/registry/construction")
    assert (
        client.post(
            f"/admin/registry/construction/{theirs_id}/start",
            data={"csrf_token": token, "started_on": "2025-06-01"},
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/admin/registry/construction/{mine_id}/start",
            data={"csrf_token": token, "started_on": "2025-06-01"},
        ).status_code
        == 303
    )
    with app.app_context():
        assert str(db.session.get(ConstructionObligation, mine_id).started_on) == "2025-06-01"
