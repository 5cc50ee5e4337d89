import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest

from portal.extensions import db
from tests import factories as f

HX = {"HX-Request": "true"}


@pytest.fixture
def market(app):
    with app.app_context():
        # A code that ends in a letter (its lower-case form differs, for the redirect test), from an
        # organisation-code range the factories counter never reaches.
        zz = f.enterprise(
            "示例郑州豫能化工有限公司", "410100", "chemical", uscc="91410100900000014B"
        )
        hb = f.enterprise("示例鹤壁新材建材有限公司", "410600", "building")
        ly = f.enterprise("示例洛阳有色金属有限公司", "410300", "nonferrous")
        l1 = f.listing(
            zz,
            number="YNQ-GP-2025-000001",
            starts_on=date(2025, 1, 5),
            ends_on=date(2025, 2, 5),
            status="traded",
        )
        l2 = f.listing(
            hb,
            number="YNQ-GP-2025-000002",
            variety_code="coal",
            listed_price=Decimal("150.00"),
            starts_on=date(2025, 6, 1),
            ends_on=date(2025, 7, 1),
        )
        f.listing(
            None,
            number="YNQ-GP-2024-000003",
            category_code="provincial",
            starts_on=date(2024, 3, 1),
            ends_on=date(2024, 4, 1),
            status="expired",
        )
        f.trade(hb, zz, l1, number="YNQ-CJ-2025-000001", trade_date=date(2025, 1, 20))
        f.trade(
            ly,
            hb,
            l2,
            number="YNQ-CJ-2025-000002",
            variety_code="coal",
            unit_price=Decimal("155.50"),
            trade_date=date(2025, 6, 10),
        )
        f.period(2024)
        f.period(2025, published=False)
        f.compliance(zz, 2024, "on_time")
        f.compliance(
            hb,
            2024,
            "non_compliant",
            actual=Decimal("5600"),
            shortfall=Decimal("600"),
            rectify_by=date(2025, 9, 30),
        )
        f.compliance(ly, 2024, "not_reported", actual=None)
        f.compliance(ly, 2025, "on_time")
        f.enterprise("示例隐藏未公开企业", "410100", "steel", is_public=False)
        db.session.commit()
        return {"zz_uscc": zz.uscc}


def test_listings_full_page_and_fragment(client, market):
    full = client.get("/listings")
    assert full.status_code == 200
    html = full.get_data(as_text=True)
    assert "<html" in html and "YNQ-GP-2025-000001" in html and 'id="results"' in html
    assert "HX-Request" in full.headers["Vary"]
    fragment = client.get("/listings", headers=HX)
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200
    assert "<html" not in body and "YNQ-GP-2025-000001" in body
    assert "HX-Request" in fragment.headers["Vary"]


@pytest.mark.parametrize(
    ("query", "present", "absent"),
    [
        ("variety=coal", ["YNQ-GP-2025-000002"], ["YNQ-GP-2025-000001", "YNQ-GP-2024-000003"]),
        ("division=410100", ["YNQ-GP-2025-000001"], ["YNQ-GP-2025-000002"]),
        ("category=provincial", ["YNQ-GP-2024-000003"], ["YNQ-GP-2025-000001"]),
        ("status=open", ["YNQ-GP-2025-000002"], ["YNQ-GP-2025-000001"]),
        ("industry=building", ["YNQ-GP-2025-000002"], ["YNQ-GP-2025-000001"]),
        (
            "date_from=2025-01-01&date_to=2025-03-01",
            ["YNQ-GP-2025-000001"],
            ["YNQ-GP-2025-000002", "YNQ-GP-2024-000003"],
        ),
    ],
)
def test_listing_filters(client, market, query, present, absent):
    html = client.get(f"/listings?{query}").get_data(as_text=True)
    for number in present:
        assert number in html
    for number in absent:
        assert number not in html


def test_sort_by_price_ascending(client, market):
    html = client.get("/listings?sort=price").get_data(as_text=True)
    assert html.index("YNQ-GP-2025-000002") < html.index("YNQ-GP-2025-000001")


