"""Compliance forms: the public list's filters, and the back office's period, status and correction forms."""

from __future__ import annotations

from wtforms import DateField, HiddenField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from portal.compliance import labels
from portal.forms import DecimalField, FlaskForm, IntegerField, SelectField
from portal.i18n import lazy_gettext as _l
from portal.lists import (
    ChoiceFilterForm,
    fixed_choices,
    label_choices,
    optional_choice,
    sort_choice,
)


class ComplianceFilterForm(ChoiceFilterForm):
    division = optional_choice(_l("地区"))
    industry = optional_choice(_l("行业"))
    variety = optional_choice(_l("交易品种"))
    status = optional_choice(_l("履约状态"))
    sort = sort_choice("name")

    CHOICES = {
        "status": label_choices(labels.COMPLIANCE_STATUS),
        "sort": fixed_choices(
            ("name", _l("按单位名称")),
            ("-shortfall", _l("缺口量，大的在前")),
            ("status", _l("按履约状态")),
        ),
    }


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


class UnitStatusForm(FlaskForm):
    """One unit's status for one variety; made with a prefix per unit and variety, so that any
    number of them can sit on one page without two elements sharing an id."""

    status = SelectField(_l("履约状态"), validators=[DataRequired()])
    actual = DecimalField(_l("实际消费量"), places=4, minimum=0, validators=[Optional()])
    rectify_by = DateField(
        _l("限期履约日期"),
        description=_l("未履约单位必须填写。"),
        validators=[Optional()],
    )


class RecordStatusForm(UnitStatusForm):
    """The same, naming the unit and the variety in the form (for scripts)."""

    enterprise_id = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9]{1,9}$")])
    variety_code = HiddenField(validators=[DataRequired()])


class RepublishForm(FlaskForm):
    reason = TextAreaField(
        _l("更正原因"),
        description=_l("会随更正后的名单一起公开，原名单保留在修改记录中。"),
        validators=[DataRequired(message=_l("请填写更正原因。")), Length(max=500)],
    )


class ExposureFilterForm(ChoiceFilterForm):
    """The public exposure list's filters."""

    reason = optional_choice(_l("曝光原因"))
    division = optional_choice(_l("地区"))

    CHOICES = {
        "reason": fixed_choices(
            ("", _l("全部")), ("non_compliant", _l("未履约")), ("falsified", _l("交易数据造假"))
        ),
    }
