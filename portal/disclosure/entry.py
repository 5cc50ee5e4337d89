"""Listings (挂牌) and trades (成交) in: one row at a time from the back-office forms, or a batch
file (CSV, XLSX, JSON) keyed on the listing number and the trade number.

A batch is first previewed (nothing is written) with each row's errors in Chinese, then applied.
Applying is idempotent: a row equal to what is stored changes nothing, so the same file imported
twice changes nothing the second time. A trade between two registered enterprises moves the
indicators in the registry, once per trade number.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from flask import current_app, g
from sqlalchemy import select

from portal.audit.services import record_event
from portal.disclosure.models import (
    LISTING_STATUSES,
    SELLER_KINDS,
    SETTLEMENT_STATUSES,
    TRADE_METHODS,
    Listing,
    Trade,
)
from portal.enterprises.models import Enterprise
from portal.enterprises.services import InvalidUSCC, normalize_uscc
from portal.extensions import db
from portal.forms import (
    AMOUNT_LIMIT,
    PRICE_LIMIT,
    QUANTITY_LIMIT,
    control_characters,
    decimal_problem,
    parse_decimal,
)
from portal.i18n import gettext as _
from portal.reference.models import Category, Division, Variety
from portal.refusals import Refusal
from portal.registry import services as registry
from portal.registry.services import LedgerError, entry_exists

KINDS = ("listings", "trades")

# Column names accepted in a file: the stored name, or its Chinese heading.
ALIASES = {
    "挂牌编号": "number",
    "成交编号": "number",
    "编号": "number",
    "交易品种": "variety",
    "品种": "variety",
    "交易类别": "category",
    "类别": "category",
    "卖方类型": "seller_kind",
    "卖方统一社会信用代码": "seller_uscc",
    "卖方": "seller_name",
    "卖方名称": "seller_name",
    "卖方所在地": "division_code",
    "行政区划代码": "division_code",
    "数量": "quantity",
    "挂牌数量": "quantity",
    "成交数量": "quantity",
    "剩余数量": "remaining_quantity",
    "挂牌价格": "listed_price",
    "成交单价": "unit_price",
    "单价": "unit_price",
    "成交金额": "amount",
    "金额": "amount",
    "挂牌开始日期": "starts_on",
    "挂牌截止日期": "ends_on",
    "交易方式": "method",
    "状态": "status",
    "联系人": "contact_name",
    "联系电话": "contact_phone",
    "买方统一社会信用代码": "buyer_uscc",
    "买方": "buyer_name",
    "买方名称": "buyer_name",
    "买方所在地": "buyer_division_code",
    "卖方所在地代码": "seller_division_code",
    "成交日期": "trade_date",
    "结算状态": "settlement_status",
}
VARIETY_NAMES = {"能耗指标": "energy", "煤炭指标": "coal"}
METHOD_NAMES = {"挂牌": "listing", "协议": "agreement", "竞价": "auction"}
LISTING_STATUS_NAMES = {
    "挂牌中": "open",
    "已成交": "traded",
    "部分成交": "partial",
    "已撤牌": "withdrawn",
    "已过期": "expired",
}
SETTLEMENT_NAMES = {"待结算": "pending", "已结算": "settled", "已交割": "delivered"}
SELLER_KIND_NAMES = {"企业": "enterprise", "市级": "city", "省级": "province"}


class ImportFileError(Refusal):
    """The file as a whole cannot be read; `message` says why, in Chinese."""


@dataclass
class RowResult:
    line: int
    key: str
    action: str = "create"  # create / update / unchanged / error
    errors: list[str] = field(default_factory=list)
    values: dict = field(default_factory=dict)


@dataclass
class Preview:
    kind: str
    rows: list[RowResult]

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)

    @property
    def has_errors(self) -> bool:
        return any(r.action == "error" for r in self.rows)


# --- reading files -----------------------------------------------------------------------------------
#
# A file is read as a stream and refused as soon as it passes a bound, so that no upload can hold a
# worker: at most IMPORT_MAX_ROWS rows (a setting), MAX_CELL_CHARS characters in a cell, JSON nested
# at most MAX_JSON_DEPTH deep (checked before parsing), and READ_SECONDS of reading in all.

DEFAULT_MAX_ROWS = 20_000
MAX_CELL_CHARS = 1_000
MAX_JSON_DEPTH = 8  # {"records": [{"quantity": …}]} is 3 deep
MAX_COLUMNS = 64
READ_SECONDS = 20


def max_rows() -> int:
    return int(current_app.config.get("IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS))


def _too_many_rows() -> ImportFileError:
    return ImportFileError(_("一次最多导入 %(n)s 行，请拆分文件。", n=max_rows()))


def read_rows(filename: str, data: bytes) -> list[dict]:
    """Rows as dicts of stripped strings, whatever the format; the header maps through ALIASES."""
    name = (filename or "").lower()
    limit_mb = current_app.config["MAX_UPLOAD_MB"]
    if len(data) > limit_mb * 1024 * 1024:
        raise ImportFileError(_("文件超过 %(mb)s MB，请拆分后再导入。", mb=limit_mb))
    if name.endswith(".json"):
        rows = _read_json(data)
    elif name.endswith(".xlsx"):
        rows = _read_xlsx(data)
    elif name.endswith(".csv"):
        rows = _read_csv(data)
    else:
        raise ImportFileError(_("只能导入 CSV、XLSX 或 JSON 文件。"))
    out = []
    for line, row in enumerate(rows, start=2):  # line 1 is the header
        if len(out) >= max_rows():
            raise _too_many_rows()
        clean = {}
        for key, value in row.items():
            if key is None:
                continue
            name = ALIASES.get(str(key).strip(), str(key).strip())
            text = "" if value is None else str(value).strip()
            if len(text) > MAX_CELL_CHARS:
                raise ImportFileError(
                    _(
                        "第 %(line)s 行有超过 %(n)s 个字的单元格，请检查文件内容。",
                        line=line,
                        n=MAX_CELL_CHARS,
                    )
                )
            if control_characters(text):
                raise ImportFileError(
                    _("第 %(line)s 行含有控制字符（如 NUL 或换行），请删除后重新导入。", line=line)
                )
            clean[name] = text
        out.append(clean)
    return out


def _read_csv(data: bytes):
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileError(_("无法识别文件编码，请另存为 UTF-8 编码的 CSV。"))
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        # The csv module stops a field at 128 KB by itself; the cell bound in read_rows is lower.
        yield from reader
    except csv.Error as exc:
        raise ImportFileError(
            _("CSV 第 %(line)s 行格式有误或单元格过长，无法读取。", line=reader.line_num)
        ) from exc


def json_depth_exceeds(text: str, limit: int) -> bool:
    """True when the JSON text nests arrays or objects more than `limit` deep (strings skipped)."""
    brackets = re.sub(r'"(?:[^"\\]|\\.)*"|[^\[\]{}"]+', "", text)
    depth = 0
    for char in brackets:
        if char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _read_json(data: bytes) -> list[dict]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(_("JSON 格式有误，无法读取。")) from exc
    if json_depth_exceeds(text, MAX_JSON_DEPTH):
        raise ImportFileError(
            _("JSON 嵌套过深（最多 %(n)s 层），请导出为对象数组。", n=MAX_JSON_DEPTH)
        )
    try:
        # Numbers stay text, so that no float rounds a quantity and no huge number overflows.
        parsed = json.loads(text, parse_float=str, parse_int=str, parse_constant=str)
    except (ValueError, RecursionError) as exc:
        raise ImportFileError(_("JSON 格式有误，无法读取。")) from exc
    if isinstance(parsed, dict):
        parsed = parsed.get("records", parsed.get("rows"))
    if not isinstance(parsed, list) or not all(isinstance(r, dict) for r in parsed):
        raise ImportFileError(_("JSON 须是对象数组，或含 records 数组的对象。"))
    if len(parsed) > max_rows():
        raise _too_many_rows()
    return parsed


def _read_xlsx(data: bytes) -> list[dict]:
    # lazy: openpyxl is heavy and only an .xlsx import needs it
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 — openpyxl raises many kinds on a bad file
        raise ImportFileError(_("XLSX 文件无法打开，请确认文件完整。")) from exc
    try:
        return _xlsx_rows(book)
    except ImportFileError:
        raise
    except Exception as exc:  # noqa: BLE001 — a damaged sheet fails inside openpyxl's parser
        raise ImportFileError(_("XLSX 文件无法读取，请确认文件完整。")) from exc
    finally:
        book.close()


def _xlsx_rows(book) -> list[dict]:
    if not book.worksheets:
        raise ImportFileError(_("XLSX 文件中没有工作表，请把数据放在第一个工作表中。"))
    started = time.monotonic()
    # Explicit bounds: the sheet's own <dimension> may lie in either direction, and a row numbered
    # 1,000,000 after row 1 would otherwise yield 999,998 empty rows.
    rows = book.worksheets[0].iter_rows(
        values_only=True, min_row=1, max_row=2 * max_rows() + 2, max_col=MAX_COLUMNS
    )
    header_row = next(rows, None)
    if header_row is None:
        return []
    header = [str(h).strip() if h is not None else "" for h in header_row]
    out = []
    for scanned, values in enumerate(rows, start=1):
        # Blank rows count too, and so does time: a sheet of a million empty rows is refused.
        if scanned > 2 * max_rows() or time.monotonic() - started > READ_SECONDS:
            raise _too_many_rows()
        if values is None or all(v in (None, "") for v in values):
            continue
        if len(out) >= max_rows():
            raise _too_many_rows()
        row = {}
        for key, value in zip(header, values, strict=False):
            if not key:
                continue
            if isinstance(value, datetime):
                value = value.date().isoformat()
            elif isinstance(value, date):
                value = value.isoformat()
            elif isinstance(value, float) and value.is_integer():
                value = int(value)
            row[key] = value
        out.append(row)
    return out


# --- validating rows --------------------------------------------------------------------------------


class _Row:
    """Collects a row's parsed values and its errors."""

    def __init__(self, raw: dict):
        self.raw = raw
        self.errors: list[tuple[str, str]] = []  # (column, message)
        self.values: dict = {}

    def add(self, name: str, message: str) -> None:
        self.errors.append((name, message))

    def given(self, name, label, required):
        """The raw value, or "" (an error too when the column is required)."""
        value = self.raw.get(name, "")
        if not value and required:
            self.add(name, _("%(label)s不能为空", label=label))
        return value

    def text(self, name, label, required=True, max_len=120):
        value = self.given(name, label, required)
        if not value:
            return None
        if len(value) > max_len:
            self.add(name, _("%(label)s过长（最多 %(n)s 字）", label=label, n=max_len))
        return value

    def decimal(self, name, label, places, required=True, positive=True, maximum=QUANTITY_LIMIT):
        value = self.given(name, label, required)
        if not value:
            return None
        try:
            number = parse_decimal(value)
        except ValueError:
            self.add(name, _("%(label)s不是数字：%(value)s", label=label, value=value))
            return None
        if number.is_finite() and number <= 0 and (positive or number < 0):
            self.add(name, _("%(label)s必须大于零", label=label))
            return None
        problem = decimal_problem(number, places=places, minimum=0, maximum=maximum)
        if problem:
            self.add(name, _("%(label)s：%(problem)s", label=label, problem=problem))
            return None
        return number

    def day(self, name, label, required=True):
        value = self.given(name, label, required)
        if not value:
            return None
        try:
            return date.fromisoformat(value.replace("/", "-")[:10])
        except ValueError:
            self.add(
                name,
                _("%(label)s不是有效日期（应为 年-月-日）：%(value)s", label=label, value=value),
            )
            return None

    def code(self, name, label, allowed, names=None, default=None):
        value = self.raw.get(name, "") or default
        if value is None or value == "":
            self.add(name, _("%(label)s不能为空", label=label))
            return None
        value = (names or {}).get(value, value)
        if value not in allowed:
            self.add(name, _("%(label)s无效：%(value)s", label=label, value=value))
            return None
        return value

    def division(self, name, label, required=False):
        value = self.given(name, label, required)
        if not value:
            return None
        if db.session.get(Division, value) is None:
            self.add(
                name, _("%(label)s不是河南省的行政区划代码：%(value)s", label=label, value=value)
            )
            return None
        return value

    def enterprise(self, name, label):
        """A registered enterprise by its USCC, or None when the column is empty."""
        value = self.raw.get(name, "")
        if not value:
            return None
        try:
            uscc = normalize_uscc(value)
        except InvalidUSCC:
            self.add(
                name, _("%(label)s不是有效的统一社会信用代码：%(value)s", label=label, value=value)
            )
            return None
        found = db.session.scalar(select(Enterprise).where(Enterprise.uscc == uscc))
        if found is None:
            self.add(name, _("%(label)s对应的企业尚未登记：%(value)s", label=label, value=uscc))
        return found


