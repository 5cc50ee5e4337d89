"""The statistics page and the daily report: charts beside their tables, filters in the URL,
fragments for htmx, downloads of each table, empty states, and a constant number of queries."""

import csv
import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pandas as pd
import pytest

from portal.disclosure import views
from portal.extensions import db
from tests import factories as f

HX = {"HX-Request": "true"}
TODAY = date(2025, 6, 30)


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr(views, "current_date", lambda: TODAY)
    return TODAY


@pytest.fixture
def market(app, today):
    with app.app_context():
        zz = f.enterprise("示例郑州统计化工有限公司", "410100", "chemical")
        kf = f.enterprise("示例开封统计建材有限公司", "410200", "building")
        f.trade(
            zz, quantity=Decimal("100"), unit_price=Decimal("300.00"), trade_date=date(2025, 1, 6)
        )
        f.trade(
            kf,
            zz,
            quantity=Decimal("50"),
            unit_price=Decimal("320.00"),
            trade_date=date(2025, 1, 6),
            category_code="local",
        )
        f.trade(
            kf, quantity=Decimal("10"), unit_price=Decimal("340.00"), trade_date=date(2025, 3, 3)
        )
        f.trade(
            zz,
            quantity=Decimal("1000"),
            unit_price=Decimal("120.00"),
            trade_date=date(2025, 3, 3),
            variety_code="coal",
        )
        db.session.commit()


def test_page_draws_both_charts_beside_a_captioned_table(client, market):
    response = client.get("/statistics")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    energy = html[html.index('id="stats-energy"') : html.index('id="stats-coal"')]
    assert energy.count("<svg") == 2
    assert energy.count('class="bar"') == 2  # January and March; February draws nothing
    assert energy.count('class="price-dot"') == 2 and "<polyline" in energy
    # month labels under the axis, and the table beside the charts with its caption
    # the months before the first trade are left out of the 24 months
    assert re.search(r'<text x="[\d.]+" y="192" text-anchor="middle">2025-01</text>', energy)
    assert "能耗指标逐月成交数据表（2025-01 至 2025-06）" in energy
    assert '<th scope="row" class="nowrap">2025-01</th>' in energy
    # January: 150 t at 46,000 yuan → 306.67 a unit; cumulative since the opening
    assert "¥306.67/吨标准煤" in energy and "¥46,000.00" in energy
    assert "monthly.csv?variety=energy" in energy and "monthly.xlsx?variety=energy" in energy


def test_chart_text_stays_readable_on_a_phone(client, market, app):
    html = client.get("/statistics").get_data(as_text=True)
    width = int(re.search(r'class="stats-chart" viewBox="0 0 (\d+) \d+"', html).group(1))
    css = (app.static_folder + "/css/portal.css").replace("//", "/")
    with open(css, encoding="utf-8") as handle:
        size = float(re.search(r"\.stats-chart text \{ font-size: ([\d.]+)px", handle.read())[1])
    # A 390 px phone leaves the chart at least 350 px: the text is drawn at size × 350 / width.
    assert size * 350 / width >= 12


def test_filters_live_in_the_url_and_htmx_gets_the_fragment(client, market):
    url = "/statistics?period=custom&date_from=2025-01-01&date_to=2025-03-31&division=410200"
    fragment = client.get(url, headers=HX)
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body
    # 开封: the local trade (seller 郑州, buyer 开封) and the March trade it bought
    assert "能耗指标逐月成交数据表（2025-01 至 2025-03）" in body
    assert "¥323.33/吨标准煤" in body  # (16,000 + 3,400) / 60
    assert "煤炭指标" in body and "这段时间内该品种没有成交" in body
    page = client.get(url).get_data(as_text=True)
    assert 'hx-push-url="true"' in page and 'method="get"' in page
    assert re.search(r'<option selected value="410200">|<option value="410200" selected', page)


def test_bad_choices_get_a_message_beside_the_field(client, market):
    response = client.get("/statistics?period=5y&date_from=2025-13-01")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "不是可选的值" in html and "日期格式应为" in html
    inverted = client.get("/statistics?period=custom&date_from=2025-03-01&date_to=2025-01-01")
    assert inverted.status_code == 400 and "结束日期不能早于开始日期" in inverted.get_data(
        as_text=True
    )


