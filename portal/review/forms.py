from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.forms import DecimalField, FlaskForm


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


class AssignAuditorForm(FlaskForm):
    audit_firm_id = SelectField(_l("第三方审核机构"), validators=[DataRequired()])
    remark = TextAreaField(_l("说明"), validators=[Optional(), Length(max=500)])
