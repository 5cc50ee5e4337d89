from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.registry import services
from portal.registry.models import LedgerAppendOnly, LedgerEntry
from tests import factories as f
from tests.factories import make_enterprise


def test_issue_transfer_surrender_balances(ctx):
    a, b = make_enterprise("甲"), make_enterprise("乙")
    services.issue_indicators(a.id, "energy", "100", "确权", source_type="claim", source_id="1")
    services.transfer_indicators(a.id, b.id, "energy", Decimal("30.5"), "成交")
    services.surrender_indicators(b.id, "energy", "10", "2024 年度履约注销")
    db.session.commit()
    assert services.balances(a.id) == {"energy": Decimal("69.5000")}
    assert services.balances(b.id) == {"energy": Decimal("20.5000")}
    assert services.balances(make_enterprise("丙").id) == {}


def test_overdraw_is_refused_and_nothing_is_written(ctx):
    a, b = make_enterprise("甲"), make_enterprise("乙")
    services.issue_indicators(a.id, "coal", 5, "确权")
    db.session.commit()
    before = db.session.scalar(select(func.count()).select_from(LedgerEntry))
    with pytest.raises(services.LedgerError) as raised:
        services.transfer_indicators(a.id, b.id, "coal", "5.0001", "成交")
    assert raised.value.code == "insufficient"
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == before
    # varieties are never mixed: coal does not pay for energy
    with pytest.raises(services.LedgerError):
        services.surrender_indicators(a.id, "energy", 1, "履约")


@pytest.mark.parametrize("bad", ["0", "-1", "abc", "NaN", "Infinity"])
def test_quantity_must_be_positive_and_finite(ctx, bad):
    a = make_enterprise()
    with pytest.raises(services.LedgerError) as raised:
        services.issue_indicators(a.id, "energy", bad, "确权")
    assert raised.value.code == "quantity"


def test_reason_is_required(ctx):
    a = make_enterprise()
    with pytest.raises(services.LedgerError) as raised:
        services.issue_indicators(a.id, "energy", 1, "  ")
    assert raised.value.code == "reason"


def test_entries_cannot_be_updated_or_deleted_through_the_orm(ctx):
    a = make_enterprise()
    entry = services.issue_indicators(a.id, "energy", 1, "确权")
    db.session.commit()
    entry.quantity = Decimal(1000)
    with pytest.raises(LedgerAppendOnly):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(LedgerEntry, entry.id))
    with pytest.raises(LedgerAppendOnly):
        db.session.flush()
    db.session.rollback()


def test_correction_appends_and_keeps_the_original(ctx):
    a = make_enterprise()
    entry = services.issue_indicators(a.id, "energy", 100, "确权")
    correction = services.correct_entry(entry.id, "-20", "核定数量有误")
    db.session.commit()
    assert correction.corrects_entry_id == entry.id
    assert db.session.get(LedgerEntry, entry.id).quantity == Decimal("100")
    assert services.balances(a.id)["energy"] == Decimal("80")
    with pytest.raises(services.LedgerError):
        services.correct_entry(entry.id, "-81", "过多")


def test_every_write_is_audited(ctx):
    a, b = make_enterprise(), make_enterprise()
    services.issue_indicators(a.id, "energy", 10, "确权")
    services.transfer_indicators(a.id, b.id, "energy", 4, "成交")
    db.session.commit()
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["ledger.issue", "ledger.transfer_out", "ledger.transfer_in"]


def test_trade_transfer_is_idempotent_per_trade_number(ctx):
    from portal.disclosure.models import Trade

    seller, buyer = make_enterprise("卖方"), make_enterprise("买方")
    services.issue_indicators(seller.id, "energy", 100, "确权")
    trade = Trade(
        number="CJ-2024-0001",
        variety_code="energy",
        category_code="voluntary",
        quantity=Decimal("40"),
        unit_price=Decimal("100"),
        amount=Decimal("4000"),
        buyer_enterprise_id=buyer.id,
        buyer_name=buyer.name,
        seller_enterprise_id=seller.id,
        seller_name=seller.name,
        trade_date=date(2024, 5, 1),
    )
    db.session.add(trade)
    db.session.flush()
    services.record_trade_transfer(trade)
    services.record_trade_transfer(trade)
    db.session.commit()
    assert services.balances(buyer.id) == {"energy": Decimal("40")}
    assert services.balances(seller.id) == {"energy": Decimal("60")}
    # a trade with an unregistered party moves nothing
    trade.buyer_enterprise_id = None
    assert services.record_trade_transfer(trade) is None


