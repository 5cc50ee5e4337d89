"""Every download opens in pandas and openpyxl, holds the rows of its page, and says what it is."""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest

from portal.compliance.exports import COMPLIANCE_RECORDS
from portal.disclosure.exports import ENTERPRISES, LISTINGS, TRADES
from portal.extensions import db
from tests import factories as f

# (page, its downloads without the extension, the column that names each row, the dataset)
LISTS = [
    ("/listings", "/listings/export", "挂牌编号", LISTINGS),
    ("/trades", "/trades/export", "成交编号", TRADES),
    ("/enterprises", "/enterprises/export", "统一社会信用代码", ENTERPRISES),
    ("/compliance/2024", "/compliance/2024/export", "统一社会信用代码", COMPLIANCE_RECORDS),
]
FILTERS = ["", "?variety=coal", "?division=411200", "?sort=date"]


def _page_keys(client, url: str, pattern: str) -> list[str]:
    html = client.get(url).get_data(as_text=True)
    results = html.split('id="results"', 1)[1]
    return re.findall(pattern, results)


KEY_PATTERNS = {
    "/listings": r">(YNQ-GP-\d{4}-\d{6})</a>",
    "/trades": r">(YNQ-CJ-\d{4}-\d{6})</a>",
    "/enterprises": r"<td class=\"code\"[^>]*>([0-9A-Z]{18})</td>",
    "/compliance/2024": r"([0-9A-Z]{18})",
}


