"""The benchmark table's rules: which row is in force, the history, adding a value, and the
quantity a 两高 purchase comes to (实施方案 二(二)1: 能效标杆值（先进值）× 设计产能).

Functions flush and never commit.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.audit.services import record_event
from portal.benchmarks import data
from portal.benchmarks.models import EfficiencyBenchmark
from portal.extensions import db
from portal.i18n import fmt_quantity, localized
from portal.i18n import gettext as _
from portal.reference.services import industries
from portal.refusals import Refusal
from portal.web import current_date

# GB/T 2589: 1 kgoe (10,000 kcal) = 1.4286 kgce; electricity at its calorific equivalent (当量值),
# 0.1229 kgce/kWh, as the national list states the aluminium value in kWh of AC power.
KGCE_PER_UNIT = {"kgce": Decimal("1"), "kgoe": Decimal("1.4286"), "kWh": Decimal("0.1229")}
# GB/T 2589: raw coal, 0.7143 kgce per kg, i.e. 0.7143 tce per tonne.
RAW_COAL_TCE_PER_T = Decimal("0.7143")
PLACES = Decimal("0.0001")
DEFAULT_MAX_TCE = Decimal("10000000")


class BenchmarkRefused(Refusal):
    """A value the table cannot take; `field` names the form field at fault."""

    def __init__(self, field: str, message):
        super().__init__(message)
        self.field = field


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def today() -> date:
    """Today in the portal's time zone; the machine's date outside an app."""
    return current_date() if has_app_context() else date.today()


# ---------------------------------------------------------------- reading the table


def all_rows(with_recorder: bool = False) -> list[EfficiencyBenchmark]:
    """Every row, each product's newest first (a few hundred rows at most)."""
    options = [selectinload(EfficiencyBenchmark.recorded_by)] if with_recorder else []
    return list(
        db.session.scalars(
            select(EfficiencyBenchmark)
            .options(*options)
            .order_by(
                EfficiencyBenchmark.product_code,
                EfficiencyBenchmark.effective_on.desc(),
                EfficiencyBenchmark.id.desc(),
            )
        )
    )


def in_force(on: date | None = None) -> list[EfficiencyBenchmark]:
    """Each product's row in force on `on` (today): the latest effective date not after it, and of
    two rows with one date, the later recorded. Ordered by industry, then product name."""
    on = on or today()
    current: dict[str, EfficiencyBenchmark] = {}
    for row in all_rows():
        if row.effective_on <= on and row.product_code not in current:
            current[row.product_code] = row
    order = {industry.code: industry.sort_order for industry in industries()}
    return sorted(
        current.values(), key=lambda r: (order.get(r.industry_code, 99), r.product_name, r.id)
    )


def current_for(product_code: str | None, on: date | None = None) -> EfficiencyBenchmark | None:
    if not product_code:
        return None
    return next((r for r in in_force(on) if r.product_code == product_code), None)


def history() -> list[tuple[str, list[EfficiencyBenchmark]]]:
    """Per product (in the order of the table in force, then products with no value yet in force),
    its rows, newest first."""
    grouped: OrderedDict[str, list[EfficiencyBenchmark]] = OrderedDict()
    for row in in_force():
        grouped[row.product_code] = []
    for row in all_rows(with_recorder=True):
        grouped.setdefault(row.product_code, []).append(row)
    return list(grouped.items())


def grouped_by_industry(rows) -> list[tuple[str, list[EfficiencyBenchmark]]]:
    """(industry label, rows) in the table's order, for a select with one group per industry."""
    groups: OrderedDict[str, list[EfficiencyBenchmark]] = OrderedDict()
    for row in rows:
        groups.setdefault(localized(row.industry), []).append(row)
    return list(groups.items())


def get_benchmark(benchmark_id: int | None) -> EfficiencyBenchmark | None:
    return db.session.get(EfficiencyBenchmark, benchmark_id) if benchmark_id else None


# ---------------------------------------------------------------- the computation


def kgce_per_unit(row: EfficiencyBenchmark) -> Decimal:
    """The row's value in kgce per unit of output."""
    return Decimal(row.value) * KGCE_PER_UNIT[row.value_unit]


def max_total_tce() -> Decimal:
    if not has_app_context():
        return DEFAULT_MAX_TCE
    return Decimal(str(current_app.config.get("PURCHASE_MAX_TCE", DEFAULT_MAX_TCE)))


@dataclass(frozen=True)
class Requirement:
    """What a purchase comes to: the energy at the benchmark (tce), its raw-coal tonnes (coal
    purchases), the feedstock coal left out, and the quantity to buy in the variety's unit."""

    variety: str
    gross_tce: Decimal
    gross_coal: Decimal | None
    feedstock_coal: Decimal | None
    quantity: Decimal | None


