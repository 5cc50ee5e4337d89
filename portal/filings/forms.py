"""One form per filing kind. Field names equal the model's column names.

Fields parse leniently: what was typed is always kept (Filing.draft_data); a value that does not
parse gets a Chinese message next to the field, and its column stays empty until it is fixed.
"""

from __future__ import annotations

from decimal import Decimal

from wtforms import FileField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import Choice, SelectChoice
from wtforms.validators import Length, ValidationError

from portal.benchmarks import services as benchmarks
from portal.forms import (
    QUANTITY_LIMIT,
    DayField,
    FlaskForm,
    SelectField,
    TypedField,
    decimal_problem,
    options,
    parse_decimal,
)
from portal.i18n import fmt_quantity, localized
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.text import to_halfwidth
from portal.web import current_date

REQUIRED = _l("此项必填。")
MAX_QUANTITY = QUANTITY_LIMIT  # Numeric(18,4)
YES_NO = (("yes", _l("是")), ("no", _l("否")))


class Filled:
    """Required: something was typed or chosen (a 0 or a “否” counts as an answer)."""

    field_flags = {"required": True}

    def __init__(self, message=None):
        self.message = message

    def __call__(self, form, field):
        raw = field.raw_data[0] if field.raw_data else ""
        if not str(raw).strip():
            raise ValidationError(self.message or _("此项必填。"))


DataRequired = Filled


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class QuantityField(TypedField):
    """A non-negative decimal with at most 4 places; `.data` is a Decimal or None."""

    def parse(self, text: str) -> Decimal | None:
        number = parse_decimal(text)  # raises ValueError with its message
        if number is None:
            return None
        problem = decimal_problem(number, places=4, minimum=0, maximum=MAX_QUANTITY)
        if problem:
            raise ValueError(problem)
        return number


class YearField(TypedField):
    def parse(self, text: str) -> int | None:
        text = to_halfwidth(text or "").strip().removesuffix("年")
        if not text:
            return None
        if not (text.isascii() and text.isdigit()) or not 2000 <= int(text) <= 2100:
            raise ValueError(_("请填写 4 位年份，例如 2024。"))
        return int(text)


