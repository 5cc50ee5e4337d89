"""What each endpoint answers: the same rows as the pages, exact decimals, null apart from zero."""

from __future__ import annotations

import re

from portal.extensions import db
from portal.news.models import Announcement
from tests import factories as f

QUANTITY = re.compile(r"^-?[0-9]+\.[0-9]{4}$")
MONEY = re.compile(r"^-?[0-9]+\.[0-9]{2}$")


def test_trades_as_json_with_exact_decimals(client, market):
    response = client.get("/api/v1/trades")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    body = response.get_json()
    assert body["count"] == 1 and body["next"] is None and body["previous"] is None
    trade = body["results"][0]
    assert trade["number"] == "YNQ-CJ-2025-000001"
    assert trade["quantity"] == "12.3456" and trade["listing"] == "YNQ-GP-2025-000001"
    assert trade["unit_price"] == "330.00" and trade["amount"] == "4074.05"
    assert trade["unit"] == "tce" and trade["trade_date"] == "2025-03-10"
    assert trade["url"] == "http://localhost/trades/YNQ-CJ-2025-000001"


def test_filters_and_pages_match_the_html_lists(client, market):
    body = client.get("/api/v1/listings?variety=coal").get_json()
    assert [r["number"] for r in body["results"]] == ["YNQ-GP-2025-000002"]
    assert body["results"][0]["unit"] == "t"
    first = client.get("/api/v1/listings?per_page=1").get_json()
    assert first["count"] == 2 and "page=2" in first["next"]
    second = client.get(first["next"]).get_json()
    assert second["previous"] and second["next"] is None and len(second["results"]) == 1
    assert {first["results"][0]["number"], second["results"][0]["number"]} == {
        "YNQ-GP-2025-000001",
        "YNQ-GP-2025-000002",
    }


def test_missing_actual_is_null_and_zero_holdings_are_a_string(client, market):
    body = client.get("/api/v1/compliance/2024").get_json()
    by_status = {r["status"]: r for r in body["results"]}
    assert by_status["not_reported"]["actual"] is None
    assert by_status["on_time"]["actual"] == "4800.0000"
    # Every quantity is a string with 4 decimals: zero too, which used to be the integer 0.
    zero = by_status["not_applicable"]
    assert zero["holdings"] == "0.0000" and zero["quota"] == "0.0000" and zero["unit"] == "t"
    for row in body["results"]:
        for name in ("quota", "bought", "sold", "taken_back", "holdings"):
            assert isinstance(row[name], str) and QUANTITY.match(row[name]), (name, row[name])


def test_compliance_periods_list_only_published_years(client, market):
    periods = client.get("/api/v1/compliance").get_json()
    assert [p["year"] for p in periods] == [2024]
    assert periods[0]["status_counts"]["on_time"] == 1
    assert periods[0]["status_counts"]["late"] == 0
    assert periods[0]["published_at"] == "2025-06-01T00:00:00Z"
    assert client.get("/api/v1/compliance/2025").status_code == 404


def test_one_listing_and_one_trade(client, market):
    listing = client.get("/api/v1/listings/YNQ-GP-2025-000001").get_json()
    assert listing["trades"] == ["YNQ-CJ-2025-000001"]
    assert listing["contact_phone"] == "0371-12345678"
    assert MONEY.match(listing["listed_price"])
    assert client.get("/api/v1/trades/YNQ-CJ-2025-000001").get_json()["buyer_division"] == "410600"
    assert client.get("/api/v1/listings/NOPE").status_code == 404


def test_announcements_and_publicity_notices(client, api_records):
    body = client.get("/api/v1/announcements").get_json()
    titles = [a["title"] for a in body["results"]]
    assert "尚未发布的草稿" not in titles and len(titles) == 3
    open_only = client.get("/api/v1/announcements?category=publicity&open=true").get_json()
    assert [a["title"] for a in open_only["results"]] == [
        "关于示例郑州豫能化工有限公司节能改造用能权确权的公示"
    ]
    detail = client.get(f"/api/v1/announcements/{open_only['results'][0]['id']}").get_json()
    assert detail["body_html"].startswith("<p>")
    assert detail["attachments"][0]["filename"] == "确权意见.pdf"
    assert detail["attachments"][0]["size"] == 1024

    notices = client.get("/api/v1/publicity").get_json()["results"]
    assert {(n["subject_type"], n["status"]) for n in notices} == {
        ("filing", "open"),
        ("compliance_period", "final"),
    }
    final = next(n for n in notices if n["status"] == "final")
    assert final["finalized_at"].endswith("Z") and final["withdrawal_reason"] is None
    only_open = client.get("/api/v1/publicity?status=open").get_json()["results"]
    assert [n["subject_type"] for n in only_open] == ["filing"]
    one = client.get(f"/api/v1/publicity/{final['id']}").get_json()
    assert one["objections"] == {"pending": 0, "upheld": 0, "dismissed": 0}


