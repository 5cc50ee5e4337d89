"""The back office's form for a new benchmark value: every field of the row, errors beside each."""

from __future__ import annotations

import re

from wtforms import StringField, TextAreaField
from wtforms.validators import InputRequired, Length, ValidationError

from portal.benchmarks.models import BASES, VALUE_UNITS
from portal.forms import DayField, DecimalField, FlaskForm, SelectField, options
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l

REQUIRED = _l("此项必填。")
CODE = re.compile(r"[a-z][a-z0-9_]{1,39}")
# Generous bounds on a value per unit of output: the national list's largest is 13,350 kWh.
VALUE_LIMIT = 1_000_000
BASIS_LABELS = {"benchmark": _l("标杆值"), "advanced": _l("先进值")}
VALUE_UNIT_LABELS = {"kgce": _l("千克标准煤"), "kgoe": _l("千克标准油"), "kWh": _l("千瓦时")}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _text(label, max_len: int, required: bool = True, field=StringField, **kwargs):
    """Text of at most `max_len` characters, stripped; required unless `required` is false."""
    validators = [InputRequired(REQUIRED)] if required else []
    too_long = Length(max=max_len, message=_l("最多 %(max)d 个字。"))
    return field(label, validators=[*validators, too_long], filters=[_strip], **kwargs)


class BenchmarkForm(FlaskForm):
    product_code = _text(
        _l("产品代码"),
        40,
        description=_l(
            "同一产品的各次取值使用同一代码；填写已有代码即为该产品的新值，新代码即为新增产品。小写字母、数字和下划线。"
        ),
    )
    industry_code = SelectField(_l("所属行业"), validators=[InputRequired(REQUIRED)])
    product_name = _text(_l("产品（工序）名称"), 80)
    product_name_en = _text(_l("英文名称"), 120, required=False)
    output_unit = _text(
        _l("产品单位"),
        20,
        description=_l("例如 吨熟料、吨钢、重量箱。"),
    )
    output_unit_en = _text(_l("产品单位（英文）"), 40, required=False)
    basis = SelectField(
        _l("取值依据"),
        validators=[InputRequired(REQUIRED)],
        description=_l("采用标杆值；国家清单未列标杆值的产品采用先进值。"),
    )
    value = DecimalField(
        _l("能效标杆值（先进值）"),
        validators=[InputRequired(REQUIRED)],
        minimum=0,
        minimum_inclusive=False,
        maximum=VALUE_LIMIT,
    )
    value_unit = SelectField(
        _l("数值单位（每单位产品）"),
        validators=[InputRequired(REQUIRED)],
        description=_l(
            "千克标准油按 1.4286、千瓦时按当量值 0.1229 折算为千克标准煤（GB/T 2589）。"
        ),
    )
    baseline_value = DecimalField(
        _l("基准值（参考）"),
        minimum=0,
        maximum=VALUE_LIMIT,
        description=_l("只作展示，不参与计算。"),
    )
    max_output = DecimalField(
        _l("单个项目设计产能上限（每年）"),
        minimum=0,
        minimum_inclusive=False,
        description=_l(
            "企业填写的设计产能超过此数时，申购表单提示核对；不填则只受全省单个项目上限约束。"
        ),
    )
    source = _text(
        _l("来源"),
        300,
        description=_l("国家或省级文件名称及文号。"),
    )
    effective_on = DayField(
        _l("生效日期"), validators=[InputRequired(REQUIRED)], render_kw={"type": "date"}
    )
    reason = _text(
        _l("调整原因"),
        1000,
        field=TextAreaField,
        render_kw={"rows": 3},
    )

    def __init__(self, *args, industries=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.industry_code.choices = options([("", _("请选择"))] + list(industries))
        self.basis.choices = options((code, BASIS_LABELS[code]) for code in BASES)
        self.value_unit.choices = options((code, VALUE_UNIT_LABELS[code]) for code in VALUE_UNITS)

    def validate_product_code(self, field):
        if field.data and not CODE.fullmatch(field.data):
            raise ValidationError(_("产品代码只能由小写字母、数字和下划线组成，以字母开头。"))

    def values(self) -> dict:
        """The row's fields, as the service takes them."""
        return {
            "product_code": self.product_code.data,
            "industry_code": self.industry_code.data,
            "product_name": self.product_name.data,
            "product_name_en": self.product_name_en.data or "",
            "output_unit": self.output_unit.data,
            "output_unit_en": self.output_unit_en.data or "",
            "basis": self.basis.data,
            "value": self.value.data,
            "value_unit": self.value_unit.data,
            "baseline_value": self.baseline_value.data,
            "max_output": self.max_output.data,
            "source": self.source.data,
            "effective_on": self.effective_on.data,
        }
