"""公示 periods come from the rules; only the province withdraws a 公示, with a reason, and a
withdrawn 公示 never makes its decision final. Generated Markdown escapes every value."""

# The back-office fixtures (users, sign_in) are imported, then named as test arguments.
# ruff: noqa: F811

from __future__ import annotations

import inspect
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Notice, User
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.filings.models import Filing
from portal.news.models import Announcement
from portal.publicity import services as publicity
from portal.publicity.models import Objection, PublicityNotice
from portal.registry.models import LedgerEntry
from tests import factories
from tests.factories import make_enterprise, make_filing

SEVEN_DAYS = timedelta(days=7)


def _token(client, path):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


def _filing_in_publicity(app, users, enterprise_name="公示企业"):
    """A closure claim the province has published: (filing id, notice id, announcement id)."""
    from portal.review.services import act_on_filing

    with app.app_context():
        unit = make_enterprise(enterprise_name, "410100")
        filing = make_filing("closure", "province_review", enterprise=unit)
        province = db.session.get(User, users["province"])
        act_on_filing(filing, "publish", province, "同意公示", None)
        db.session.commit()
        notice = publicity.notice_for_subject("filing", filing.id)
        return filing.id, notice.id, notice.announcement_id


# --- the period ------------------------------------------------------------------------------------


def test_every_publicity_gets_the_statutory_period(ctx):
    assert "days" not in inspect.signature(publicity.publish_publicity).parameters
    notice = publicity.publish_publicity("other", "1", "公示", "正文")
    announcement = notice.announcement
    assert announcement.publicity_ends_at - announcement.publicity_starts_at == SEVEN_DAYS


def test_the_period_follows_the_setting(app, app_config):
    from portal import create_app

    app = create_app(app_config | {"PUBLICITY_DAYS": 10})
    try:
        with app.app_context():
            notice = publicity.publish_publicity("other", "2", "公示", "正文")
            a = notice.announcement
            assert a.publicity_ends_at - a.publicity_starts_at == timedelta(days=10)
            db.session.rollback()
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_compliance_list_gets_the_statutory_period(ctx, users):
    from portal.compliance import services as compliance

    province = db.session.get(User, users["province"])
    unit = make_enterprise("履约企业")
    compliance.open_period(2030, date(2031, 3, 31), actor=province)
    factories.holdings(unit, "energy", 2030, quota=100)  # allocated: it owes compliance
    compliance.record_status(2030, unit.id, "energy", "on_time", actor=province)
    notice = compliance.publish_list(2030, actor=province)
    a = notice.announcement
    assert a.publicity_ends_at - a.publicity_starts_at == SEVEN_DAYS