def test_bad_filter_values_are_400_with_a_chinese_message(client, market):
    response = client.get("/listings?division=999999")
    assert response.status_code == 400
    assert "不是可选的值" in response.get_data(as_text=True)
    response = client.get("/trades?date_from=2025-13-45")
    assert response.status_code == 400
    assert "日期格式应为" in response.get_data(as_text=True)
    response = client.get("/trades?date_from=2025-05-01&date_to=2025-01-01")
    assert response.status_code == 400
    assert "结束日期不能早于开始日期" in response.get_data(as_text=True)
    fragment = client.get("/listings?variety=oil", headers=HX)
    assert fragment.status_code == 400 and "<html" not in fragment.get_data(as_text=True)


def test_page_out_of_range_and_bad_page_numbers(client, market):
    assert client.get("/listings?page=99").status_code == 404
    assert client.get("/listings?page=0").status_code == 404
    response = client.get("/listings?page=abc")
    assert response.status_code == 400
    assert "页码必须是正整数" in response.get_data(as_text=True)


def test_empty_result_says_why_and_how_to_widen(client, market):
    html = client.get("/listings?division=411700").get_data(as_text=True)
    assert "没有符合这些筛选条件的挂牌" in html
    assert "清除全部筛选条件" in html


def test_trade_filter_matches_buyer_or_seller_division(client, market):
    html = client.get("/trades?division=410600").get_data(as_text=True)
    # 鹤壁 bought in the first trade and sold in the second.
    assert "YNQ-CJ-2025-000001" in html and "YNQ-CJ-2025-000002" in html
    html = client.get("/trades?division=410300").get_data(as_text=True)
    assert "YNQ-CJ-2025-000002" in html and "YNQ-CJ-2025-000001" not in html


def test_detail_pages_and_unknown_numbers(client, market):
    listing = client.get("/listings/YNQ-GP-2025-000001").get_data(as_text=True)
    assert "YNQ-CJ-2025-000001" in listing and "吨标准煤" in listing
    trade = client.get("/trades/YNQ-CJ-2025-000002").get_data(as_text=True)
    assert "155.50" in trade and "煤炭指标" in trade
    assert client.get("/listings/NOPE").status_code == 404
    assert client.get("/trades/NOPE").status_code == 404


def test_compliance_lists_only_published_periods(client, market):
    index = client.get("/compliance").get_data(as_text=True)
    assert "2024 年度履约名单" in index and "2025 年度履约名单" not in index
    assert client.get("/compliance/2025").status_code == 404
    page = client.get("/compliance/2024").get_data(as_text=True)
    assert "按期履约" in page and "未履约" in page and "数据未报送" in page
    # A missing value is never shown as zero.
    assert "未报送" in page
    only_bad = client.get("/compliance/2024?status=non_compliant").get_data(as_text=True)
    assert (
        "示例鹤壁新材建材有限公司" in only_bad
        and "示例郑州豫能化工有限公司" not in only_bad.split('id="results"')[1]
    )