def _once_per_request(name, load):
    """Reference codes are read once per request, not once per row of a 20,000-row file."""
    cache = g.setdefault("_market_reference", {})
    if name not in cache:
        cache[name] = load()
    return cache[name]


def _varieties():
    return _once_per_request(
        "varieties", lambda: {v.code for v in db.session.scalars(select(Variety))}
    )


def _categories():
    return _once_per_request(
        "categories", lambda: {c.code for c in db.session.scalars(select(Category))}
    )


def _category_names():
    return _once_per_request(
        "category_names", lambda: {c.name: c.code for c in db.session.scalars(select(Category))}
    )


def check_listing(raw: dict) -> tuple[dict, list[tuple[str, str]]]:
    row = _Row(raw)
    v = row.values
    v["number"] = row.text("number", _("挂牌编号"), max_len=32)
    v["variety_code"] = row.code("variety", _("交易品种"), _varieties(), VARIETY_NAMES)
    v["category_code"] = row.code("category", _("交易类别"), _categories(), _category_names())
    v["seller_kind"] = row.code(
        "seller_kind", _("卖方类型"), SELLER_KINDS, SELLER_KIND_NAMES, default="enterprise"
    )
    seller = row.enterprise("seller_uscc", _("卖方统一社会信用代码"))
    v["seller_enterprise_id"] = seller.id if seller else None
    v["seller_name"] = row.text("seller_name", _("卖方名称"), required=seller is None) or (
        seller.name if seller else None
    )
    v["division_code"] = row.division("division_code", _("卖方所在地")) or (
        seller.division_code if seller else None
    )
    v["industry_code"] = seller.industry_code if seller else None
    v["quantity"] = row.decimal("quantity", _("挂牌数量"), 4)
    v["remaining_quantity"] = (
        row.decimal("remaining_quantity", _("剩余数量"), 4, required=False, positive=False)
        if raw.get("remaining_quantity")
        else v["quantity"]
    )
    v["listed_price"] = row.decimal("listed_price", _("挂牌价格"), 2, maximum=PRICE_LIMIT)
    v["starts_on"] = row.day("starts_on", _("挂牌开始日期"))
    v["ends_on"] = row.day("ends_on", _("挂牌截止日期"))
    v["method"] = row.code("method", _("交易方式"), TRADE_METHODS, METHOD_NAMES, default="listing")
    v["status"] = row.code(
        "status", _("状态"), LISTING_STATUSES, LISTING_STATUS_NAMES, default="open"
    )
    v["contact_name"] = row.text("contact_name", _("联系人"), required=False, max_len=40) or ""
    v["contact_phone"] = row.text("contact_phone", _("联系电话"), required=False, max_len=40) or ""
    if v["seller_kind"] == "enterprise" and seller is None and not row.errors:
        row.add("seller_uscc", _("卖方为企业时须填写已登记企业的统一社会信用代码"))
    if v["starts_on"] and v["ends_on"] and v["ends_on"] < v["starts_on"]:
        row.add("ends_on", _("挂牌截止日期早于开始日期"))
    if v["quantity"] is not None and v["remaining_quantity"] is not None:
        if v["remaining_quantity"] > v["quantity"]:
            row.add("remaining_quantity", _("剩余数量不能大于挂牌数量"))
    return v, row.errors


