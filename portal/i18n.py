"""Locale choice and every Babel-formatted value the pages show (dates, numbers, money, units)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache

from babel import dates
from babel.numbers import parse_pattern
from babel.units import format_unit
from flask import Flask, current_app, request
from flask_babel import (
    format_currency,
    format_date,
    format_datetime,
    format_decimal,
    get_locale,
    get_timezone,
)
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from markupsafe import escape

LOCALE_COOKIE = "lang"
LOCALE_COOKIE_MAX_AGE = 365 * 24 * 3600
# `?lang=` values a shared link may carry, and the catalog each one means.
LANGUAGE_ARGUMENTS = {
    "en": "en",
    "zh": "zh_Hans_CN",
    "zh-cn": "zh_Hans_CN",
    "zh_cn": "zh_Hans_CN",
    "zh_hans_cn": "zh_Hans_CN",
}

# Units of the two varieties, never mixed: 能耗指标 in 吨标准煤 (tce), 煤炭指标 in 吨 (t); the variety
# code is the key everywhere.
UNITS = {"energy": _l("吨标准煤"), "coal": _l("吨")}


def init_app(app: Flask) -> None:
    """Make every lazy translated string plain text, in HTML and in JSON alike.

    Flask-Babel's LazyString.__html__ returns its text unescaped, so Jinja's autoescaping, `|e`,
    `|join`, `Markup(...) % s` and Flask's session serializer (flash) all took a lazy message for
    trusted markup, and a value interpolated into it (`_l("…%(value)s…", value=user_input)`) reached
    the page raw. Every one of those paths asks `__html__`, so this is the one place to close them.
    """
    LazyString.__html__ = _escaped_text
    # Flask's JSON encoder also asks `__html__`: give JSON the text itself, not HTML entities.
    default = app.json.default
    app.json.default = lambda value: str(value) if isinstance(value, LazyString) else default(value)


def _escaped_text(lazy: LazyString) -> str:
    """The lazy string's text as HTML: escaped, like any other str."""
    return str(escape(str(lazy)))


def available_locales() -> list[str]:
    return [code.strip() for code in current_app.config["LANGUAGES"].split(",") if code.strip()]


def requested_locale() -> str | None:
    """The language a link asks for with `?lang=en` (or `zh`), so an English page can be shared."""
    if not request:
        return None
    choice = LANGUAGE_ARGUMENTS.get(request.args.get("lang", "").strip().lower())
    return choice if choice in available_locales() else None


def select_locale() -> str:
    """The language of the link (`?lang=`), else the visitor's saved choice, else Chinese: the
    portal is Chinese first."""
    requested = requested_locale()
    if requested:
        return requested
    choice = request.cookies.get(LOCALE_COOKIE) if request else None
    if choice in available_locales():
        return choice
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def is_english() -> bool:
    return str(get_locale()).startswith("en")


def colon() -> str:
    """The label–value separator: full-width in Chinese, ": " in English."""
    return ": " if is_english() else "："


def localized(obj, attr: str = "name") -> str:
    """Return obj.<attr>_en in English when it is set, else the Chinese obj.<attr>."""
    if obj is None:
        return ""
    if is_english():
        english = getattr(obj, f"{attr}_en", None)
        if english:
            return english
    return getattr(obj, attr)


def fmt_quantity(value: Decimal | int | None, variety: str | None = None) -> str:
    """Format a quantity with its unit, e.g. 1,234.5 吨标准煤; a missing value is shown as —."""
    if value is None:
        return "—"
    number = format_decimal(value, format="#,##0.####")
    unit = UNITS.get(variety or "")
    return f"{number} {unit}" if unit else number


def fmt_number(value, digits: int = 0) -> str:
    if value is None:
        return "—"
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern)


def fmt_money(value: Decimal | None) -> str:
    """Format an amount in 元 (yuan), e.g. ¥1,234.00."""
    if value is None:
        return "—"
    return format_currency(value, "CNY")


