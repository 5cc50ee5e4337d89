import csv
import io
import json
from datetime import date, timedelta
from decimal import Decimal

import openpyxl
from sqlalchemy import select

from portal.compliance import services as compliance
from portal.compliance.models import CompliancePeriod, ComplianceRecord
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.news.models import Announcement
from portal.publicity.models import PublicityNotice
from portal.registry import services as registry
from tests.factories import make_enterprise, make_filing


def _units(app):
    with app.app_context():
        good = make_enterprise("守约企业", "410100")
        bad = make_enterprise("缺口企业", "410100")
        registry.allocate_indicators(good.id, "energy", 100, 2024, "配额")
        registry.allocate_indicators(bad.id, "energy", 10, 2024, "配额")
        db.session.commit()
        return good.id, bad.id, bad.uscc


def test_open_record_publish_final_and_export(app, client, users, sign_in, csrf_token, runner):
    good, bad, bad_uscc = _units(app)
    sign_in(users["province"])
    token = csrf_token("/admin/compliance")
    opened = client.post(
        "/admin/compliance",
        data={"csrf_token": token, "year": "2024", "filing_deadline": "2025-03-31", "note": ""},
    )
    assert opened.status_code == 303
    again = client.post(
        "/admin/compliance",
        data={"csrf_token": token, "year": "2024", "filing_deadline": "2025-03-31"},
    )
    assert again.status_code == 400 and "已经开启" in again.get_data(as_text=True)

    with app.app_context():
        unit = db.session.get(Enterprise, bad)
        make_filing("compliance", "final", enterprise=unit, actual_energy=Decimal("25"))
        db.session.commit()
    page = client.get("/admin/compliance/2024").get_data(as_text=True)
    assert "守约企业" in page and "缺口企业" in page and "未履约" in page

    # a non-compliant unit must get a deadline
    no_deadline = client.post(
        "/admin/compliance/2024/records",
        data={
            "csrf_token": token,
            "enterprise_id": bad,
            "variety_code": "energy",
            "status": "non_compliant",
            "actual": "25",
        },
    )
    assert no_deadline.status_code == 400 and "限期履约日期" in no_deadline.get_data(as_text=True)
    for unit, status, extra in (
        (bad, "non_compliant", {"actual": "25", "rectify_by": "2025-06-30"}),
        (good, "on_time", {"actual": "60"}),
    ):
        done = client.post(
            "/admin/compliance/2024/records",
            data={
                "csrf_token": token,
                "enterprise_id": unit,
                "variety_code": "energy",
                "status": status,
            }
            | extra,
        )
        assert done.status_code == 303
    with app.app_context():
        record = db.session.scalar(
            select(ComplianceRecord).where(ComplianceRecord.enterprise_id == bad)
        )
        assert record.shortfall == Decimal("15") and str(record.rectify_by) == "2025-06-30"
        from portal.accounts.models import Notice

        notice = db.session.scalar(select(Notice).where(Notice.enterprise_id == bad))
        assert "限期履约" in notice.title and "2025-06-30" in notice.body

    preview = client.get("/admin/compliance/2024/publish").get_data(as_text=True)
    assert "确认发布这 2 条记录" in preview and "缺口企业" in preview
    published = client.post("/admin/compliance/2024/publish", data={"publish-csrf_token": token})
    assert published.status_code == 303
    with app.app_context():
        period = db.session.get(CompliancePeriod, 2024)
        assert period.published_at is not None and period.publicity_ends_at is not None
        notice = db.session.scalar(select(PublicityNotice))
        announcement = db.session.get(Announcement, notice.announcement_id)
        assert announcement.category == "publicity" and "缺口企业" in announcement.body_html
        announcement.publicity_ends_at = announcement.published_at - timedelta(seconds=1)
        db.session.commit()
    assert "finalized 1" in runner.invoke(args=["tick"]).output
    with app.app_context():
        assert compliance.is_final(2024)

    exported = client.get("/admin/compliance/2024/non-compliant.csv")
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["uscc"] for r in rows] == [bad_uscc] and rows[0]["shortfall"] == "15.0000"
    workbook = client.get("/admin/compliance/2024/non-compliant.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.get_data())).worksheets[0]
    workbook.close()
    header = [cell.value for cell in sheet[1]]
    assert header == list(
        csv.DictReader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))).fieldnames
    )
    row = dict(zip(header, (cell.value for cell in sheet[2]), strict=True))
    assert row["uscc"] == bad_uscc and row["shortfall"] == 15 and row["rectify_by"].year == 2025
    data = json.loads(
        client.get("/admin/compliance/2024/non-compliant.json").get_data(as_text=True)
    )
    assert (
        data["records"][0]["uscc"] == bad_uscc and data["records"][0]["rectify_by"] == "2025-06-30"
    )


