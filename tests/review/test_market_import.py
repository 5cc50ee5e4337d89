import io
import json
import re
from decimal import Decimal

from openpyxl import Workbook
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.disclosure.models import Listing, Trade
from portal.extensions import db
from portal.registry import services as registry
from tests.factories import make_enterprise


def _parties(app):
    with app.app_context():
        seller = make_enterprise("卖方企业", "410100")
        buyer = make_enterprise("买方企业", "410300")
        registry.issue_indicators(seller.id, "energy", 500, "确权")
        db.session.commit()
        return seller.id, buyer.id, seller.uscc, buyer.uscc


def _csv(seller_uscc, buyer_uscc, amount="32000.00"):
    return (
        "成交编号,交易品种,交易类别,成交数量,成交单价,成交金额,买方统一社会信用代码,卖方统一社会信用代码,成交日期\n"
        f"CJ-2025-0001,能耗指标,voluntary,100,320,{amount},{buyer_uscc},{seller_uscc},2025-03-10\n"
        f"CJ-2025-0002,energy,voluntary,abc,320,,{buyer_uscc},{seller_uscc},2025-13-01\n"
    ).encode()


def _preview(client, csrf_token, data, name, kind="trades"):
    token = csrf_token("/admin/market")
    return client.post(
        "/admin/market/import",
        data={"csrf_token": token, "kind": kind, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _apply(client, preview_html):
    token = re.search(r'name="token" value="([^"]+)"', preview_html).group(1)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', preview_html) or re.search(
        r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', preview_html
    )
    return client.post(
        "/admin/market/import/apply",
        data={"csrf_token": csrf.group(1), "token": token, "kind": "trades", "filename": "x.csv"},
    )


def _counts(html):
    return {k: int(v) for k, v in re.findall(r'data-count="(\w+)">(\d+)<', html)}


def test_dry_run_then_apply_then_same_file_changes_nothing(app, client, users, sign_in, csrf_token):
    seller, buyer, seller_uscc, buyer_uscc = _parties(app)
    sign_in(users["province"])
    data = _csv(seller_uscc, buyer_uscc)
    preview = _preview(client, csrf_token, data, "trades.csv")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert _counts(html) == {"create": 1, "update": 0, "unchanged": 0, "error": 1}
    assert "成交数量不是数字" in html and "成交日期不是有效日期" in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Trade)) == 0  # dry run

    applied = _apply(client, html)
    assert _counts(applied.get_data(as_text=True))["create"] == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Trade)) == 1
        assert registry.balances(buyer) == {"energy": Decimal("100")}
        events = db.session.scalar(select(func.count()).select_from(AuditEvent))

    again = _preview(client, csrf_token, data, "trades.csv").get_data(as_text=True)
    assert _counts(again)["unchanged"] == 1 and _counts(again)["create"] == 0
    assert "确认导入" not in again
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Trade)) == 1
        assert registry.balances(buyer) == {"energy": Decimal("100")}
        assert registry.balances(seller) == {"energy": Decimal("400")}
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_amount_mismatch_and_unknown_party_are_row_errors(app, client, users, sign_in, csrf_token):
    _s, _b, seller_uscc, _buyer_uscc = _parties(app)
    sign_in(users["province"])
    html = _preview(
        client, csrf_token, _csv(seller_uscc, "91310110666007217T", amount="1.00"), "t.csv"
    ).get_data(as_text=True)
    assert "与 数量×单价" in html and "尚未登记" in html