def check_trade(raw: dict) -> tuple[dict, list[tuple[str, str]]]:
    row = _Row(raw)
    v = row.values
    v["number"] = row.text("number", _("成交编号"), max_len=32)
    listing_number = raw.get("listing_number") or ""
    listing = None
    if listing_number:
        listing = db.session.scalar(select(Listing).where(Listing.number == listing_number))
        if listing is None:
            row.add("listing_number", _("关联的挂牌编号不存在：%(value)s", value=listing_number))
    v["listing_id"] = listing.id if listing else None
    v["variety_code"] = row.code("variety", _("交易品种"), _varieties(), VARIETY_NAMES)
    v["category_code"] = row.code("category", _("交易类别"), _categories(), _category_names())
    v["quantity"] = row.decimal("quantity", _("成交数量"), 4)
    v["unit_price"] = row.decimal("unit_price", _("成交单价"), 2, maximum=PRICE_LIMIT)
    amount = row.decimal("amount", _("成交金额"), 2, required=False, maximum=AMOUNT_LIMIT)
    if v["quantity"] is not None and v["unit_price"] is not None:
        expected = v["quantity"] * v["unit_price"]
        if expected >= AMOUNT_LIMIT:
            row.add("amount", _("成交金额过大，请核对数量和单价。"))
            expected = None
        else:
            expected = expected.quantize(Decimal("0.01"))
        if expected is not None and amount is not None and abs(amount - expected) > Decimal("0.01"):
            row.add(
                "amount",
                _(
                    "成交金额 %(amount)s 与 数量×单价 %(expected)s 不符",
                    amount=amount,
                    expected=expected,
                ),
            )
        v["amount"] = amount if amount is not None else expected
    buyer = row.enterprise("buyer_uscc", _("买方统一社会信用代码"))
    seller = row.enterprise("seller_uscc", _("卖方统一社会信用代码"))
    v["buyer_enterprise_id"] = buyer.id if buyer else None
    v["seller_enterprise_id"] = seller.id if seller else None
    v["buyer_name"] = row.text("buyer_name", _("买方名称"), required=buyer is None) or (
        buyer.name if buyer else None
    )
    v["seller_name"] = row.text("seller_name", _("卖方名称"), required=seller is None) or (
        seller.name if seller else None
    )
    v["buyer_division_code"] = row.division("buyer_division_code", _("买方所在地")) or (
        buyer.division_code if buyer else None
    )
    v["seller_division_code"] = row.division("seller_division_code", _("卖方所在地")) or (
        seller.division_code if seller else None
    )
    v["industry_code"] = buyer.industry_code if buyer else None
    v["method"] = row.code("method", _("交易方式"), TRADE_METHODS, METHOD_NAMES, default="listing")
    v["trade_date"] = row.day("trade_date", _("成交日期"))
    v["settlement_status"] = row.code(
        "settlement_status", _("结算状态"), SETTLEMENT_STATUSES, SETTLEMENT_NAMES, default="settled"
    )
    if buyer and seller and buyer.id == seller.id:
        row.add("buyer_uscc", _("买方和卖方不能是同一家企业"))
    if listing and v["variety_code"] and listing.variety_code != v["variety_code"]:
        row.add("variety", _("成交品种与挂牌品种不一致"))
    return v, row.errors


