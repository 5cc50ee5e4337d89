"""One truth: every published holding, shortfall and market total checked against the ledger.

`reconcile()` recomputes from the registry ledger and the trades, and lists each mismatch with the
record that shows it (`flask registry reconcile`). `open_balances()` builds the ledger's opening
entries from what an existing database recorded before the ledger held it
(`flask registry open-balances`, idempotent). Both live here, above compliance and the registry,
because the market's trades are disclosure's.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager

from portal.audit.services import record_event
from portal.compliance import services as compliance
from portal.compliance.models import CompliancePeriod, ComplianceRecord
from portal.disclosure.models import Listing, Trade
from portal.extensions import db
from portal.publicity import services as publicity
from portal.registry import services as registry
from portal.registry.models import Holding, LedgerEntry, LedgerOpeningSource

ZERO = Decimal("0")
OPENING_REASON = "登记簿建立期初余额后，按登记簿重算履约名单数字"


@dataclass(frozen=True)
class Mismatch:
    """One figure that does not agree with the ledger, and the record that shows it."""

    check: str  # holding, trade, market, record, publication, obligation, balance
    record: str  # e.g. "compliance_record:12", "trade:YNQ-CJ-2024-000001"
    detail: str

    def __str__(self) -> str:
        return f"{self.check}\t{self.record}\t{self.detail}"


def _q(value) -> Decimal:
    return Decimal(value or 0).quantize(registry.QUANTUM)


def reconcile() -> list[Mismatch]:
    """Every mismatch between what is stored or published and what the ledger and trades give."""
    found: list[Mismatch] = []
    found += _check_holdings_table()
    found += _check_trades_and_market()
    found += _check_compliance_records()
    found += _check_publications()
    found += _check_balances()
    return found


def _check_holdings_table() -> list[Mismatch]:
    return [
        Mismatch(
            "holding",
            f"holding:{m.holder_key}:{m.variety_code}:{m.period_year}",
            f"{m.field}: stored {m.stored}, ledger {m.ledger}",
        )
        for m in registry.check_holdings()
    ]


def ledger_trades():
    """The trades that move indicators, oldest first: a buyer on file, and a seller on file or a
    pool (a listing of the province or a city); see registry.record_trade_transfer."""
    return (
        select(Trade)
        .outerjoin(Trade.listing)
        .where(
            Trade.buyer_enterprise_id.is_not(None),
            or_(
                Trade.seller_enterprise_id.is_not(None),
                Listing.seller_kind.in_(registry.POOL_KINDS),
            ),
        )
        .options(contains_eager(Trade.listing))
        .order_by(Trade.trade_date, Trade.id)
    )


def _check_trades_and_market() -> list[Mismatch]:
    """Each trade that moves indicators has its ledger pair, of its quantity, in its year, from
    its seller (or pool) to its buyer; each trade entry has its trade; and the market's totals per
    variety and year agree."""
    found = []
    pairs: dict[str, dict[str, list]] = defaultdict(lambda: {"out": [], "in": []})
    for entry in db.session.execute(
        select(
            LedgerEntry.source_id,
            LedgerEntry.kind,
            LedgerEntry.holder_key,
            LedgerEntry.quantity,
            LedgerEntry.period_year,
            LedgerEntry.variety_code,
        ).where(
            LedgerEntry.source_type == "trade",
            LedgerEntry.kind.in_(("transfer_out", "transfer_in")),
        )
    ):
        side = "out" if entry.kind == "transfer_out" else "in"
        pairs[entry.source_id][side].append(entry)
    market: dict[tuple[str, int], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    seen = set()
    for trade in db.session.scalars(ledger_trades()).unique():
        seen.add(trade.number)
        year = trade.trade_date.year
        market[(trade.variety_code, year)][0] += _q(trade.quantity)
        pair = pairs.get(trade.number)
        ref = f"trade:{trade.number}"
        if pair is None:
            found.append(Mismatch("trade", ref, "no ledger pair for a trade that moves indicators"))
            continue
        seller = registry.trade_seller(trade)
        if [(e.holder_key, _q(e.quantity)) for e in pair["out"]] != [
            (seller.key, -_q(trade.quantity))
        ]:
            found.append(Mismatch("trade", ref, "seller's ledger entry differs from the trade"))
        if [(e.holder_key, _q(e.quantity)) for e in pair["in"]] != [
            (f"enterprise:{trade.buyer_enterprise_id}", _q(trade.quantity))
        ]:
            found.append(Mismatch("trade", ref, "buyer's ledger entry differs from the trade"))
        if any(e.period_year != year for e in pair["out"] + pair["in"]):
            found.append(Mismatch("trade", ref, f"ledger pair not counted in {year}"))
    for number, pair in pairs.items():
        for entry in pair["in"]:
            market[(entry.variety_code, entry.period_year)][1] += _q(entry.quantity)
        if number not in seen:
            found.append(
                Mismatch("trade", f"trade:{number}", "ledger entries for an unknown trade")
            )
    for (variety, year), (traded, moved) in sorted(market.items(), key=str):
        if traded != moved:
            found.append(
                Mismatch(
                    "market",
                    f"market:{variety}:{year}",
                    f"trades that move indicators {traded}, ledger transfers {moved}",
                )
            )
    return found


def _check_compliance_records() -> list[Mismatch]:
    """Each record's status and shortfall agree with the ledger's holdings of its period, and its
    unit has an obligation in the period."""
    found = []
    obligated: dict[int, set[int]] = {}
    for record in db.session.scalars(
        select(ComplianceRecord).order_by(ComplianceRecord.period_year, ComplianceRecord.id)
    ):
        ref = f"compliance_record:{record.id}"
        year = record.period_year
        if year not in obligated:
            obligated[year] = compliance.obligated_enterprise_ids(year)
        if record.enterprise_id not in obligated[year]:
            found.append(Mismatch("obligation", ref, f"unit has no obligation in {year}"))
        holdings = _q(record.holdings)
        actual = None if record.actual is None else _q(record.actual)
        expected_shortfall = (
            actual - holdings
            if record.status == "non_compliant" and actual is not None and actual > holdings
            else None
        )
        stored = None if record.shortfall is None else _q(record.shortfall)
        if stored != expected_shortfall:
            found.append(
                Mismatch(
                    "record",
                    ref,
                    f"shortfall {stored}, ledger gives {expected_shortfall} "
                    f"(actual {actual}, holdings {holdings})",
                )
            )
        if actual is not None and record.status in ("on_time", "late") and actual > holdings:
            found.append(
                Mismatch(
                    "record", ref, f"{record.status} but actual {actual} > holdings {holdings}"
                )
            )
        if record.status == "non_compliant" and (actual is None or actual <= holdings):
            found.append(
                Mismatch("record", ref, f"non_compliant but actual {actual} ≤ holdings {holdings}")
            )
    return found


def _check_publications() -> list[Mismatch]:
    """A published list's text is what the records and the ledger give now; otherwise it must be
    republished as a correction."""
    found = []
    for period in db.session.scalars(select(CompliancePeriod).order_by(CompliancePeriod.year)):
        notice = publicity.notice_for_subject("compliance_period", period.year)
        if notice is None or notice.status not in ("open", "final"):
            continue
        if notice.announcement.body_md != compliance.list_text(period.year):
            found.append(
                Mismatch(
                    "publication",
                    f"announcement:{notice.announcement.id}",
                    f"the published {period.year} list differs from the ledger: republish it",
                )
            )
    return found


def _check_balances() -> list[Mismatch]:
    """No holder's balance of a variety is negative (below half a quantum: SQLite sums the
    stored decimals in binary floating point, so an exact zero can come out as -1e-12)."""
    rows = db.session.execute(
        select(LedgerEntry.holder_key, LedgerEntry.variety_code, func.sum(LedgerEntry.quantity))
        .group_by(LedgerEntry.holder_key, LedgerEntry.variety_code)
        .having(func.sum(LedgerEntry.quantity) < -registry.QUANTUM / 2)
    ).all()
    return [
        Mismatch("balance", f"holder:{key}:{variety}", f"balance {_q(total)} is negative")
        for key, variety, total in rows
    ]


# --- opening balances of an existing database ----------------------------------------------------


@dataclass
class OpeningReport:
    trade_pairs: int = 0
    entries: int = 0
    sources: int = 0
    ledger_exceeds: int = 0
    shortfalls: int = 0
    republished: list[int] | None = None


def open_balances(*, actor=None) -> OpeningReport:
    """Build the ledger's opening entries from the records already there; safe to run again.

    1. A trade that moves indicators without its ledger pair gets it (in trade-date order); a
       pool's sale first registers its quantity to the pool's reserve.
    2. Each figure a compliance record kept before the ledger (ledger_opening_source) becomes an
       opening entry for what the ledger lacks in that period; where the ledger already holds
       more, the ledger stands and the difference is only counted.
    3. A published list whose numbers change is republished as a correction, with the reason.
    """
    report = OpeningReport(republished=[])
    have = set(
        db.session.scalars(
            select(LedgerEntry.source_id).where(
                LedgerEntry.source_type == "trade", LedgerEntry.kind == "transfer_out"
            )
        )
    )
    planned = []
    for trade in db.session.scalars(ledger_trades()).unique():
        if trade.number in have:
            continue
        seller = registry.trade_seller(trade)
        common = {
            "variety_code": trade.variety_code,
            "quantity": trade.quantity,
            "period_year": trade.trade_date.year,
            "created_at": trade.created_at or registry.utcnow(),
            "source_id": trade.number,
        }
        if seller.kind != "enterprise":
            # A pool's sale before the ledger: its reserve is registered as the trade's quantity.
            planned.append(
                registry.PlannedEntry(
                    kind="issue",
                    holder=seller,
                    reason=f"储备指标登记（成交 {trade.number}）",
                    source_type="reserve",
                    idempotency_key=f"trade:{trade.number}:reserve",
                    **common,
                )
            )
        for kind, holder, side in (
            ("transfer_out", seller, "out"),
            (
                "transfer_in",
                registry.Holder("enterprise", enterprise_id=trade.buyer_enterprise_id),
                "in",
            ),
        ):
            planned.append(
                registry.PlannedEntry(
                    kind=kind,
                    holder=holder,
                    reason=f"成交 {trade.number}",
                    source_type="trade",
                    transfer_id=f"trade:{trade.number}",
                    idempotency_key=f"trade:{trade.number}:{side}",
                    **common,
                )
            )
        report.trade_pairs += 1
    if planned:
        registry.append_bulk(planned, actor=actor, check_balance=False)
    planned = []
    sources = db.session.scalars(
        select(LedgerOpeningSource)
        .where(LedgerOpeningSource.opened_at.is_(None))
        .order_by(LedgerOpeningSource.id)
    ).all()
    now = registry.utcnow()
    for source in sources:
        held = db.session.scalar(
            select(Holding)
            .where(
                Holding.enterprise_id == source.enterprise_id,
                Holding.variety_code == source.variety_code,
                Holding.period_year == source.period_year,
            )
            .execution_options(populate_existing=True)
        )
        for name, component in (
            ("quota", "allocated"),
            ("bought", "bought"),
            ("sold", "sold"),
            ("taken_back", "taken_back"),
        ):
            delta = _q(getattr(source, name)) - _q(getattr(held, component, 0) if held else 0)
            if delta < 0:
                report.ledger_exceeds += 1
            if delta <= 0:
                continue
            planned.append(
                registry.PlannedEntry(
                    kind="opening",
                    holder=registry.Holder("enterprise", enterprise_id=source.enterprise_id),
                    variety_code=source.variety_code,
                    quantity=-delta if component in ("sold", "taken_back") else delta,
                    reason=f"{source.period_year} 年度期初余额（原履约记录）",
                    period_year=source.period_year,
                    created_at=now,
                    source_type="opening",
                    source_id=f"{source.id}:{name}",
                    idempotency_key=f"opening:{source.id}:{name}",
                    component=component,
                    signed=True,
                )
            )
        source.opened_at = now
        report.sources += 1
    if planned:
        report.entries = registry.append_bulk(planned, actor=actor, check_balance=False)
    db.session.flush()
    report.shortfalls = compliance.recompute_shortfalls(actor=actor)
    for period in db.session.scalars(select(CompliancePeriod).order_by(CompliancePeriod.year)):
        notice = publicity.notice_for_subject("compliance_period", period.year)
        if notice is None or notice.status not in ("open", "final"):
            continue
        if notice.announcement.body_md != compliance.list_text(period.year):
            compliance.republish_list(period.year, OPENING_REASON, actor=actor)
            report.republished.append(period.year)
    record_event(
        "registry.open_balances",
        "ledger_entry",
        "*",
        after={
            "trade_pairs": report.trade_pairs,
            "entries": report.entries,
            "sources": report.sources,
            "ledger_exceeds": report.ledger_exceeds,
            "shortfalls": report.shortfalls,
            "republished": report.republished,
        },
        actor=actor,
    )
    return report
