"""Locale choice and every Babel-formatted value the pages show (dates, numbers, money, units)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cached_property, lru_cache

from babel import dates
from babel.numbers import (
    format_currency,
    get_decimal_symbol,
    get_group_symbol,
    get_minus_sign_symbol,
    parse_pattern,
)
from babel.support import NullTranslations
from babel.units import format_unit
from flask import Flask, current_app, g, has_app_context, request
from flask_babel import force_locale, get_locale, get_timezone, get_translations
from flask_babel.speaklater import LazyString
from jinja2 import pass_eval_context
from markupsafe import Markup, escape

from portal.reference import services as reference


def gettext(string: str, **variables) -> str:
    """Flask-Babel's gettext, with the catalog `formats()` keeps for the request; outside an app
    context (an import-time label), the text itself."""
    catalog = formats().translations if has_app_context() else NO_CATALOG
    text = catalog.ugettext(string)
    return text % variables if variables else text


def lazy_gettext(string: str, **variables) -> LazyString:
    """A string translated when it is used (in the language of the request that uses it)."""
    return LazyString(gettext, string, **variables)


_l = lazy_gettext
NO_CATALOG = NullTranslations()

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
CJK = re.compile(r"[\u3400-\u9fff]")

# One way to write a day and a moment on every page, in both languages: lists, cards, prose and
# notices alike (Babel patterns). A page that mixed 2026-11-25 with 2025/8/15 or 2025年8月15日
# read as three kinds of date.
DATE_PATTERN = "yyyy-MM-dd"
DATETIME_PATTERN = "yyyy-MM-dd HH:mm"


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
    # `{% trans %}` and `_()` in templates: the request's catalog, looked up once per request.
    app.jinja_env.newstyle_gettext = True
    app.jinja_env.globals.update(
        gettext=_template_gettext, _=_template_gettext, ngettext=_template_ngettext
    )


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
    return formats().english


def colon() -> str:
    """The label–value separator: full-width in Chinese, ": " in English."""
    return ": " if is_english() else "："


def paren(text) -> Markup:
    """An aside in brackets: full-width （…） in Chinese, (…) in English."""
    return Markup("(%s)" if is_english() else "（%s）") % text


def zh(text) -> Markup:
    """Chinese content (a name, a title, a remark) marked `lang="zh-CN"` on a page in another
    language, so a screen reader speaks it as Chinese; on a Chinese page, the text as it is."""
    if text is None or text == "":
        return Markup("")
    if not is_english() or not CJK.search(str(text)):
        return escape(text)
    return Markup('<span lang="zh-CN">%s</span>') % text


def remark(text) -> Markup:
    """A stored remark: a remark the system wrote (a msgid) in the reader's language, one a
    person wrote as it is (marked as Chinese on an English page)."""
    if not text:
        return Markup("")
    translated = gettext(text)
    return escape(translated) if translated != text else zh(text)


def is_msgid(text: str) -> bool:
    """Whether a stored text is one of the portal's own strings (the English catalog has it)."""
    if not text:
        return False
    with force_locale("en"):
        return gettext(text) != text


REFERENCE_MODELS = {
    "division": reference.Division,
    "industry": reference.Industry,
    "variety": reference.Variety,
    "category": reference.Category,
}


def reference_name(kind: str, code: str | None) -> str:
    """The localized name of a division, industry, variety or category code ("" for None)."""
    row = reference.by_code(REFERENCE_MODELS[kind], code)
    return localized(row) if row is not None else (code or "")


def localized(obj, attr: str = "name") -> str:
    """Return obj.<attr>_en in English when it is set, else the Chinese obj.<attr>."""
    return formats().localized(obj, attr)


def fmt_quantity(value: Decimal | int | None, variety: str | None = None) -> str:
    """Format a quantity with its unit, e.g. 1,234.5 吨标准煤; a missing value is shown as —."""
    return formats().qty(value, variety)


def fmt_number(value, digits: int = 0) -> str:
    return formats().num(value, digits)


def fmt_money(value: Decimal | None) -> str:
    """Format an amount in 元 (yuan), e.g. ¥1,234.00."""
    return formats().money(value)