def test_json_and_xlsx_listings_are_idempotent(app, client, users, sign_in, csrf_token):
    seller, _b, seller_uscc, _bu = _parties(app)
    sign_in(users["province"])
    rows = [
        {
            "number": "GP-2025-0001",
            "variety": "energy",
            "category": "voluntary",
            "seller_uscc": seller_uscc,
            "quantity": "200",
            "listed_price": "310.5",
            "starts_on": "2025-03-01",
            "ends_on": "2025-03-31",
        }
    ]
    payload = json.dumps({"records": rows}).encode()
    first = _preview(client, csrf_token, payload, "l.json", kind="listings").get_data(as_text=True)
    assert _counts(first)["create"] == 1
    token = re.search(r'name="token" value="([^"]+)"', first).group(1)
    csrf = csrf_token("/admin/market")
    client.post(
        "/admin/market/import/apply",
        data={"csrf_token": csrf, "token": token, "kind": "listings"},
    )
    book = Workbook()
    sheet = book.active
    sheet.append(list(rows[0]))
    sheet.append(list(rows[0].values()))
    buffer = io.BytesIO()
    book.save(buffer)
    second = _preview(client, csrf_token, buffer.getvalue(), "l.xlsx", kind="listings")
    assert _counts(second.get_data(as_text=True))["unchanged"] == 1
    changed = dict(rows[0], listed_price="299")
    third = _preview(
        client, csrf_token, json.dumps([changed]).encode(), "l.json", kind="listings"
    ).get_data(as_text=True)
    assert _counts(third)["update"] == 1
    with app.app_context():
        listing = db.session.scalar(select(Listing))
        assert listing.seller_enterprise_id == seller and listing.remaining_quantity == 200


def test_bad_file_is_refused_with_a_message(app, client, users, sign_in, csrf_token):
    sign_in(users["province"])
    bad = _preview(client, csrf_token, b"{not json", "x.json")
    assert bad.status_code == 400 and "JSON 格式有误" in bad.get_data(as_text=True)
    other = _preview(client, csrf_token, b"hello", "x.txt")
    assert other.status_code == 400 and "只能导入" in other.get_data(as_text=True)


def test_trade_form_by_hand(app, client, users, sign_in, csrf_token):
    seller, buyer, seller_uscc, buyer_uscc = _parties(app)
    sign_in(users["province"])
    token = csrf_token("/admin/market/trades/new")
    form = {
        "csrf_token": token,
        "number": "CJ-HAND-1",
        "variety": "energy",
        "category": "voluntary",
        "quantity": "600",
        "unit_price": "300",
        "buyer_uscc": buyer_uscc,
        "seller_uscc": seller_uscc,
        "trade_date": "2025-04-01",
        "method": "listing",
        "settlement_status": "settled",
    }
    overdraw = client.post("/admin/market/trades/new", data=form)
    assert overdraw.status_code == 400 and "余额不足" in overdraw.get_data(as_text=True)
    ok = client.post("/admin/market/trades/new", data=form | {"quantity": "50"})
    assert ok.status_code == 303
    with app.app_context():
        assert registry.balances(buyer) == {"energy": Decimal("50")}
    bad_date = client.post(
        "/admin/market/trades/new", data=form | {"number": "X", "trade_date": "2025-02-30"}
    )
    assert bad_date.status_code == 400 and "不是有效日期" in bad_date.get_data(as_text=True)


# --- bounds: no file can hold a worker or end in a 500 ----------------------------------------------


def _refused(client, csrf_token, data, name, needle, kind="trades"):
    response = _preview(client, csrf_token, data, name, kind=kind)
    html = response.get_data(as_text=True)
    assert response.status_code == 400, html[:500]
    assert needle in html
    return html


def test_xlsx_without_a_sheet_is_a_clear_error(app, client, users, sign_in, csrf_token):
    import zipfile

    sign_in(users["province"])
    book = Workbook()
    buffer = io.BytesIO()
    book.save(buffer)
    # The same workbook with its sheets removed from workbook.xml: openpyxl opens it, no sheet.
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/workbook.xml":
                content = re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", content, flags=re.S)
            if item.filename.startswith("xl/worksheets/"):
                continue
            target.writestr(item, content)
    _refused(client, csrf_token, out.getvalue(), "none.xlsx", "XLSX")


def test_a_long_csv_cell_is_refused(app, client, users, sign_in, csrf_token):
    sign_in(users["province"])
    huge = "成交编号,成交数量\nCJ-1," + "9" * (128 * 1024 + 10) + "\n"
    _refused(client, csrf_token, huge.encode(), "big.csv", "单元格")
    quoted = '成交编号,买方名称\nCJ-1,"' + "x" * (200 * 1024) + '"\n'
    _refused(client, csrf_token, quoted.encode(), "quoted.csv", "CSV")


