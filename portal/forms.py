"""What every form shares: the base class that refuses control characters, and bounded numbers.

Every feature's forms import `FlaskForm` from here, not from flask_wtf, so that no text field
anywhere accepts a control character. Numbers typed into a form must fit the column that stores
them: a quantity is Numeric(18, 4), a price Numeric(14, 2), an amount Numeric(20, 2); NaN,
Infinity and sNaN are never numbers. The same limits guard the paths that do not pass through a
form (the batch import, the services): `decimal_problem()` is the one rule.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation

import flask_wtf
import wtforms
from flask_babel import format_decimal
from markupsafe import Markup, escape
from wtforms.fields import StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError
from wtforms.widgets import Select, html_params

from portal.i18n import gettext as _
from portal.text import to_halfwidth

# Exclusive upper bounds, one per kind of column (precision minus scale digits before the point).
QUANTITY_LIMIT = Decimal(10) ** 14  # Numeric(18, 4): tce or t
PRICE_LIMIT = Decimal(10) ** 12  # Numeric(14, 2): yuan per unit
AMOUNT_LIMIT = Decimal(10) ** 18  # Numeric(20, 2): yuan
QUANTITY_PLACES = 4
MONEY_PLACES = 2

# A multi-line field keeps its line breaks and tabs; a single-line field takes none.
MULTILINE_ALLOWED = frozenset("\t\n\r")


def control_characters(text: str, allowed: frozenset[str] = frozenset()) -> set[str]:
    """The control characters (Unicode category Cc) in `text` other than `allowed`."""
    return {ch for ch in text if ch not in allowed and unicodedata.category(ch) == "Cc"}


def decimal_problem(
    number: Decimal,
    *,
    places: int = QUANTITY_PLACES,
    minimum: Decimal | int | None = 0,
    maximum: Decimal | int | None = QUANTITY_LIMIT,
    minimum_inclusive: bool = True,
) -> str | None:
    """Why `number` cannot be stored (a message in the visitor's language), or None when it can.

    `maximum` is exclusive: it is the first value the column cannot hold.
    """
    if not number.is_finite():
        return _("请填写有限的数字，不能是 Infinity 或 NaN。")
    if minimum is not None:
        if minimum_inclusive and number < minimum:
            if minimum == 0:
                return _("不能为负数。")
            return _("不能小于 %(min)s。", min=format_decimal(minimum))
        if not minimum_inclusive and number <= minimum:
            if minimum == 0:
                return _("必须大于零。")
            return _("必须大于 %(min)s。", min=format_decimal(minimum))
    if maximum is not None and number >= maximum:
        return _("数值过大（须小于 %(max)s），请核对单位。", max=format_decimal(maximum))
    if -number.as_tuple().exponent > places:
        return _("最多保留 %(n)s 位小数。", n=places)
    return None


def parse_decimal(text: str) -> Decimal | None:
    """A decimal as people type it (full-width digits, thousands separators); None when empty.

    Raises ValueError with a message in the visitor's language when it is not a number.
    """
    cleaned = to_halfwidth(text or "").replace(",", "").replace(" ", "").strip()
    if not cleaned:
        return None
    try:
        return Decimal(cleaned)
    except (InvalidOperation, ValueError):
        raise ValueError(_("请填写数字，例如 1234.5。")) from None


def whole_number(text: str | None, maximum: int = 2**31 - 1) -> int | None:
    """ASCII digits up to `maximum` as an int (a version or an id from a hidden field), else None.

    str.isdigit() is true for "①" and "²", which int() refuses, so it is no guard on its own.
    """
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(maximum)):
        return None
    number = int(text)
    return number if number <= maximum else None


class FlaskForm(flask_wtf.FlaskForm):
    """Flask-WTF's form, whose text fields refuse control characters with a message beside them.

    A TextAreaField keeps tabs and line breaks; every other text field (StringField and its
    subclasses: passwords, hidden fields, search boxes) takes no control character at all.
    """

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            if not isinstance(field, StringField) or not field.raw_data:
                continue
            allowed = MULTILINE_ALLOWED if isinstance(field, TextAreaField) else frozenset()
            if any(
                isinstance(raw, str) and control_characters(raw, allowed) for raw in field.raw_data
            ):
                message = (
                    _("不能含有控制字符，请删除后重试。")
                    if allowed
                    else _("不能含有换行、制表符或其他控制字符，请改为一行文字。")
                )
                field.errors = [*field.errors, message]
                valid = False
        return valid


class OptionsSelect(Select):
    """WTForms' <select>, its plain options written directly.

    WTForms writes each option through its general attribute writer (a sorted dict and a
    Markup.format per attribute) and inspects render_option's signature once per select: on a list
    page with a filter bar of a hundred options that was a tenth of the page's CPU. An option with
    extra attributes still goes through WTForms; the text is the same either way.
    """

    # (id of the choices, coerce, selected value) → (the choices, their options written); the
    # choices are kept so that an id reused by another tuple is not mistaken for them.
    _written: dict = {}
    WRITTEN_MAX = 2048

    def __call__(self, field, **kwargs):
        """A select whose choices are a shared tuple (lists.per_language) writes its options
        once per selected value; any other select is written as WTForms writes it."""
        choices = field.choices
        if self.multiple or type(choices) is not tuple:
            return super().__call__(field, **kwargs)
        try:
            key = (id(choices), field.coerce, field.data)
            kept = self._written.get(key)
        except TypeError:  # an unhashable value
            return super().__call__(field, **kwargs)
        if kept is None or kept[0] is not choices:
            if field.has_groups():
                return super().__call__(field, **kwargs)
            options = "".join(self.render_option(c) for c in field._iter_choices_normalized())
            if len(self._written) >= self.WRITTEN_MAX:
                self._written.clear()
            kept = self._written[key] = (choices, options)
        kwargs.setdefault("id", field.id)
        flags = field.flags
        for name in self.validation_attrs:
            if name not in kwargs and getattr(flags, name, False):
                kwargs[name] = getattr(flags, name)
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{kept[1]}</select>")

    @classmethod
    def _dispatch_render_option(cls):
        return cls.render_option

    @classmethod
    def render_option(cls, choice, **kwargs):
        if kwargs or choice.render_kw:
            return super().render_option(choice, **kwargs)
        value = choice.value
        if isinstance(value, bool):
            value = str(value)
        value = escape(value).replace(Markup('"'), Markup("&quot;"))
        label = escape(choice.label or choice.value)
        selected = "selected " if choice.selected else ""
        return Markup(f'<option {selected}value="{value}">{label}</option>')


class SelectField(wtforms.SelectField):
    widget = OptionsSelect()


class PrefixedIds:
    """Give every field's element id (and its label's `for`) a prefix, names unchanged.

    A back-office page holds several forms; each names its fields like the others (csrf_token,
    remark, version), and an id must not repeat on a page. The posted names stay as they are.
    """

    id_prefix = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self:
            field.id = f"{self.id_prefix}{field.id}"
            field.label.field_id = field.id


class NumberBox:
    """A number typed into a box: no value posted keeps the data; otherwise the data is what
    `number` makes of the text (None for an empty box), and a ValueError is the field's error."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.data = None
        self.data = self.number(valuelist[0])


