"""The benchmark table as open data: every row, in force or not (CSV, XLSX, the daily archive)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.benchmarks.forms import BASIS_LABELS, VALUE_UNIT_LABELS
from portal.benchmarks.models import EfficiencyBenchmark
from portal.exports import Column, Dataset, industry_columns, labelled_columns

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
        Column("product_code", _l("产品代码"), lambda r, n: r.product_code, kind="code"),
        Column("product", _l("产品（工序）"), lambda r, n: r.product_name),
        *industry_columns(lambda r: r.industry_code),
        Column("output_unit", _l("产品单位"), lambda r, n: r.output_unit),
        *labelled_columns(
            "basis",
            _l("取值依据"),
            _l("取值依据代码"),
            BASIS_LABELS,
            lambda r, n=None: r.basis,
            _l("标杆值；国家清单未列标杆值的产品为先进值"),
            "benchmark, advanced",
        ),
        Column("value", _l("数值"), lambda r, n: r.value, kind="quantity", unit=PER_UNIT),
        *labelled_columns(
            "value_unit",
            _l("数值单位"),
            _l("数值单位代码"),
            VALUE_UNIT_LABELS,
            lambda r, n=None: r.value_unit,
            _l("每单位产品的千克标准煤、千克标准油或千瓦时"),
            "kgce, kgoe, kWh",
        ),
        Column(
            "baseline_value",
            _l("基准值（参考）"),
            lambda r, n: r.baseline_value,
            kind="quantity",
            unit=PER_UNIT,
            description=_l("只作参考，不参与计算；空：未列"),
        ),
        Column(
            "max_output",
            _l("单个项目设计产能上限（每年）"),
            lambda r, n: r.max_output,
            kind="quantity",
            unit=_l("产品单位"),
            description=_l("空：只受全省单个项目上限约束"),
        ),
        Column("source", _l("来源"), lambda r, n: r.source),
        Column("effective_on", _l("生效日期"), lambda r, n: r.effective_on, kind="date"),
        Column("reason", _l("调整原因"), lambda r, n: r.reason),
        Column("recorded_at", _l("记录时间"), lambda r, n: r.recorded_at, kind="datetime"),
    ),
)


def rows_stmt():
    """Every row, by product, each product's newest first."""
    return select(EfficiencyBenchmark).order_by(
        EfficiencyBenchmark.product_code,
        EfficiencyBenchmark.effective_on.desc(),
        EfficiencyBenchmark.id.desc(),
    )
