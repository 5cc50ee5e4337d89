"""The holdings table: kept with every ledger append, rebuilt from the ledger, checked against it."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import update

from portal.extensions import db
from portal.registry import services
from portal.registry.models import Holding
from tests.factories import make_enterprise


def test_every_append_keeps_its_period_holding(ctx):
    a, b = make_enterprise("甲"), make_enterprise("乙")
    services.allocate_indicators(a.id, "energy", 1000, 2024, "2024 年度初始分配")
    services.transfer_indicators(a.id, b.id, "energy", "300", "成交", period_year=2024)
    services.take_back_indicators(a.id, "energy", "50", "无偿收回", period_year=2024)
    services.surrender_indicators(a.id, "energy", "600", "2024 年度履约注销", period_year=2024)
    services.transfer_indicators(a.id, b.id, "energy", "20", "成交", period_year=2025)
    held = services.holding_for(a.id, "energy", 2024)
    assert (held.allocated, held.sold, held.taken_back, held.surrendered, held.entries) == (
        Decimal("1000"),
        Decimal("300"),
        Decimal("50"),
        Decimal("600"),
        4,
    )
    # The surrender settles the period: it is not subtracted from the holdings compared with use.
    assert services.period_holdings(a.id, "energy", 2024) == Decimal("650")
    assert services.period_holdings(a.id, "energy", 2025) == Decimal("-20")
    assert services.period_holdings(b.id, "energy", 2024) == Decimal("300")
    assert services.balance(a.id, "energy") == Decimal("30")
    assert services.check_holdings() == []


def test_a_correction_counts_in_the_corrected_entrys_period_and_part(ctx):
    a, b = make_enterprise("甲"), make_enterprise("乙")
    services.allocate_indicators(a.id, "energy", 100, 2023, "分配")
    out, _into = services.transfer_indicators(a.id, b.id, "energy", 40, "成交", period_year=2023)
    services.correct_entry(out.id, "10", "成交数量更正为 30", actor=None)
    assert services.holding_for(a.id, "energy", 2023).sold == Decimal("30")
    assert services.check_holdings() == []


def test_a_tampered_holding_is_found_and_rebuilt_from_the_ledger(ctx):
    a = make_enterprise("甲")
    services.allocate_indicators(a.id, "coal", 500, 2024, "分配")
    db.session.execute(
        update(Holding)
        .values(allocated=Decimal("900"))
        .execution_options(synchronize_session=False)
    )
    found = services.check_holdings()
    assert [(m.field, m.stored, m.ledger) for m in found] == [
        ("allocated", Decimal("900"), Decimal("500"))
    ]
    assert services.rebuild_holdings() == 1
    assert services.check_holdings() == []
    assert services.period_holdings(a.id, "coal", 2024) == Decimal("500")


def test_bulk_append_writes_the_same_rows_sums_and_audit_and_refuses_an_overdraft(ctx):
    import pytest
    from sqlalchemy import func, select

    from portal.audit.models import AuditEvent
    from portal.audit.services import verify_chain

    a, b = make_enterprise("甲"), make_enterprise("乙")
    holder_a = services.Holder("enterprise", enterprise_id=a.id)
    holder_b = services.Holder("enterprise", enterprise_id=b.id)
    when = datetime(2024, 1, 1)
    planned = [
        services.PlannedEntry("allocate", holder_a, "energy", Decimal(100), "分配", 2024, when),
        services.PlannedEntry("transfer_out", holder_a, "energy", Decimal(60), "成交", 2024, when),
        services.PlannedEntry("transfer_in", holder_b, "energy", Decimal(60), "成交", 2024, when),
    ]
    events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    assert services.append_bulk(planned) == 3
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events + 3
    assert verify_chain().ok
    assert services.balances(a.id) == {"energy": Decimal("40")}
    assert services.check_holdings() == []
    overdraft = [
        services.PlannedEntry("transfer_out", holder_a, "energy", Decimal(41), "成交", 2024, when)
    ]
    with pytest.raises(services.LedgerError) as raised:
        services.append_bulk(overdraft)
    assert raised.value.code == "insufficient"