class YesNoField(RadioField):
    """是/否; `.data` is True, False or None. A forged value counts as unanswered."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", options(YES_NO))
        kwargs.setdefault("validate_choice", False)
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist):
        value = valuelist[0] if valuelist else ""
        self.raw = value
        self.data = {"yes": True, "no": False}.get(value)

    def process_data(self, value):
        self.data = value
        self.raw = {True: "yes", False: "no"}.get(value, "")

    def iter_choices(self):
        for choice in self.choices:
            yield Choice(choice.value, choice.label, getattr(self, "raw", "") == choice.value, {})


class ChoiceField(SelectField):
    def pre_validate(self, form):
        allowed = {str(c.value) for c in self.choices or []}
        if self.data and str(self.data) not in allowed:
            raise ValidationError(_("请从列表中选择。"))


def text(label, max_length=4000, required=True, description=None):
    validators = [Length(max=max_length, message=_l("最多 %(max)d 个字。"))]
    if required:
        validators.insert(0, DataRequired(REQUIRED))
    return TextAreaField(
        label,
        validators=validators,
        filters=[_strip],
        description=description,
        render_kw={"rows": 4},
    )


def line(label, max_length=120, required=True, description=None):
    validators = [Length(max=max_length, message=_l("最多 %(max)d 个字。"))]
    if required:
        validators.insert(0, DataRequired(REQUIRED))
    return StringField(label, validators=validators, filters=[_strip], description=description)


class FilingForm(FlaskForm):
    """Shared behaviour: which fields must be filled before submission."""

    # Pairs of (energy, coal) fields of which at least one must be filled to submit.
    variety_pairs: tuple[tuple[str, str], ...] = ()


class VoluntaryForm(FilingForm):
    in_carbon_trading = YesNoField(
        _l("本单位是否已纳入碳排放权交易范围？"),
        validators=[DataRequired(_l("请回答此问题。"))],
        description=_l("已纳入碳排放权交易的单位不得参与用能权交易（实施方案 二（一）3）。"),
    )
    reasons = text(_l("申请理由"))
    planned_measures = text(_l("拟采取的节能措施"))
    commitments = text(_l("承诺事项"), description=_l("如：按期履约、如实报送能耗数据、接受核查。"))

    def validate_in_carbon_trading(self, field):
        if field.data is True:
            raise ValidationError(
                _(
                    "已纳入碳排放权交易范围的单位不能参与用能权交易（实施方案 二（一）3），本申请不能提交。"
                )
            )


class RetrofitForm(FilingForm):
    project_name = line(_l("改造项目名称"))
    description = text(_l("改造内容"), description=_l("主要设备、工艺和实施时间。"))
    baseline_year = YearField(_l("基准年"), validators=[DataRequired(REQUIRED)])
    baseline_energy = QuantityField(_l("基准年综合能耗（吨标准煤，不含煤炭）"))
    baseline_coal = QuantityField(_l("基准年煤炭消费量（吨）"))
    expected_energy_savings = QuantityField(_l("预计节能量（吨标准煤）"))
    expected_coal_savings = QuantityField(_l("预计节煤量（吨）"))
    audit_firm_id = ChoiceField(
        _l("第三方审核机构"),
        validators=[DataRequired(_l("请选择第三方审核机构。"))],
        description=_l("只能从已备案的第三方审核机构中选择。"),
    )
    variety_pairs = (("baseline_energy", "baseline_coal"),)

    def __init__(self, *args, audit_firms=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.audit_firm_id.choices = options(
            [("", _("请选择"))] + [(str(firm.id), firm.name) for firm in audit_firms]
        )


class ClosureForm(FilingForm):
    facility_name = line(_l("关停设施名称"))
    facility_description = text(_l("设施说明"), description=_l("设施类型、产能、位置等。"))
    is_grid_coal_unit = YesNoField(
        _l("是否为统调燃煤机组？"),
        validators=[DataRequired(_l("请回答此问题。"))],
        description=_l("统调燃煤机组关停不产生用能权指标。"),
    )
    closure_date = DayField(
        _l("关停日期"), validators=[DataRequired(REQUIRED)], render_kw={"type": "date"}
    )
    prior_year_energy = QuantityField(_l("关停前一年综合能耗（吨标准煤，不含煤炭）"))
    prior_year_coal = QuantityField(_l("关停前一年煤炭消费量（吨）"))
    variety_pairs = (("prior_year_energy", "prior_year_coal"),)

    def validate_is_grid_coal_unit(self, field):
        if field.data is True:
            raise ValidationError(_("统调燃煤机组不纳入用能权指标来源，关停指标申报不能提交。"))

    def validate_closure_date(self, field):
        if field.data and field.data > current_date():
            raise ValidationError(_("关停日期不能晚于今天；尚未关停的设施请关停后再申报。"))


class ComplianceForm(FilingForm):
    period_year = YearField(_l("履约年度"), validators=[DataRequired(REQUIRED)])
    actual_energy = QuantityField(_l("经核查的实际综合能耗（吨标准煤，不含煤炭）"))
    actual_coal = QuantityField(_l("经核查的实际煤炭消费量（吨）"))
    variety_pairs = (("actual_energy", "actual_coal"),)


class PurchaseForm(FilingForm):
    """两高 purchase: the product comes from the benchmark table; the quantity is computed
    (benchmarks.services.requirement), never typed (实施方案 二(二)1)."""

    project_name = line(_l("项目名称"))
    description = text(_l("项目概况"), description=_l("建设内容、地点、审批（核准、备案）文号。"))
    variety_code = ChoiceField(
        _l("申购品种"),
        validators=[DataRequired(REQUIRED)],
        description=_l("煤炭指标仅限煤炭等量或减量替代的项目申购。"),
    )
    is_grid_coal_unit = YesNoField(
        _l("是否为统调燃煤机组？"), validators=[DataRequired(_l("请回答此问题。"))]
    )
    product_code = ChoiceField(
        _l("产品（工序）"),
        validators=[DataRequired(_l("请选择项目的主要产品。"))],
        description=_l(
            "按行业能效标杆值（未列标杆值的按先进值）核定，取值由省级节能主管部门维护，见“能效标杆值”页面。"
        ),
    )
    designed_output = QuantityField(_l("设计产能（年产量）"), validators=[DataRequired(REQUIRED)])
    feedstock_coal = QuantityField(
        _l("其中原料煤用量（吨/年）"),
        description=_l(
            "申购煤炭指标时必填：用作原料的煤炭不计入煤炭指标（实施方案 二（一）3），从按标杆值折算的煤炭量中扣除；不涉及的填 0。"
        ),
    )

    def __init__(self, *args, benchmarks=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.benchmarks = {row.product_code: row for row in benchmarks}
        self.variety_code.choices = options(
            [
                ("", _("请选择")),
                ("energy", _("能耗指标（吨标准煤）")),
                ("coal", _("煤炭指标（吨）")),
            ]
        )
        self.product_code.choices = [SelectChoice("", _("请选择"))] + [
            SelectChoice(
                row.product_code,
                _(
                    "%(product)s（%(unit)s）",
                    product=localized(row, "product_name"),
                    unit=localized(row, "output_unit"),
                ),
                optgroup=localized(row.industry),
            )
            for row in benchmarks
        ]
        row = self.benchmarks.get(self.product_code.data or "")
        self.designed_output.description = (
            _("单位：%(unit)s/年（所选产品的产量单位）。", unit=localized(row, "output_unit"))
            if row is not None
            else _("先选择产品；产能按该产品的单位填写。")
        )

    @property
    def benchmark(self):
        """The chosen product's row in force, or None."""
        return self.benchmarks.get(self.product_code.data or "")

    def validate_is_grid_coal_unit(self, field):
        if field.data is True:
            raise ValidationError(
                _(
                    "统调燃煤机组不参与用能权交易，不能申购（实施方案 二（一）3）；请通过电力行业的有关渠道办理。"
                )
            )

    def validate_designed_output(self, field):
        if self.benchmark is not None and field.data is not None:
            problem = benchmarks.output_problem(self.benchmark, field.data)
            if problem:
                raise ValidationError(problem)

    def validate_feedstock_coal(self, field):
        if self.variety_code.data != "coal" or field.data is None:
            return
        need = benchmarks.requirement(self.benchmark, self.designed_output.data, "coal", field.data)
        if need is not None and need.quantity is None:
            raise ValidationError(
                _(
                    "原料煤用量不能超过按标杆值折算的煤炭消费量 %(coal)s 吨，请核对。",
                    coal=fmt_quantity(need.gross_coal),
                )
            )


class AttachmentForm(FlaskForm):
    file = FileField(
        _l("选择文件"),
    )
    purpose = ChoiceField(_l("材料类型"))

    def __init__(self, *args, purposes=(), max_mb=20, **kwargs):
        super().__init__(*args, **kwargs)
        self.purpose.choices = options(purposes)
        self.file.description = _(
            "PDF、JPEG、PNG 或 XLSX，单个文件不超过 %(mb)s MB。系统按文件内容识别格式。", mb=max_mb
        )


class ConfirmForm(FlaskForm):
    """Confirm a submission (carries the version that was summarised)."""


class RemarkForm(FlaskForm):
    remark = TextAreaField(_l("说明（可选）"), validators=[Length(max=1000)], filters=[_strip])


FORMS = {
    "voluntary": VoluntaryForm,
    "retrofit": RetrofitForm,
    "closure": ClosureForm,
    "compliance": ComplianceForm,
    "purchase": PurchaseForm,
}
