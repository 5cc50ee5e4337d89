"""Property-based tests of the ledger invariants (hypothesis)."""

from datetime import datetime
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from portal.extensions import db
from portal.registry import services
from portal.registry.models import COMPONENTS, Holding, LedgerEntry
from tests.factories import make_enterprise

quantities = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("10000"), places=4)
operations = st.lists(
    st.tuples(
        st.sampled_from(["issue", "transfer", "surrender", "take_back", "correct"]),
        st.integers(0, 2),
        st.integers(0, 2),
        st.sampled_from(["energy", "coal"]),
        quantities,
    ),
    min_size=1,
    max_size=25,
)
SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _run(ops):
    holders = [make_enterprise(f"企业{i}").id for i in range(3)]
    issued = {"energy": Decimal(0), "coal": Decimal(0)}
    removed = {"energy": Decimal(0), "coal": Decimal(0)}
    for kind, i, j, variety, qty in ops:
        try:
            with db.session.begin_nested():
                if kind == "issue":
                    services.issue_indicators(holders[i], variety, qty, "确权")
                    issued[variety] += qty
                elif kind == "transfer":
                    services.transfer_indicators(holders[i], holders[j], variety, qty, "成交")
                elif kind == "surrender":
                    services.surrender_indicators(holders[i], variety, qty, "履约")
                    removed[variety] += qty
                elif kind == "take_back":
                    services.take_back_indicators(holders[i], variety, qty, "收回")
                    removed[variety] += qty
                else:
                    last = db.session.scalar(
                        select(LedgerEntry).order_by(LedgerEntry.id.desc()).limit(1)
                    )
                    if last is not None:
                        services.correct_entry(last.id, -qty, "更正")
                        removed[last.variety_code] += qty
        except services.LedgerError:
            pass
    return holders, issued, removed


@SETTINGS
@given(ops=operations)
def test_no_balance_is_ever_negative(ctx, ops):
    try:
        holders, _, _ = _run(ops)
        for holder in holders:
            for amount in services.balances(holder).values():
                assert amount >= 0
    finally:
        db.session.rollback()


@SETTINGS
@given(ops=operations)
def test_transfers_conserve_the_total(ctx, ops):
    try:
        holders, issued, removed = _run(ops)
        for variety in ("energy", "coal"):
            held = sum(services.balances(h).get(variety, Decimal(0)) for h in holders)
            assert held == issued[variety] - removed[variety]
        # and each transfer's two halves sum to zero
        pairs = db.session.execute(
            select(LedgerEntry.transfer_id, func.sum(LedgerEntry.quantity), func.count())
            .where(LedgerEntry.transfer_id.is_not(None))
            .group_by(LedgerEntry.transfer_id)
        ).all()
        for _, total, count in pairs:
            assert Decimal(total) == 0 and count == 2
    finally:
        db.session.rollback()


@SETTINGS
@given(ops=operations)
def test_balance_is_the_sum_of_entries(ctx, ops):
    try:
        holders, _, _ = _run(ops)
        for holder in holders:
            entries = services.entries_for(holder)
            sums: dict[str, Decimal] = {}
            for entry in entries:
                sums[entry.variety_code] = sums.get(entry.variety_code, Decimal(0)) + entry.quantity
            assert services.balances(holder) == sums
    finally:
        db.session.rollback()


# A period's holdings are sums: they come out the same whatever the order of the entries.
planned_entries = st.lists(
    st.tuples(
        st.sampled_from(["allocate", "transfer_in", "transfer_out", "take_back", "surrender"]),
        st.integers(0, 2),
        st.sampled_from(["energy", "coal"]),
        st.sampled_from([2024, 2025]),
        quantities,
    ),
    min_size=1,
    max_size=20,
)


def _holdings() -> dict:
    """Every holding row's figures, by holder, variety and period."""
    rows = db.session.scalars(select(Holding)).all()
    return {
        (row.holder_key, row.variety_code, row.period_year): tuple(
            Decimal(getattr(row, name)) for name in (*COMPONENTS, "entries")
        )
        for row in rows
    }


@SETTINGS
@given(entries=planned_entries, order=st.randoms(use_true_random=False))
def test_a_periods_holdings_do_not_depend_on_the_order_of_entry(ctx, entries, order):
    units = [make_enterprise(f"企业{i}").id for i in range(3)]
    db.session.commit()  # the units stay; each run below is rolled back

    def append(sequence) -> dict:
        with db.session.begin_nested() as run:
            services.append_bulk(
                [
                    services.PlannedEntry(
                        kind=kind,
                        holder=services.Holder("enterprise", enterprise_id=units[i]),
                        variety_code=variety,
                        quantity=qty,
                        reason="性质测试",
                        period_year=year,
                        created_at=datetime(year, 6, 1),
                    )
                    for kind, i, variety, year, qty in sequence
                ],
                check_balance=False,
            )
            found = _holdings()
            assert services.check_holdings() == []  # the table equals the ledger's sums
            run.rollback()
        return found

    try:
        shuffled = list(entries)
        order.shuffle(shuffled)
        assert append(entries) == append(shuffled)
    finally:
        db.session.rollback()