def fmt_price(value: Decimal | None, variety: str | None = None) -> str:
    """Format a unit price, e.g. ¥123.45/吨标准煤."""
    return formats().price(value, variety)


def fmt_date(value: date | datetime | None, pattern: str = DATE_PATTERN) -> str:
    """A day, e.g. 2026-11-25 (a moment is shown as the day it falls on in the portal's zone)."""
    return formats().fdate(value, pattern)


def fmt_datetime(value: datetime | None, pattern: str = DATETIME_PATTERN) -> str:
    """A moment in the portal's time zone, e.g. 2026-11-25 14:30."""
    return formats().fdatetime(value, pattern)


def local_today() -> date:
    """Today in the portal's time zone (BABEL_DEFAULT_TIMEZONE): the day deadlines count in."""
    return datetime.now(get_timezone()).date()


def local_date(value: datetime) -> date:
    """The day a stored (naive UTC) moment falls on in the portal's time zone."""
    return _as_utc(value).astimezone(get_timezone()).date()


def file_size(size: int) -> str:
    """A byte count for people, e.g. 1.2 MB, formatted by Babel for the current locale."""
    for unit, factor in (("digital-megabyte", 1024**2), ("digital-kilobyte", 1024)):
        if size >= factor:
            return format_unit(
                size / factor, unit, length="short", format="#,##0.#", locale=get_locale()
            )
    return format_unit(size, "digital-byte", length="short", locale=get_locale())


class RequestFormats:
    """Babel's formatters, bound once to the request's locale, time zone and catalog.

    Flask-Babel resolves the locale through the app context for every value it formats and every
    string it translates: on a list page that cost more than the formatting itself (docs/decisions.md,
    render cost). This class holds what one language needs; `formats()` keeps one per request.
    """

    def __init__(self):
        self.locale = get_locale()
        self.tzinfo = get_timezone()
        self.translations = get_translations()
        self.english = str(self.locale).startswith("en")
        # Translated template texts without variables, by (text, autoescape).
        self.texts: dict[tuple[str, bool], str] = {}

    @cached_property
    def units(self) -> dict[str, str]:
        return {code: str(label) for code, label in UNITS.items()}

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
        return format_currency(value, "CNY", locale=self.locale)

    def price(self, value, variety=None) -> str:
        if value is None:
            return "—"
        unit = self.units.get(variety or "")
        return f"{self.money(value)}/{unit}" if unit else self.money(value)

    def fdate(self, value, pattern: str = DATE_PATTERN) -> str:
        if value is None:
            return "—"
        if isinstance(value, datetime):
            return dates.format_datetime(
                _as_utc(value), pattern, tzinfo=self.tzinfo, locale=self.locale
            )
        return dates.format_date(value, pattern, locale=self.locale)

    def fdatetime(self, value, pattern: str = DATETIME_PATTERN) -> str:
        if value is None:
            return "—"
        return dates.format_datetime(
            _as_utc(value), pattern, tzinfo=self.tzinfo, locale=self.locale
        )

    def localized(self, obj, attr: str = "name") -> str:
        if obj is None:
            return ""
        if self.english:
            english = getattr(obj, f"{attr}_en", None)
            if english:
                return english
        return getattr(obj, attr)


SAMPLE = Decimal("1234567.89")


