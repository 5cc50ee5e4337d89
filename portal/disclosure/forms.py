"""Filter forms for the public lists: GET forms, no CSRF (they change nothing)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField
from wtforms.validators import Optional, ValidationError

from portal.disclosure import labels
from portal.forms import FlaskForm
from portal.i18n import localized
from portal.reference.services import categories, divisions, industries, varieties

ALL = ("", _l("全部"))


class ChineseDateField(DateField):
    """A date field whose parse error is a clear message in the visitor's language."""

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        text = valuelist[0].strip()
        try:
            self.data = datetime.strptime(text, "%Y-%m-%d").date()
        except ValueError:
            self.data = None
            raise ValueError(_l("日期格式应为 年-月-日，例如 2024-03-01。")) from None


class Choice(SelectField):
    """A select whose unknown value gets a Chinese message instead of WTForms' English one.

    The message does not quote the value: it came from the URL, so anyone can write it, and the
    field's own select already shows what may be chosen.
    """

    def pre_validate(self, form):
        if self.data not in {value for value, _label in self.choices}:
            raise ValidationError(_l("不是可选的值，请从列表中选择。"))


class FilterForm(FlaskForm):
    class Meta:
        csrf = False

    def __init__(self, formdata, **kwargs):
        super().__init__(formdata=formdata, meta={"csrf": False}, **kwargs)
        self.fill_choices()

    def fill_choices(self) -> None:
        """Set each select's choices at request time, in the request's language."""

    def validate_date_to(self, field):
        date_from = getattr(self, "date_from", None)
        if field.data and date_from is not None and date_from.data and field.data < date_from.data:
            raise ValidationError(_l("结束日期不能早于开始日期。"))

    @property
    def active(self) -> dict:
        """The filters in force, as query arguments (sort excluded)."""
        return {
            name: f.raw_data[0]
            for name, f in self._fields.items()
            if name != "sort" and f.raw_data and f.raw_data[0]
        }


def _reference(rows):
    return lambda: [ALL] + [(row.code, localized(row)) for row in rows()]


def _labels(mapping):
    return lambda: [ALL] + list(mapping.items())


def _options(*pairs):
    return lambda: list(pairs)


def _choice(label):
    """An optional select; its choices come from the form's CHOICES at request time."""
    # strip_whitespace=False: a value of spaces is an unknown choice (400), not “no filter”
    return Choice(label, validators=[Optional(strip_whitespace=False)], default="")


class ChoiceFilterForm(FilterForm):
    # field name → a function that returns its choices, called per request (the visitor's language)
    CHOICES: dict = {}

    def fill_choices(self):
        for name, choices in self.CHOICES.items():
            self[name].choices = choices()


DIVISIONS = _reference(divisions)
VARIETIES = _reference(varieties)
CATEGORIES = _reference(categories)
INDUSTRIES = _reference(industries)


class ListingFilterForm(ChoiceFilterForm):
    division = _choice(_l("地区"))
    variety = _choice(_l("交易品种"))
    category = _choice(_l("交易类别"))
    status = _choice(_l("挂牌状态"))
    industry = _choice(_l("行业"))
    date_from = ChineseDateField(_l("挂牌开始日期 从"), validators=[Optional()])
    date_to = ChineseDateField(_l("至"), validators=[Optional()])
    sort = Choice(_l("排序"), validators=[Optional()], default="-date")

    CHOICES = {
        "division": DIVISIONS,
        "variety": VARIETIES,
        "category": CATEGORIES,
        "status": _labels(labels.LISTING_STATUS),
        "industry": INDUSTRIES,
        "sort": _options(
            ("-date", _l("挂牌日期，新的在前")),
            ("date", _l("挂牌日期，早的在前")),
            ("-price", _l("挂牌价格，高的在前")),
            ("price", _l("挂牌价格，低的在前")),
            ("-quantity", _l("挂牌数量，多的在前")),
        ),
    }


class TradeFilterForm(ChoiceFilterForm):
    division = _choice(_l("地区（买方或卖方）"))
    variety = _choice(_l("交易品种"))
    category = _choice(_l("交易类别"))
    method = _choice(_l("交易方式"))
    industry = _choice(_l("行业"))
    date_from = ChineseDateField(_l("成交日期 从"), validators=[Optional()])
    date_to = ChineseDateField(_l("至"), validators=[Optional()])
    sort = Choice(_l("排序"), validators=[Optional()], default="-date")

    CHOICES = {
        "division": DIVISIONS,
        "variety": VARIETIES,
        "category": CATEGORIES,
        "method": _labels(labels.TRADE_METHOD),
        "industry": INDUSTRIES,
        "sort": _options(
            ("-date", _l("成交日期，新的在前")),
            ("date", _l("成交日期，早的在前")),
            ("-amount", _l("成交金额，高的在前")),
            ("-price", _l("成交价格，高的在前")),
            ("price", _l("成交价格，低的在前")),
        ),
    }


class ComplianceFilterForm(ChoiceFilterForm):
    division = _choice(_l("地区"))
    industry = _choice(_l("行业"))
    variety = _choice(_l("交易品种"))
    status = _choice(_l("履约状态"))
    sort = Choice(_l("排序"), validators=[Optional()], default="name")

    CHOICES = {
        "division": DIVISIONS,
        "industry": INDUSTRIES,
        "variety": VARIETIES,
        "status": _labels(labels.COMPLIANCE_STATUS),
        "sort": _options(
            ("name", _l("按单位名称")),
            ("-shortfall", _l("缺口量，大的在前")),
            ("status", _l("按履约状态")),
        ),
    }


class EnterpriseFilterForm(ChoiceFilterForm):
    division = _choice(_l("地区"))
    industry = _choice(_l("行业"))

    CHOICES = {"division": DIVISIONS, "industry": INDUSTRIES}
