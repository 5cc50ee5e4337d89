"""Back-office compliance forms: the period list's filters, one unit's status per variety, the
credit export, and 曝光 entries."""

from __future__ import annotations

from wtforms import DateField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.compliance import labels
from portal.compliance.admin_queries import UNRECORDED
from portal.forms import FlaskForm, IntegerField, options
from portal.i18n import lazy_gettext as _l
from portal.lists import ChoiceFilterForm, fixed_choices, optional_choice


def _statuses():
    return [("", _l("全部")), *labels.COMPLIANCE_STATUS.items(), (UNRECORDED, _l("尚未记录"))]


class UnitFilterForm(ChoiceFilterForm):
    """The filters of the back office's list of a period's units (GET, no CSRF)."""

    q = StringField(
        _l("单位名称或统一社会信用代码"),
        validators=[Optional(), Length(max=60, message=_l("最多 60 个字符。"))],
    )
    division = optional_choice(_l("地区"))
    status = optional_choice(_l("已记录状态"))
    shortfall = optional_choice(_l("缺口"))

    CHOICES = {
        "status": _statuses,
        "shortfall": fixed_choices(("", _l("全部")), ("yes", _l("有缺口")), ("no", _l("无缺口"))),
    }


class CreditExportForm(FlaskForm):
    file_format = RadioField(
        _l("文件格式"),
        choices=options([("csv", "CSV"), ("xlsx", "Excel（XLSX）")]),
        default="csv",
        validators=[InputRequired(message=_l("请选择文件格式。"))],
    )


class ExposureForm(FlaskForm):
    """Propose a unit for the public exposure list (曝光)."""

    uscc = StringField(
        _l("统一社会信用代码"),
        validators=[DataRequired(message=_l("请填写统一社会信用代码。")), Length(max=18)],
    )
    reason = RadioField(
        _l("曝光原因"),
        choices=options([("non_compliant", _l("未履约")), ("falsified", _l("交易数据造假"))]),
        validators=[InputRequired(message=_l("请选择曝光原因。"))],
    )
    period_year = IntegerField(
        _l("履约年度"),
        minimum=2016,
        maximum=2100,
        message=_l("年度须在 2016 到 2100 之间。"),
        description=_l("原因为未履约时必填：该单位在这一年度被记录为未履约，且名单已公布。"),
        validators=[Optional()],
    )
    trade_number = StringField(
        _l("成交编号"),
        description=_l("原因为交易数据造假时必填：公开的成交记录编号。"),
        validators=[Optional(), Length(max=40)],
    )
    detail = TextAreaField(
        _l("事实说明"),
        description=_l("会公开显示。交易数据造假时必填。"),
        validators=[Optional(), Length(max=1000)],
    )
    exposed_on = DateField(
        _l("曝光日期"),
        validators=[InputRequired(message=_l("请填写曝光日期（年-月-日）。"))],
    )


class WithdrawExposureForm(FlaskForm):
    reason = TextAreaField(
        _l("撤销原因"),
        description=_l("记入审计日志；公开页面只显示“已撤销”及日期。"),
        validators=[DataRequired(message=_l("请填写撤销原因。")), Length(max=500)],
    )
