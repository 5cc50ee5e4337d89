from decimal import Decimal

import pytest

from portal.extensions import db
from tests import factories as f


@pytest.fixture
def market(app):
    with app.app_context():
        zz = f.enterprise("示例郑州豫能化工有限公司", "410100", "chemical")
        hb = f.enterprise("示例鹤壁新材建材有限公司", "410600", "building")
        listing = f.listing(zz, number="YNQ-GP-2025-000001")
        f.listing(hb, number="YNQ-GP-2025-000002", variety_code="coal")
        f.trade(hb, zz, listing, number="YNQ-CJ-2025-000001", quantity=Decimal("12.3456"))
        f.period(2024)
        f.compliance(zz, 2024, "on_time")
        f.compliance(hb, 2024, "not_reported", actual=None)
        db.session.commit()


def test_trades_as_json_with_exact_decimals(client, market):
    response = client.get("/api/v1/trades")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    body = response.get_json()
    assert body["count"] == 1 and body["next"] is None
    trade = body["results"][0]
    assert trade["number"] == "YNQ-CJ-2025-000001"
    assert trade["quantity"] == "12.3456" and trade["listing"] == "YNQ-GP-2025-000001"
    assert trade["trade_date"] == "2025-03-10"


def test_filters_and_pages_match_the_html_lists(client, market):
    body = client.get("/api/v1/listings?variety=coal").get_json()
    assert [r["number"] for r in body["results"]] == ["YNQ-GP-2025-000002"]
    first = client.get("/api/v1/listings?per_page=1").get_json()
    assert first["count"] == 2 and "page=2" in first["next"]
    second = client.get(first["next"]).get_json()
    assert second["previous"] and len(second["results"]) == 1
    assert {first["results"][0]["number"], second["results"][0]["number"]} == {
        "YNQ-GP-2025-000001",
        "YNQ-GP-2025-000002",
    }


def test_missing_actual_is_null_not_zero(client, market):
    body = client.get("/api/v1/compliance/2024").get_json()
    by_status = {r["status"]: r for r in body["results"]}
    assert by_status["not_reported"]["actual"] is None
    assert by_status["on_time"]["actual"] == "4800.0000"


def test_errors_are_json(client, market):
    bad = client.get("/api/v1/trades?variety=oil")
    assert bad.status_code == 400 and "variety" in bad.get_json()["fields"]
    assert client.get("/api/v1/compliance/1999").get_json()["status"] == 404
    assert client.get("/api/v1/trades?page=9").status_code == 404
    assert client.get("/api/v1/trades?page=x").get_json()["status"] == 400
