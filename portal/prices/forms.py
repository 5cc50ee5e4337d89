"""Forms of 有偿使用: a reference price, a receipt, a 收储 decision (labels with lazy_gettext)."""

from __future__ import annotations

from datetime import date

from wtforms import DateField as _DateField
from wtforms import RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.forms import AMOUNT_LIMIT, FlaskForm, PrefixedIds, SelectField, money_field
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.text import to_halfwidth


class DateField(_DateField):
    """A date typed as 年-月-日, with the message in the visitor's language."""

    def process_formdata(self, valuelist):
        if not valuelist or not (valuelist[0] or "").strip():
            self.data = None
            return
        try:
            self.data = date.fromisoformat(to_halfwidth(valuelist[0]).strip())
        except ValueError:
            self.data = None
            raise ValueError(_("请按“年-月-日”填写日期，例如 2026-01-31。")) from None


class ReferencePriceForm(PrefixedIds, FlaskForm):
    """A new reference price (it supersedes the earlier ones from its effective day)."""

    id_prefix = "price-"

    variety_code = SelectField(
        _l("交易品种"), validators=[InputRequired(message=_l("请选择交易品种。"))]
    )
    category_code = SelectField(
        _l("交易类别"), validators=[InputRequired(message=_l("请选择交易类别。"))]
    )
    price = money_field(
        _l("参考价格（元/单位）"),
        InputRequired(message=_l("请填写参考价格。")),
        description=_l("能耗指标为元/吨标准煤，煤炭指标为元/吨；最多两位小数。"),
    )
    effective_from = DateField(
        _l("生效日期"),
        validators=[InputRequired(message=_l("请填写生效日期。"))],
        render_kw={"type": "date"},
    )
    source = TextAreaField(
        _l("价格来源"),
        description=_l("例如“十三五”时期用能权指标平均交易价格，或某次竞价的公告编号和成交日期。"),
        validators=[DataRequired(message=_l("请写明价格来源。")), Length(max=500)],
    )


class ReceiptForm(PrefixedIds, FlaskForm):
    """The trading platform's receipt of a payment notice."""

    id_prefix = "receipt-"

    reference = StringField(
        _l("缴款凭证编号"),
        description=_l("交易平台出具的缴款凭证（回单）编号，每个编号只能登记一次。"),
        validators=[DataRequired(message=_l("请填写交易平台的缴款凭证编号。")), Length(max=64)],
    )
    paid_amount = money_field(
        _l("实缴金额（元）"), InputRequired(message=_l("请填写实缴金额。")), maximum=AMOUNT_LIMIT
    )
    paid_on = DateField(
        _l("缴款日期"),
        validators=[InputRequired(message=_l("请填写缴款日期。"))],
        render_kw={"type": "date"},
    )


DECISIONS = [
    SelectChoice("buy", _l("收储：由本市按收储单价购入")),
    SelectChoice("release", _l("放行：指标发放给单位")),
]


class ReserveDecisionForm(PrefixedIds, FlaskForm):
    """The city's decision on an offer: buy back (with a price) or release."""

    id_prefix = "reserve-"

    decision = RadioField(
        _l("收储决定"),
        choices=DECISIONS,
        validators=[InputRequired(message=_l("请选择收储或放行。"))],
    )
    unit_price = money_field(
        _l("收储单价（元/单位）"),
        Optional(),
        description=_l("选择收储时填写；金额 = 数量 × 单价，按分四舍五入。"),
    )
    remark = TextAreaField(_l("说明"), validators=[Optional(), Length(max=1000)])


# An auction price and its source, where a notice is priced (the province's approval of a 两高
# purchase, a reissued notice): empty, the reference price in force applies. Each call makes new
# fields, which keep their place among the form's other fields.
def auction_price_field():
    return money_field(
        _l("竞价成交单价（元/单位，可选）"),
        Optional(),
        description=_l("不填写则按当日现行参考价格计价。"),
    )


def auction_source_field():
    return TextAreaField(
        _l("竞价价格来源"),
        description=_l("填写竞价成交单价时必填，例如竞价公告编号和成交日期。"),
        validators=[Optional(), Length(max=500)],
    )


class ReissueForm(PrefixedIds, FlaskForm):
    """A new notice for an expired one: the price in force today, or an auction price."""

    id_prefix = "reissue-"

    auction_price = auction_price_field()
    auction_source = auction_source_field()