def test_final_compliance_filing_surrenders_what_was_used(ctx):
    unit = make_enterprise("履约企业")
    registry.allocate_indicators(unit.id, "energy", 100, 2024, "配额")
    compliance.open_period(2024, date(2099, 3, 31), actor=None)
    filing = make_filing("compliance", "final", enterprise=unit, actual_energy=Decimal("70"))
    compliance.apply_compliance_filing(filing, None)
    compliance.apply_compliance_filing(filing, None)  # idempotent
    assert registry.balances(unit.id) == {"energy": Decimal("30")}
    record = db.session.scalar(select(ComplianceRecord))
    assert record.status == "on_time" and record.actual == Decimal("70")


def test_city_and_supervisor_limits(app, client, users, sign_in, csrf_token):
    sign_in(users["city"])
    assert client.get("/admin/compliance").status_code == 403
    sign_in(users["supervisor"])
    assert client.get("/admin/compliance").status_code == 200
    token = csrf_token("/admin/compliance")
    refused = client.post(
        "/admin/compliance",
        data={"csrf_token": token, "year": "2030", "filing_deadline": "2031-03-31"},
    )
    assert refused.status_code == 403


def test_late_filing_is_marked_late(ctx):
    unit = make_enterprise("迟报企业")
    registry.allocate_indicators(unit.id, "energy", 100, 2024, "配额")
    compliance.open_period(2024, date(2025, 3, 31), actor=None)
    filing = make_filing("compliance", "final", enterprise=unit, actual_energy=Decimal("70"))
    compliance.apply_compliance_filing(filing, None)
    assert db.session.scalar(select(ComplianceRecord.status)) == "late"


def test_correction_republishes_with_reason_and_keeps_history(
    app, client, users, sign_in, csrf_token
):
    good, bad, _uscc = _units(app)
    with app.app_context():
        compliance.open_period(2024, date(2099, 3, 31), actor=None)
        compliance.record_status(
            2024,
            bad,
            "energy",
            "non_compliant",
            actual=Decimal("25"),
            rectify_by=date(2025, 6, 30),
            actor=None,
        )
        notice = compliance.publish_list(2024, actor=None)
        db.session.commit()
        announcement_id = notice.announcement_id
    sign_in(users["province"])
    token = csrf_token("/admin/compliance/2024")
    unchanged = client.post(
        "/admin/compliance/2024/republish",
        data={"republish-csrf_token": token, "republish-reason": "核对"},
    )
    assert unchanged.status_code == 303
    client.post(
        "/admin/compliance/2024/records",
        data={
            "csrf_token": token,
            "enterprise_id": bad,
            "variety_code": "energy",
            "status": "late",
            "actual": "25",
            "rectify_by": "2025-06-30",
        },
    )
    preview = client.get("/admin/compliance/2024/publish").get_data(as_text=True)
    # the change from the published text: the old row and the new one, nothing else
    assert preview.count('<tr class="removed">') == 1 and preview.count('<tr class="added">') == 1
    assert "逾期履约" in preview and "确认更正并重新发布" in preview
    done = client.post(
        "/admin/compliance/2024/republish",
        data={"republish-csrf_token": token, "republish-reason": "该单位已于限期内补足指标"},
    )
    assert done.status_code == 303
    with app.app_context():
        announcement = db.session.get(Announcement, announcement_id)
        assert [r.reason for r in announcement.revisions] == ["该单位已于限期内补足指标"]
        assert "未履约" in announcement.revisions[0].body_md and "逾期履约" in announcement.body_md
        assert announcement.updated_at is not None
    public = client.get(f"/news/{announcement_id}").get_data(as_text=True)
    assert "更新于" in public
