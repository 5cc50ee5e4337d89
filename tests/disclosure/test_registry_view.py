"""The public registry view of a unit: holdings per period and ledger movements, each linked to
the public record that caused it."""

from __future__ import annotations

import re
from datetime import date

import pytest

from portal.extensions import db
from portal.publicity import services as publicity
from portal.registry import services as registry
from tests import factories as f

HX = {"HX-Request": "true"}


@pytest.fixture
def unit(app):
    """A public unit with an allocation, a sale and a purchase by trade, a manual cancel."""
    with app.app_context():
        seller = f.enterprise("示例登记簿卖方有限公司", "410100", "chemical", is_public=True)
        buyer = f.enterprise("示例登记簿买方有限公司", "410600", "building", is_public=True)
        bystander = f.enterprise("示例未参与单位有限公司", "410300", "steel", is_public=True)
        registry.allocate_indicators(seller.id, "energy", 1000, 2025, "2025 年度初始分配")
        registry.allocate_indicators(seller.id, "coal", 50, 2025, "2025 年度初始分配")
        trade = f.trade(buyer, seller, quantity=120, trade_date=date(2025, 3, 10))
        registry.record_trade_transfer(trade)
        registry.cancel_indicators(seller.id, "energy", 5, "按处罚决定注销", period_year=2025)
        db.session.commit()
        return {
            "seller": seller.uscc,
            "buyer": buyer.uscc,
            "bystander": bystander.uscc,
            "trade": trade.number,
            "seller_id": seller.id,
        }


def test_profile_shows_holdings_per_period_and_movements(client, unit):
    html = client.get(f"/enterprises/{unit['seller']}").get_data(as_text=True)
    assert "注册登记" in html
    # 1000 allocated − 120 sold − 5 cancelled (counted as taken back) = 875 吨标准煤
    assert "875 吨标准煤" in html
    assert "50 吨" in html
    # Newest first: the cancel, then the sale (linked to its trade), then the allocations.
    assert html.index("按处罚决定注销") < html.index(f"成交 {unit['trade']}")
    assert f'href="/trades/{unit["trade"]}"' in html
    assert "-120 吨标准煤" in html
    # Money flows of the platform are not the registry's.
    assert "39,600" not in html


def test_buyer_sees_the_purchase(client, unit):
    html = client.get(f"/enterprises/{unit['buyer']}").get_data(as_text=True)
    assert "买入" in html and "120 吨标准煤" in html


def test_a_unit_outside_the_registry_says_why(client, unit):
    html = client.get(f"/enterprises/{unit['bystander']}").get_data(as_text=True)
    assert "不是注册登记簿的持有人" in html
    page = client.get(f"/enterprises/{unit['bystander']}/registry")
    assert page.status_code == 200
    assert "不是注册登记簿的持有人" in page.get_data(as_text=True)


def test_registry_page_pages_by_keyset(app, client, unit):
    with app.app_context():
        for n in range(25):
            registry.issue_indicators(unit["seller_id"], "energy", 1, f"核定第 {n} 批")
        db.session.commit()
    first = client.get(f"/enterprises/{unit['seller']}/registry")
    html = first.get_data(as_text=True)
    assert first.status_code == 200 and "核定第 24 批" in html and "核定第 4 批" not in html
    assert "共 29 条" in html
    after = re.search(r'href="[^"]*registry\?after=([^"&]+)"', html).group(1)
    fragment = client.get(f"/enterprises/{unit['seller']}/registry?after={after}", headers=HX)
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and "核定第 4 批" in body and "初始分配" in body
    assert fragment.headers["Vary"] == "HX-Request" or "HX-Request" in fragment.headers["Vary"]
    # A cursor that this list did not make is a 404, not a 500.
    assert client.get(f"/enterprises/{unit['seller']}/registry?after=xyz").status_code == 404
    # The profile shows the newest page and links to the rest.
    profile = client.get(f"/enterprises/{unit['seller']}").get_data(as_text=True)
    assert f"/enterprises/{unit['seller']}/registry" in profile


def test_filing_and_take_back_movements_link_to_their_publicity(app, client, unit):
    with app.app_context():
        filing = f.make_filing(
            "retrofit", status="final", enterprise=db.session.get(f.Enterprise, unit["seller_id"])
        )
        notice = publicity.publish_publicity(
            "filing", filing.id, "节能量确权公示", "公示内容", division_code="410100"
        )
        registry.issue_indicators(
            unit["seller_id"],
            "energy",
            30,
            f"节能改造 {filing.number}",
            source_type="filing",
            source_id=filing.number,
        )
        db.session.commit()
        announcement_id = notice.announcement_id
    html = client.get(f"/enterprises/{unit['seller']}").get_data(as_text=True)
    assert f'href="/news/{announcement_id}"' in html


def test_not_public_unit_is_404(app, client):
    with app.app_context():
        hidden = f.enterprise("示例未公开单位有限公司", "410100", is_public=False)
        db.session.commit()
        uscc = hidden.uscc
    assert client.get(f"/enterprises/{uscc}/registry").status_code == 404
