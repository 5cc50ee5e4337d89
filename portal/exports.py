"""Every download from one list of columns: CSV and XLSX are written from the same definitions.

A dataset is a list of `Column`s. Each column has a machine name, a header for people, a kind that
types its cells (text, code, quantity, price, money, date, integer, url), a unit, a source and a
description. The CSV and XLSX writers, the data dictionary page and the bulk archive all read the
same list, so a column cannot appear in one and be missing or differently named in another.

Values are labels a person reads (能耗指标, 三门峡市, 竞价); where a label stands for a stored code,
the code has its own column (energy, 411200, auction) for programs.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import IO, Any

from flask import Response, current_app, send_file, stream_with_context
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from portal.extensions import db
from portal.i18n import UNITS, fmt_datetime, is_english, reference_name
from portal.i18n import lazy_gettext as _l
from portal.text import spreadsheet_safe
from portal.urls import public_adapter, public_url

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The open-data licence (docs/decisions.md, "Open data"): reuse with attribution.
LICENCE_NAME = "CC BY 4.0"
LICENCE_TITLE = _l("知识共享署名 4.0 国际许可协议（CC BY 4.0）")
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/deed.zh-hans"
LICENCE_LEGALCODE = "https://creativecommons.org/licenses/by/4.0/legalcode.zh-hans"

# Kinds of column, and how an XLSX cell of each kind is shown (Excel number formats).
NUMBER_FORMATS = {
    "quantity": "#,##0.0000",
    "price": "#,##0.00",
    "money": "#,##0.00",
    "integer": "0",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm:ss",
}
KIND_LABELS = {
    "text": _l("文本"),
    "code": _l("代码（文本）"),
    "quantity": _l("数值，4 位小数"),
    "price": _l("数值，2 位小数"),
    "money": _l("数值，2 位小数"),
    "integer": _l("整数"),
    "date": _l("日期（年-月-日）"),
    "datetime": _l("日期时间（年-月-日 时:分:秒）"),
    "url": _l("网址"),
}
# XLSX column widths in characters, by kind; text columns get the widest.
WIDTHS = {
    "code": 14,
    "quantity": 16,
    "price": 14,
    "money": 18,
    "integer": 10,
    "date": 12,
    "datetime": 19,
}


@dataclass(frozen=True)
class Column:
    """One column of a download: how to get its value from a row, and what it means."""

    key: str
    header: Any  # a lazy string: the column's header in the visitor's language
    value: Callable[[Any, Names], Any]
    kind: str = "text"
    unit: Any = None
    source: Any = None
    description: Any = None

    @property
    def kind_label(self):
        return KIND_LABELS[self.kind]


@dataclass(frozen=True)
class Dataset:
    """A public dataset: its name in file names and URLs, its title, and its columns."""

    name: str
    title: Any
    description: Any
    source: Any
    columns: tuple[Column, ...]
    # "how the rows are ordered" for the dictionary; the downloads follow the page's sort
    order: Any = None
    keywords: tuple = field(default_factory=tuple)


# ---- Columns that several datasets share: reference data, units, labelled codes ----

DIVISIONS = _l("行政区划代码，国家标准 GB/T 2260")
REFERENCE = _l("本平台参考数据（交易品种、交易类别、行业）")
REGISTER = _l("参与单位注册信息；统一社会信用代码按 GB 32100-2015 校验")
PORTAL = _l("本平台")
BY_VARIETY = _l("按交易品种：能耗指标为吨标准煤，煤炭指标为吨（见“计量单位”列）")


def reference_pair(
    key: str, header, code_header, value, kind: str, description, code_description=None, blank=None
):
    """A label column and the column of the code behind it (reference data); `blank` is the label
    shown where there is no code."""
    source = DIVISIONS if kind == "division" else REFERENCE

    def label(r, n):
        code = value(r)
        return n.text(blank) if code is None and blank is not None else n.ref(kind, code)

    return (
        Column(key, header, label, source=source, description=description),
        Column(
            f"{key}_code",
            code_header,
            lambda r, n: value(r),
            kind="code",
            source=source,
            description=code_description or description,
        ),
    )


def variety_columns(key="variety"):
    return reference_pair(
        key,
        _l("交易品种"),
        _l("交易品种代码"),
        lambda r: r.variety_code,
        "variety",
        _l("能耗指标或煤炭指标，两者不得混用"),
        _l("energy（能耗指标）或 coal（煤炭指标）"),
    )


def category_columns():
    return reference_pair(
        "category",
        _l("交易类别"),
        _l("交易类别代码"),
        lambda r: r.category_code,
        "category",
        _l("省级、地方、新建“两高”项目或自愿参与单位的用能权指标"),
    )


def industry_columns(value):
    return reference_pair(
        "industry", _l("行业"), _l("行业代码"), value, "industry", _l("所属行业；可能为空")
    )


def unit_column():
    return Column(
        "unit",
        _l("计量单位"),
        lambda r, n: n.label(UNITS, r.variety_code),
        description=_l("本行数量的计量单位，随交易品种而定"),
    )


def labelled_columns(key, header, code_header, mapping, description):
    """A column of labels for the code the row holds under `key`, and the column of the code
    itself, which lists the codes (the mapping's keys)."""

    def value(r, n=None):
        return getattr(r, key)

    return (
        Column(key, header, lambda r, n: n.label(mapping, value(r)), description=description),
        Column(
            f"{key}_code",
            code_header,
            value,
            kind="code",
            description=_l("代码：%(codes)s", codes=", ".join(mapping)),
        ),
    )


def page_column(endpoint: str, param: str, attr: str | None = None, source=PORTAL):
    """The record's page on this portal, from one of the row's attributes."""
    attr = attr or param
    return Column(
        "url",
        _l("详情页面"),
        lambda r, n: n.url(endpoint, **{param: getattr(r, attr)}),
        kind="url",
        source=source,
    )


def attr_column(key, header, **about):
    """A column whose value is the row's attribute of the same name."""
    return Column(key, header, lambda r, n: getattr(r, key), **about)


def quantity_column(key, header, description=None):
    """A quantity read from the row's attribute of the same name, in its variety's unit."""
    return attr_column(key, header, kind="quantity", unit=BY_VARIETY, description=description)


class Names:
    """Display names of codes, resolved once per download in the request's language.

    A download of 100,000 rows asks for the same few dozen labels over and over; resolving each
    lazy string or reference row once keeps that cost out of the loop.
    """

    def __init__(self):
        self._cache: dict = {}
        self._adapter = None

    def label(self, mapping: dict, code: str | None) -> str:
        if code is None:
            return ""
        key = (id(mapping), code)
        if key not in self._cache:
            found = mapping.get(code)
            self._cache[key] = str(found) if found is not None else code
        return self._cache[key]

    def ref(self, kind: str, code: str | None) -> str:
        """The name of a division, industry, variety or category code ("" for none)."""
        if code is None:
            return ""
        key = (kind, code)
        if key not in self._cache:
            self._cache[key] = reference_name(kind, code)
        return self._cache[key]

    def url(self, endpoint: str, **values) -> str:
        """A full address under PUBLIC_BASE_URL (one URL builder for the whole download)."""
        if self._adapter is None:
            self._adapter = public_adapter()
        return self._adapter.build(endpoint, values, force_external=True)

    def text(self, lazy) -> str:
        key = ("text", id(lazy))
        if key not in self._cache:
            self._cache[key] = str(lazy)
        return self._cache[key]


def about_rows(
    dataset: Dataset, filters: list[tuple[str, str]], page_url: str, sort: str | None = None
) -> list[tuple]:
    """What the 说明 sheet states: the dataset, its filter, the time of export and the licence."""
    english = is_english()
    separator = "; " if english else "；"
    colon = ": " if english else "："
    described = separator.join(f"{label}{colon}{value}" for label, value in filters)
    site = current_app.config["SITE_NAME_EN" if english else "SITE_NAME"]
    sponsor = current_app.config["SITE_SPONSOR_EN" if english else "SITE_SPONSOR"]
    return [
        (_l("数据集"), dataset.title),
        (_l("筛选条件"), described or _l("无（全部记录）")),
        (_l("排序"), sort or dataset.order),
        (_l("导出时间"), fmt_datetime(datetime.now(UTC), "yyyy-MM-dd HH:mm:ss xxx")),
        (_l("来源页面"), page_url),
        (_l("数据来源"), dataset.source),
        (_l("数据字典"), public_url("downloads.dictionary", _anchor=dataset.name)),
        (_l("许可协议"), LICENCE_TITLE),
        (_l("许可协议网址"), LICENCE_URL),
        (_l("署名方式"), _l("来源：%(site)s（%(url)s）", site=site, url=public_url("main.home"))),
        (_l("发布单位"), sponsor),
    ]


def _csv_value(value) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return spreadsheet_safe(value)


def csv_chunks(columns: Iterable[Column], rows: Iterable, batch: int = 1000) -> Iterator[str]:
    """CSV text in pieces of `batch` rows: a BOM (so Excel reads UTF-8), the header, the rows."""
    columns = list(columns)
    names = Names()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([str(column.header) for column in columns])
    for number, row in enumerate(rows, 1):
        writer.writerow([_csv_value(column.value(row, names)) for column in columns])
        if number % batch == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _text(value) -> str:
    """A string cell's text: characters XML cannot hold are dropped (openpyxl refuses them)."""
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))[:32767]