def fmt_price(value: Decimal | None, variety: str | None = None) -> str:
    """Format a unit price, e.g. ¥123.45/吨标准煤."""
    if value is None:
        return "—"
    money = fmt_money(value)
    unit = UNITS.get(variety or "")
    return f"{money}/{unit}" if unit else money


def fmt_date(value: date | datetime | None, style: str = "medium") -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return format_datetime(value, "yyyy-MM-dd" if style == "iso" else style)
    return format_date(value, "yyyy-MM-dd" if style == "iso" else style)


def local_today() -> date:
    """Today in the portal's time zone (BABEL_DEFAULT_TIMEZONE): the day deadlines count in."""
    return datetime.now(get_timezone()).date()


def local_date(value: datetime) -> date:
    """The day a stored (naive UTC) moment falls on in the portal's time zone."""
    return _as_utc(value).astimezone(get_timezone()).date()


def fmt_datetime(value: datetime | None, style: str = "medium") -> str:
    if value is None:
        return "—"
    return format_datetime(value, style)


def file_size(size: int) -> str:
    """A byte count for people, e.g. 1.2 MB, formatted by Babel for the current locale."""
    for unit, factor in (("digital-megabyte", 1024**2), ("digital-kilobyte", 1024)):
        if size >= factor:
            return format_unit(
                size / factor, unit, length="short", format="#,##0.#", locale=get_locale()
            )
    return format_unit(size, "digital-byte", length="short", locale=get_locale())


class RequestFormats:
    """The same formatters, bound once per render to the request's locale and time zone.

    A list page formats a hundred values; resolving the locale through Flask-Babel's context for each
    one cost more than the formatting itself (measured in docs/decisions.md).
    """

    def __init__(self):
        self.locale = get_locale()
        self.tzinfo = get_timezone()
        self.english = str(self.locale).startswith("en")
        self.units = {code: str(label) for code, label in UNITS.items()}

    def _decimal(self, value, pattern: str) -> str:
        return _pattern(pattern).apply(value, self.locale)

    def qty(self, value, variety=None) -> str:
        if value is None:
            return "—"
        unit = self.units.get(variety or "")
        number = self._decimal(value, "#,##0.####")
        return f"{number} {unit}" if unit else number

    def num(self, value, digits: int = 0) -> str:
        if value is None:
            return "—"
        return self._decimal(value, "#,##0" + ("." + "0" * digits if digits else ""))

    def money(self, value) -> str:
        if value is None:
            return "—"
        # local: the module-level format_currency is flask_babel's (request locale), this one takes a locale
        from babel.numbers import format_currency

        return format_currency(value, "CNY", locale=self.locale)

    def price(self, value, variety=None) -> str:
        if value is None:
            return "—"
        unit = self.units.get(variety or "")
        return f"{self.money(value)}/{unit}" if unit else self.money(value)

    def fdate(self, value, style: str = "medium") -> str:
        if value is None:
            return "—"
        pattern = "yyyy-MM-dd" if style == "iso" else style
        if isinstance(value, datetime):
            return dates.format_datetime(
                _as_utc(value), pattern, tzinfo=self.tzinfo, locale=self.locale
            )
        return dates.format_date(value, pattern, locale=self.locale)

    def fdatetime(self, value, style: str = "medium") -> str:
        if value is None:
            return "—"
        return dates.format_datetime(_as_utc(value), style, tzinfo=self.tzinfo, locale=self.locale)

    def localized(self, obj, attr: str = "name") -> str:
        if obj is None:
            return ""
        if self.english:
            english = getattr(obj, f"{attr}_en", None)
            if english:
                return english
        return getattr(obj, attr)


def _as_utc(value: datetime) -> datetime:
    """Stored datetimes are naive UTC (as Flask-Babel assumes)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


@lru_cache(maxsize=64)
def _pattern(pattern: str):
    return parse_pattern(pattern)


TEMPLATE_HELPERS = {
    "qty": fmt_quantity,
    "num": fmt_number,
    "money": fmt_money,
    "price": fmt_price,
    "fdate": fmt_date,
    "fdatetime": fmt_datetime,
    "localized": localized,
    "is_english": is_english,
    "unit_of": lambda variety: UNITS.get(variety, ""),
}
