"""The 2-year start rule: the take-back is public (a 公示 per tick run, inbox and mail), the
enterprise reports a start with evidence, and the unit's city confirms or refuses it."""

from __future__ import annotations

import io
import itertools
import re
import threading
from datetime import date, timedelta
from email import message_from_string
from email.policy import default

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Notice, User
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.news.models import Announcement
from portal.publicity import services as publicity
from portal.publicity.models import PublicityNotice
from portal.registry import services as registry
from portal.registry.models import ConstructionObligation, ConstructionStartReport
from tests import factories as f
from tests.factories import AuthActions, csrf_token_in

TODAY = date.today()
STARTED = (TODAY - timedelta(days=30)).isoformat()


def _obligation(enterprise_id: int, issued_on: date, quantity=300, name="年产 20 万吨项目"):
    registry.issue_indicators(enterprise_id, "energy", quantity, "两高项目申购 GM000001")
    return registry.open_construction_obligation(
        enterprise_id,
        name,
        "energy",
        quantity,
        issued_on,
        source_type="filing",
        source_id="GM000001",
    )


@pytest.fixture
def unit(app, auth):
    """An enterprise administrator signed in, whose project's indicators were granted 2 years ago."""
    user_id = auth.login("enterprise")
    with app.app_context():
        enterprise_id = db.session.get(User, user_id).enterprise_id
        overdue = _obligation(enterprise_id, TODAY - timedelta(days=800))
        current = _obligation(enterprise_id, TODAY - timedelta(days=400), 50, "二期项目")
        db.session.commit()
        return {
            "user": user_id,
            "enterprise": enterprise_id,
            "overdue": overdue.id,
            "current": current.id,
        }


def _tick(app, today=TODAY):
    with app.app_context():
        report = publicity.run_tick(today=today)
        db.session.commit()
        return report


def test_a_tick_takes_back_publishes_one_publicity_and_tells_the_enterprise(app, client, unit):
    report = _tick(app)
    assert report.taken_back == [unit["overdue"]]
    with app.app_context():
        obligation = db.session.get(ConstructionObligation, unit["overdue"])
        assert obligation.taken_back_at is not None
        announcement = db.session.get(Announcement, obligation.take_back_announcement_id)
        assert announcement.category == "publicity" and announcement.status == "published"
        assert announcement.publicity_ends_at > announcement.publicity_starts_at
        notice = db.session.scalar(
            select(PublicityNotice).where(PublicityNotice.announcement_id == announcement.id)
        )
        assert notice.subject_type == "construction_take_back" and notice.status == "open"
        body = announcement.body_md
        assert "年产 20 万吨项目" in body and "300 吨标准煤" in body
        assert db.session.get(f.Enterprise, unit["enterprise"]).uscc in body
        inbox = db.session.scalars(
            select(Notice).where(Notice.enterprise_id == unit["enterprise"])
        ).all()
        assert any("已无偿收回" in n.title for n in inbox)
        assert registry.balance(unit["enterprise"], "energy") == 50
        announcement_id = announcement.id
    mails = [message_from_string(m, policy=default) for m in f.outbox(app)]
    taken = [m for m in mails if "已无偿收回" in m["Subject"]]
    assert taken and f"/news/{announcement_id}" in taken[0].get_body().get_content()
    # A second run finds nothing more to take back and publishes nothing.
    assert _tick(app).taken_back == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PublicityNotice)) == 1
    # The public page of the 公示 lists the unit; the unit's profile links the take-back to it.
    page = client.get(f"/news/{announcement_id}").get_data(as_text=True)
    assert "年产 20 万吨项目" in page
    with app.app_context():
        uscc = db.session.get(f.Enterprise, unit["enterprise"]).uscc
    profile = client.get(f"/enterprises/{uscc}").get_data(as_text=True)
    assert "无偿收回" in profile and f'href="/news/{announcement_id}"' in profile


def test_the_dashboard_shows_the_take_back_not_a_passed_deadline(app, client, unit):
    before = client.get("/accounts/").get_data(as_text=True)
    assert "已过，未报告开工" in before
    _tick(app)
    html = client.get("/accounts/").get_data(as_text=True)
    assert "指标已于" in html and "由政府无偿收回（300 吨标准煤）" in html
    assert "查看收回公示" in html
    # The other project still has its deadline and a way to report its start.
    assert f"/filings/construction/{unit['current']}/report" in html
    assert f"/filings/construction/{unit['overdue']}/report" not in html


