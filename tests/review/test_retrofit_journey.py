"""A retrofit claim through its whole path, as each role would take it, to a 公示 and a ledger entry."""

import io
import re
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from portal.accounts.models import User
from portal.audit.services import verify_chain
from portal.extensions import db
from portal.filings.models import Filing, FilingEvent
from portal.news.models import Announcement
from portal.prices import services as prices
from portal.prices.models import ReserveOffer
from portal.publicity.models import Objection, PublicityNotice
from portal.registry import services as registry
from tests.factories import PDF, make_filing


def _claim(app, users):
    with app.app_context():
        firm_id = db.session.get(User, users["auditor"]).audit_firm_id
        filing = make_filing("retrofit", "submitted", firm_id=firm_id)
        db.session.commit()
        return filing.id, filing.enterprise_id


def _version(app, filing_id):
    with app.app_context():
        return db.session.get(Filing, filing_id).version


def _act(client, csrf_token, filing_id, action, remark="同意", **extra):
    token = csrf_token(f"/admin/filings/{filing_id}")
    html = client.get(f"/admin/filings/{filing_id}").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', html) or re.search(
        r'id="version" name="version" type="hidden" value="(\d+)"', html
    )
    data = {"csrf_token": token, "action": action, "remark": remark}
    data["version"] = version.group(1) if version else ""
    data.update(extra)
    return client.post(
        f"/admin/filings/{filing_id}/act", data=data, content_type="multipart/form-data"
    )


def test_whole_retrofit_path(app, client, users, sign_in, csrf_token, runner):
    filing_id, enterprise_id = _claim(app, users)

    sign_in(users["auditor"])
    queue = client.get("/admin/queue").get_data(as_text=True)
    assert f"/admin/filings/{filing_id}" in queue
    assert _act(client, csrf_token, filing_id, "review_baseline", "基准核实无误").status_code == 303

    sign_in(users["city_other"])
    assert client.get(f"/admin/filings/{filing_id}").status_code == 403
    assert f"/admin/filings/{filing_id}" not in client.get("/admin/queue").get_data(as_text=True)

    sign_in(users["city"])
    assert _act(client, csrf_token, filing_id, "file_baseline", "予以备案").status_code == 303

    sign_in(users["auditor"])
    no_report = _act(client, csrf_token, filing_id, "audit_savings", "审核", verified_energy="120")
    assert no_report.status_code == 400 and "请上传第三方审核报告" in no_report.get_data(
        as_text=True
    )
    audited = _act(
        client,
        csrf_token,
        filing_id,
        "audit_savings",
        "节能量核定为 120 吨标准煤",
        verified_energy="120",
        report=(io.BytesIO(PDF), "report.pdf"),
    )
    assert audited.status_code == 303

    sign_in(users["city"])
    assert _act(client, csrf_token, filing_id, "confirm_city", "出具确权意见").status_code == 303
    sign_in(users["province"])
    assert _act(client, csrf_token, filing_id, "confirm_province", "确认").status_code == 303
    assert _act(client, csrf_token, filing_id, "publish", "发布公示").status_code == 303

    with app.app_context():
        filing = db.session.get(Filing, filing_id)
        assert filing.status == "publicity" and filing.verified_energy_savings == Decimal("120")
        assert any(a.purpose == "audit_report" for a in filing.attachments)
        notice = db.session.scalar(select(PublicityNotice))
        announcement_id = notice.announcement_id
        assert notice.subject_id == str(filing_id)

    # the public raises an objection; the province dismisses it
    client.get("/")  # a fresh visitor
    with client.session_transaction() as session:
        session.clear()
    token = csrf_token(f"/publicity/objections/new/{announcement_id}")
    filed = client.post(
        f"/publicity/objections/new/{announcement_id}",
        data={
            "csrf_token": token,
            "real_name": "张三",
            "contact": "13800138000",
            "reason": "该项目的节能量计算基准年份有误，请核实。",
        },
    )
    assert filed.status_code == 303
    outcomes = client.get(f"/publicity/objections/outcomes/{announcement_id}").get_data(
        as_text=True
    )
    assert "张三" not in outcomes and "13800138000" not in outcomes

    # tick does nothing while the period runs
    assert "finalized 0" in runner.invoke(args=["tick"]).output

    sign_in(users["province"])
    with app.app_context():
        objection_id = db.session.scalar(select(Objection.id))
    listing = client.get("/admin/objections").get_data(as_text=True)
    assert "张三" in listing
    token = csrf_token("/admin/objections")
    answered = client.post(
        f"/admin/objections/{objection_id}/answer",
        data={
            "csrf_token": token,
            f"o{objection_id}-outcome": "dismissed",
            f"o{objection_id}-answer": "经核实，基准年份符合规定。",
        },
    )
    assert answered.status_code == 303

    # the period ends; tick makes the decision final and offers the indicators to the city's
    # reserve (收储) first; the city releases them to the unit, which issues them, once
    with app.app_context():
        announcement = db.session.get(Announcement, announcement_id)
        announcement.publicity_ends_at = announcement.publicity_starts_at - timedelta(seconds=1)
        db.session.commit()
    assert "finalized 1" in runner.invoke(args=["tick"]).output
    assert "finalized 0" in runner.invoke(args=["tick"]).output
    with app.app_context():
        assert db.session.get(Filing, filing_id).status == "final"
        assert registry.balances(enterprise_id) == {}
        offer = db.session.scalar(select(ReserveOffer))
        assert (offer.status, offer.quantity) == ("open", Decimal("120"))
        prices.decide_offer(offer, "release", actor=db.session.get(User, users["city"]))
        db.session.commit()
        assert registry.balances(enterprise_id) == {"energy": Decimal("120")}
        actions = db.session.scalars(
            select(FilingEvent.action)
            .where(FilingEvent.filing_id == filing_id)
            .order_by(FilingEvent.id)
        ).all()
        assert actions == [
            "review_baseline",
            "file_baseline",
            "audit_savings",
            "confirm_city",
            "confirm_province",
            "publish",
            "finalize",
        ]
        assert verify_chain().ok