def test_editor_form_has_no_period_and_a_new_publicity_gets_seven_days(app, client, users, sign_in):
    sign_in(users["editor"])
    page = client.get("/admin/editorial/new").get_data(as_text=True)
    assert "publicity_days" not in page and "自动设公示期 7 天" in page
    response = client.post(
        "/admin/editorial/new",
        data={
            "csrf_token": _token(client, "/admin/editorial/new"),
            "title": "关于某事项的公示",
            "category": "publicity",
            "body_md": "正文",
            "publish_mode": "now",
            "publicity_days": "1",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        a = db.session.scalar(select(Announcement).where(Announcement.title == "关于某事项的公示"))
        assert a.publicity_ends_at - a.publicity_starts_at == SEVEN_DAYS
        assert publicity.notice_for_announcement(a.id).status == "open"


def test_editor_cannot_shorten_or_withdraw_a_statutory_publicity(app, client, users, sign_in):
    filing_id, notice_id, announcement_id = _filing_in_publicity(app, users)
    with app.app_context():
        before = db.session.get(Announcement, announcement_id).publicity_ends_at
    sign_in(users["editor"])
    edit = f"/admin/editorial/{announcement_id}"
    page = client.get(edit).get_data(as_text=True)
    assert "按规定计算，不能修改" in page and "编辑不能撤回" in page
    assert f"/admin/editorial/{announcement_id}/withdraw" not in page
    token = _token(client, edit)
    saved = client.post(
        edit,
        data={
            "csrf_token": token,
            "title": "改过的标题",
            "category": "publicity",
            "body_md": "改过的正文",
            "publish_mode": "now",
            "publicity_days": "1",
            "reason": "文字更正",
        },
    )
    assert saved.status_code == 303
    moved = client.post(
        edit,
        data={
            "csrf_token": token,
            "title": "改过的标题",
            "category": "news",
            "body_md": "改过的正文",
            "publish_mode": "now",
            "reason": "换栏目",
        },
    )
    assert moved.status_code == 400 and "公示的栏目不能修改" in moved.get_data(as_text=True)
    refused = client.post(
        f"/admin/editorial/{announcement_id}/withdraw",
        data={"csrf_token": token, "reason": "不想公示了"},
        follow_redirects=True,
    )
    assert "不能在这里撤回" in refused.get_data(as_text=True)
    assert client.get(f"/admin/publicity/{notice_id}/withdraw").status_code == 403
    with app.app_context():
        a = db.session.get(Announcement, announcement_id)
        assert a.title == "改过的标题" and a.category == "publicity"
        assert a.status == "published" and a.publicity_ends_at == before
        assert db.session.get(PublicityNotice, notice_id).status == "open"


# --- withdrawal --------------------------------------------------------------------------------------


def test_province_withdraws_with_a_reason_and_the_page_says_so(app, client, users, sign_in):
    filing_id, notice_id, announcement_id = _filing_in_publicity(app, users)
    url = f"/admin/publicity/{notice_id}/withdraw"
    sign_in(users["city"])
    assert client.get(url).status_code == 403
    sign_in(users["province"])
    assert client.get(url).status_code == 200
    token = _token(client, url)
    missing = client.post(url, data={"csrf_token": token, "reason": ""})
    assert missing.status_code == 400 and "请填写撤回理由" in missing.get_data(as_text=True)
    done = client.post(url, data={"csrf_token": token, "reason": "申报数据需重新核实"})
    assert done.status_code == 303
    again = client.post(url, data={"csrf_token": token, "reason": "再撤一次"})
    assert again.status_code == 409

    objection_url = f"/publicity/objections/new/{announcement_id}"
    page = client.get(objection_url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "本公示已于" in html and "撤回，理由：申报数据需重新核实" in html
    refused = client.post(
        objection_url,
        data={
            "csrf_token": token,
            "real_name": "李四",
            "contact": "lisi@example.com",
            "reason": "公示数据与实际情况不符，请核实。",
        },
    )
    assert refused.status_code == 409 and "本公示已撤回" in refused.get_data(as_text=True)
    detail = client.get(f"/news/{announcement_id}").get_data(as_text=True)
    assert "撤回，理由：申报数据需重新核实" in detail and "对公示内容提出异议" not in detail
    outcomes = client.get(f"/publicity/objections/outcomes/{announcement_id}").get_data(
        as_text=True
    )
    assert "撤回，理由：申报数据需重新核实" in outcomes

    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Objection)) == 0
        notice = db.session.get(PublicityNotice, notice_id)
        assert notice.status == "withdrawn" and notice.withdrawn_by_id == users["province"]
        filing = db.session.get(Filing, filing_id)
        # back in the province's queue, one step before the 公示
        assert filing.status == "province_review"
        event = db.session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "publicity.withdraw", AuditEvent.object_id == str(notice_id)
            )
        )
        assert event is not None and event.remark == "申报数据需重新核实"
        inbox = db.session.scalars(
            select(Notice).where(Notice.enterprise_id == filing.enterprise_id)
        ).all()
        assert any("公示已撤回：申报数据需重新核实" in n.body for n in inbox)


def test_tick_never_finalizes_a_withdrawn_publicity(app, users):
    filing_id, notice_id, announcement_id = _filing_in_publicity(app, users)
    with app.app_context():
        province = db.session.get(User, users["province"])
        notice = db.session.get(PublicityNotice, notice_id)
        ends = notice.announcement.publicity_ends_at
        publicity.withdraw_notice(notice, "撤回重审", actor=province)
        db.session.commit()
        report = publicity.run_tick(now=ends + timedelta(days=30))
        db.session.commit()
        assert notice_id not in report.finalized
        assert db.session.get(Filing, filing_id).status == "province_review"
        assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == 0


def test_province_withdraws_from_the_filing_page_too(app, users):
    from portal.review.services import act_on_filing

    filing_id, notice_id, _ = _filing_in_publicity(app, users)
    with app.app_context():
        province = db.session.get(User, users["province"])
        filing = db.session.get(Filing, filing_id)
        act_on_filing(filing, "withdraw_publicity", province, "材料有误", None)
        db.session.commit()
        notice = db.session.get(PublicityNotice, notice_id)
        assert notice.status == "withdrawn" and notice.withdrawal_reason == "材料有误"
        assert filing.status == "province_review"
        # published again: a new 公示 with a whole period
        act_on_filing(filing, "publish", province, "重新公示", None)
        db.session.commit()
        latest = publicity.notice_for_subject("filing", filing_id)
        assert latest.id != notice_id and latest.status == "open"
        report = publicity.run_tick(now=latest.announcement.publicity_ends_at + timedelta(1))
        assert report.finalized == [latest.id]
        assert filing.status == "final"