def test_empty_states_say_why_and_what_next(client, app, today):
    html = client.get("/statistics").get_data(as_text=True)
    assert "还没有成交记录" in html and "/listings" in html
    with app.app_context():
        f.trade(f.enterprise(), trade_date=date(2025, 5, 5))
        db.session.commit()
    html = client.get("/statistics?date_to=2020-01-01").get_data(as_text=True)
    assert "在第一笔成交（2025-05-05）之前" in html
    html = client.get("/statistics?category=provincial").get_data(as_text=True)
    assert "所选时段和条件下没有成交" in html
    day = client.get("/statistics/daily?day=2025-05-04").get_data(as_text=True)
    assert "这一天没有符合条件的成交" in day and "下一个成交日 2025-05-05" in day


def test_monthly_download_holds_the_tables_rows(client, market):
    text = client.get("/statistics/monthly.csv?period=all").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    energy = [r for r in rows if r["交易品种代码"] == "energy"]
    months = ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"]
    assert [r["月份"] for r in energy] == months
    assert energy[0]["成交笔数"] == "2" and energy[0]["成交量"] == "150.0000"
    assert energy[0]["最高成交单价"] == "320.00" and energy[0]["最低成交单价"] == "300.00"
    assert energy[2]["开市以来累计成交量"] == "160.0000"
    assert energy[1]["成交均价（元/计量单位）"] == ""  # no trade: no price, not zero
    with client.get("/statistics/monthly.xlsx?period=all&variety=coal") as response:
        body = response.data
    sheet = pd.read_excel(io.BytesIO(body), sheet_name=0, dtype=str)
    assert list(sheet["月份"]) == months
    assert sheet["成交量"].astype(float).tolist() == [0, 0, 1000, 0, 0, 0]


def test_daily_report_per_category_division_and_cumulative(client, market):
    response = client.get("/statistics/daily?day=2025-01-06")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "2025-01-06 各品种、各类别成交" in html
    assert "2025-01-06 各地区成交" in html and "开封市" in html and "郑州市" in html
    assert "截至 2025-01-06 的累计成交" in html and "开市以来累计" in html
    assert "下一个成交日 2025-03-03" in html
    latest = client.get("/statistics/daily", headers=HX).get_data(as_text=True)
    assert "<html" not in latest and "2025-03-03 各品种、各类别成交" in latest
    text = client.get("/statistics/daily.csv?day=2025-01-06&variety=energy").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    total = next(r for r in rows if r["交易类别代码"] == "" and r["地区代码"] == "")
    assert (total["成交笔数"], total["成交量"], total["成交金额（元）"]) == (
        "2",
        "150.0000",
        "46000.00",
    )
    zhengzhou = next(r for r in rows if r["地区代码"] == "410100")
    assert zhengzhou["成交笔数"] == "2"  # bought one, sold the other
    assert client.get("/statistics/daily?day=2025-02-30").status_code == 400
    for edge in ("0001-01-01", "9999-12-31"):
        assert client.get(f"/statistics/daily?day={edge}").status_code == 200
        assert client.get(f"/statistics?date_from={edge}&date_to={edge}").status_code == 200


@pytest.fixture
def no_response_cache(app_config):
    """The pages' own queries, not the response cache's (a hit would make none)."""
    app_config["CACHE_ENABLED"] = False


def test_page_queries_do_not_grow_with_trades_or_months(
    no_response_cache, client, app, today, count_queries
):
    with app.app_context():
        unit = f.enterprise()
        f.trade(unit, trade_date=date(2025, 1, 6))
        db.session.commit()

    def page():
        assert client.get("/statistics?period=all").status_code == 200
        assert client.get("/statistics/daily").status_code == 200

    client.get("/statistics")  # reference data is cached per process
    few = len(count_queries(page))
    with app.app_context():
        buyers = [f.enterprise(division=code) for code in ("410200", "410300", "410600")]
        for n in range(60):
            f.trade(
                buyers[n % 3],
                trade_date=date(2023, 1, 2) + timedelta(days=13 * n),
                variety_code=("energy", "coal")[n % 2],
            )
        db.session.commit()
    assert len(count_queries(page)) == few
