"""The registry in the API: a profile's holdings per period, and a unit's movements by cursor."""

from __future__ import annotations

from datetime import date

from portal.extensions import db
from portal.registry import services as registry
from tests import factories as f


def _unit(app, entries: int = 0):
    with app.app_context():
        seller = f.enterprise("示例接口卖方有限公司", "410100")
        buyer = f.enterprise("示例接口买方有限公司", "410600")
        outsider = f.enterprise("示例接口旁观单位有限公司", "410300")
        registry.allocate_indicators(seller.id, "energy", "1000.5", 2025, "2025 年度初始分配")
        trade = f.trade(buyer, seller, quantity=120, trade_date=date(2025, 3, 10))
        registry.record_trade_transfer(trade)
        for n in range(entries):
            registry.issue_indicators(seller.id, "coal", 1, f"核定第 {n} 批")
        db.session.commit()
        return seller.uscc, outsider.uscc, trade.number


def test_profile_has_holdings_per_period_as_scaled_strings(app, client):
    seller, outsider, _number = _unit(app)
    profile = client.get(f"/api/v1/enterprises/{seller}").get_json()
    assert profile["participates"] is True
    (row,) = profile["period_holdings"]
    assert row == {
        "period": 2025,
        "closed": row["closed"],
        "variety": "energy",
        "unit": "tce",
        "allocated": "1000.5000",
        "bought": "0.0000",
        "sold": "120.0000",
        "taken_back": "0.0000",
        "holdings": "880.5000",
        "surrendered": "0.0000",
    }
    assert profile["movements_url"].endswith(f"/api/v1/enterprises/{seller}/movements")
    other = client.get(f"/api/v1/enterprises/{outsider}").get_json()
    assert other["participates"] is False and other["period_holdings"] == []


def test_movements_newest_first_with_their_records(app, client):
    seller, _outsider, number = _unit(app)
    body = client.get(f"/api/v1/enterprises/{seller}/movements").get_json()
    assert body["count"] == 2
    sale, allocation = body["results"]
    assert sale["kind"] == "transfer_out" and sale["quantity"] == "-120.0000"
    assert sale["record_type"] == "trade" and sale["record_url"].endswith(f"/trades/{number}")
    assert allocation["kind"] == "allocate" and allocation["record_url"] is None
    assert allocation["reason"] == "2025 年度初始分配"
    assert "amount" not in sale and "unit_price" not in sale


def test_movements_page_by_cursor(app, client):
    seller, _outsider, _number = _unit(app, entries=7)
    first = client.get(f"/api/v1/enterprises/{seller}/movements?per_page=4").get_json()
    assert [m["reason"] for m in first["results"]][:2] == ["核定第 6 批", "核定第 5 批"]
    seen = [m["id"] for m in first["results"]]
    url = first["next"]
    while url:
        page = client.get(url).get_json()
        seen += [m["id"] for m in page["results"]]
        url = page["next"]
    assert len(seen) == 9 == len(set(seen)) and seen == sorted(seen, reverse=True)
    assert "after=" in first["next"] and first["page"] is None
    bad = client.get(f"/api/v1/enterprises/{seller}/movements?after=nonsense")
    assert bad.status_code == 404 and bad.mimetype == "application/problem+json"
    assert client.get("/api/v1/enterprises/91410100MA00000000/movements").status_code == 404