def requirement(
    row: EfficiencyBenchmark | None,
    designed_output: Decimal | None,
    variety: str | None,
    feedstock_coal: Decimal | None = None,
) -> Requirement | None:
    """Benchmark × designed output, in tce (kgce ÷ 1,000). An energy purchase buys that; a coal
    purchase buys it in raw-coal tonnes (÷ 0.7143) less the feedstock coal (原料煤), which the plan
    leaves out of coal consumption (实施方案 二(一)3). None when a part is missing; `quantity` is
    None when the feedstock exceeds the coal."""
    if row is None or designed_output is None or variety not in ("energy", "coal"):
        return None
    gross_tce = (kgce_per_unit(row) * Decimal(designed_output) / 1000).quantize(PLACES)
    if variety == "energy":
        return Requirement(variety, gross_tce, None, None, gross_tce)
    gross_coal = (gross_tce / RAW_COAL_TCE_PER_T).quantize(PLACES)
    feedstock = Decimal(feedstock_coal) if feedstock_coal is not None else Decimal(0)
    left = gross_coal - feedstock
    return Requirement(variety, gross_tce, gross_coal, feedstock, left if left >= 0 else None)


def output_problem(row: EfficiencyBenchmark, designed_output: Decimal) -> str | None:
    """Why a designed output cannot be right for this product, or None."""
    if row.max_output is not None and designed_output > Decimal(row.max_output):
        return _(
            "超出合理范围，请核对设计产能：%(product)s单个项目的设计产能不超过 %(max)s %(unit)s/年。",
            product=row.product_name,
            max=_plain(row.max_output),
            unit=row.output_unit,
        )
    gross = (kgce_per_unit(row) * designed_output / 1000).quantize(PLACES)
    cap = max_total_tce()
    if gross > cap:
        return _(
            "超出合理范围，请核对设计产能：按标杆值折合 %(total)s 吨标准煤，超过单个项目上限 %(cap)s 吨标准煤。",
            total=_plain(gross),
            cap=_plain(cap),
        )
    return None


def _plain(value) -> str:
    return fmt_quantity(Decimal(value))


# ---------------------------------------------------------------- changing the table


# A product's value as a person records it (all but its effective date, reason and recorder): what
# the form prefills from the newest row, and what a revision keeps of the row it supersedes.
VALUE_FIELDS = (
    "product_code",
    "industry_code",
    "product_name",
    "product_name_en",
    "output_unit",
    "output_unit_en",
    "basis",
    "value",
    "value_unit",
    "baseline_value",
    "max_output",
    "source",
)


def values_of(row: EfficiencyBenchmark) -> dict:
    """The row's VALUE_FIELDS, as add_benchmark takes them (with an effective date added)."""
    return {name: getattr(row, name) for name in VALUE_FIELDS}


def _as_dict(row: EfficiencyBenchmark) -> dict:
    return {
        "product_code": row.product_code,
        "industry_code": row.industry_code,
        "product_name": row.product_name,
        "output_unit": row.output_unit,
        "basis": row.basis,
        "value": str(row.value),
        "value_unit": row.value_unit,
        "baseline_value": None if row.baseline_value is None else str(row.baseline_value),
        "max_output": None if row.max_output is None else str(row.max_output),
        "source": row.source,
        "effective_on": row.effective_on.isoformat(),
    }


def latest_row(product_code: str) -> EfficiencyBenchmark | None:
    """The product's newest row, in force or scheduled."""
    return db.session.scalar(
        select(EfficiencyBenchmark)
        .where(EfficiencyBenchmark.product_code == product_code)
        .order_by(EfficiencyBenchmark.effective_on.desc(), EfficiencyBenchmark.id.desc())
        .limit(1)
    )


def add_benchmark(values: dict, actor, reason: str) -> EfficiencyBenchmark:
    """Record a new value of a product (a new product, or one that supersedes the product's rows
    from its effective date). The rows before it stay as they were; the change is audited."""
    previous = latest_row(values["product_code"])
    if previous is not None and values["effective_on"] < previous.effective_on:
        raise BenchmarkRefused(
            "effective_on",
            _(
                "生效日期不能早于该产品最近一次取值的生效日期（%(day)s）：新值只能接替旧值，不能改写过去。",
                day=previous.effective_on.isoformat(),
            ),
        )
    row = EfficiencyBenchmark(
        **values,
        reason=reason,
        recorded_by_id=getattr(actor, "id", None),
        recorded_at=now(),
    )
    db.session.add(row)
    db.session.flush()
    record_event(
        "benchmark.add",
        row,
        before=_as_dict(previous) if previous is not None else None,
        after=_as_dict(row),
        remark=reason,
        actor=actor,
    )
    return row


def seed_benchmarks(actor=None) -> int:
    """Insert the first table (data.BENCHMARKS) for each product that has no row; return how many
    rows were added. Each is audited like a value the province adds."""
    present = set(db.session.scalars(select(EfficiencyBenchmark.product_code).distinct()))
    added = 0
    for (
        code,
        industry,
        name,
        name_en,
        unit,
        unit_en,
        basis,
        value,
        value_unit,
        baseline,
        max_output,
        source,
    ) in data.BENCHMARKS:
        if code in present:
            continue
        add_benchmark(
            {
                "product_code": code,
                "industry_code": industry,
                "product_name": name,
                "product_name_en": name_en,
                "output_unit": unit,
                "output_unit_en": unit_en,
                "basis": basis,
                "value": Decimal(value),
                "value_unit": value_unit,
                "baseline_value": Decimal(baseline) if baseline else None,
                "max_output": Decimal(max_output) if max_output else None,
                "source": source,
                "effective_on": data.EFFECTIVE_ON,
            },
            actor,
            data.SEED_REASON,
        )
        added += 1
    return added
