"""The subscribe form and the subscriber's own forms (confirm, frequency, unsubscribe, forget)."""

from __future__ import annotations

from wtforms import EmailField, HiddenField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from portal.accounts.forms import email_validator_field
from portal.forms import FlaskForm
from portal.i18n import lazy_gettext as _l

FREQUENCY_CHOICES = [
    SelectChoice("immediate", _l("有新信息即发送")),
    SelectChoice("daily", _l("每日汇总（每天发送前一天的新信息）")),
    SelectChoice("weekly", _l("每周汇总（每周一发送上一周的新信息）")),
]


class SubscribeForm(FlaskForm):
    email = EmailField(
        _l("电子邮箱"),
        validators=[
            DataRequired(_l("请填写电子邮箱。")),
            Length(max=254, message=_l("邮箱地址最多 254 个字符。")),
            email_validator_field,
        ],
        description=_l("只用于发送本订阅的邮件，不会公开，也不会用于其他用途；退订时即删除。"),
    )
    frequency = RadioField(
        _l("发送频率"),
        choices=FREQUENCY_CHOICES,
        default="daily",
        validate_choice=True,
    )
    target = HiddenField()


class FrequencyForm(FlaskForm):
    frequency = RadioField(_l("发送频率"), choices=FREQUENCY_CHOICES, validate_choice=True)


class ConfirmForm(FlaskForm):
    """Confirming is a POST: a link scanner that opens the mailed link confirms nothing."""


class ForgetForm(FlaskForm):
    """Delete every subscription of the address."""
