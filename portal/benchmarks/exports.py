"""The benchmark table as open data: every row, in force or not (CSV, XLSX, the daily archive)."""

from __future__ import annotations

from sqlalchemy import select

from portal.benchmarks.forms import BASIS_LABELS, VALUE_UNIT_LABELS
from portal.benchmarks.models import EfficiencyBenchmark
from portal.exports import Column, Dataset, attr_column, industry_columns, labelled_columns
from portal.i18n import lazy_gettext as _l

PER_UNIT = _l("按“数值单位”列，每单位产品")

BENCHMARKS = Dataset(
    name="benchmarks",
    title=_l("能效标杆值"),
    description=_l(
        "新建“两高”项目用能权核定所用的行业能效标杆值（先进值）：每个产品的现行取值和历次取值，含来源、生效日期和调整原因。"
    ),
    source=_l("省级节能主管部门，依据国家能效标杆水平清单"),
    order=_l("按产品代码，同一产品按生效日期从新到旧"),
    keywords=("用能权", "能效标杆值", "两高"),
    columns=(
        attr_column("product_code", _l("产品代码"), kind="code"),
        Column("product", _l("产品（工序）"), lambda r, n: r.product_name),
        *industry_columns(lambda r: r.industry_code),
        attr_column("output_unit", _l("产品单位")),
        *labelled_columns(
            "basis",
            _l("取值依据"),
            _l("取值依据代码"),
            BASIS_LABELS,
            _l("标杆值；国家清单未列标杆值的产品为先进值"),
        ),
        attr_column("value", _l("数值"), kind="quantity", unit=PER_UNIT),
        *labelled_columns(
            "value_unit",
            _l("数值单位"),
            _l("数值单位代码"),
            VALUE_UNIT_LABELS,
            _l("每单位产品的千克标准煤、千克标准油或千瓦时"),
        ),
        attr_column(
            "baseline_value",
            _l("基准值（参考）"),
            kind="quantity",
            unit=PER_UNIT,
            description=_l("只作参考，不参与计算；空：未列"),
        ),
        attr_column(
            "max_output",
            _l("单个项目设计产能上限（每年）"),
            kind="quantity",
            unit=_l("产品单位"),
            description=_l("空：只受全省单个项目上限约束"),
        ),
        attr_column("source", _l("来源")),
        attr_column("effective_on", _l("生效日期"), kind="date"),
        attr_column("reason", _l("调整原因")),
        attr_column("recorded_at", _l("记录时间"), kind="datetime"),
    ),
)


def rows_stmt():
    """Every row, by product, each product's newest first."""
    return select(EfficiencyBenchmark).order_by(
        EfficiencyBenchmark.product_code,
        EfficiencyBenchmark.effective_on.desc(),
        EfficiencyBenchmark.id.desc(),
    )