def test_enterprise_profile(client, market):
    page = client.get(f"/enterprises/{market['zz_uscc']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "YNQ-GP-2025-000001" in html and "YNQ-CJ-2025-000001" in html and "2024" in html
    assert market["zz_uscc"].lower() != market["zz_uscc"]
    lower = client.get(f"/enterprises/{market['zz_uscc'].lower()}")
    assert lower.status_code == 301
    listing = client.get("/enterprises")
    assert "示例隐藏未公开企业" not in listing.get_data(as_text=True)


def test_hidden_enterprise_is_404(app, client, market):
    with app.app_context():
        from sqlalchemy import select

        from portal.enterprises.models import Enterprise

        hidden = db.session.scalar(select(Enterprise).where(Enterprise.is_public.is_(False)))
        uscc = hidden.uscc
    assert client.get(f"/enterprises/{uscc}").status_code == 404


def test_csv_export_follows_the_filters(client, market):
    response = client.get("/trades/export.csv?variety=coal")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff成交编号")
    assert "YNQ-CJ-2025-000002" in text and "YNQ-CJ-2025-000001" not in text


def test_home_shows_snapshot_and_open_listings(client, market):
    html = client.get("/").get_data(as_text=True)
    assert "近 30 天市场概况" in html
    assert "YNQ-GP-2025-000002" in html or "示例鹤壁新材建材有限公司" in html


def test_english_pages_use_english_units(client, market, csrf_token):
    token = csrf_token("/accounts/login")
    client.post("/preferences/language", data={"csrf_token": token, "lang": "en"})
    html = client.get("/trades/YNQ-CJ-2025-000002").get_data(as_text=True)
    assert "Coal-consumption indicator" in html


def test_compliance_csv_keeps_missing_values_apart_from_zero(client, market):
    response = client.get("/compliance/2024/export.csv")
    assert response.status_code == 200
    text = response.get_data(as_text=True).lstrip("\ufeff")
    assert text.startswith("统一社会信用代码,单位名称")
    rows = list(csv.DictReader(io.StringIO(text)))
    not_reported = next(row for row in rows if row["履约状态代码"] == "not_reported")
    assert not_reported["实际用能量"] == ""  # empty, not 0
    assert not_reported["履约状态"] == "数据未报送"
    assert not_reported["持有量"] == "5000.0000"
    assert client.get("/compliance/2025/export.csv").status_code == 404
    assert client.get("/compliance/2024/export.csv?status=bogus").status_code == 400


def test_csv_cells_cannot_become_spreadsheet_formulas(app, client):
    with app.app_context():
        buyer = f.enterprise('=HYPERLINK("http://evil")示例')
        f.trade(buyer, number="YNQ-CJ-2025-000099")
        db.session.commit()
    text = client.get("/trades/export.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in text


def test_statistics_page_has_chart_and_table(client, market):
    response = client.get("/statistics")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "市场统计" in html and "逐月成交数据表" in html
    assert "<svg" in html and 'class="bar"' in html and 'class="price-dot"' in html


def test_list_pages_go_on_by_cursor_past_the_counted_pages(client, app, monkeypatch):
    from datetime import date, timedelta

    from portal import web

    with app.app_context():
        seller = f.enterprise("示例平顶山钢铁有限公司", "410400", "steel")
        for n in range(45):
            f.listing(seller, starts_on=date(2024, 1, 1) + timedelta(days=n))
        db.session.commit()
    monkeypatch.setattr(web, "COUNT_CAP", 20)
    page_one = client.get("/listings").get_data(as_text=True)
    assert "超过 20 条" in page_one
    next_link = re.search(r'<a href="([^"]+)"[^>]*rel="next"', page_one).group(1)
    next_link = next_link.replace("&amp;", "&")
    assert "after=" in next_link  # 20 counted rows fill one page: the next is by cursor
    seen = set(re.findall(r"YNQ-GP-2025-\d{6}", page_one))
    url = next_link
    while url:
        response = client.get(url)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert 'rel="first"' in html and 'rel="prev"' in html and "本页" in html
        seen |= set(re.findall(r"YNQ-GP-2025-\d{6}", html))
        found = re.search(r'<a href="([^"]+)"[^>]*rel="next"', html)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert len(seen) == 45
    assert client.get("/listings?page=2").status_code == 404  # past the counted pages
    fragment = client.get(next_link, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)


@pytest.mark.parametrize("listed", [0, 3, 10, 11, 12])
def test_a_profile_shows_ten_listings_and_trades_and_how_many_there_are(app, client, listed):
    """The profile reads one row more than it shows and counts only when that row is there."""
    with app.app_context():
        unit, buyer = f.enterprise("甲单位"), f.enterprise("乙单位")
        for _ in range(listed):
            f.listing(unit)
            f.trade(buyer, unit)
        db.session.commit()
        uscc = unit.uscc
    html = client.get(f"/enterprises/{uscc}").get_data(as_text=True)
    assert f"共 {listed} 条" in html and f"共 {listed} 笔" in html
    shown = min(listed, 10)
    assert html.count('href="/listings/YNQ-GP-') == shown
    assert html.count('href="/trades/YNQ-CJ-') == shown