class DecimalField(NumberBox, wtforms.DecimalField):
    """A finite decimal within [minimum, maximum) with at most `places` decimals; None when empty.

    The defaults fit a quantity (Numeric(18, 4), not negative). Pass the bounds of the column and
    of the rule per field, e.g. a price: places=2, maximum=PRICE_LIMIT.
    """

    def __init__(
        self,
        label=None,
        validators=None,
        places: int = QUANTITY_PLACES,
        minimum: Decimal | int | None = 0,
        maximum: Decimal | int | None = QUANTITY_LIMIT,
        minimum_inclusive: bool = True,
        **kwargs,
    ):
        super().__init__(label, validators, places=places, **kwargs)
        self.minimum = minimum
        self.maximum = maximum
        self.minimum_inclusive = minimum_inclusive

    def number(self, text: str) -> Decimal | None:
        number = parse_decimal(text)  # raises ValueError with its message
        if number is None:
            return None
        problem = decimal_problem(
            number,
            places=self.places,
            minimum=self.minimum,
            maximum=self.maximum,
            minimum_inclusive=self.minimum_inclusive,
        )
        if problem:
            raise ValueError(problem)
        return number

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)


def money_field(label, *validators, description=None, maximum=PRICE_LIMIT) -> DecimalField:
    """A sum in yuan above zero, to the fen: a price per unit, or with maximum=AMOUNT_LIMIT an
    amount."""
    return DecimalField(
        label,
        list(validators),
        places=MONEY_PLACES,
        minimum=0,
        minimum_inclusive=False,
        maximum=maximum,
        description=description,
    )


class TypedField(StringField):
    """A text box that `parse` turns into `.data`: what was typed is shown again as typed, and text
    that does not parse (ValueError) is the field's error."""

    def process_formdata(self, valuelist):
        self.raw = valuelist[0] if valuelist else ""
        self.data = None
        self.parse_error = None
        try:
            self.data = self.parse(self.raw)
        except ValueError as error:
            self.parse_error = str(error)

    def parse(self, text: str):
        raise NotImplementedError

    def shown(self, value) -> str:
        return str(value)

    def _value(self):
        return getattr(self, "raw", None) or ("" if self.data is None else self.shown(self.data))

    def pre_validate(self, form):
        if getattr(self, "parse_error", None):
            raise ValidationError(self.parse_error)


class DayField(TypedField):
    """A date typed as 年-月-日 (the browser's date picker sends that form too)."""

    def parse(self, text: str) -> date | None:
        text = to_halfwidth(text or "").strip().replace("/", "-").replace(".", "-")
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValueError(_("请按“年-月-日”填写日期，例如 2024-06-30。")) from None

    def shown(self, value) -> str:
        return value.isoformat()


class IntegerField(NumberBox, wtforms.IntegerField):
    """A whole number within [minimum, maximum] (both required); a Chinese message otherwise."""

    def __init__(
        self, label=None, validators=None, *, minimum: int, maximum: int, message=None, **kwargs
    ):
        super().__init__(label, validators, **kwargs)
        self.minimum = minimum
        self.maximum = maximum
        self.message = message

    def number(self, text: str) -> int | None:
        text = to_halfwidth(text or "").strip()
        if not text:
            return None
        digits = text.removeprefix("-")
        if (
            not (digits.isascii() and digits.isdigit())
            or len(digits) > 12
            or not self.minimum <= int(text) <= self.maximum
        ):
            raise ValueError(
                str(self.message)
                if self.message
                else _("请填写 %(min)s 到 %(max)s 之间的整数。", min=self.minimum, max=self.maximum)
            )
        return int(text)


class ConfirmForm(FlaskForm):
    """A POST with only the CSRF token (publish, run)."""


def options(pairs) -> list[SelectChoice]:
    """WTForms 3.3 wants SelectChoice objects, not (value, label) tuples."""
    return [SelectChoice(str(value), label) for value, label in pairs]
