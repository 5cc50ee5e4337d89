"""Filter forms for the public lists: GET forms, no CSRF (they change nothing)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.validators import Optional, ValidationError

from portal.disclosure import labels
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
    """A select whose unknown value gets a Chinese message instead of WTForms' English one."""

    def pre_validate(self, form):
        if self.data not in {value for value, _label in self.choices}:
            raise ValidationError(_l("“%(value)s”不是可选的值，请从列表中选择。", value=self.data))


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


def _division_choices():
    return [ALL] + [(d.code, localized(d)) for d in divisions()]


def _variety_choices():
    return [ALL] + [(v.code, localized(v)) for v in varieties()]


def _category_choices():
    return [ALL] + [(c.code, localized(c)) for c in categories()]


def _industry_choices():
    return [ALL] + [(i.code, localized(i)) for i in industries()]


class ListingFilterForm(FilterForm):
    division = Choice(_l("地区"), validators=[Optional()], default="")
    variety = Choice(_l("交易品种"), validators=[Optional()], default="")
    category = Choice(_l("交易类别"), validators=[Optional()], default="")
    status = Choice(_l("挂牌状态"), validators=[Optional()], default="")
    industry = Choice(_l("行业"), validators=[Optional()], default="")
    date_from = ChineseDateField(_l("挂牌开始日期 从"), validators=[Optional()])
    date_to = ChineseDateField(_l("至"), validators=[Optional()])
    sort = Choice(_l("排序"), validators=[Optional()], default="-date")

    def fill_choices(self):
        self.division.choices = _division_choices()
        self.variety.choices = _variety_choices()
        self.category.choices = _category_choices()
        self.industry.choices = _industry_choices()
        self.status.choices = [ALL] + list(labels.LISTING_STATUS.items())
        self.sort.choices = [
            ("-date", _l("挂牌日期，新的在前")),
            ("date", _l("挂牌日期，早的在前")),
            ("-price", _l("挂牌价格，高的在前")),
            ("price", _l("挂牌价格，低的在前")),
            ("-quantity", _l("挂牌数量，多的在前")),
        ]


class TradeFilterForm(FilterForm):
    division = Choice(_l("地区（买方或卖方）"), validators=[Optional()], default="")
    variety = Choice(_l("交易品种"), validators=[Optional()], default="")
    category = Choice(_l("交易类别"), validators=[Optional()], default="")
    method = Choice(_l("交易方式"), validators=[Optional()], default="")
    industry = Choice(_l("行业"), validators=[Optional()], default="")
    date_from = ChineseDateField(_l("成交日期 从"), validators=[Optional()])
    date_to = ChineseDateField(_l("至"), validators=[Optional()])
    sort = Choice(_l("排序"), validators=[Optional()], default="-date")

    def fill_choices(self):
        self.division.choices = _division_choices()
        self.variety.choices = _variety_choices()
        self.category.choices = _category_choices()
        self.industry.choices = _industry_choices()
        self.method.choices = [ALL] + list(labels.TRADE_METHOD.items())
        self.sort.choices = [
            ("-date", _l("成交日期，新的在前")),
            ("date", _l("成交日期，早的在前")),
            ("-amount", _l("成交金额，高的在前")),
            ("-price", _l("成交价格，高的在前")),
            ("price", _l("成交价格，低的在前")),
        ]


class ComplianceFilterForm(FilterForm):
    division = Choice(_l("地区"), validators=[Optional()], default="")
    industry = Choice(_l("行业"), validators=[Optional()], default="")
    variety = Choice(_l("交易品种"), validators=[Optional()], default="")
    status = Choice(_l("履约状态"), validators=[Optional()], default="")
    sort = Choice(_l("排序"), validators=[Optional()], default="name")

    def fill_choices(self):
        self.division.choices = _division_choices()
        self.industry.choices = _industry_choices()
        self.variety.choices = _variety_choices()
        self.status.choices = [ALL] + list(labels.COMPLIANCE_STATUS.items())
        self.sort.choices = [
            ("name", _l("按单位名称")),
            ("-shortfall", _l("缺口量，大的在前")),
            ("status", _l("按履约状态")),
        ]


class EnterpriseFilterForm(FilterForm):
    division = Choice(_l("地区"), validators=[Optional()], default="")
    industry = Choice(_l("行业"), validators=[Optional()], default="")

    def fill_choices(self):
        self.division.choices = _division_choices()
        self.industry.choices = _industry_choices()
