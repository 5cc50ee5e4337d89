"""曝光: the province proposes, confirms and withdraws; the public page shows confirmed entries
with their reason, date and record, and withdrawn ones as 已撤销."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.compliance.credit import ExposureEntry
from portal.extensions import db
from tests import factories


def _world(app) -> dict:
    with app.app_context():
        factories.period(2024)
        factories.period(2025, published=False)
        bad = factories.enterprise("曝光缺口企业", "410300")
        good = factories.enterprise("曝光守约企业", "410100")
        factories.compliance(bad, 2024, "non_compliant", shortfall=Decimal("9"))
        factories.compliance(bad, 2025, "non_compliant", shortfall=Decimal("9"))
        factories.compliance(good, 2024, "on_time")
        listing = factories.listing(good)
        trade = factories.trade(bad, good, listing)
        db.session.commit()
        return {"bad": bad.uscc, "good": good.uscc, "trade": trade.number}


def _propose(client, token, **fields):
    data = {"exposure-csrf_token": token, "exposure-exposed_on": "2025-07-01"}
    data |= {f"exposure-{k}": v for k, v in fields.items()}
    return client.post("/admin/compliance/exposure", data=data)


def test_empty_public_page_says_why(client):
    html = client.get("/compliance/exposure").get_data(as_text=True)
    assert "尚未确认任何曝光" in html and "履约名单" in html


def test_propose_refusals(app, client, users, sign_in, csrf_token):
    ids = _world(app)
    sign_in(users["province"])
    token = csrf_token("/admin/compliance/exposure")
    cases = [
        ({"uscc": "91110000600037341X", "reason": "non_compliant", "period_year": "2024"}, "无效"),
        (
            {"uscc": ids["good"], "reason": "non_compliant", "period_year": "2024"},
            "没有被记录为未履约",
        ),
        ({"uscc": ids["bad"], "reason": "non_compliant", "period_year": "2025"}, "尚未公布"),
        ({"uscc": ids["bad"], "reason": "non_compliant"}, "须填写履约年度"),
        (
            {"uscc": ids["bad"], "reason": "falsified", "trade_number": "NO-SUCH"},
            "没有这个成交编号",
        ),
        ({"uscc": ids["bad"], "reason": "falsified", "trade_number": ids["trade"]}, "须写明事实"),
    ]
    for fields, message in cases:
        response = _propose(client, token, **fields)
        assert response.status_code == 400, fields
        assert message in response.get_data(as_text=True), fields
    with app.app_context():
        assert db.session.scalar(select(ExposureEntry)) is None


def test_propose_confirm_withdraw(app, client, users, sign_in, csrf_token):
    ids = _world(app)
    sign_in(users["province"])
    token = csrf_token("/admin/compliance/exposure")
    assert (
        _propose(
            client, token, uscc=ids["bad"].lower(), reason="non_compliant", period_year="2024"
        ).status_code
        == 303
    )
    detail = "虚报成交数量，经核查属实"
    made = _propose(
        client, token, uscc=ids["bad"], reason="falsified", trade_number=ids["trade"], detail=detail
    )
    assert made.status_code == 303
    with app.app_context():
        first, second = db.session.scalars(select(ExposureEntry).order_by(ExposureEntry.id))
        first_id, second_id = first.id, second.id
        assert first.status == second.status == "proposed"
    # proposed is not public
    assert "曝光缺口企业" not in client.get("/compliance/exposure").get_data(as_text=True)

    admin = client.get("/admin/compliance/exposure").get_data(as_text=True)
    assert f'name="confirm-{first_id}-csrf_token"' in admin
    for entry_id in (first_id, second_id):
        done = client.post(
            f"/admin/compliance/exposure/{entry_id}/confirm",
            data={f"confirm-{entry_id}-csrf_token": token},
        )
        assert done.status_code == 303
    again = client.post(
        f"/admin/compliance/exposure/{first_id}/confirm",
        data={f"confirm-{first_id}-csrf_token": token},
        follow_redirects=True,
    )
    assert "已确认或已撤销" in again.get_data(as_text=True)
    public = client.get("/compliance/exposure").get_data(as_text=True)
    assert public.count("曝光缺口企业") == 2 and detail in public
    assert f"/trades/{ids['trade']}" in public and "/compliance/2024?status=non_compliant" in public
    assert "2025" in public  # the date

    no_reason = client.post(
        f"/admin/compliance/exposure/{second_id}/withdraw",
        data={f"withdraw-{second_id}-csrf_token": token},
        follow_redirects=True,
    )
    assert "请填写撤销原因" in no_reason.get_data(as_text=True)
    withdrawn = client.post(
        f"/admin/compliance/exposure/{second_id}/withdraw",
        data={
            f"withdraw-{second_id}-csrf_token": token,
            f"withdraw-{second_id}-reason": "复核后撤销",
        },
    )
    assert withdrawn.status_code == 303
    public = client.get("/compliance/exposure").get_data(as_text=True)
    assert "已撤销" in public and "复核后撤销" not in public
    with app.app_context():
        actions = set(
            db.session.scalars(
                select(AuditEvent.action).where(AuditEvent.object_type == "exposure_entry")
            )
        )
        assert actions == {
            "compliance.exposure_propose",
            "compliance.exposure_confirm",
            "compliance.exposure_withdraw",
        }
        remark = db.session.scalar(
            select(AuditEvent.remark).where(AuditEvent.action == "compliance.exposure_withdraw")
        )
        assert remark == "复核后撤销"

    only_falsified = client.get("/compliance/exposure?reason=falsified").get_data(as_text=True)
    assert only_falsified.count("曝光缺口企业") == 1
    body = client.get("/compliance/exposure.csv").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert {r["曝光原因代码"] for r in rows} == {"non_compliant", "falsified"}
    assert {r["状态代码"] for r in rows} == {"confirmed", "withdrawn"}
    workbook = client.get("/compliance/exposure.xlsx")
    assert workbook.status_code == 200 and workbook.get_data()[:2] == b"PK"
    workbook.close()
    fragment = client.get("/compliance/exposure", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True)


def test_supervisor_reads_but_does_not_act(app, client, users, sign_in, csrf_token):
    ids = _world(app)
    sign_in(users["supervisor"])
    page = client.get("/admin/compliance/exposure")
    assert page.status_code == 200 and "<h2>提出曝光</h2>" not in page.get_data(as_text=True)
    token = csrf_token("/admin/compliance/exposure")
    refused = _propose(client, token, uscc=ids["bad"], reason="non_compliant", period_year="2024")
    assert refused.status_code == 403


def test_the_public_page_is_in_the_sitemap_and_linked_from_the_lists(client):
    assert "/compliance/exposure" in client.get("/sitemap.xml").get_data(as_text=True)
    assert "/compliance/exposure" in client.get("/compliance").get_data(as_text=True)