class FastFormats(RequestFormats):
    """RequestFormats with quantities, numbers, amounts and prices of non-negative decimals
    formatted without Babel's pattern engine (the same text); anything else goes to Babel.

    Babel's pattern engine costs about 0.15 ms a value, and a statistics page shows about 1,300
    of them. The locale's own symbols and the place of the currency sign are read from Babel once
    (by formatting a sample), then each value is formatted with Python's grouping and those
    symbols. tests/main/test_formats.py checks that every output equals Babel's in both languages.
    """

    def __init__(self):
        super().__init__()
        self.group = get_group_symbol(locale=self.locale)
        self.minus = get_minus_sign_symbol(locale=self.locale)
        self.decimal_sign = get_decimal_symbol(locale=self.locale)
        sample = format_currency(SAMPLE, "CNY", locale=self.locale)
        shown = self._grouped(SAMPLE, 2)
        self.money_prefix, found, self.money_suffix = sample.partition(shown)
        self.fast = bool(found)

    def _grouped(self, value: Decimal, places: int) -> str:
        text = f"{value:,.{places}f}"
        if self.group == "," and self.decimal_sign == ".":
            return text
        return text.replace(",", "\0").replace(".", self.decimal_sign).replace("\0", self.group)

    def _plain(self, value) -> bool:
        return self.fast and isinstance(value, Decimal | int) and value >= 0

    def qty(self, value, variety=None) -> str:
        if self.fast and isinstance(value, Decimal | int) and value < 0:
            # A debit on the ledger: the locale's minus sign before the same digits.
            return self.minus + self.qty(-value, variety)
        if not self._plain(value):
            return super().qty(value, variety)
        number = self._grouped(Decimal(value).quantize(Decimal("0.0001")), 4)
        number = number.rstrip("0").rstrip(self.decimal_sign)
        unit = self.units.get(variety or "")
        return f"{number} {unit}" if unit else number

    def num(self, value, digits: int = 0) -> str:
        if not self._plain(value):
            return super().num(value, digits)
        return self._grouped(Decimal(value).quantize(Decimal(1).scaleb(-digits)), digits)

    def money(self, value) -> str:
        if not self._plain(value):
            return super().money(value)
        number = self._grouped(Decimal(value).quantize(Decimal("0.01")), 2)
        return f"{self.money_prefix}{number}{self.money_suffix}"

    def fdate(self, value, pattern: str = DATE_PATTERN) -> str:
        # yyyy-MM-dd (every page's dates) is the ISO date of the day in the portal's zone.
        if pattern == "yyyy-MM-dd" and value is not None:
            day = (
                _as_utc(value).astimezone(self.tzinfo).date()
                if isinstance(value, datetime)
                else value
            )
            return day.isoformat()
        return super().fdate(value, pattern)


def formats() -> RequestFormats:
    """The request's formatters and catalog, made once per request and language.

    Kept in the app context's `g`, keyed by the locale object Flask-Babel chose, so `force_locale`
    (a mail in its reader's language) gets its own and finds the page's again afterwards.
    """
    state = g._get_current_object().__dict__  # outside an app context: RuntimeError
    babel = state.get("_flask_babel")
    locale = babel.__dict__.get("babel_locale") if babel is not None else None
    cached = state.get("_portal_formats")
    if cached is not None and locale is not None and cached.locale is locale:
        return cached
    current = FastFormats()
    state["_portal_formats"] = current
    return current


@pass_eval_context
def _template_gettext(eval_ctx, string: str, **variables) -> str:
    """Jinja's newstyle gettext, with the catalog of `formats()`: autoescaped, and always a
    %-format (as Jinja's own), so a translated `%` is written `%%` either way. A text without
    variables is the same every time in a request (a column's label on every row), so it is
    made once."""
    fmt = formats()
    if not variables:
        key = (string, eval_ctx.autoescape)
        done = fmt.texts.get(key)
        if done is None:
            done = fmt.texts[key] = _translated(fmt, eval_ctx, string, variables)
        return done
    return _translated(fmt, eval_ctx, string, variables)


def _translated(fmt: RequestFormats, eval_ctx, string: str, variables: dict) -> str:
    text = fmt.translations.ugettext(string)
    if eval_ctx.autoescape:
        text = Markup(text)
    return text % variables


@pass_eval_context
def _template_ngettext(eval_ctx, singular: str, plural: str, n: int, **variables) -> str:
    variables.setdefault("num", n)
    text = formats().translations.ungettext(singular, plural, n)
    if eval_ctx.autoescape:
        text = Markup(text)
    return text % variables


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
    "remark": remark,
    "paren": paren,
    "unit_of": lambda variety: UNITS.get(variety, ""),
}


TEMPLATE_FILTERS = {"zh": zh}


# ---------------------------------------------------------------- texts kept to be shown later


