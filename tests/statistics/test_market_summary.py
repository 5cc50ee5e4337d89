"""Every figure of the market statistics is a sum of the trades: recorded, corrected and withdrawn
through the back office's service, the summary must equal sums computed directly from the trades."""

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from portal.disclosure import entry, statistics
from portal.disclosure.models import MARKET_WIDE, MarketDailySummary, Trade
from portal.disclosure.summary import check_summary
from portal.extensions import db
from tests import factories as f

ZHENGZHOU, KAIFENG, LUOYANG = "410100", "410200", "410300"


def record(number, *, day, variety="energy", category="voluntary", quantity, price, **parties):
    raw = {
        "number": number,
        "variety": variety,
        "category": category,
        "quantity": str(quantity),
        "unit_price": str(price),
        "trade_date": day.isoformat(),
        "buyer_name": parties.get("buyer_name", "某市发展和改革委员会"),
        "buyer_division_code": parties.get("buyer", ""),
        "seller_name": parties.get("seller_name", "河南省发展和改革委员会"),
        "seller_division_code": parties.get("seller", ""),
    }
    values, errors = entry.check_trade(raw)
    assert errors == []
    action, trade = entry.upsert("trades", values, actor=None)
    return trade


def record_market():
    """Trades over two months, two varieties, two categories, same-city and cross-city."""
    record("T-01", day=date(2025, 1, 6), quantity="100", price="300.00", buyer=ZHENGZHOU)
    record(
        "T-02",
        day=date(2025, 1, 6),
        quantity="50.5",
        price="310.50",
        buyer=KAIFENG,
        seller=ZHENGZHOU,
    )
    record(
        "T-03",
        day=date(2025, 1, 6),
        quantity="20",
        price="305.00",
        buyer=ZHENGZHOU,
        seller=ZHENGZHOU,
        category="local",
    )
    record(
        "T-04",
        day=date(2025, 1, 20),
        variety="coal",
        quantity="1000.1234",
        price="120.00",
        buyer=LUOYANG,
        seller=KAIFENG,
    )
    record("T-05", day=date(2025, 2, 3), quantity="10", price="330.00", buyer=LUOYANG)
    record(
        "T-06",
        day=date(2025, 2, 3),
        quantity="7.0001",
        price="320.00",
        buyer=KAIFENG,
        seller=LUOYANG,
        category="local",
    )
    record("T-07", day=date(2025, 3, 31), variety="coal", quantity="3", price="118.00")


def direct(trades, key):
    """Sums computed straight from the trades, grouped by key(trade) (a key may be a list)."""
    out = defaultdict(lambda: [0, Decimal(0), Decimal(0), None, None])
    for t in trades:
        keys = key(t)
        for k in keys if isinstance(keys, list) else [keys]:
            row = out[k]
            row[0] += 1
            row[1] += t.quantity
            row[2] += t.amount
            row[3] = t.unit_price if row[3] is None else max(row[3], t.unit_price)
            row[4] = t.unit_price if row[4] is None else min(row[4], t.unit_price)
    return {k: tuple(v) for k, v in out.items()}


def as_tuple(fig):
    return (fig.trades, fig.volume, fig.amount, fig.high, fig.low)


def divisions_of(t):
    return sorted({d for d in (t.buyer_division_code, t.seller_division_code) if d})


def assert_summary_matches_trades():
    trades = list(db.session.scalars(select(Trade)))
    assert check_summary(db.session.connection()) == []
    # daily, market-wide and per division, from the stored rows
    stored = {
        (r.division_code, r.variety_code, r.category_code, r.day): as_tuple(
            statistics.figures(r.trades, r.volume, r.amount, r.high, r.low)
        )
        for r in db.session.scalars(select(MarketDailySummary))
    }
    expected = direct(
        trades,
        lambda t: (
            [(MARKET_WIDE, t.variety_code, t.category_code, t.trade_date)]
            + [(d, t.variety_code, t.category_code, t.trade_date) for d in divisions_of(t)]
        ),
    )
    assert stored == expected
    # monthly and cumulative, as the page and the API read them, per division too
    since, until = date(2025, 1, 1), date(2025, 3, 31)
    for division in (None, ZHENGZHOU, KAIFENG, LUOYANG):
        chosen = [t for t in trades if division is None or division in divisions_of(t)]
        by_month = direct(chosen, lambda t: (t.variety_code, t.trade_date.replace(day=1)))
        for series in statistics.monthly(statistics.Scope(division=division), since, until):
            code = series.variety.code
            for row in series.months:
                want = by_month.get((code, row.month), (0, 0, 0, None, None))
                assert as_tuple(row.figures) == want, (division, code, row.label)
                upto = [
                    t for t in chosen if t.variety_code == code and t.trade_date < _next(row.month)
                ]
                assert as_tuple(row.cumulative) == direct(upto, lambda t: "all").get(
                    "all", (0, 0, 0, None, None)
                )
    # the day report: the day, month to date, year to date, since the opening
    day = date(2025, 2, 3)
    report = statistics.day_report(day, statistics.Scope())
    for code, parts in report.cumulative.items():
        of = [t for t in trades if t.variety_code == code]
        for name, start in (
            ("day", day),
            ("month", day.replace(day=1)),
            ("year", date(2025, 1, 1)),
            ("all", date(2000, 1, 1)),
        ):
            want = direct([t for t in of if start <= t.trade_date <= day], lambda t: "x")
            assert as_tuple(parts[name]) == want.get("x", (0, 0, 0, None, None)), (code, name)


