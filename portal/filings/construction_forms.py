"""Forms of the 2-year start rule: the enterprise's start report and the city's decision."""

from __future__ import annotations

from wtforms import DateField, FileField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.accounts.forms import ChoiceRadioField
from portal.forms import FlaskForm, options
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l

REQUIRED = _l("此项必填。")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class StartReportForm(FlaskForm):
    """开工报告: the start date, the evidence (checked by its content) and a note."""

    started_on = DateField(
        _l("开工日期"),
        validators=[DataRequired(_l("请填写开工日期（年-月-日）。"))],
        description=_l("以施工许可或开工令上的日期为准，不能晚于开工期限。"),
    )
    evidence = FileField(
        _l("开工证明材料"),
        description=_l(
            "施工许可证、开工令或现场照片等，PDF、JPEG 或 PNG。系统按文件内容识别格式并检查文件能否打开。"
        ),
    )
    note = TextAreaField(
        _l("说明"),
        validators=[Optional(), Length(max=1000)],
        filters=[_strip],
        description=_l("可选：开工的工程内容、施工单位等。"),
    )


class StartDecisionForm(FlaskForm):
    """The city's decision on a start report; a refusal says why."""

    decision = ChoiceRadioField(
        _l("审核结论"),
        choices=options([("confirm", _l("确认开工")), ("refuse", _l("不予确认"))]),
        validators=[DataRequired(REQUIRED)],
    )
    remark = TextAreaField(
        _l("审核意见"),
        validators=[Length(max=500)],
        filters=[_strip],
        description=_l("企业会在站内消息和邮件中看到这段意见；不予确认时必填。"),
    )

    def validate_remark(self, field):
        if self.decision.data == "refuse" and not field.data:
            raise ValidationError(_("不予确认时请写明理由。"))