def test_deep_json_is_refused_before_parsing(app, client, users, sign_in, csrf_token):
    sign_in(users["province"])
    deep = ("[" * 100_000 + "]" * 100_000).encode()
    _refused(client, csrf_token, deep, "deep.json", "嵌套过深")
    # brackets inside strings do not count
    from portal.disclosure.entry import json_depth_exceeds

    assert not json_depth_exceeds('[{"买方名称": "[[[[[[[[[[[[[[[[[[[["}]', 3)
    assert json_depth_exceeds('[{"a": [[["x"]]]}]', 4)


def test_too_many_rows_are_refused(app, client, users, sign_in, csrf_token):
    app.config["IMPORT_MAX_ROWS"] = 50
    sign_in(users["province"])
    csv_rows = "成交编号,成交数量\n" + "".join(f"CJ-{n},1\n" for n in range(51))
    _refused(client, csrf_token, csv_rows.encode(), "many.csv", "一次最多导入 50 行")
    json_rows = json.dumps([{"number": f"CJ-{n}"} for n in range(51)]).encode()
    _refused(client, csrf_token, json_rows, "many.json", "一次最多导入 50 行")
    book = Workbook()
    sheet = book.active
    sheet.append(["成交编号", "成交数量"])
    for n in range(200):
        sheet.append([f"CJ-{n}", 1])
    buffer = io.BytesIO()
    book.save(buffer)
    _refused(client, csrf_token, buffer.getvalue(), "many.xlsx", "一次最多导入 50 行")


def test_a_million_row_xlsx_stops_at_the_limit(app, client, users, sign_in, csrf_token):
    """A sheet of a million rows is read only up to the limit, in well under a second.

    The sheet holds real rows and then one numbered 1,000,000: openpyxl yields an empty row for each
    number skipped, so the file is small but the rows are many; blank rows count towards the bound.
    """
    import time
    import zipfile

    app.config["IMPORT_MAX_ROWS"] = 100
    sign_in(users["province"])
    book = Workbook()
    book.active.append(["成交编号", "成交数量"])
    buffer = io.BytesIO()
    book.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    rows = "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>CJ-{n}</t></is></c></row>'
        for n in [*range(2, 60), 1_000_000]
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = re.sub(
                    rb"</row>\s*</sheetData>", b"</row>" + rows.encode() + b"</sheetData>", content
                )
                content = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:B1"/>', content)
            target.writestr(item.filename, content)
    started = time.monotonic()
    _refused(client, csrf_token, out.getvalue(), "million.xlsx", "一次最多导入 100 行")
    assert time.monotonic() - started < 5


def test_non_finite_and_oversized_numbers_are_row_errors(app, client, users, sign_in, csrf_token):
    _s, _b, seller_uscc, buyer_uscc = _parties(app)
    sign_in(users["province"])
    header = "成交编号,交易品种,交易类别,成交数量,成交单价,买方统一社会信用代码,卖方统一社会信用代码,成交日期\n"
    lines = [
        f"CJ-{n},energy,voluntary,{quantity},{price},{buyer_uscc},{seller_uscc},2025-03-10\n"
        for n, (quantity, price) in enumerate(
            [
                ("Infinity", "1"),
                ("NaN", "1"),
                ("sNaN", "1"),
                ("1e400", "1"),
                ("100000000000000", "1"),
                ("1.00001", "1"),
                ("1", "1000000000000"),
                ("99999999999999", "999999999999"),
            ]
        )
    ]
    response = _preview(client, csrf_token, (header + "".join(lines)).encode(), "t.csv")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _counts(html)["error"] == len(lines)
    assert "Infinity" in html and "最多保留 4 位小数" in html and "成交金额过大" in html
    # JSON numbers stay exact text: no float, no overflow
    payload = json.dumps([{"number": "CJ-J", "quantity": 1e308}]).replace("1e+308", "1e999")
    response = _preview(client, csrf_token, payload.encode(), "t.json")
    assert response.status_code == 200


def test_control_characters_in_a_cell_are_refused(app, client, users, sign_in, csrf_token):
    sign_in(users["province"])
    data = "成交编号,买方名称\nCJ-1,甲\x00乙\n".encode()
    _refused(client, csrf_token, data, "nul.csv", "控制字符")