def write_xlsx(
    target: str | IO[bytes],
    columns: Iterable[Column],
    rows: Iterable,
    about: list[tuple[Any, Any]],
    sheet_title: str,
) -> int:
    """Write the rows as an XLSX workbook in openpyxl's write-only mode; return how many rows.

    Memory stays bounded: write-only sheets go to temporary files row by row. Numbers and dates
    are typed cells with a number format, the header row is frozen, and a second sheet (说明)
    states the filter, the time of export and the licence (`about`: label, value pairs; a row
    count is added).
    """
    columns = list(columns)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_name(sheet_title))
    info = workbook.create_sheet(_sheet_name(str(_l("说明"))))
    sheet.freeze_panes = "A2"
    for index, column in enumerate(columns, 1):
        width = WIDTHS.get(column.kind, 24 if column.kind != "url" else 40)
        sheet.column_dimensions[get_column_letter(index)].width = width

    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=_text(column.header))
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        header.append(cell)
    sheet.append(header)

    # Plain values are the fast path (openpyxl types them: numbers, dates with a date format,
    # strings). A number that needs its format goes in a styled cell, one per column, reused for
    # every row: openpyxl writes a row as soon as it is appended. Text that openpyxl would take for
    # a formula ("=…") or an error code ("#N/A") goes in a cell forced to be a string.
    styled = {}
    for index, column in enumerate(columns):
        if column.kind in ("quantity", "price", "money"):
            cell = WriteOnlyCell(sheet)
            cell.number_format = NUMBER_FORMATS[column.kind]
            styled[index] = cell
    names = Names()
    count = 0
    for row in rows:
        values = []
        for index, column in enumerate(columns):
            value = column.value(row, names)
            if value is None or value == "":
                values.append(None)
            elif index in styled:
                cell = styled[index]
                cell.value = value
                values.append(cell)
            elif isinstance(value, Decimal | int | float | date | datetime):
                values.append(value)
            else:
                text = _text(value)
                if text[:1] in ("=", "#"):
                    cell = WriteOnlyCell(sheet, value=text)
                    cell.data_type = "s"
                    values.append(cell)
                else:
                    values.append(text)
        sheet.append(values)
        count += 1

    info.column_dimensions["A"].width = 16
    info.column_dimensions["B"].width = 80
    for label, value in [*about, (_l("记录数"), count)]:
        label_cell = WriteOnlyCell(info, value=_text(label))
        label_cell.font = bold
        if isinstance(value, int | Decimal | date | datetime):
            info.append([label_cell, value])
        else:
            info.append([label_cell, _text(value)])
    workbook.save(target)
    return count


