"""The energy-efficiency benchmark table of the demo: the first national list, through the same
service as a fresh database's (seed_benchmarks), and one value the province revised since."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import current_app

from portal.benchmarks import services as benchmarks


def load_demo(rng, echo) -> None:
    with current_app.test_request_context("/"):
        added = benchmarks.seed_benchmarks()
        echo(f"  efficiency_benchmark: {added} products seeded")
        old = benchmarks.current_for("flat_glass_800")
        if old is not None and old.effective_on < date(2024, 1, 1):
            # A revised value, so the public page shows a history (illustrative, like the rest).
            benchmarks.add_benchmark(
                benchmarks.values_of(old)
                | {
                    "value": Decimal("7.5"),
                    "source": "《工业重点领域能效标杆水平和基准水平（2023年版）》；数值为示意，使用前请与原文核对",
                    "effective_on": date(2024, 1, 1),
                },
                None,
                "演示：按 2023 年版清单调整（示例）",
            )
