from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.forms import DecimalField, FlaskForm, PrefixedIds
from portal.i18n import lazy_gettext as _l
from portal.lists import FilterForm, optional_choice
from portal.prices.forms import auction_price_field, auction_source_field


class ActionForm(PrefixedIds, FlaskForm):
    """One review step: which action, and the remark every action needs."""

    id_prefix = "act-"

    action = RadioField(_l("办理结果"), validators=[InputRequired(message=_l("请选择办理结果。"))])
    remark = TextAreaField(
        _l("办理意见"),
        description=_l("退回、不予通过和通过都须填写意见；意见会告知企业。"),
        validators=[DataRequired(message=_l("请填写办理意见。")), Length(max=2000)],
    )
    version = HiddenField()
    verified_energy = DecimalField(
        _l("核定节能量（能耗指标，吨标准煤）"), places=4, minimum=0, validators=[Optional()]
    )
    verified_coal = DecimalField(
        _l("核定节煤量（煤炭指标，吨）"), places=4, minimum=0, validators=[Optional()]
    )
    report = FileField(_l("第三方审核报告（PDF）"))
    # The province's approval of a 两高 purchase: empty, the reference price in force applies.
    auction_price = auction_price_field()
    auction_source = auction_source_field()


QUEUE_SORT_LABELS = {
    "waiting": _l("等待最久的在前"),
    "recent": _l("最近到达的在前"),
    "number": _l("按申报编号"),
    "enterprise": _l("按单位"),
}


class QueueFilterForm(FilterForm):
    """The queue's filters (GET, no CSRF); choices are set by the view in the visitor's language."""

    kind = optional_choice(_l("申报类型"))
    status = optional_choice(_l("当前状态"))
    division = optional_choice(_l("地区"))
    overdue = BooleanField(_l("只看超期"))
    sort = optional_choice(_l("排序"))


class AssignAuditorForm(PrefixedIds, FlaskForm):
    id_prefix = "assign-"

    audit_firm_id = SelectField(_l("第三方审核机构"), validators=[DataRequired()])
    remark = TextAreaField(_l("说明"), validators=[Optional(), Length(max=500)])


class CorrectionForm(PrefixedIds, FlaskForm):
    """核减: which quantity, its new value, and why (the enterprise reads the reason)."""

    id_prefix = "correct-"

    field = SelectField(_l("核减的数量"), validators=[InputRequired(message=_l("请选择。"))])
    corrected = DecimalField(
        _l("核减后的数量"),
        places=4,
        minimum=0,
        validators=[InputRequired(message=_l("请填写核减后的数量。"))],
    )
    reason = TextAreaField(
        _l("核减理由"),
        description=_l("理由会告知企业，并显示在企业的申报页面上。"),
        validators=[DataRequired(message=_l("请填写核减理由。")), Length(max=2000)],
    )
    version = HiddenField()