def test_withdrawal_needs_the_province_and_a_reason(ctx, users):
    notice = publicity.publish_publicity("other", "9", "公示", "正文")
    editor = db.session.get(User, users["editor"])
    province = db.session.get(User, users["province"])
    with pytest.raises(publicity.PublicityError) as refused:
        publicity.withdraw_notice(notice, "理由", actor=editor)
    assert refused.value.code == "role"
    with pytest.raises(publicity.PublicityError) as refused:
        publicity.withdraw_notice(notice, "  ", actor=province)
    assert refused.value.code == "reason"
    assert notice.status == "open"


def test_tick_ignores_a_publicity_taken_down_outside_the_rules(ctx):
    """An announcement withdrawn by other means never finalizes its decision; tick says so."""
    notice = publicity.publish_publicity("other", "7", "公示", "正文")
    notice.announcement.status = "withdrawn"
    db.session.flush()
    report = publicity.run_tick(now=notice.announcement.publicity_ends_at + timedelta(days=1))
    assert report.finalized == [] and notice.status == "open"
    assert any(f"notice {notice.id}" in error for error in report.errors)


# --- objectors' contacts ----------------------------------------------------------------------------


def test_only_those_who_answer_see_who_objected(app, client, users, sign_in):
    with app.app_context():
        notice = publicity.publish_publicity(
            "other", "3", "郑州公示", "正文", division_code="410100"
        )
        publicity.file_objection(
            notice.announcement, "赵六", "13700000000", "请核实该公示的具体内容。"
        )
        db.session.commit()
    for role in ("editor", "supervisor"):
        sign_in(users[role])
        html = client.get("/admin/objections").get_data(as_text=True)
        assert "请核实该公示的具体内容" in html
        assert "赵六" not in html and "13700000000" not in html
        assert "异议人信息仅对办理部门可见" in html
    for role in ("province", "city"):
        sign_in(users[role])
        html = client.get("/admin/objections").get_data(as_text=True)
        assert "赵六" in html and "13700000000" in html
    sign_in(users["city_other"])  # 洛阳: not its division, and not listed
    html = client.get("/admin/objections").get_data(as_text=True)
    assert "赵六" not in html and "13700000000" not in html


# --- Markdown escaping -----------------------------------------------------------------------------

HOSTILE = "[x](https://evil.example) <img src=x> **bold** ` 化工"


def _assert_inert(html: str) -> None:
    assert "<a" not in html and "<img" not in html and "<strong>" not in html
    assert "<code>" not in html and "evil.example" in html  # shown as text


def test_hostile_enterprise_name_is_text_in_a_filing_publicity(app, users):
    _, notice_id, announcement_id = _filing_in_publicity(app, users, enterprise_name=HOSTILE)
    with app.app_context():
        a = db.session.get(Announcement, announcement_id)
        _assert_inert(a.body_html)
        assert "**bold**" in a.body_html and "[x](https://evil.example)" in a.body_html


def test_hostile_enterprise_name_is_text_in_the_compliance_list(ctx, users):
    from portal.compliance import services as compliance

    province = db.session.get(User, users["province"])
    unit = make_enterprise(HOSTILE)
    compliance.open_period(2031, date(2032, 3, 31), actor=province)
    factories.holdings(unit, "energy", 2031, quota=100)  # allocated: it owes compliance
    compliance.record_status(2031, unit.id, "energy", "on_time", actor=province)
    notice = compliance.publish_list(2031, actor=province)
    html = notice.announcement.body_html
    _assert_inert(html)
    assert "<table>" in html and html.count("<td>") == 8  # the name stayed in its cell


@pytest.mark.parametrize(
    "value",
    [
        "[x](https://evil.example)",
        "<img src=x>",
        "**bold**",
        "`code`",
        "# heading",
        "1. item",
        "- item",
        "a | b",
        "===",
        "![i](https://evil.example/i.png)",
        "<https://evil.example>",
        "line\n# two",
    ],
)
def test_escape_markdown_leaves_only_text(value):
    from portal.news.services import render_markdown
    from portal.text import escape_markdown

    html = render_markdown(f"- 单位：{escape_markdown(value)}")
    inner = re.sub(r"^<ul>\s*<li>单位：|</li>\s*</ul>$", "", html.strip())
    assert "<" not in inner.replace("&lt;", ""), html
    assert "evil.example" not in value or "evil.example" in inner