def test_two_reviewers_at_once_second_gets_a_conflict(app, client, users, sign_in, csrf_token):
    with app.app_context():
        filing = make_filing("closure", "city_review")
        db.session.commit()
        filing_id, stale = filing.id, filing.version
    sign_in(users["province"])
    token = csrf_token(f"/admin/filings/{filing_id}")
    form = {"csrf_token": token, "version": str(stale), "remark": "同意"}
    first = client.post(
        f"/admin/filings/{filing_id}/act", data=form | {"action": "review_province"}
    )
    assert first.status_code == 303
    second = client.post(f"/admin/filings/{filing_id}/act", data=form | {"action": "return"})
    assert second.status_code == 409
    assert "已被他人更新" in second.get_data(as_text=True)
    with app.app_context():
        filing = db.session.get(Filing, filing_id)
        assert filing.status == "province_review"
        assert [e.action for e in filing.events] == ["review_province"]


def test_action_without_remark_changes_nothing(app, client, users, sign_in, csrf_token):
    with app.app_context():
        filing = make_filing("closure", "submitted")
        db.session.commit()
        filing_id, version = filing.id, filing.version
    sign_in(users["city"])
    token = csrf_token(f"/admin/filings/{filing_id}")
    refused = client.post(
        f"/admin/filings/{filing_id}/act",
        data={"csrf_token": token, "version": version, "action": "reject", "remark": ""},
    )
    assert refused.status_code == 400
    assert "请填写办理意见" in refused.get_data(as_text=True)
    assert _version(app, filing_id) == version


def test_queue_fragment_and_overdue_mark(app, client, users, sign_in):
    from portal.filings.services import now

    with app.app_context():
        filing = make_filing("closure", "submitted")
        filing.submitted_at = now() - timedelta(days=20)
        db.session.commit()
    sign_in(users["city"])
    page = client.get("/admin/queue?overdue=y")
    html = page.get_data(as_text=True)
    assert "超期" in html and "<html" in html
    fragment = client.get("/admin/queue", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True)
    assert "超期" in fragment.get_data(as_text=True)
    sign_in(users["editor"])
    assert client.get("/admin/queue").status_code == 403


