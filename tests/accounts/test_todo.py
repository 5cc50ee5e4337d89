"""The dashboard's 待办: deadlines, returned filings and drafts, each linking to where to act.

The items come from filings, publicity and compliance (their receivers of collect_todo).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from portal.accounts.models import User
from portal.accounts.todo import todo_for
from portal.compliance.models import CompliancePeriod
from portal.extensions import db
from portal.filings import workflow
from portal.filings.models import FilingEvent
from portal.publicity import services as publicity
from portal.registry import services as registry
from tests import factories

TODAY = date(2026, 3, 1)
NOW = datetime(2026, 3, 1, 2, 0)


def _open_period(year=2025, deadline=date(2026, 3, 31)) -> CompliancePeriod:
    period = CompliancePeriod(year=year, filing_deadline=deadline)
    db.session.add(period)
    db.session.flush()
    return period


def _unit(name="待办测试企业"):
    return factories.make_enterprise(name)


def _kinds(todo):
    return [(d.kind, d.due, d.days_left) for d in todo.deadlines]


def test_nothing_to_do_says_why(ctx):
    unit = _unit()
    todo = todo_for(unit.id, TODAY, NOW)
    assert todo.empty and not todo.takes_part
    _open_period()
    factories.period(2024)  # a period published long ago, and the unit's record in it
    factories.compliance(unit, 2024)
    factories.holdings(unit, "energy", 2025, quota=100)  # allocated for 2025: it owes a filing
    todo = todo_for(unit.id, TODAY, NOW)
    assert todo.takes_part and todo.open_periods == 1
    assert _kinds(todo) == [("compliance_filing", date(2026, 3, 31), 30)]


def test_drafts_and_returned_filings_with_the_reason(ctx):
    unit = _unit()
    draft = factories.make_filing("closure", "draft", enterprise=unit)
    returned = factories.make_filing("retrofit", "returned", enterprise=unit)
    factories.make_filing("voluntary", "submitted", enterprise=unit)  # waits on the back office
    returned.events.append(
        FilingEvent(
            action="return",
            from_status="submitted",
            to_status="returned",
            actor_role="city",
            remark="请补充改造前能耗计量数据",
        )
    )
    other = factories.make_filing("closure", "draft", enterprise=_unit("别家企业"))
    db.session.flush()
    todo = todo_for(unit.id, TODAY, NOW)
    assert todo.drafts == [draft]
    assert [(f, step.remark) for f, step in todo.returned] == [
        (returned, "请补充改造前能耗计量数据")
    ]
    assert other not in todo.drafts and todo.deadlines == []


def test_the_compliance_deadline_follows_the_units_own_filing(ctx):
    unit = _unit()
    registry.allocate_indicators(unit.id, "energy", 100, 2025, "配额")  # owes 2025 compliance
    period = _open_period()
    [item] = todo_for(unit.id, TODAY, NOW).deadlines
    assert item.kind == "compliance_filing" and item.subject is period and item.filing is None
    assert item.url.endswith("/filings/#new-compliance")

    draft = factories.make_filing("compliance", "draft", enterprise=unit, period_year=2025)
    [item] = todo_for(unit.id, TODAY, NOW).deadlines
    assert item.filing == draft and item.url.endswith(f"/filings/{draft.id}/edit")

    draft.status = "withdrawn"
    factories.make_filing("compliance", "rejected", enterprise=unit, period_year=2025)
    [item] = todo_for(unit.id, TODAY, NOW).deadlines
    assert item.filing is None  # ended without a decision: a new filing is due

    factories.make_filing("compliance", "submitted", enterprise=unit, period_year=2025)
    todo = todo_for(unit.id, TODAY, NOW)
    assert todo.deadlines == [] and todo.empty and todo.open_periods == 1

    late = todo_for(unit.id, date(2026, 4, 2), NOW)
    assert late.deadlines == []  # filed: nothing left even after the deadline


def test_an_overdue_compliance_filing_stays_until_the_list_is_published(ctx):
    unit = _unit()
    factories.period(2024)
    factories.compliance(unit, 2024)
    factories.holdings(unit, "energy", 2025, quota=100)
    period = _open_period()
    [item] = todo_for(unit.id, date(2026, 4, 3), NOW).deadlines
    assert item.overdue and item.days_left == -3
    period.published_at = NOW
    assert todo_for(unit.id, date(2026, 4, 3), NOW).deadlines == []


def test_a_unit_that_takes_no_part_has_no_compliance_deadline(ctx):
    unit = _unit()
    _open_period()
    todo = todo_for(unit.id, TODAY, NOW)
    assert todo.empty and not todo.takes_part and todo.open_periods == 1


def test_a_shortfall_to_make_up_links_to_the_listings_of_its_variety(ctx):
    unit = _unit()
    factories.period(2024)
    factories.compliance(
        unit,
        2024,
        "non_compliant",
        variety_code="coal",
        shortfall=Decimal("12"),
        rectify_by=date(2026, 3, 11),
    )
    [item] = todo_for(unit.id, TODAY, NOW).deadlines
    assert (item.kind, item.due, item.days_left) == ("rectify", date(2026, 3, 11), 10)
    assert "/listings?" in item.url and "variety=coal" in item.url and "status=open" in item.url


def test_publicity_of_a_filing_and_of_a_compliance_list(ctx):
    unit = _unit()
    filing = factories.make_filing("closure", "publicity", enterprise=unit)
    notice = publicity.publish_publicity(
        "filing", filing.id, "关停指标公示", "正文", division_code="410100", now=NOW
    )
    period = factories.period(2025)
    period.published_at, period.publicity_ends_at = NOW, datetime(2026, 3, 5, 16, 0)
    factories.compliance(unit, 2025)
    todo = todo_for(unit.id, TODAY, NOW)
    by_kind = {d.kind: d for d in todo.deadlines}
    assert set(by_kind) == {"publicity", "compliance_publicity"}
    assert by_kind["publicity"].filing == filing
    assert by_kind["publicity"].url.endswith(f"/news/{notice.announcement_id}")
    assert by_kind["publicity"].ends_at == notice.announcement.publicity_ends_at
    # 16:00 UTC on 5 March is already 6 March in Henan (UTC+8).
    assert by_kind["compliance_publicity"].due == date(2026, 3, 6)
    assert by_kind["compliance_publicity"].url.endswith("/compliance/2025")
    # A 公示 that has ended, or a list the unit is not on, is nothing to do.
    assert todo_for(unit.id, TODAY, datetime(2026, 3, 20)).deadlines == []
    assert todo_for(_unit("别家").id, TODAY, NOW).deadlines == []


def test_construction_must_start_within_two_years(ctx):
    unit = _unit()
    filing = factories.make_filing("purchase", "final", enterprise=unit)
    obligation = registry.open_construction_obligation(
        unit.id,
        "年产 20 万吨项目",
        "energy",
        300,
        date(2024, 6, 1),
        source_type="filing",
        source_id=filing.number,
    )
    registry.open_construction_obligation(unit.id, "无来源项目", "energy", 10, date(2024, 9, 1))
    todo = todo_for(unit.id, TODAY, NOW)
    assert [(d.kind, d.due, d.filing) for d in todo.deadlines] == [
        ("construction", date(2026, 6, 1), filing),
        ("construction", date(2026, 9, 1), None),
    ]
    assert todo.deadlines[0].url.endswith(f"/filings/{filing.id}")
    assert todo.deadlines[1].url.endswith("/filings/")
    registry.record_construction_start(obligation, date(2025, 1, 1))
    assert len(todo_for(unit.id, TODAY, NOW).deadlines) == 1


def test_deadlines_come_soonest_first(ctx):
    unit = _unit()
    factories.period(2024)
    factories.compliance(unit, 2024, "non_compliant", rectify_by=date(2026, 5, 1))
    factories.holdings(unit, "energy", 2025, quota=100)
    _open_period(deadline=date(2026, 3, 31))
    registry.open_construction_obligation(unit.id, "项目", "energy", 1, date(2024, 3, 10))
    assert [d.kind for d in todo_for(unit.id, TODAY, NOW).deadlines] == [
        "construction",
        "compliance_filing",
        "rectify",
    ]


# ---------------------------------------------------------------- the dashboard


def _links(html: str) -> set[str]:
    return set(re.findall(r'href="([^"]+)"', html))


def test_the_dashboard_lists_what_to_do_with_links(app, client, auth):
    user_id = auth.login("enterprise")
    with app.app_context():
        unit = db.session.get(User, user_id).enterprise
        draft = factories.make_filing("closure", "draft", enterprise=unit, facility_name="3号窑")
        returned = factories.make_filing("closure", "submitted", enterprise=unit)
        city = factories.make_user("city", division="410100")
        workflow.transition(returned, "return", city, remark="请补充关停证明")
        factories.period(2024)
        factories.compliance(unit, 2024)
        factories.holdings(unit, "energy", 2025, quota=100)
        db.session.add(CompliancePeriod(year=2025, filing_deadline=date(2099, 3, 31)))
        db.session.commit()
        draft_id, returned_id = draft.id, returned.id
    html = client.get("/accounts/").get_data(as_text=True)
    todo = html[html.index('id="h-todo"') : html.index('id="h-holdings"')]
    assert "报送 2025 年度履约申报" in todo and "新建履约申报" in todo
    assert "2099" in todo and "剩余" in todo
    assert "修改并重新提交" in todo and "请补充关停证明" in todo
    assert "继续填写" in todo and "3号窑" in todo
    assert {
        "/filings/#new-compliance",
        f"/filings/{draft_id}/edit",
        f"/filings/{returned_id}/edit",
    } <= _links(todo)
    assert "待缴" not in todo  # the portal has no payment notices to list
    # The anchor the compliance link points at exists on the filings page.
    assert 'id="new-compliance"' in client.get("/filings/").get_data(as_text=True)


def test_the_dashboard_says_why_it_has_nothing_to_do(client, auth):
    auth.login("enterprise")
    html = client.get("/accounts/").get_data(as_text=True)
    assert "现在没有需要您办理的事项" in html
    assert "本单位尚未持有指标，也没有履约记录" in html


def test_the_dashboard_needs_an_enterprise_user(client, auth):
    response = client.get("/accounts/")
    assert response.status_code == 302 and "/accounts/login" in response.headers["Location"]
    auth.login("city")
    assert client.get("/accounts/").status_code == 403