def _report(client, obligation_id, started_on=STARTED, files=True, **extra):
    token = csrf_token_in(
        client.get(f"/filings/construction/{obligation_id}/report").get_data(as_text=True)
    )
    data = {"csrf_token": token, "started_on": started_on, "note": "施工许可证已取得", **extra}
    if files:
        data["evidence"] = (io.BytesIO(f.pdf_document()), "施工许可证.pdf")
    return client.post(
        f"/filings/construction/{obligation_id}/report",
        data=data,
        content_type="multipart/form-data",
    )


def test_report_errors_are_in_chinese_next_to_the_field(app, client, unit):
    no_file = _report(client, unit["current"], files=False)
    assert no_file.status_code == 422 and "请选择要上传的文件" in no_file.get_data(as_text=True)
    not_pdf = client.post(
        f"/filings/construction/{unit['current']}/report",
        data={
            "csrf_token": csrf_token_in(
                client.get(f"/filings/construction/{unit['current']}/report").get_data(as_text=True)
            ),
            "started_on": STARTED,
            "evidence": (io.BytesIO(b"MZ\x90\x00 not a document"), "permit.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert not_pdf.status_code == 422 and "无法识别" in not_pdf.get_data(as_text=True)
    future = _report(client, unit["current"], started_on="2999-01-01")
    assert future.status_code == 422 and "不能晚于今天" in future.get_data(as_text=True)
    early = _report(client, unit["current"], started_on="2000-01-01")
    assert early.status_code == 422 and "不能早于取得指标的日期" in early.get_data(as_text=True)
    bad_date = _report(client, unit["current"], started_on="2026-13-45")
    assert bad_date.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ConstructionStartReport)) == 0
    # No CSRF token: refused, nothing stored.
    missing = client.post(
        f"/filings/construction/{unit['current']}/report",
        data={"started_on": STARTED, "evidence": (io.BytesIO(f.pdf_document()), "a.pdf")},
        content_type="multipart/form-data",
    )
    assert missing.status_code == 400


_people = itertools.count(1)


def _status(client, url: str) -> int:
    response = client.get(url)
    response.close()  # a file sent whole is closed here
    return response.status_code


def _city_client(app, division="410100"):
    client = app.test_client()
    AuthActions(app, client).login(
        "city", division_code=division, email=f"city-{next(_people)}@example.com"
    )
    return client


def _decide(client, report_id, decision, remark=""):
    token = csrf_token_in(
        client.get(f"/admin/construction-reports/{report_id}").get_data(as_text=True)
    )
    return client.post(
        f"/admin/construction-reports/{report_id}/decide",
        data={"csrf_token": token, "decision": decision, "remark": remark},
    )


def test_city_confirms_a_start_report(app, client, unit):
    assert _report(client, unit["current"]).status_code == 303
    with app.app_context():
        report = db.session.scalar(select(ConstructionStartReport))
        report_id = report.id
        assert report.status == "pending" and report.content_type == "application/pdf"
        assert db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "construction.report")
        )
    # A second report while one waits is refused next to the date.
    again = _report(client, unit["current"])
    assert again.status_code == 422 or "等待审核" in again.get_data(as_text=True)
    # The enterprise sees its evidence; another city cannot decide.
    assert _status(client, f"/filings/construction/reports/{report_id}/evidence") == 200
    other = _city_client(app, "410300")
    assert other.get(f"/admin/construction-reports/{report_id}").status_code == 404
    city = _city_client(app)
    listed = city.get("/admin/construction-reports").get_data(as_text=True)
    assert "二期项目" in listed
    assert _status(city, f"/admin/construction-reports/{report_id}/evidence") == 200
    response = _decide(city, report_id, "confirm", "材料齐全")
    assert response.status_code == 303
    with app.app_context():
        obligation = db.session.get(ConstructionObligation, unit["current"])
        assert obligation.started_on.isoformat() == STARTED
        assert db.session.get(ConstructionStartReport, report_id).status == "confirmed"
        assert db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "construction.report_decide")
        )
        assert any(
            "开工报告已确认" in n.title
            for n in db.session.scalars(
                select(Notice).where(Notice.enterprise_id == unit["enterprise"])
            )
        )
    assert "已开工" in client.get("/accounts/").get_data(
        as_text=True
    ) or "开工日期已登记" in client.get("/accounts/").get_data(as_text=True)
    # Decided once: a second decision is refused.
    assert _decide(city, report_id, "refuse", "重复").status_code == 422


