"""The back office's list of a period's units: one row per unit, filters, keyset pages, each
unit's own record page, no element id twice, and a number of queries that does not grow."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select

from portal.compliance import services as compliance
from portal.compliance.models import ComplianceRecord
from portal.extensions import db
from portal.registry import services as registry
from tests import factories
from tests.factories import make_filing

ROW = re.compile(r'id="unit-(\d+)-action"')
IDS = re.compile(r'\sid="([^"]+)"')


def duplicate_ids(html: str) -> list[str]:
    seen, repeated = set(), []
    for found in IDS.findall(html):
        if found in seen:
            repeated.append(found)
        seen.add(found)
    return repeated


def _world(app, units: int = 25) -> dict:
    """A period with `units` recorded units (郑州 and 洛阳, mixed statuses), and three units without a
    record: a voluntary unit approved in the period (with its filing), a unit allocated indicators
    for the period, and a unit holding indicators it bought, which owes nothing for the period;
    and one unit outside it."""
    with app.app_context():
        factories.period(2024, published=False)
        made = {}
        for i in range(units):
            unit = factories.enterprise(f"单位{i:03d}", "410100" if i % 2 else "410300")
            status = ("on_time", "non_compliant", "late")[i % 3]
            factories.compliance(
                unit,
                2024,
                status,
                shortfall=Decimal("12") if status == "non_compliant" else None,
            )
            if i == 0:
                factories.compliance(unit, 2024, "on_time", variety_code="coal")
            made[f"u{i}"] = unit.id
        filer = factories.enterprise("仅申报企业", "410100")
        make_filing("voluntary", "final", enterprise=filer, decided_at=datetime(2024, 3, 1))
        make_filing("compliance", "province_review", enterprise=filer, actual_energy=Decimal("9"))
        holder = factories.enterprise("仅持有企业", "410100")
        registry.allocate_indicators(holder.id, "energy", 50, 2024, "2024 年度初始分配")
        buyer = factories.enterprise("仅买入企业", "410100")
        registry.issue_indicators(buyer.id, "energy", 50, "买入")
        outsider = factories.enterprise("无关企业", "410100")
        db.session.commit()
        made.update(filer=filer.id, holder=holder.id, outsider=outsider.id, buyer=buyer.id)
        made["u0_uscc"] = db.session.get(type(unit), made["u0"]).uscc
        return made


def test_one_row_per_unit_paged_by_keyset(app, client, users, sign_in):
    ids = _world(app, units=25)
    sign_in(users["province"])
    first = client.get("/admin/compliance/2024")
    html = first.get_data(as_text=True)
    assert first.status_code == 200
    shown = [int(x) for x in ROW.findall(html)]
    assert len(shown) == 20 and len(set(shown)) == 20  # one row per unit, both varieties in it
    assert "<form" not in html.split('id="results"')[1].split("</table>")[0]  # no form per row
    assert duplicate_ids(html) == []
    nxt = re.search(r'href="([^"]*(?:after|page)=[^"]*)"[^>]*rel="next"', html)
    assert nxt
    second = client.get(nxt.group(1).replace("&amp;", "&")).get_data(as_text=True)
    rest = [int(x) for x in ROW.findall(second)]
    every = set(shown) | set(rest)
    assert len(every) == 27  # 25 recorded, the volunteer and the allocated unit
    assert {ids["filer"], ids["holder"]} <= every
    assert ids["outsider"] not in every and ids["buyer"] not in every  # they owe nothing


def test_filters(app, client, users, sign_in):
    ids = _world(app, units=9)
    sign_in(users["province"])

    def rows(query: str) -> set[int]:
        response = client.get(f"/admin/compliance/2024?{query}")
        assert response.status_code == 200, query
        return {int(x) for x in ROW.findall(response.get_data(as_text=True))}

    units = {ids[f"u{i}"] for i in range(9)}
    zhengzhou = {ids[f"u{i}"] for i in range(9) if i % 2} | {ids["filer"], ids["holder"]}
    assert rows("division=410100") == zhengzhou
    non_compliant = {ids[f"u{i}"] for i in range(9) if i % 3 == 1}
    assert rows("status=non_compliant") == non_compliant
    assert rows("shortfall=yes") == non_compliant
    assert rows("shortfall=no") == (units - non_compliant) | {ids["filer"], ids["holder"]}
    assert rows("status=unrecorded") == {ids["filer"], ids["holder"]}
    assert rows("q=单位003") == {ids["u3"]}
    assert rows(f"q={ids['u0_uscc']}") == {ids["u0"]}
    assert rows("q=100%25") == set()  # a % is a character, not a wildcard
    bad = client.get("/admin/compliance/2024?status=nonsense")
    assert bad.status_code == 400 and "不是可选的值" in bad.get_data(as_text=True)
    empty = client.get("/admin/compliance/2024?q=不存在的单位").get_data(as_text=True)
    assert "没有符合这些筛选条件的单位" in empty


def test_fragment_for_htmx(app, client, users, sign_in):
    _world(app, units=3)
    sign_in(users["supervisor"])
    full = client.get("/admin/compliance/2024?division=410100")
    part = client.get("/admin/compliance/2024?division=410100", headers={"HX-Request": "true"})
    assert "<html" in full.get_data(as_text=True)
    body = part.get_data(as_text=True)
    assert "<html" not in body and "单位001" in body and "HX-Request" in part.headers["Vary"]
    assert ">记录状态</a>" not in body  # the supervisor reads; only the province records


def test_unit_record_page_and_inline_form(app, client, users, sign_in, csrf_token):
    ids = _world(app, units=3)
    sign_in(users["province"])
    unit = ids["u0"]
    page = client.get(f"/admin/compliance/2024/units/{unit}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and duplicate_ids(html) == []
    assert f'id="u{unit}-energy-status"' in html and f'id="u{unit}-coal-status"' in html
    inline = client.get(
        f"/admin/compliance/2024/units/{unit}?next=/admin/compliance/2024%3Fdivision%3D410300",
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    assert "<html" not in inline and f'name="u{unit}-energy-csrf_token"' in inline
    assert client.get(f"/admin/compliance/2024/units/{ids['outsider']}").status_code == 404

    token = csrf_token(f"/admin/compliance/2024/units/{unit}")
    prefix = f"u{unit}-energy-"
    missing = client.post(
        f"/admin/compliance/2024/units/{unit}/energy",
        data={prefix + "csrf_token": token, prefix + "status": "non_compliant"},
    )
    assert missing.status_code == 400
    assert "未履约单位必须给出限期履约日期" in missing.get_data(as_text=True)
    done = client.post(
        f"/admin/compliance/2024/units/{unit}/energy?next=/admin/compliance/2024%3Fdivision%3D410300",
        data={
            prefix + "csrf_token": token,
            prefix + "status": "non_compliant",
            prefix + "actual": "5100",
            prefix + "rectify_by": "2025-09-30",
        },
    )
    assert done.status_code == 303
    assert done.headers["Location"].endswith("/admin/compliance/2024?division=410300")
    with app.app_context():
        record = db.session.scalar(
            select(ComplianceRecord).where(
                ComplianceRecord.enterprise_id == unit, ComplianceRecord.variety_code == "energy"
            )
        )
        assert record.status == "non_compliant" and record.rectify_by == date(2025, 9, 30)
    offsite = client.post(
        f"/admin/compliance/2024/units/{unit}/energy?next=https://evil.example.com/",
        data={prefix + "csrf_token": token, prefix + "status": "on_time"},
    )
    assert offsite.status_code == 303 and "evil" not in offsite.headers["Location"]


def test_no_id_repeats_on_the_period_and_preview_pages(app, client, users, sign_in):
    _world(app, units=4)
    sign_in(users["province"])
    for path in ("/admin/compliance/2024", "/admin/compliance/2024/publish"):
        html = client.get(path).get_data(as_text=True)
        assert duplicate_ids(html) == [], path
        assert 'id="csrf_token"' not in html, path


def test_page_queries_do_not_grow_with_units(app, client, users, sign_in, count_queries):
    sign_in(users["province"])
    with app.app_context():
        factories.period(2024, published=False)
        db.session.commit()

    def add(n: int, start: int) -> None:
        with app.app_context():
            for i in range(start, start + n):
                unit = factories.enterprise(f"计数单位{i:03d}", "410100")
                factories.compliance(unit, 2024, "on_time")
                factories.compliance(unit, 2024, "on_time", variety_code="coal")
                registry.issue_indicators(unit.id, "energy", 10, "配额")
                make_filing("compliance", "submitted", enterprise=unit, actual_energy=Decimal(5))
            db.session.commit()

    def statements() -> list[str]:
        client.get("/admin/compliance/2024")
        return count_queries(lambda: client.get("/admin/compliance/2024"))

    add(2, 0)
    few = statements()
    add(18, 2)
    many = statements()
    assert len(many) == len(few), "\n".join(many)
    html = client.get("/admin/compliance/2024").get_data(as_text=True)
    assert len(set(ROW.findall(html))) == 20


def test_suggested_status_matches_the_services_rule(ctx):
    """The page's holdings (one grouped query) agree with compliance.ledger_components."""
    from portal.compliance import admin_queries

    unit = factories.enterprise("核对持有量企业", "410100")
    other = factories.enterprise("买方企业", "410100")
    registry.issue_indicators(unit.id, "energy", 100, "配额", period_year=2024)
    registry.issue_indicators(unit.id, "coal", 40, "配额", period_year=2024)
    registry.transfer_indicators(unit.id, other.id, "energy", 30, "成交", period_year=2024)
    registry.surrender_indicators(unit.id, "coal", 10, "履约注销", period_year=2024)
    compliance.open_period(2024, date(2099, 3, 31), actor=None)
    db.session.flush()
    found = admin_queries.page_holdings([unit.id, other.id], 2024)
    for (eid, code), held in found.items():
        assert held == compliance.period_holdings(eid, code, 2024)
    # a surrender is what compliance used: it does not lower the holdings compared against
    assert found[(unit.id, "coal")] == Decimal("40")
    assert found[(unit.id, "energy")] == Decimal("70") and found[(other.id, "energy")] == 30