def test_city_and_province_pools_are_holders(ctx):
    services.issue_indicators("province", "energy", 50, "省级储备")
    services.transfer_indicators("province", "city:410100", "energy", 20, "下达郑州")
    db.session.commit()
    assert services.holder_balances("province") == {"energy": Decimal("30")}
    assert services.holder_balances("city:410100") == {"energy": Decimal("20")}
    with pytest.raises(services.LedgerError):
        services.Holder.parse("city:ABC")


def test_expired_construction_obligation_is_taken_back_once(ctx):
    a = make_enterprise()
    services.issue_indicators(a.id, "energy", 100, "两高项目购入")
    obligation = services.open_construction_obligation(
        a.id, "年产 10 万吨项目", "energy", 60, date(2022, 1, 10)
    )
    assert obligation.start_deadline == date(2024, 1, 10)
    assert services.construction_warnings_due(date(2023, 12, 1)) == [obligation]
    assert services.take_back_expired_obligations(date(2024, 1, 10)) == []
    taken = services.take_back_expired_obligations(date(2024, 1, 11))
    assert taken == [obligation]
    assert services.take_back_expired_obligations(date(2024, 1, 12)) == []
    db.session.commit()
    assert services.balances(a.id)["energy"] == Decimal("40")
    entry = db.session.get(LedgerEntry, obligation.take_back_entry_id)
    assert entry.kind == "take_back" and entry.quantity == Decimal("-60")


def test_started_project_keeps_its_indicators(ctx):
    a = make_enterprise()
    services.issue_indicators(a.id, "energy", 100, "两高项目购入")
    obligation = services.open_construction_obligation(
        a.id, "项目", "energy", 100, date(2022, 2, 28)
    )
    services.record_construction_start(obligation, date(2023, 1, 1))
    assert services.take_back_expired_obligations(date(2025, 1, 1)) == []
    assert services.construction_warnings_due(obligation.start_deadline - timedelta(days=1)) == []


def test_a_pools_sale_reaches_the_buyer_through_the_ledger(ctx):
    """A province's or a city's listing sells from its pool: the buyer's purchase is a ledger
    pair like any other, the pool's reserve registered first for what its balance lacks."""
    buyer = f.enterprise("示例买方化工有限公司")
    province_sale = f.trade(buyer, None, f.listing(None), quantity=Decimal("120"))
    city_listing = f.listing(None, seller_kind="city", division_code="410300", seller_name="洛阳市")
    city_sale = f.trade(buyer, None, city_listing, quantity=Decimal("30"))
    db.session.flush()
    services.issue_indicators("city:410300", "energy", 50, "收储")  # the city holds 50 already
    for trade in (province_sale, city_sale):
        out, into = services.record_trade_transfer(trade)
        assert into.holder_key == f"enterprise:{buyer.id}" and into.quantity == trade.quantity
    assert services.balance("province", "energy") == 0
    assert services.balance("city:410300", "energy") == Decimal("20")  # no reserve registered
    assert services.balance(buyer.id, "energy") == Decimal("150")
    reserve = services.entry_exists(f"trade:{province_sale.number}:reserve")
    assert reserve.holder_key == "province" and reserve.quantity == Decimal("120")
    assert services.entry_exists(f"trade:{city_sale.number}:reserve") is None
    services.record_trade_transfer(province_sale)  # once per trade: nothing more is written
    assert services.balance(buyer.id, "energy") == Decimal("150")
    assert services.balance("province", "energy") == 0
    holding = services.holding_for(buyer.id, "energy", province_sale.trade_date.year)
    assert holding.bought == Decimal("150")