def _next(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def test_summary_equals_the_trades_after_recording_correcting_and_withdrawing(ctx):
    record_market()
    assert_summary_matches_trades()
    monthly = statistics.monthly(statistics.Scope(), date(2025, 1, 1), date(2025, 3, 31))
    energy = monthly[0].months[0].figures
    # 100 + 50.5 + 20 on 6 January, 30,000 + 15,680.25 + 6,100 yuan
    assert (energy.trades, energy.volume, energy.amount) == (
        3,
        Decimal("170.5000"),
        Decimal("51780.25"),
    )
    assert (energy.high, energy.low, energy.average_price) == (
        Decimal("310.50"),
        Decimal("300.00"),
        Decimal("303.70"),
    )

    # A correction: another day, quantity, price and buyer's city.
    trade = db.session.scalar(select(Trade).where(Trade.number == "T-02"))
    db.session.commit()  # the row is expired: the old figures must still be found
    values, errors = entry.check_trade(
        {
            "number": "T-02",
            "variety": "energy",
            "category": "voluntary",
            "quantity": "60",
            "unit_price": "299.00",
            "trade_date": "2025-02-03",
            "buyer_name": "某市发展和改革委员会",
            "buyer_division_code": LUOYANG,
            "seller_name": "郑州某公司",
            "seller_division_code": ZHENGZHOU,
        }
    )
    assert errors == []
    assert entry.upsert("trades", values, actor=None)[0] == "update"
    assert trade.trade_date == date(2025, 2, 3)
    assert_summary_matches_trades()
    # The high of 6 January was T-02's 310.50: it is read again from the day's trades.
    row = db.session.get(MarketDailySummary, (MARKET_WIDE, "energy", "voluntary", date(2025, 1, 6)))
    assert (row.trades, row.high, row.low) == (1, Decimal("300.00"), Decimal("300.00"))
    assert (
        db.session.get(MarketDailySummary, (KAIFENG, "energy", "voluntary", date(2025, 1, 6)))
        is None
    )

    # A withdrawal: the only coal trade of 20 January leaves no row behind.
    entry.withdraw_trade("T-04", "录入错误，重复公示", actor=None)
    assert_summary_matches_trades()
    assert (
        db.session.scalar(
            select(MarketDailySummary).where(MarketDailySummary.day == date(2025, 1, 20))
        )
        is None
    )
    db.session.commit()


def test_withdrawal_needs_a_reason_and_a_trade_outside_the_ledger(ctx):
    record("T-09", day=date(2025, 1, 6), quantity="1", price="300.00", buyer=ZHENGZHOU)
    with pytest.raises(entry.WithdrawalRefused):
        entry.withdraw_trade("T-09", "  ", actor=None)
    with pytest.raises(entry.WithdrawalRefused):
        entry.withdraw_trade("T-404", "原因", actor=None)


def test_factory_trades_and_deletes_keep_the_summary(ctx):
    buyer = f.enterprise(division=KAIFENG)
    seller = f.enterprise(division=KAIFENG)
    one = f.trade(buyer, seller, quantity=Decimal("5"), unit_price=Decimal("200.00"))
    f.trade(buyer, quantity=Decimal("2"), unit_price=Decimal("250.00"))
    assert_summary_matches_trades()
    db.session.delete(one)
    db.session.flush()
    assert_summary_matches_trades()


def test_rebuild_finds_a_planted_mismatch_and_repairs_it(app, runner):
    with app.test_request_context():
        record_market()
        db.session.commit()
    result = runner.invoke(args=["statistics", "check"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        db.session.execute(
            update(MarketDailySummary)
            .where(
                MarketDailySummary.division_code == KAIFENG,
                MarketDailySummary.day == date(2025, 1, 6),
            )
            .values(volume=MarketDailySummary.volume + 1)
        )
        db.session.commit()
    result = runner.invoke(args=["statistics", "check"])
    assert result.exit_code == 1
    assert "MISMATCH 410200 energy voluntary 2025-01-06" in result.output
    result = runner.invoke(args=["statistics", "rebuild"])
    assert result.exit_code == 1
    assert "1 summary row(s) differed" in result.output
    assert runner.invoke(args=["statistics", "rebuild"]).exit_code == 0
    assert runner.invoke(args=["statistics", "check"]).exit_code == 0