def test_city_refuses_with_a_remark_and_the_obligation_stays_open(app, client, unit):
    _report(client, unit["current"])
    with app.app_context():
        report_id = db.session.scalar(select(ConstructionStartReport.id))
    city = _city_client(app)
    without = _decide(city, report_id, "refuse")
    assert without.status_code == 422 and "不予确认时请写明理由" in without.get_data(as_text=True)
    forged = _decide(city, report_id, "approve-all")
    assert forged.status_code == 422 and "请选择一项" in forged.get_data(as_text=True)
    assert _decide(city, report_id, "refuse", "照片不能证明已开工").status_code == 303
    with app.app_context():
        obligation = db.session.get(ConstructionObligation, unit["current"])
        assert obligation.started_on is None and obligation.taken_back_at is None
        assert db.session.get(ConstructionStartReport, report_id).remark == "照片不能证明已开工"
    html = client.get("/accounts/").get_data(as_text=True)
    assert "照片不能证明已开工" in html
    # The enterprise may report again.
    assert _report(client, unit["current"]).status_code == 303


def test_a_pending_report_holds_back_the_take_back_until_refused(app, client, unit):
    with app.app_context():
        obligation = db.session.get(ConstructionObligation, unit["overdue"])
        deadline = obligation.start_deadline
    response = _report(client, unit["overdue"], started_on=deadline.isoformat())
    # The deadline passed, but the report was made for a start on the deadline: the page takes it
    # only while the indicators are not taken back.
    assert response.status_code == 303
    assert _tick(app).taken_back == []
    with app.app_context():
        report_id = db.session.scalar(select(ConstructionStartReport.id))
    city = _city_client(app)
    assert _decide(city, report_id, "refuse", "未见开工证明").status_code == 303
    assert _tick(app).taken_back == [unit["overdue"]]


def test_reports_of_another_enterprise_are_404(app, client, unit):
    with app.app_context():
        other = f.enterprise("示例他人企业有限公司", "410100")
        foreign = _obligation(other.id, TODAY - timedelta(days=100))
        db.session.commit()
        foreign_id = foreign.id
    assert client.get(f"/filings/construction/{foreign_id}/report").status_code == 404
    assert _report(client, unit["current"]).status_code == 303
    with app.app_context():
        report_id = db.session.scalar(select(ConstructionStartReport.id))
    other_client = app.test_client()
    AuthActions(app, other_client).login("enterprise", email=f"other-{next(_people)}@example.com")
    assert (
        other_client.get(f"/filings/construction/reports/{report_id}/evidence").status_code == 404
    )
    assert re.search(r"\d", str(report_id))


def test_the_filing_page_shows_the_take_back(app, client, unit):
    with app.app_context():
        enterprise = db.session.get(f.Enterprise, unit["enterprise"])
        filing = f.make_filing(
            "purchase",
            status="final",
            enterprise=enterprise,
            granted_on=TODAY - timedelta(days=900),
        )
        registry.issue_indicators(enterprise.id, "energy", 40, f"两高项目申购 {filing.number}")
        registry.open_construction_obligation(
            enterprise.id,
            "三期项目",
            "energy",
            40,
            filing.granted_on,
            source_type="filing",
            source_id=filing.number,
        )
        db.session.commit()
        filing_id = filing.id
    before = client.get(f"/filings/{filing_id}").get_data(as_text=True)
    assert "已过，未报告开工" in before and "由政府无偿收回（40" not in before
    _tick(app)
    after = client.get(f"/filings/{filing_id}").get_data(as_text=True)
    assert "由政府无偿收回（40 吨标准煤）" in after and "查看收回公示" in after


def test_two_ticks_at_once_take_back_and_publish_once(app, unit):
    """One tick per app server: both run, one takes back and publishes, the other finds nothing."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite has one database-wide write lock: two ticks cannot overlap")
    barrier = threading.Barrier(2, timeout=60)
    results, failures = [], []

    def tick():
        with app.app_context():
            try:
                barrier.wait()
                results.append(publicity.run_tick(today=TODAY).taken_back)
                db.session.commit()
            except BaseException as error:  # noqa: BLE001 (reported below)
                db.session.rollback()
                failures.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures, failures
    assert sorted(results) == [[], [unit["overdue"]]]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PublicityNotice)) == 1