MODELS = {"listings": (Listing, check_listing), "trades": (Trade, check_trade)}


def _differences(existing, values: dict) -> dict:
    changed = {}
    for key, value in values.items():
        current = getattr(existing, key)
        if isinstance(current, Decimal) and value is not None:
            same = Decimal(current) == Decimal(value)
        else:
            same = current == value
        if not same:
            changed[key] = (current, value)
    return changed


def _stored_by_number(model, numbers: list[str]) -> dict:
    """The stored records with these numbers, in a few queries rather than one per row."""
    wanted = sorted({n for n in numbers if n})
    found = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(
            (record.number, record)
            for record in db.session.scalars(select(model).where(model.number.in_(chunk)))
        )
    return found


def preview(kind: str, rows: list[dict]) -> Preview:
    """Check every row against the rules and the stored data; write nothing."""
    model, check = MODELS[kind]
    results = []
    seen: set[str] = set()
    stored = _stored_by_number(model, [raw.get("number", "") for raw in rows])
    for index, raw in enumerate(rows, start=2):  # line 1 is the header
        values, errors = check(raw)
        key = values.get("number") or ""
        result = RowResult(line=index, key=key, errors=[m for _f, m in errors], values=values)
        if key and key in seen:
            result.errors.append(_("编号在文件中重复：%(key)s", key=key))
        seen.add(key)
        if result.errors:
            result.action = "error"
        else:
            existing = stored.get(key)
            if existing is None:
                result.action = "create"
            elif _differences(existing, values):
                result.action = "update"
                if kind == "trades" and _moves_indicators(existing, values):
                    result.action = "error"
                    result.errors.append(
                        _("已登记转让的成交不能修改双方、品种或数量，请通过登记簿更正")
                    )
            else:
                result.action = "unchanged"
        results.append(result)
    return Preview(kind, results)


