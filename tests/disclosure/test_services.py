from datetime import date
from decimal import Decimal

from portal.compliance import services as compliance
from portal.disclosure import services, statistics
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
    scope = statistics.Scope(variety="energy")
    [energy] = statistics.monthly(scope, date(2025, 1, 1), date(2025, 3, 31))
    rows = energy.months
    assert [(r.label, r.figures.trades) for r in rows] == [
        ("2025-01", 2),
        ("2025-02", 0),
        ("2025-03", 1),
    ]
    assert rows[0].figures.average_price == Decimal("375.00")
    assert (rows[0].figures.high, rows[0].figures.low) == (Decimal("400.00"), Decimal("300.00"))
    assert rows[1].figures.average_price is None
    assert rows[2].cumulative.trades == 3 and rows[2].cumulative.volume == Decimal("450")
    chart = energy.price_chart
    assert chart["low"] == Decimal("300.00") and chart["high"] == Decimal("500.00")
    assert len(chart["points"].split()) == 2  # the empty month draws no point
    assert len(energy.volume_chart["bars"]) == 2


def test_periods_start_on_the_first_of_the_month(ctx):
    today = date(2026, 11, 26)
    assert statistics.period("24", today) == (date(2024, 12, 1), today)
    assert statistics.period("12", today) == (date(2025, 12, 1), today)
    assert statistics.period("all", today) == (date(2026, 11, 1), today)  # no trade yet
    f.trade(f.enterprise(), trade_date=date(2023, 5, 6))
    assert statistics.period("all", today) == (date(2023, 5, 6), today)
    assert statistics.period("custom", today, None, date(2024, 1, 1)) == (
        date(2023, 5, 6),
        date(2024, 1, 1),
    )


def test_trade_totals_per_variety_and_side(ctx):
    """Bought and sold per variety, summed in one query over the unit's trades: its purchases
    and its sales apart, other units' trades left out, a variety with none shown as zero."""
    unit, other = f.enterprise("甲单位"), f.enterprise("乙单位")
    f.trade(unit, other, quantity=Decimal("100.5"))
    f.trade(unit, quantity=Decimal("20"), variety_code="coal")
    f.trade(other, unit, quantity=Decimal("7.25"))
    f.trade(other, quantity=Decimal("999"))
    db.session.flush()
    totals = {
        t["variety"].code: (t["bought"], t["sold"])
        for t in services.enterprise_trade_totals(unit.id)
    }
    assert totals == {
        "energy": (Decimal("100.5"), Decimal("7.25")),
        "coal": (Decimal("20"), Decimal("0")),
    }
    assert [t["variety"].code for t in services.enterprise_trade_totals(unit.id)] == [
        "energy",
        "coal",
    ]
    lonely = f.enterprise("丙单位")
    assert all(
        (t["bought"], t["sold"]) == (0, 0) for t in services.enterprise_trade_totals(lonely.id)
    )
