"""The energy-efficiency benchmark table (能效标杆值) behind 两高 purchases.

A row is one value of one product, in force from its effective date until a later row of the same
product takes over. Rows are never edited or deleted: a new value is a new row, with who recorded
it, when and why, so a purchase that names its row keeps the value it was computed with.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.columns import Quantity
from portal.extensions import db
from portal.reference.models import Industry

# 标杆值, or 先进值 for a product whose list gives no 标杆值 (实施方案 二(二)1).
BASES = ("benchmark", "advanced")
# Units a value may be stated in, per unit of output, as the national list states them.
VALUE_UNITS = ("kgce", "kgoe", "kWh")


class EfficiencyBenchmark(db.Model):
    __tablename__ = "efficiency_benchmark"
    __table_args__ = (Index("ix_efficiency_benchmark_product", "product_code", "effective_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The product's stable key across its rows (cement_clinker).
    product_code: Mapped[str] = mapped_column(String(40))
    industry_code: Mapped[str] = mapped_column(ForeignKey("industry.code"))
    product_name: Mapped[str] = mapped_column(String(80))
    product_name_en: Mapped[str] = mapped_column(String(120), default="")
    output_unit: Mapped[str] = mapped_column(String(20))
    output_unit_en: Mapped[str] = mapped_column(String(40), default="")
    basis: Mapped[str] = mapped_column(String(12), default="benchmark")
    # Per unit of output, in value_unit; up to 4 places (7.5 kgoe, 9.5 kgce, 13000 kWh).
    value: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    value_unit: Mapped[str] = mapped_column(String(8), default="kgce")
    # 基准水平: shown beside the value for reference; not used in the computation.
    baseline_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    # The largest designed output (per year, unit of output) one project may declare.
    max_output: Mapped[Decimal | None] = mapped_column(Quantity)
    source: Mapped[str] = mapped_column(String(300))
    effective_on: Mapped[date]
    reason: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(server_default=func.now())

    industry: Mapped[Industry] = relationship()
    recorded_by = relationship("User")