def test_a_draft_announcement_and_its_notice_are_not_served(client, app, api_records):
    with app.app_context():
        draft = db.session.query(Announcement).filter_by(status="draft").one()
        notice = f.publicity_notice(draft)
        db.session.commit()
        draft_id, notice_id = draft.id, notice.id
    assert client.get(f"/api/v1/announcements/{draft_id}").status_code == 404
    assert client.get(f"/api/v1/publicity/{notice_id}").status_code == 404


def test_enterprise_profile_with_published_holdings(client, market):
    units = client.get("/api/v1/enterprises?division=410600").get_json()["results"]
    assert [u["uscc"] for u in units] == [market["hb"]]
    profile = client.get(f"/api/v1/enterprises/{market['hb']}").get_json()
    assert profile["trades_count"] == 1 and profile["listings_count"] == 1
    energy = next(t for t in profile["trade_totals"] if t["variety"] == "energy")
    assert energy == {"variety": "energy", "unit": "tce", "bought": "12.3456", "sold": "0.0000"}
    holdings = {(h["period"], h["variety"]): h for h in profile["holdings"]}
    assert holdings[(2024, "coal")]["holdings"] == "0.0000"
    assert holdings[(2024, "energy")]["actual"] is None
    assert client.get("/api/v1/enterprises/91410100MA00000000").status_code == 404


def test_statistics_months_and_variety(client, market, monkeypatch):
    from datetime import date

    from portal.opendata import views

    monkeypatch.setattr(views, "current_date", lambda: date(2025, 4, 15))
    body = client.get("/api/v1/statistics?months=3&variety=energy").get_json()
    assert (body["since"], body["until"]) == ("2025-02-01", "2025-04-15")
    [energy] = body["varieties"]
    assert [m["month"] for m in energy["monthly"]] == ["2025-02", "2025-03", "2025-04"]
    march = energy["monthly"][1]
    assert (march["trade_count"], march["quantity"], march["average_price"]) == (
        1,
        "12.3456",
        "330.00",
    )
    assert energy["monthly"][0]["average_price"] is None  # no trade: no price, not zero
    assert energy["recent"]["trade_count"] == 0
    bad = client.get("/api/v1/statistics?months=0")
    assert bad.status_code == 400
    assert bad.get_json()["invalid_params"][0]["name"] == "months"


def test_search_finds_records_with_links(client, api_records):
    body = client.get("/api/v1/search", query_string={"q": "豫能化工"}).get_json()
    kinds = {hit["kind"] for hit in body["results"]}
    assert "enterprise" in kinds and body["count"] >= 1
    assert all("<" not in hit["title"] for hit in body["results"])
    assert all(hit["url"].startswith("http://localhost/") for hit in body["results"])
    typed = client.get("/api/v1/search", query_string={"q": "豫能化工", "type": "listing"})
    assert {hit["kind"] for hit in typed.get_json()["results"]} == {"listing"}
    assert client.get("/api/v1/search?type=oil").status_code == 400


def test_reference_codes_give_units(client, market):
    body = client.get("/api/v1/reference").get_json()
    assert {v["code"]: v["unit_en"] for v in body["varieties"]} == {"energy": "tce", "coal": "t"}
    assert any(d["code"] == "419001" for d in body["divisions"])


def test_the_documentation_page_lists_every_endpoint(client, market):
    from portal.opendata.contract import ENDPOINTS

    html = client.get("/api/v1/docs").get_data(as_text=True)
    for endpoint in ENDPOINTS:
        assert f'id="{endpoint.operation_id}"' in html, endpoint.operation_id
    for field in ("holdings", "remaining_quantity", "unit_price", "publicity_ends_at"):
        assert f"<code>{field}</code>" in html
    assert "1000000 per minute" in html  # the configured limit, stated