def _moves_indicators(existing: Trade, values: dict) -> bool:
    if entry_exists(f"trade:{existing.number}:out") is None:
        return False
    keys = ("buyer_enterprise_id", "seller_enterprise_id", "variety_code", "quantity")
    return bool(set(_differences(existing, {k: values[k] for k in keys})))


def upsert(kind: str, values: dict, *, actor) -> tuple[str, object]:
    """Create or update one listing or trade by its number; (action, record)."""
    model, _check = MODELS[kind]
    existing = db.session.scalar(select(model).where(model.number == values["number"]))
    if existing is None:
        record = model(**values)
        db.session.add(record)
        db.session.flush()
        action, before = "create", None
    else:
        changed = _differences(existing, values)
        if not changed:
            return "unchanged", existing
        before = {k: old for k, (old, _new) in changed.items()}
        for key, (_old, new) in changed.items():
            setattr(existing, key, new)
        db.session.flush()
        record, action = existing, "update"
    record_event(
        f"{kind[:-1]}.{action}",
        kind[:-1],
        record.number,
        before=before,
        after={k: v for k, v in values.items() if before is None or k in before},
        actor=actor,
    )
    if kind == "trades":
        registry.record_trade_transfer(record, actor=actor)
    return action, record


def apply(kind: str, rows: list[dict], *, actor) -> Preview:
    """Apply the rows that pass; each in its own savepoint, so one refused row stops no other."""
    result = preview(kind, rows)
    for row in result.rows:
        if row.action in ("error", "unchanged"):
            continue
        try:
            with db.session.begin_nested():
                row.action, _record = upsert(kind, row.values, actor=actor)
        except LedgerError as error:
            row.action = "error"
            row.errors.append(
                _("卖方登记簿余额不足，未能登记转让，本行未导入")
                if error.code == "insufficient"
                else _("登记簿拒绝了这笔转让，本行未导入")
            )
    return result


