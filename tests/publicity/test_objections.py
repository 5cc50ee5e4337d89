from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from portal.extensions import db
from portal.news.models import Announcement
from portal.publicity import services
from portal.publicity.models import Objection, PublicityNotice
from portal.registry import services as registry
from tests.factories import csrf_token_in, make_enterprise


def _notice(app, subject=("other", "x")):
    with app.app_context():
        notice = services.publish_publicity(subject[0], subject[1], "关于某事项的公示", "正文")
        db.session.commit()
        return notice.announcement_id, notice.id


def _objection_form(token, **overrides):
    return {
        "csrf_token": token,
        "real_name": "李四",
        "contact": "lisi@example.com",
        "reason": "公示数据与实际情况不符，请核实。",
    } | overrides


def test_objection_is_filed_and_personal_data_never_shown(app, client, csrf_token):
    announcement_id, _ = _notice(app)
    url = f"/publicity/objections/new/{announcement_id}"
    page = client.get(url)
    assert page.status_code == 200 and "真实姓名" in page.get_data(as_text=True)
    token = csrf_token(url)
    bad = client.post(url, data=_objection_form(token, contact="abc", reason="太短"))
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert "请填写有效的手机号" in html and "10 到 5000" in html
    assert client.post(url, data=_objection_form(token)).status_code == 303
    outcomes = client.get(f"/publicity/objections/outcomes/{announcement_id}").get_data(
        as_text=True
    )
    assert "李四" not in outcomes and "lisi@example.com" not in outcomes and "待答复：1" in outcomes


def test_no_objection_outside_the_period(app, client, csrf_token):
    announcement_id, _ = _notice(app)
    with app.app_context():
        announcement = db.session.get(Announcement, announcement_id)
        announcement.publicity_ends_at = announcement.published_at - timedelta(seconds=1)
        db.session.commit()
    url = f"/publicity/objections/new/{announcement_id}"
    page = client.get(url).get_data(as_text=True)
    assert "不在公示期内" in page
    token = csrf_token("/accounts/login")
    refused = client.post(url, data=_objection_form(token))
    assert refused.status_code == 409 and "公示期已结束" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Objection)) == 0


def test_objections_are_rate_limited(app_config, database_url):
    from portal import create_app

    app = create_app(app_config | {"RATELIMIT_ENABLED": True})
    try:
        client = app.test_client()
        announcement_id, _ = _notice(app)
        url = f"/publicity/objections/new/{announcement_id}"
        token = csrf_token_in(client.get(url).get_data(as_text=True))
        codes = [client.post(url, data=_objection_form(token)).status_code for _ in range(6)]
        assert codes[:5] == [303] * 5 and codes[5] == 429
    finally:
        with app.app_context():
            from portal.extensions import limiter

            limiter.reset()
            db.session.remove()
            from tests.conftest import _empty_tables

            _empty_tables()
            db.engine.dispose()


def test_upheld_objection_keeps_the_decision_from_becoming_final(ctx):
    notice = services.publish_publicity("other", "1", "公示", "正文")
    announcement = notice.announcement
    objection = services.file_objection(announcement, "王五", "13900000000", "理由充分的异议内容。")
    later = announcement.publicity_ends_at + timedelta(seconds=1)
    # an unanswered objection holds the decision back
    report = services.run_tick(now=later)
    assert report.finalized == [] and report.waiting == [notice.id]
    services.answer_objection(objection, "upheld", "异议成立，重新审核。", actor=None)
    assert notice.status == "reopened"
    assert services.run_tick(now=later).finalized == []


def test_tick_finalizes_once_and_is_safe_to_repeat(ctx):
    notice = services.publish_publicity("other", "2", "公示", "正文")
    later = notice.announcement.publicity_ends_at + timedelta(minutes=1)
    assert (
        services.run_tick(
            now=notice.announcement.publicity_ends_at - timedelta(minutes=1)
        ).finalized
        == []
    )
    assert services.run_tick(now=later).finalized == [notice.id]
    assert services.run_tick(now=later).finalized == []
    assert db.session.get(PublicityNotice, notice.id).status == "final"


def test_tick_warns_and_takes_back_construction_indicators(ctx):
    unit = make_enterprise("两高项目企业")
    registry.issue_indicators(unit.id, "energy", 300, "申购")
    obligation = registry.open_construction_obligation(
        unit.id, "项目", "energy", 300, date(2023, 1, 5)
    )
    warned = services.run_tick(today=date(2024, 12, 1))
    assert warned.warned == [obligation.id] and warned.taken_back == []
    assert services.run_tick(today=date(2024, 12, 2)).warned == []
    taken = services.run_tick(today=date(2025, 1, 6))
    assert taken.taken_back == [obligation.id]
    assert registry.balances(unit.id) == {"energy": Decimal("0")}
    assert services.run_tick(today=date(2025, 1, 7)).taken_back == []


def test_back_office_answer_is_scoped_by_division(app, client, users, sign_in, csrf_token):
    with app.app_context():
        notice = services.publish_publicity(
            "other", "3", "洛阳公示", "正文", division_code="410300"
        )
        objection = services.file_objection(
            notice.announcement, "赵六", "13700000000", "请核实该公示的内容。"
        )
        db.session.commit()
        objection_id = objection.id
    sign_in(users["city"])  # 郑州
    assert "赵六" not in client.get("/admin/objections").get_data(as_text=True)
    token = csrf_token("/admin/objections")
    refused = client.post(
        f"/admin/objections/{objection_id}/answer",
        data={
            "csrf_token": token,
            f"o{objection_id}-outcome": "dismissed",
            f"o{objection_id}-answer": "x",
        },
    )
    assert refused.status_code == 403
    sign_in(users["city_other"])  # 洛阳
    assert "赵六" in client.get("/admin/objections").get_data(as_text=True)
    ok = client.post(
        f"/admin/objections/{objection_id}/answer",
        data={
            "csrf_token": token,
            f"o{objection_id}-outcome": "dismissed",
            f"o{objection_id}-answer": "经核实无误。",
        },
    )
    assert ok.status_code == 303
    with app.app_context():
        assert db.session.get(Objection, objection_id).status == "dismissed"
