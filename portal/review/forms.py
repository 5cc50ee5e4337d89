from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, Regexp

from portal.forms import DecimalField, FlaskForm, IntegerField


class ActionForm(FlaskForm):
    """One review step: which action, and the remark every action needs."""

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


class QueueFilterForm(FlaskForm):
    class Meta:
        csrf = False

    kind = SelectField(_l("申报类型"), validators=[Optional()])
    overdue = BooleanField(_l("只看超期"))


class PeriodForm(FlaskForm):
    year = IntegerField(
        _l("履约年度"),
        minimum=2016,
        maximum=2100,
        message=_l("年度须在 2016 到 2100 之间。"),
        validators=[InputRequired(message=_l("请填写年度。"))],
    )
    filing_deadline = DateField(
        _l("报送截止日期"), validators=[InputRequired(message=_l("请填写截止日期（年-月-日）。"))]
    )
    note = TextAreaField(_l("说明"), validators=[Optional(), Length(max=2000)])


class RecordStatusForm(FlaskForm):
    enterprise_id = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9]{1,9}$")])
    variety_code = HiddenField(validators=[DataRequired()])
    status = SelectField(_l("履约状态"), validators=[DataRequired()])
    actual = DecimalField(_l("实际消费量"), places=4, minimum=0, validators=[Optional()])
    rectify_by = DateField(
        _l("限期履约日期"),
        description=_l("未履约单位必须填写。"),
        validators=[Optional()],
    )


class RepublishForm(FlaskForm):
    reason = TextAreaField(
        _l("更正原因"),
        description=_l("会随更正后的名单一起公开，原名单保留在修改记录中。"),
        validators=[DataRequired(message=_l("请填写更正原因。")), Length(max=500)],
    )


class ConfirmForm(FlaskForm):
    """A POST with only the CSRF token (publish, run)."""


class AssignAuditorForm(FlaskForm):
    audit_firm_id = SelectField(_l("第三方审核机构"), validators=[DataRequired()])
    remark = TextAreaField(_l("说明"), validators=[Optional(), Length(max=500)])


class BackOfficeUserForm(FlaskForm):
    email = StringField(
        _l("电子邮箱"),
        validators=[
            DataRequired(message=_l("请填写电子邮箱。")),
            Email(message=_l("电子邮箱格式不正确。")),
            Length(max=254),
        ],
    )
    name = StringField(
        _l("姓名"), validators=[DataRequired(message=_l("请填写姓名。")), Length(max=60)]
    )
    role = SelectField(_l("角色"), validators=[DataRequired()])
    division_code = SelectField(
        _l("所属省辖市"), description=_l("市级审核人员必须选择。"), validators=[Optional()]
    )
    audit_firm_id = SelectField(
        _l("所属审核机构"), description=_l("第三方审核人员必须选择。"), validators=[Optional()]
    )


class UserStatusForm(FlaskForm):
    active = HiddenField(validators=[DataRequired()])


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