def _read_csv(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    assert response.mimetype == "text/csv"
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    return pd.read_csv(io.BytesIO(body), encoding="utf-8-sig", dtype=str, keep_default_na=False)


def _read_xlsx(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    response.close()  # a WSGI server closes it; here the test does (the spooled file)
    return body


@pytest.mark.parametrize("page, export, key, dataset", LISTS, ids=[row[0] for row in LISTS])
@pytest.mark.parametrize("query", FILTERS)
def test_csv_and_xlsx_hold_the_rows_of_the_page(client, market, page, export, key, dataset, query):
    if page == "/enterprises" and query in ("?variety=coal", "?sort=date"):
        pytest.skip("the list of units has no such filter")
    if page == "/compliance/2024" and query == "?sort=date":
        pytest.skip("the compliance list has no such sort")
    shown = _page_keys(client, page + query, KEY_PATTERNS[page])
    if page == "/compliance/2024":
        shown = list(dict.fromkeys(shown))  # the code appears once in a row

    frame = _read_csv(client, f"{export}.csv{query}")
    assert list(frame.columns) == [str(c.header) for c in dataset.columns]
    assert frame[key].tolist() == shown

    body = _read_xlsx(client, f"{export}.xlsx{query}")
    sheets = pd.read_excel(io.BytesIO(body), sheet_name=None, dtype=str)
    data = next(iter(sheets.values()))
    assert data[key].tolist() == shown
    assert list(data.columns) == list(frame.columns)
    assert "说明" in sheets


def test_labels_for_people_codes_in_their_own_columns(client, market):
    frame = _read_csv(client, "/listings/export.csv?division=411200")
    row = frame.iloc[0]
    assert (row["交易品种"], row["交易品种代码"]) == ("煤炭指标", "coal")
    assert (row["地区"], row["地区代码"]) == ("三门峡市", "411200")
    assert (row["交易方式"], row["交易方式代码"]) == ("竞价", "auction")
    assert (row["挂牌状态"], row["挂牌状态代码"]) == ("挂牌中", "open")
    assert row["计量单位"] == "吨"
    assert row["详情页面"] == "http://localhost/listings/YNQ-GP-2025-000002"
    # No code stands under a header that promises a label.
    for column in ("交易品种", "交易类别", "地区", "交易方式", "挂牌状态", "卖方类型"):
        assert not re.fullmatch(r"[a-z_]+|\d{6}", row[column]), column
    province = (
        _read_csv(client, "/listings/export.csv").set_index("挂牌编号").loc["YNQ-GP-2024-000003"]
    )
    assert (province["地区"], province["地区代码"]) == ("省级", "")


def test_xlsx_cells_are_typed_the_header_frozen_and_the_about_sheet_complete(client, market):
    body = _read_xlsx(client, "/trades/export.xlsx?variety=coal&sort=date")
    book = openpyxl.load_workbook(io.BytesIO(body))
    sheet = book.worksheets[0]
    assert sheet.freeze_panes == "A2"
    header = [cell.value for cell in sheet[1]]
    row = dict(zip(header, [cell for cell in sheet[2]], strict=True))
    assert row["成交编号"].value == "YNQ-CJ-2025-000002"
    assert row["成交数量"].data_type == "n" and Decimal(str(row["成交数量"].value)) == 100
    assert row["成交单价（元/计量单位）"].value == pytest.approx(155.5)
    assert row["成交单价（元/计量单位）"].number_format == "#,##0.00"
    assert row["成交金额（元）"].value == pytest.approx(15550.0)
    assert isinstance(row["成交日期"].value, datetime)
    assert row["成交日期"].value.date() == date(2025, 6, 10)
    assert row["成交日期"].is_date
    assert row["交易品种"].value == "煤炭指标" and row["交易品种代码"].value == "coal"
    assert sheet.max_row == 2

    about = {r[0].value: r[1].value for r in book["说明"].iter_rows()}
    assert about["数据集"] == "成交公示"
    assert about["筛选条件"] == "交易品种：煤炭指标"
    assert about["排序"] == "成交日期，早的在前"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+08:00", about["导出时间"])
    assert "CC BY 4.0" in about["许可协议"]
    assert about["许可协议网址"].startswith("https://creativecommons.org/licenses/by/4.0/")
    assert about["来源页面"] == "http://localhost/trades?variety=coal"
    assert about["记录数"] == 1


def test_the_about_sheet_says_when_nothing_was_filtered(client, market):
    book = openpyxl.load_workbook(io.BytesIO(_read_xlsx(client, "/listings/export.xlsx")))
    about = {r[0].value: r[1].value for r in book["说明"].iter_rows()}
    assert about["筛选条件"] == "无（全部记录）"
    assert about["排序"] == "挂牌日期，新的在前"
    assert about["记录数"] == 3


def test_missing_is_empty_and_zero_is_zero(client, market):
    frame = _read_csv(client, "/compliance/2024/export.csv")
    unreported = frame.set_index("履约状态代码").loc["not_reported"]
    assert unreported["实际用能量"] == "" and unreported["卖出"] == "0.0000"
    book = openpyxl.load_workbook(io.BytesIO(_read_xlsx(client, "/compliance/2024/export.xlsx")))
    sheet = book.worksheets[0]
    header = [cell.value for cell in sheet[1]]
    rows = [
        dict(zip(header, (c.value for c in r), strict=True)) for r in sheet.iter_rows(min_row=2)
    ]
    unreported = next(r for r in rows if r["履约状态代码"] == "not_reported")
    assert unreported["实际用能量"] is None
    assert unreported["卖出"] == 0 and unreported["持有量"] == 5000
    assert unreported["履约期"] == 2024


def test_text_never_becomes_a_formula(app, client):
    with app.app_context():
        buyer = f.enterprise('=HYPERLINK("http://evil")示例')
        f.trade(buyer, number="YNQ-CJ-2025-000099")
        db.session.commit()
    assert "'=HYPERLINK" in client.get("/trades/export.csv").get_data(as_text=True)
    book = openpyxl.load_workbook(io.BytesIO(_read_xlsx(client, "/trades/export.xlsx")))
    cells = [c for row in book.worksheets[0].iter_rows() for c in row]
    evil = [c for c in cells if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert evil and all(c.data_type == "s" for c in evil)


def test_english_downloads_have_english_headers_and_labels(client, market):
    frame = _read_csv(client, "/listings/export.csv?lang=en&variety=coal")
    assert "Variety" in frame.columns and "Variety code" in frame.columns
    assert frame.iloc[0]["Variety"] == "Coal-consumption indicator"


def test_bad_filters_answer_400_with_the_message_not_a_file(client, market):
    for url in ("/listings/export.xlsx?variety=oil", "/compliance/2024/export.xlsx?status=bogus"):
        response = client.get(url)
        assert response.status_code == 400
        assert "不是可选的值" in response.get_data(as_text=True)
    assert client.get("/compliance/2025/export.xlsx").status_code == 404