class WithdrawalRefused(ValueError):
    """A trade that cannot be withdrawn; `message` says why, in Chinese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def withdraw_trade(number: str, reason: str, *, actor) -> Trade:
    """Withdraw a trade disclosed in error: remove it, audited with its figures and the reason.

    A trade whose transfer is in the registry ledger is refused: the ledger is corrected first,
    by its own entries. The market summary follows in the same flush (disclosure/summary.py).
    """
    trade = db.session.scalar(select(Trade).where(Trade.number == number))
    if trade is None:
        raise WithdrawalRefused(_("成交编号不存在：%(value)s", value=number))
    if not reason.strip():
        raise WithdrawalRefused(_("请填写撤回原因。"))
    if entry_exists(f"trade:{trade.number}:out") is not None:
        raise WithdrawalRefused(_("已登记转让的成交不能撤回，请先通过登记簿更正"))
    before = {
        key: getattr(trade, key)
        for key in (
            "variety_code",
            "category_code",
            "quantity",
            "unit_price",
            "amount",
            "buyer_name",
            "seller_name",
            "trade_date",
        )
    }
    db.session.delete(trade)
    db.session.flush()
    record_event(
        "trade.withdraw", "trade", number, before=before, remark=reason.strip(), actor=actor
    )
    return trade