def _sheet_name(title: str) -> str:
    """Excel's sheet names: at most 31 characters, none of []:*?/\\."""
    return "".join(" " if char in "[]:*?/\\" else char for char in str(title))[:31]


def csv_response(columns: Iterable[Column], rows: Iterable, filename: str) -> Response:
    """Stream the rows as a CSV download."""
    return Response(
        stream_with_context(csv_chunks(columns, rows)),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )


def xlsx_response(
    columns: Iterable[Column], rows: Iterable, filename: str, about, sheet_title: str
) -> Response:
    """Write the workbook to a temporary file on disk, then send that file (bounded memory)."""
    spool = tempfile.TemporaryFile(prefix="export-", suffix=".xlsx")
    try:
        write_xlsx(spool, columns, rows, about, sheet_title)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    response = send_file(
        spool, mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=filename, max_age=0
    )
    response.call_on_close(spool.close)
    return response


def _rows(stmt):
    """Run `stmt` when the first row is asked for: a CSV body is written after the view has
    returned, in the session of the streamed response."""
    yield from db.session.scalars(stmt.execution_options(yield_per=1000))


def download(dataset: Dataset, form, stmt, file_format: str, filename: str, page_url: str):
    """The rows of `stmt`, streamed from the database 1,000 at a time, as CSV or XLSX. `form` is
    the list's validated filter form (portal.lists.FilterForm); `page_url` the list it came from."""
    rows = _rows(stmt)
    if file_format == "csv":
        return csv_response(dataset.columns, rows, f"{filename}.csv")
    about = about_rows(dataset, form.described(), page_url, form.sort_described())
    return xlsx_response(dataset.columns, rows, f"{filename}.xlsx", about, str(dataset.title))
