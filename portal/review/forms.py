from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional


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
        _l("核定节能量（能耗指标，吨标准煤）"),
        places=4,
        validators=[Optional(), NumberRange(min=0, message=_l("节能量不能为负数。"))],
    )
    verified_coal = DecimalField(
        _l("核定节煤量（煤炭指标，吨）"),
        places=4,
        validators=[Optional(), NumberRange(min=0, message=_l("节煤量不能为负数。"))],
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
        validators=[
            InputRequired(message=_l("请填写年度。")),
            NumberRange(min=2016, max=2100, message=_l("年度须在 2016 到 2100 之间。")),
        ],
    )
    filing_deadline = DateField(
        _l("报送截止日期"), validators=[InputRequired(message=_l("请填写截止日期（年-月-日）。"))]
    )
    note = TextAreaField(_l("说明"), validators=[Optional(), Length(max=2000)])


class RecordStatusForm(FlaskForm):
    enterprise_id = HiddenField(validators=[DataRequired()])
    variety_code = HiddenField(validators=[DataRequired()])
    status = SelectField(_l("履约状态"), validators=[DataRequired()])
    actual = DecimalField(_l("实际消费量"), places=4, validators=[Optional()])
    rectify_by = DateField(
        _l("限期履约日期"),
        description=_l("未履约单位必须填写。"),
        validators=[Optional()],
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
