"""Reconciliation on the demo data, a planted mismatch, opening balances, keying a demo trade."""

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select, update

from demo.cli import demo as demo_command
from portal.compliance import services as compliance
from portal.compliance.models import ComplianceRecord
from portal.disclosure import entry
from portal.disclosure import reconcile as reconciliation
from portal.disclosure.models import Trade
from portal.disclosure.reconcile import ledger_trades
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.news.models import Announcement
from portal.registry import services as registry
from portal.registry.models import LedgerEntry, LedgerOpeningSource
from tests.factories import make_enterprise


def _load_demo(runner, scale="60"):
    result = runner.invoke(demo_command, ["--scale", scale])
    assert result.exit_code == 0, result.output


def test_the_demo_reconciles_with_no_mismatch(app, runner):
    _load_demo(runner)
    with app.app_context():
        registered = db.session.scalar(
            select(func.count())
            .select_from(Trade)
            .where(Trade.buyer_enterprise_id.is_not(None), Trade.seller_enterprise_id.is_not(None))
        )
        moving = db.session.scalar(select(func.count()).select_from(ledger_trades().subquery()))
        pairs = db.session.scalar(
            select(func.count()).where(
                LedgerEntry.source_type == "trade", LedgerEntry.kind == "transfer_out"
            )
        )
        # Every trade between registered parties, and every pool sale to a registered buyer.
        assert registered > 0 and moving > registered and pairs == moving
        pool_sales = db.session.scalars(
            select(LedgerEntry).where(
                LedgerEntry.source_type == "trade",
                LedgerEntry.kind == "transfer_out",
                LedgerEntry.enterprise_id.is_(None),
            )
        ).all()
        assert pool_sales and all(
            e.holder_key == "province" or e.holder_key.startswith("city:") for e in pool_sales
        )
        assert db.session.scalar(select(func.count()).select_from(ComplianceRecord)) > 0
    result = runner.invoke(args=["registry", "reconcile"])
    assert result.exit_code == 0, result.output
    assert "0 mismatch(es)." in result.output


def test_reconcile_finds_a_planted_mismatch_and_exits_non_zero(app, runner):
    _load_demo(runner)
    with app.app_context():
        trade = db.session.scalar(
            select(Trade)
            .where(Trade.buyer_enterprise_id.is_not(None), Trade.seller_enterprise_id.is_not(None))
            .order_by(Trade.id)
        )
        number = trade.number
        db.session.execute(
            update(Trade).where(Trade.id == trade.id).values(quantity=trade.quantity + 1)
        )
        record = db.session.scalar(
            select(ComplianceRecord)
            .where(ComplianceRecord.status == "non_compliant")
            .order_by(ComplianceRecord.id)
        )
        db.session.execute(
            update(ComplianceRecord)
            .where(ComplianceRecord.id == record.id)
            .values(shortfall=record.shortfall + 5)
        )
        record_id = record.id
        db.session.commit()
        found = {(m.check, m.record) for m in reconciliation.reconcile()}
        assert ("trade", f"trade:{number}") in found
        assert ("record", f"compliance_record:{record_id}") in found
        assert any(check == "market" for check, _ in found)
    result = runner.invoke(args=["registry", "reconcile"])
    assert result.exit_code == 1
    assert f"trade:{number}" in result.output and f"compliance_record:{record_id}" in result.output


def test_keying_a_trade_for_a_demo_seller_with_enough_balance_works(app, runner):
    _load_demo(runner)
    with app.app_context():
        seller_key, _variety, _total = db.session.execute(
            select(LedgerEntry.holder_key, LedgerEntry.variety_code, func.sum(LedgerEntry.quantity))
            # An enterprise: the demo's city holds what it bought back (收储) too.
            .where(LedgerEntry.variety_code == "energy", LedgerEntry.holder_kind == "enterprise")
            .group_by(LedgerEntry.holder_key, LedgerEntry.variety_code)
            .having(func.sum(LedgerEntry.quantity) > 100)
            .order_by(LedgerEntry.holder_key)
        ).first()
        seller = db.session.get(Enterprise, registry.Holder.parse(seller_key).enterprise_id)
        buyer = db.session.scalar(
            select(Enterprise)
            .where(Enterprise.id != seller.id, Enterprise.in_carbon_trading.is_(False))
            .order_by(Enterprise.id)
        )
        before = registry.balance(seller.id, "energy")
        raw = {
            "number": "YNQ-CJ-2026-900001",
            "variety": "energy",
            "category": "voluntary",
            "quantity": "100",
            "unit_price": "300",
            "buyer_uscc": buyer.uscc,
            "seller_uscc": seller.uscc,
            "trade_date": "2026-11-20",
        }
        result = entry.apply("trades", [raw], actor=None)
        assert [row.action for row in result.rows] == ["create"], result.rows
        db.session.commit()
        assert registry.balance(seller.id, "energy") == before - 100
        assert registry.holding_for(buyer.id, "energy", 2026).bought >= Decimal("100")
        assert reconciliation.reconcile() == []


def test_open_balances_opens_the_ledger_once_and_republishes_changed_lists(ctx):
    unit, other = make_enterprise("期初企业"), make_enterprise("对手企业")
    compliance.open_period(2024, date(2025, 6, 30), actor=None)
    # A unit recorded before the ledger held its figures: its holding is the unit's old figures.
    registry.allocate_indicators(unit.id, "energy", 1, 2024, "期初前的少量分配")
    record = compliance.record_status(
        2024, unit.id, "energy", "non_compliant", actual=Decimal("1200"),
        rectify_by=date(2025, 9, 30), actor=None,
    )  # fmt: skip
    db.session.add(
        LedgerOpeningSource(
            id=record.id,
            enterprise_id=unit.id,
            period_year=2024,
            variety_code="energy",
            quota=Decimal("1000"),
            bought=Decimal("150"),
            sold=Decimal("50"),
            taken_back=Decimal("10"),
        )
    )
    db.session.add(
        Trade(
            number="YNQ-CJ-2024-000777",
            variety_code="energy",
            category_code="voluntary",
            quantity=Decimal("40"),
            unit_price=Decimal("300"),
            amount=Decimal("12000"),
            buyer_enterprise_id=other.id,
            buyer_name=other.name,
            seller_enterprise_id=unit.id,
            seller_name=unit.name,
            method="listing",
            trade_date=date(2024, 5, 6),
            settlement_status="settled",
        )
    )
    db.session.flush()
    notice = compliance.publish_list(2024, actor=None)
    old_body = notice.announcement.body_md
    report = reconciliation.open_balances()
    assert (report.trade_pairs, report.sources, report.entries) == (1, 1, 4)
    held = registry.holding_for(unit.id, "energy", 2024)
    # quota 1000 (1 was in the ledger), bought 150, sold 50 (40 of them the trade's pair), taken 10
    assert (held.allocated, held.bought, held.sold, held.taken_back) == (
        Decimal("1000"),
        Decimal("150"),
        Decimal("50"),
        Decimal("10"),
    )
    assert record.shortfall == Decimal("1200") - Decimal("1090")
    assert report.republished == [2024]
    announcement = db.session.get(Announcement, notice.announcement_id)
    assert [r.reason for r in announcement.revisions] == [reconciliation.OPENING_REASON]
    assert announcement.revisions[0].body_md == old_body != announcement.body_md
    assert reconciliation.reconcile() == []
    again = reconciliation.open_balances()
    assert (again.trade_pairs, again.sources, again.entries, again.republished) == (0, 0, 0, [])
