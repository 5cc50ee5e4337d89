from __future__ import annotations

import re

from wtforms import RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from portal.forms import FlaskForm
from portal.i18n import lazy_gettext as _l
from portal.text import to_halfwidth

PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ObjectionForm(FlaskForm):
    real_name = StringField(
        _l("真实姓名"),
        description=_l("异议须实名提出；姓名和联系方式不会公开。"),
        validators=[DataRequired(message=_l("请填写真实姓名。")), Length(min=2, max=40)],
    )
    contact = StringField(
        _l("联系电话或电子邮箱"),
        validators=[DataRequired(message=_l("请填写联系电话或电子邮箱。")), Length(max=120)],
    )
    reason = TextAreaField(
        _l("异议理由"),
        validators=[
            DataRequired(message=_l("请写明异议理由。")),
            Length(min=10, max=5000, message=_l("异议理由须在 10 到 5000 字之间。")),
        ],
    )

    def validate_contact(self, field):
        value = to_halfwidth(field.data or "").strip().replace(" ", "")
        if not (PHONE.match(value) or EMAIL.match(value)):
            raise ValidationError(
                _l("请填写有效的手机号、固定电话（如 0371-12345678）或电子邮箱。")
            )
        field.data = value


class AnswerForm(FlaskForm):
    """One per objection on the page; the prefix (o<id>) keeps the field ids unique."""

    outcome = RadioField(
        _l("处理结果"),
        choices=[
            SelectChoice("dismissed", _l("异议不成立")),
            SelectChoice("upheld", _l("异议成立（重新审核）")),
        ],
        validators=[InputRequired(message=_l("请选择处理结果。"))],
    )
    answer = TextAreaField(
        _l("答复意见"),
        description=_l("答复会公开（不含异议人信息）。"),
        validators=[DataRequired(message=_l("请填写答复意见。")), Length(max=5000)],
    )


class WithdrawNoticeForm(FlaskForm):
    """The province withdraws a 公示; the reason is published on the notice's page."""

    reason = TextAreaField(
        _l("撤回理由"),
        description=_l("理由会在公示页面公开；撤回后公示期结束，不再接受异议。"),
        validators=[
            DataRequired(message=_l("请填写撤回理由。")),
            Length(max=500, message=_l("撤回理由不能超过 500 字。")),
        ],
    )
