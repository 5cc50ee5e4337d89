from datetime import date
from decimal import Decimal

from portal.compliance import services as compliance
from portal.disclosure import services
from portal.extensions import db
from tests import factories as f


def test_snapshot_is_volume_weighted_and_limited_to_the_window(ctx):
    buyer = f.enterprise()
    f.trade(
        buyer, quantity=Decimal("100"), unit_price=Decimal("300.00"), trade_date=date(2025, 3, 10)
    )
    f.trade(
        buyer, quantity=Decimal("300"), unit_price=Decimal("400.00"), trade_date=date(2025, 3, 20)
    )
    f.trade(
        buyer, quantity=Decimal("999"), unit_price=Decimal("999.00"), trade_date=date(2025, 1, 1)
    )
    db.session.flush()
    snap = {s.variety.code: s for s in services.market_snapshot(30, until=date(2025, 3, 31))}
    energy = snap["energy"]
    assert energy.trade_count == 2
    assert energy.quantity == Decimal("400")
    assert energy.average_price == Decimal("375.00")
    assert snap["coal"].trade_count == 0 and snap["coal"].average_price is None


def test_compliance_history_hides_unpublished_periods(ctx):
    unit = f.enterprise()
    f.period(2023)
    f.period(2024, published=False)
    f.compliance(unit, 2023)
    f.compliance(unit, 2024)
    years = [r.period_year for r in compliance.enterprise_compliance_history(unit.id)]
    assert years == [2023]


def test_holdings_arithmetic(ctx):
    unit = f.enterprise()
    f.period(2023)
    record = f.compliance(
        unit,
        2023,
        quota=Decimal("1000"),
        bought=Decimal("200.5"),
        sold=Decimal("50"),
        taken_back=Decimal("10"),
    )
    assert record.holdings == Decimal("1140.5")


def test_monthly_statistics_fill_empty_months_and_weight_by_volume(ctx):
    buyer = f.enterprise()
    f.trade(
        buyer, quantity=Decimal("100"), unit_price=Decimal("300.00"), trade_date=date(2025, 1, 10)
    )
    f.trade(
        buyer, quantity=Decimal("300"), unit_price=Decimal("400.00"), trade_date=date(2025, 1, 20)
    )
    f.trade(
        buyer, quantity=Decimal("50"), unit_price=Decimal("500.00"), trade_date=date(2025, 3, 5)
    )
    rows = services.monthly_statistics("energy", date(2025, 1, 1), date(2025, 3, 31))
    assert [(r.month, r.trade_count) for r in rows] == [(1, 2), (2, 0), (3, 1)]
    assert rows[0].average_price == Decimal("375.00")
    assert rows[1].average_price is None
    chart = services.price_chart(rows)
    assert chart["low"] == Decimal("375.00") and chart["high"] == Decimal("500.00")
    assert len(chart["points"].split()) == 2  # the empty month draws no point


def test_market_statistics_window_starts_on_the_first_of_the_month(ctx):
    report = services.market_statistics(months=24, until=date(2026, 11, 26))
    assert report["since"] == date(2024, 11, 1)
    assert [s["variety"].code for s in report["series"]] == ["energy", "coal"]
    assert len(report["series"][0]["rows"]) == 25  # 2024-11 … 2026-11, empty months included