def test_city_reassigns_the_auditor(app, client, users, sign_in, csrf_token):
    from portal.accounts.models import AuditFirm, User
    from tests.factories import make_uscc, make_user

    with app.app_context():
        other = AuditFirm(name="审核机构乙", uscc=make_uscc())
        db.session.add(other)
        db.session.flush()
        second_auditor = make_user("auditor", audit_firm_id=other.id)
        first_firm = db.session.get(User, users["auditor"]).audit_firm_id
        filing = make_filing("retrofit", "submitted", firm_id=first_firm)
        db.session.commit()
        filing_id, other_id, second_id = filing.id, other.id, second_auditor.id
    sign_in(users["city"])
    token = csrf_token(f"/admin/filings/{filing_id}")
    done = client.post(
        f"/admin/filings/{filing_id}/auditor",
        data={"csrf_token": token, "audit_firm_id": str(other_id), "remark": "回避"},
    )
    assert done.status_code == 303
    sign_in(users["auditor"])
    assert client.get(f"/admin/filings/{filing_id}").status_code == 403
    sign_in(second_id)
    assert client.get(f"/admin/filings/{filing_id}").status_code == 200
    sign_in(users["city_other"])
    assert (
        client.post(
            f"/admin/filings/{filing_id}/auditor",
            data={"csrf_token": token, "audit_firm_id": str(other_id)},
        ).status_code
        == 403
    )


def test_upheld_objection_reopens_the_filing(app, client, users, sign_in, csrf_token, runner):
    from portal.publicity import services as publicity

    with app.app_context():
        filing = make_filing("closure", "province_review")
        db.session.commit()
        filing_id = filing.id
    sign_in(users["province"])
    assert _act(client, csrf_token, filing_id, "publish", "发布公示").status_code == 303
    with app.app_context():
        notice = db.session.scalar(select(PublicityNotice))
        objection = publicity.file_objection(
            notice.announcement, "钱七", "13600000000", "该设施关停前一年的能耗数据有误。"
        )
        db.session.commit()
        objection_id, announcement_id = objection.id, notice.announcement_id
    token = csrf_token("/admin/objections")
    answered = client.post(
        f"/admin/objections/{objection_id}/answer",
        data={
            "csrf_token": token,
            f"o{objection_id}-outcome": "upheld",
            f"o{objection_id}-answer": "经核实能耗数据有误，退回企业更正。",
        },
    )
    assert answered.status_code == 303
    with app.app_context():
        filing = db.session.get(Filing, filing_id)
        assert filing.status == "returned"
        assert "异议成立" in filing.events[-1].remark
        announcement = db.session.get(Announcement, announcement_id)
        announcement.publicity_ends_at = announcement.publicity_starts_at - timedelta(seconds=1)
        db.session.commit()
    assert "finalized 0" in runner.invoke(args=["tick"]).output
    with app.app_context():
        assert db.session.get(Filing, filing_id).status == "returned"
        assert registry.balances(db.session.get(Filing, filing_id).enterprise_id) == {}


def test_supervisor_reads_every_filing_in_progress_but_cannot_act(
    app, client, users, sign_in, csrf_token
):
    with app.app_context():
        filing = make_filing("closure", "city_review")
        db.session.commit()
        filing_id, version = filing.id, filing.version
    sign_in(users["supervisor"])
    assert f"/admin/filings/{filing_id}" in client.get("/admin/queue").get_data(as_text=True)
    page = client.get(f"/admin/filings/{filing_id}").get_data(as_text=True)
    assert "没有需要您办理的环节" in page
    token = csrf_token(f"/admin/filings/{filing_id}")
    refused = client.post(
        f"/admin/filings/{filing_id}/act",
        data={"csrf_token": token, "version": version, "action": "review_province", "remark": "x"},
    )
    assert refused.status_code == 403