class Message:
    """A text kept in the database to be shown later in the reader's language: a msgid and its
    parameters (JSON), translated each time it is shown.

    An inbox notice outlives the request that wrote it (a Chinese-speaking official's, or
    `flask tick`'s), so text translated when it was written would stay in that language.
    A parameter is kept as what it is, not as text: a Message or lazy string (translated when
    shown), `Message.day(...)`, `.quantity(...)`, `.money(...)`, `.price(...)`, `.reference(...)`
    (formatted when shown) or `.chinese(...)` (a name or remark someone typed); a str or int
    as it is.
    """

    def __init__(self, msgid, **params):
        # the msgid of `_l("…")`: the catalogs find it there, the message keeps the string itself
        self.msgid = str(msgid._args[0]) if isinstance(msgid, LazyString) else str(msgid)
        self.params = {name: _kept(value) for name, value in params.items()}

    @staticmethod
    def day(value: date) -> dict:
        return {"day": value.isoformat()}

    @staticmethod
    def quantity(value, variety: str | None) -> dict:
        return {"quantity": str(value), "variety": variety}

    @staticmethod
    def money(value) -> dict:
        return {"money": str(value)}

    @staticmethod
    def price(value, variety: str | None) -> dict:
        return {"price": str(value), "variety": variety}

    @staticmethod
    def reference(kind: str, code: str) -> dict:
        return {"reference": kind, "code": code}

    @staticmethod
    def chinese(text: str) -> dict:
        return {"chinese": text or ""}

    @classmethod
    def pair(cls, title, body, **params) -> tuple[Message, Message]:
        """A notice's title and body from the same parameters (each uses those it names)."""
        return cls(title, **params), cls(body, **params)

    @classmethod
    def about(cls, msgid, name: str, **params) -> Message:
        """A message about something named in Chinese (a project, a unit): its `%(name)s`."""
        return cls(msgid, name=cls.chinese(name), **params)

    @classmethod
    def remark(cls, text: str):
        """A remark: one the portal wrote (its own msgid) translated, one a person typed as is."""
        return cls(text) if is_msgid(text) else cls.chinese(text)

    def to_json(self) -> dict:
        return {"msgid": self.msgid, "params": self.params}

    @classmethod
    def from_json(cls, data: dict) -> Message:
        message = cls(data["msgid"])
        message.params = dict(data.get("params") or {})
        return message

    def text(self) -> str:
        """The text in the current language (for mail, and the stored fallback)."""
        return str(self._render(html=False))

    def html(self) -> Markup:
        """The text in the current language, escaped, Chinese content marked as such."""
        return self._render(html=True)

    __str__ = text

    def _render(self, html: bool):
        template = gettext(self.msgid)
        if not self.params:
            return escape(template) if html else template
        shown = {name: _shown(value, html) for name, value in self.params.items()}
        if html:
            return Markup(escape(template)) % shown
        return template % shown


def shown_text(data: dict | None, fallback: str, html: bool = True):
    """A kept Message (its JSON) in the reader's language, else the text stored beside it."""
    if data:
        message = Message.from_json(data)
        return message.html() if html else message.text()
    return zh(fallback) if html else fallback


def _kept(value):
    if isinstance(value, Message):
        return {"message": value.to_json()}
    if isinstance(value, LazyString):
        return {"message": Message(value).to_json()}
    if isinstance(value, date):
        return Message.day(value)
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, str | int | float | dict):
        return value
    raise TypeError(f"a Message parameter cannot keep {type(value).__name__}")


def _shown(value, html: bool):
    if not isinstance(value, dict):
        return "" if value is None else value
    if "message" in value:
        return Message.from_json(value["message"])._render(html)
    if "day" in value:
        return fmt_date(date.fromisoformat(value["day"]))
    if "quantity" in value:
        return fmt_quantity(Decimal(value["quantity"]), value.get("variety"))
    if "money" in value:
        return fmt_money(Decimal(value["money"]))
    if "price" in value:
        return fmt_price(Decimal(value["price"]), value.get("variety"))
    if "reference" in value:
        return reference_name(value["reference"], value["code"])
    if "chinese" in value:
        return zh(value["chinese"]) if html else value["chinese"]
    raise ValueError(f"unknown Message parameter {sorted(value)}")
