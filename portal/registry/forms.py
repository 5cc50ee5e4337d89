from __future__ import annotations

from wtforms import DateField, HiddenField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from portal.forms import QUANTITY_LIMIT, DecimalField, FlaskForm, SelectField
from portal.i18n import lazy_gettext as _l

MANUAL_KINDS = [
    SelectChoice("issue", _l("发放（核定/确权）")),
    SelectChoice("cancel", _l("注销")),
    SelectChoice("take_back", _l("无偿收回")),
]


class LedgerEntryForm(FlaskForm):
    """A manual ledger operation by the province, always with a reason."""

    kind = SelectField(_l("操作"), choices=MANUAL_KINDS, validators=[DataRequired()])
    holder = StringField(
        _l("持有人"),
        description=_l(
            "企业填写统一社会信用代码；省级储备填写 province；市级储备填写 city:行政区划代码"
        ),
        validators=[DataRequired(message=_l("请填写持有人。")), Length(max=30)],
    )
    variety_code = SelectField(_l("交易品种"), validators=[DataRequired()])
    quantity = DecimalField(
        _l("数量"),
        places=4,
        minimum=0,
        minimum_inclusive=False,
        validators=[InputRequired(message=_l("请填写大于零的数量。"))],
    )
    reason = TextAreaField(
        _l("事由"), validators=[DataRequired(message=_l("请写明事由。")), Length(max=1000)]
    )


class CorrectionForm(FlaskForm):
    entry_id = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9]{1,9}$")])
    delta = DecimalField(
        _l("更正数量（可为负数）"),
        places=4,
        minimum=-QUANTITY_LIMIT,
        minimum_inclusive=False,
        validators=[DataRequired(message=_l("请填写更正数量，不能为零。"))],
    )
    reason = TextAreaField(
        _l("更正原因"), validators=[DataRequired(message=_l("请写明更正原因。")), Length(max=1000)]
    )


class HolderFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("企业名称或信用代码"), validators=[Optional(), Length(max=60)])


class ConstructionStartForm(FlaskForm):
    started_on = DateField(
        _l("开工日期"), validators=[DataRequired(message=_l("请填写开工日期（年-月-日）。"))]
    )
