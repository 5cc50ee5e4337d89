"""Filter forms of the listing, trade and enterprise lists (built on portal/lists.py)."""

from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import (
    RadioField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.disclosure import labels
from portal.forms import FlaskForm
from portal.i18n import lazy_gettext as _l
from portal.lists import (
    ChineseDateField,
    Choice,
    ChoiceFilterForm,
    fixed_choices,
    label_choices,
    optional_choice,
    sort_choice,
)


class ListingFilterForm(ChoiceFilterForm):
    division = optional_choice(_l("地区"))
    variety = optional_choice(_l("交易品种"))
    category = optional_choice(_l("交易类别"))
    status = optional_choice(_l("挂牌状态"))
    industry = optional_choice(_l("行业"))
    date_from = ChineseDateField(_l("挂牌开始日期 从"), validators=[Optional()])
    date_to = ChineseDateField(_l("至"), validators=[Optional()])
    sort = sort_choice("-date")

    CHOICES = {
        "status": label_choices(labels.LISTING_STATUS),
        "sort": fixed_choices(
            ("-date", _l("挂牌日期，新的在前")),
            ("date", _l("挂牌日期，早的在前")),
            ("-price", _l("挂牌价格，高的在前")),
            ("price", _l("挂牌价格，低的在前")),
            ("-quantity", _l("挂牌数量，多的在前")),
        ),
    }


class TradeFilterForm(ChoiceFilterForm):
    division = optional_choice(_l("地区（买方或卖方）"))
    variety = optional_choice(_l("交易品种"))
    category = optional_choice(_l("交易类别"))
    method = optional_choice(_l("交易方式"))
    industry = optional_choice(_l("行业"))
    date_from = ChineseDateField(_l("成交日期 从"), validators=[Optional()])
    date_to = ChineseDateField(_l("至"), validators=[Optional()])
    sort = sort_choice("-date")

    CHOICES = {
        "method": label_choices(labels.TRADE_METHOD),
        "sort": fixed_choices(
            ("-date", _l("成交日期，新的在前")),
            ("date", _l("成交日期，早的在前")),
            ("-amount", _l("成交金额，高的在前")),
            ("-price", _l("成交价格，高的在前")),
            ("price", _l("成交价格，低的在前")),
        ),
    }


class EnterpriseFilterForm(ChoiceFilterForm):
    division = optional_choice(_l("地区"))
    industry = optional_choice(_l("行业"))


# ---- Back-office entry: one listing or trade by hand, or a file of them ----


class ImportForm(FlaskForm):
    kind = RadioField(_l("数据类型"), validators=[InputRequired(message=_l("请选择数据类型。"))])
    file = FileField(_l("文件（CSV、XLSX 或 JSON）"))


def _text(label, required=False, description=None, max_len=120):
    validators = [DataRequired(message=_l("此项不能为空。"))] if required else [Optional()]
    return StringField(
        label, description=description, validators=validators + [Length(max=max_len)]
    )


class ListingForm(FlaskForm):
    """One listing by hand; the same checks as a batch row (review/market.py: check_listing)."""

    number = _text(_l("挂牌编号"), required=True, max_len=32)
    variety = SelectField(_l("交易品种"))
    category = SelectField(_l("交易类别"))
    seller_kind = SelectField(_l("卖方类型"))
    seller_uscc = _text(
        _l("卖方统一社会信用代码"), description=_l("卖方为企业时必填，须为已登记企业。"), max_len=18
    )
    seller_name = _text(_l("卖方名称"), description=_l("卖方为市级或省级时必填。"))
    division_code = _text(_l("卖方所在地（行政区划代码）"), max_len=6)
    quantity = _text(_l("挂牌数量"), required=True, max_len=24)
    remaining_quantity = _text(_l("剩余数量"), description=_l("不填则等于挂牌数量。"), max_len=24)
    listed_price = _text(_l("挂牌价格（元）"), required=True, max_len=24)
    starts_on = _text(
        _l("挂牌开始日期"), required=True, description=_l("格式：年-月-日"), max_len=10
    )
    ends_on = _text(_l("挂牌截止日期"), required=True, description=_l("格式：年-月-日"), max_len=10)
    method = SelectField(_l("交易方式"))
    status = SelectField(_l("状态"))
    contact_name = _text(_l("联系人"), max_len=40)
    contact_phone = _text(_l("联系电话"), max_len=40)


class TradeForm(FlaskForm):
    """One trade by hand; the same checks as a batch row (review/market.py: check_trade)."""

    number = _text(_l("成交编号"), required=True, max_len=32)
    listing_number = _text(_l("关联挂牌编号"), max_len=32)
    variety = SelectField(_l("交易品种"))
    category = SelectField(_l("交易类别"))
    quantity = _text(_l("成交数量"), required=True, max_len=24)
    unit_price = _text(_l("成交单价（元）"), required=True, max_len=24)
    amount = _text(_l("成交金额（元）"), description=_l("不填则按 数量×单价 计算。"), max_len=24)
    buyer_uscc = _text(
        _l("买方统一社会信用代码"),
        description=_l("买卖双方都是已登记企业时，系统自动在登记簿登记转让。"),
        max_len=18,
    )
    buyer_name = _text(_l("买方名称"))
    seller_uscc = _text(_l("卖方统一社会信用代码"), max_len=18)
    seller_name = _text(_l("卖方名称"))
    trade_date = _text(_l("成交日期"), required=True, description=_l("格式：年-月-日"), max_len=10)
    method = SelectField(_l("交易方式"))
    settlement_status = SelectField(_l("结算状态"))


PERIODS = fixed_choices(
    ("12", _l("近 12 个月")),
    ("24", _l("近 24 个月")),
    ("all", _l("开市以来")),
    ("custom", _l("自定义时段")),
)


class StatisticsFilterForm(ChoiceFilterForm):
    """The statistics page's choices: a period, then variety, category and division."""

    period = Choice(_l("时段"), validators=[Optional()], default="")
    date_from = ChineseDateField(_l("自定义时段 从"), validators=[Optional()])
    date_to = ChineseDateField(_l("至"), validators=[Optional()])
    variety = optional_choice(_l("交易品种"))
    category = optional_choice(_l("交易类别"))
    division = optional_choice(_l("地区（买方或卖方）"))

    CHOICES = {
        "period": lambda: [("", _l("近 24 个月（默认）")), *PERIODS()],
    }

    @property
    def chosen_period(self) -> str:
        """The period in force: dates without a period choice mean a custom one."""
        if self.period.data:
            return self.period.data
        return "custom" if self.date_from.data or self.date_to.data else "24"


class DayReportForm(ChoiceFilterForm):
    """The daily report's choices: the day, then variety, category and division."""

    day = ChineseDateField(_l("日期"), validators=[Optional()])
    variety = optional_choice(_l("交易品种"))
    category = optional_choice(_l("交易类别"))
    division = optional_choice(_l("地区（买方或卖方）"))
