"""The open-data pages: the dictionary names every column, the licence, the daily archive."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from datetime import date

import openpyxl
import pandas as pd
from lxml import html as lxml_html

from portal.downloads import services
from portal.downloads.services import DATASETS


def test_the_dictionary_lists_every_field_with_unit_and_source(client):
    page = client.get("/data/dictionary")
    assert page.status_code == 200
    tree = lxml_html.fromstring(page.get_data(as_text=True))
    for dataset, _page in DATASETS:
        section = tree.get_element_by_id(dataset.name)
        rows = section.xpath(".//tbody/tr")
        assert len(rows) == len(dataset.columns), dataset.name
        for row, column in zip(rows, dataset.columns, strict=True):
            cells = [" ".join(c.text_content().split()) for c in row.xpath("./th|./td")]
            assert cells[0] == str(column.header) and cells[1] == column.key
            assert cells[3] and cells[4], (dataset.name, column.key)  # unit (or —), source
    # Quantities say their unit; money says 元.
    listings = tree.get_element_by_id("listings").text_content()
    assert "吨标准煤" in listings and "元 / 计量单位" in listings


def test_every_column_is_documented_once_per_dataset():
    for dataset, _page in DATASETS:
        keys = [column.key for column in dataset.columns]
        headers = [str(column.header) for column in dataset.columns]
        assert len(set(keys)) == len(keys) and len(set(headers)) == len(headers), dataset.name


def test_the_licence_is_cc_by_4(client):
    text = client.get("/data/licence").get_data(as_text=True)
    assert "CC BY 4.0" in text and 'rel="license noopener"' in text
    assert "creativecommons.org/licenses/by/4.0/" in text


def test_the_data_page_describes_each_dataset_in_json_ld(client, market):
    html = client.get("/data").get_data(as_text=True)
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    found = [json.loads(block) for block in blocks]
    catalog = next(item for item in found if item["@type"] == "DataCatalog")
    names = {item["name"] for item in catalog["dataset"]}
    assert {"挂牌信息", "成交公示", "履约名单", "参与单位", "通知公告", "市场统计（月度）"} <= names
    listings = next(item for item in catalog["dataset"] if item["name"] == "挂牌信息")
    assert listings["license"].startswith("https://creativecommons.org/licenses/by/4.0/")
    formats = {d["encodingFormat"] for d in listings["distribution"]}
    assert formats == {
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }


def test_archive_command_writes_every_dataset_and_the_page_serves_it(app, client, runner, market):
    result = runner.invoke(args=["data", "archive", "--day", "2026-01-02"])
    assert result.exit_code == 0, result.output
    page = client.get("/data/archives").get_data(as_text=True)
    assert "ynq-open-data-2026-01-02.zip" in page

    response = client.get("/data/archives/ynq-open-data-2026-01-02.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    body = response.get_data()
    response.close()
    assert hashlib.sha256(body).hexdigest() in page

    archive = zipfile.ZipFile(io.BytesIO(body))
    names = set(archive.namelist())
    for dataset, _page in DATASETS:
        assert {f"{dataset.name}.csv", f"{dataset.name}.xlsx"} <= names
        frame = pd.read_csv(archive.open(f"{dataset.name}.csv"), encoding="utf-8-sig", dtype=str)
        workbook = pd.read_excel(io.BytesIO(archive.read(f"{dataset.name}.xlsx")), dtype=str)
        assert len(frame) == len(workbook)
        assert list(frame.columns) == [str(c.header) for c in dataset.columns]
    assert len(pd.read_csv(archive.open("listings.csv"), encoding="utf-8-sig")) == 3
    assert len(pd.read_csv(archive.open("compliance.csv"), encoding="utf-8-sig")) == 2
    assert len(pd.read_csv(archive.open("announcements.csv"), encoding="utf-8-sig")) == 2
    book = openpyxl.load_workbook(io.BytesIO(archive.read("trades.xlsx")))
    about = {r[0].value: r[1].value for r in book["说明"].iter_rows()}
    assert about["筛选条件"] == "无（全部记录）" and about["记录数"] == 2
    assert "CC BY 4.0" in archive.read("README.txt").decode("utf-8")
    dictionary = pd.read_csv(archive.open("dictionary.csv"), encoding="utf-8-sig")
    assert len(dictionary) == sum(len(d.columns) for d, _p in DATASETS)


def test_old_archives_are_pruned_and_unknown_names_are_404(app, client, market):
    with app.test_request_context("/"):
        for day in (1, 2, 3):
            services.write_archive(date(2026, 1, day), keep=2)
        kept = [a.name for a in services.list_archives()]
    assert kept == ["ynq-open-data-2026-01-03.zip", "ynq-open-data-2026-01-02.zip"]
    assert client.get("/data/archives/ynq-open-data-2026-01-01.zip").status_code == 404
    for name in ("..%2Fportal.db", "secret_key", "ynq-open-data-2026-01-03.zip.sha256"):
        assert client.get(f"/data/archives/{name}").status_code == 404


def test_no_archive_yet_says_why_and_what_next(client):
    html = client.get("/data/archives").get_data(as_text=True)
    assert "还没有生成数据包" in html and "/data" in html


def _csv_rows(data: bytes) -> list[list[str]]:
    return [line.split(",") for line in data.decode("utf-8-sig").splitlines()]


def test_the_archive_holds_the_statistics_as_the_pages_download_them(app, client, runner, market):
    """Monthly: every month since the first trade, as /statistics/monthly.csv?period=all gives it.
    Daily: each trading day's rows, as that day's /statistics/daily.csv gives them."""
    result = runner.invoke(args=["data", "archive"])  # today's date, in the portal's time zone
    assert result.exit_code == 0, result.output
    with app.app_context():
        archive = services.list_archives()[0]
    with zipfile.ZipFile(archive.path) as bundle:
        monthly = bundle.read("statistics-monthly.csv")
        daily = _csv_rows(bundle.read("statistics-daily.csv"))
        workbook = pd.read_excel(io.BytesIO(bundle.read("statistics-daily.xlsx")), dtype=str)
    page = client.get("/statistics/monthly.csv?period=all")
    assert _csv_rows(monthly) == _csv_rows(page.get_data())
    assert len(_csv_rows(monthly)) > 1 + 12  # January 2025 to today, both varieties

    days = [
        _csv_rows(client.get(f"/statistics/daily.csv?day={day}").get_data())
        for day in ("2025-01-20", "2025-06-10")
    ]
    assert daily == [days[0][0], *days[0][1:], *days[1][1:]]
    assert len(workbook) == len(daily) - 1
    # A trade on each day: the energy trade in January, the coal trade in June.
    assert any("2025-01-20" in row[0] for row in daily[1:])
    assert any("2025-06-10" in row[0] for row in daily[1:])


def test_the_data_page_offers_the_monthly_statistics_whole(client):
    page = client.get("/data").get_data(as_text=True)
    assert "/statistics/monthly.csv?period=all" in page
    assert "/statistics/monthly.xlsx?period=all" in page
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    catalog = next(j for j in map(json.loads, blocks) if j["@type"] == "DataCatalog")
    monthly = next(d for d in catalog["dataset"] if d["name"] == "市场统计（月度）")
    assert {d["contentUrl"].split("/")[-1] for d in monthly["distribution"]} == {
        "monthly.csv?period=all",
        "monthly.xlsx?period=all",
    }
