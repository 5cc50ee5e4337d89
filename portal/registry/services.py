"""Ledger rules: issue, transfer, surrender, cancel, take back, correct; balances are sums of entries.

Concurrency: every debit first locks its holder's row in ledger_holder_lock (an UPDATE, which is a row
lock on PostgreSQL and the database write lock on SQLite), then reads the balance and writes. Two
debits of one holder therefore run one after the other, and neither can overdraw. Credits need no
lock: they cannot make a balance negative.

LOCK ORDER (every path keeps it; a new lock goes into this list):
  1. the audit chain head (audit.services.lock_chain_head), then
  2. ledger holders (ledger_holder_lock rows), in any order, since 1 already serialises them, then
  3. holding rows (the sums each append updates), after 1 on every path, credits included.
Every ledger write records an audit event, which takes the head; and many callers record one before
they reach the ledger (a trade is audited, then transferred; a batch import does both per row). So
the head cannot come last everywhere, and _lock() takes it first. Taking a holder before the head
let a cancel (holder → head) and a trade (head → holder) wait on each other: a deadlock on
PostgreSQL. The head is also where all audited writes queue anyway, so taking it a little earlier
costs no concurrency.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypedDict, Unpack

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from portal.audit.services import lock_chain_head, record_event, record_events_bulk
from portal.bulk import insert_rows
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.forms import QUANTITY_LIMIT
from portal.reference.models import Division
from portal.registry.models import (
    COMPONENT_OF_KIND,
    COMPONENTS,
    DEBIT_COMPONENTS,
    ConstructionObligation,
    ConstructionStartReport,
    Holding,
    LedgerEntry,
    LedgerHolderLock,
)
from portal.web import current_date

QUANTUM = Decimal("0.0001")
ZERO = Decimal(0)
START_YEARS = 2  # 实施方案 二(四): construction must start within 2 years


class LedgerError(ValueError):
    """An operation the ledger refuses; `code` names the rule (for a message in the view)."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# --- holders -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Holder:
    kind: str  # enterprise, city, province
    enterprise_id: int | None = None
    division_code: str | None = None

    @property
    def key(self) -> str:
        if self.kind == "enterprise":
            return f"enterprise:{self.enterprise_id}"
        if self.kind == "city":
            return f"city:{self.division_code}"
        return "province"

    @classmethod
    def parse(cls, value: Holder | int | str) -> Holder:
        """Accept a Holder, an enterprise id, or a key such as "enterprise:3", "city:410100"."""
        if isinstance(value, Holder):
            return value
        if isinstance(value, int):
            return cls("enterprise", enterprise_id=value)
        kind, _, rest = str(value).partition(":")
        if kind == "enterprise" and rest.isascii() and rest.isdigit() and len(rest) <= 9:
            return cls("enterprise", enterprise_id=int(rest))
        if kind == "city" and len(rest) == 6 and rest.isascii() and rest.isdigit():
            return cls("city", division_code=rest)
        if kind == "province" and not rest:
            return cls("province")
        raise LedgerError("holder", str(value))


def _quantity(value) -> Decimal:
    try:
        qty = Decimal(str(value)).quantize(QUANTUM)
    except ArithmeticError as exc:
        raise LedgerError("quantity", str(value)) from exc
    if not qty.is_finite() or qty <= 0 or qty >= QUANTITY_LIMIT:
        raise LedgerError("quantity", str(value))
    return qty


def _lock(holder: Holder) -> None:
    """Serialize debits of one holder, taking the audit head first (the module's lock order)."""
    lock_chain_head()
    key = holder.key
    result = db.session.execute(
        update(LedgerHolderLock)
        .where(LedgerHolderLock.holder_key == key)
        .values(seq=LedgerHolderLock.seq + 1)
    )
    if result.rowcount:
        return
    try:
        with db.session.begin_nested():
            db.session.add(LedgerHolderLock(holder_key=key, seq=1))
    except IntegrityError:
        # Another transaction created it first: take the lock on the row it made.
        db.session.execute(
            update(LedgerHolderLock)
            .where(LedgerHolderLock.holder_key == key)
            .values(seq=LedgerHolderLock.seq + 1)
        )


# --- reading ---------------------------------------------------------------------------------------


def balance(holder: Holder | int | str, variety_code: str) -> Decimal:
    holder = Holder.parse(holder)
    total = db.session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.quantity), 0)).where(
            LedgerEntry.holder_key == holder.key, LedgerEntry.variety_code == variety_code
        )
    )
    return Decimal(total or 0).quantize(QUANTUM)


def holder_balances(holder: Holder | int | str) -> dict[str, Decimal]:
    holder = Holder.parse(holder)
    rows = db.session.execute(
        select(LedgerEntry.variety_code, func.sum(LedgerEntry.quantity))
        .where(LedgerEntry.holder_key == holder.key)
        .group_by(LedgerEntry.variety_code)
    ).all()
    return {code: Decimal(total or 0).quantize(QUANTUM) for code, total in rows}


def balances(enterprise_id: int) -> dict[str, Decimal]:
    """An enterprise's balance per variety, e.g. {"energy": Decimal("120.0000")}."""
    return holder_balances(Holder("enterprise", enterprise_id=enterprise_id))


def holding_for(enterprise_id: int, variety_code: str, period_year: int) -> Holding | None:
    """A unit's Holding row for one variety and period, read fresh from the database."""
    return db.session.scalar(
        select(Holding)
        .where(
            Holding.holder_key == Holder("enterprise", enterprise_id=enterprise_id).key,
            Holding.variety_code == variety_code,
            Holding.period_year == period_year,
        )
        .execution_options(populate_existing=True)
    )


def period_holdings(enterprise_id: int, variety_code: str, period_year: int) -> Decimal:
    """allocated + bought − sold − taken back in a period (what compliance compares use with)."""
    row = holding_for(enterprise_id, variety_code, period_year)
    return (row.holdings if row else Decimal(0)).quantize(QUANTUM)


def period_surrendered(enterprise_id: int, variety_code: str, period_year: int) -> Decimal:
    row = holding_for(enterprise_id, variety_code, period_year)
    return Decimal(row.surrendered if row else 0).quantize(QUANTUM)


def entries_for(holder: Holder | int | str, limit: int | None = None):
    holder = Holder.parse(holder)
    stmt = (
        select(LedgerEntry)
        .where(LedgerEntry.holder_key == holder.key)
        .order_by(LedgerEntry.id.desc())
    )
    if limit:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


def entry_exists(idempotency_key: str) -> LedgerEntry | None:
    return db.session.scalar(
        select(LedgerEntry).where(LedgerEntry.idempotency_key == idempotency_key)
    )


def holder_label(holder_key: str) -> str:
    """A readable name for a holder key (the enterprise's name, or the division's)."""
    holder = Holder.parse(holder_key)
    if holder.kind == "enterprise":
        enterprise = db.session.get(Enterprise, holder.enterprise_id)
        return enterprise.name if enterprise else holder_key
    if holder.kind == "city":
        division = db.session.get(Division, holder.division_code)
        return division.name if division else holder_key
    return "province"


# --- writing ---------------------------------------------------------------------------------------


def _append(
    kind: str,
    holder: Holder,
    variety_code: str,
    quantity: Decimal,
    reason: str,
    *,
    source_type: str = "",
    source_id: str = "",
    actor=None,
    transfer_id: str | None = None,
    corrects_entry_id: int | None = None,
    idempotency_key: str | None = None,
    period_year: int | None = None,
    component: str | None = None,
) -> LedgerEntry:
    if not (reason or "").strip():
        raise LedgerError("reason")
    # The audit head before the Holding row, even for a credit: the module's lock order.
    lock_chain_head()
    component = component or COMPONENT_OF_KIND[kind]
    entry = LedgerEntry(
        created_at=utcnow(),
        kind=kind,
        holder_key=holder.key,
        holder_kind=holder.kind,
        enterprise_id=holder.enterprise_id,
        division_code=holder.division_code,
        variety_code=variety_code,
        quantity=quantity,
        reason=reason.strip(),
        source_type=source_type,
        source_id=str(source_id or ""),
        transfer_id=transfer_id,
        corrects_entry_id=corrects_entry_id,
        idempotency_key=idempotency_key,
        actor_id=getattr(actor, "id", None),
        period_year=period_year or current_date().year,
        component=component,
    )
    db.session.add(entry)
    db.session.flush()
    _add_to_holding(entry)
    record_event(
        f"ledger.{kind}",
        "ledger_entry",
        entry.id,
        after={
            "holder": entry.holder_key,
            "variety": variety_code,
            "quantity": quantity,
            "source": f"{source_type}:{entry.source_id}",
            "transfer_id": transfer_id,
            "corrects": corrects_entry_id,
            "period": entry.period_year,
        },
        remark=entry.reason,
        actor=actor,
    )
    return entry


def _holding_amount(component: str, quantity: Decimal) -> Decimal:
    """The entry's amount as its Holding column counts it (debit columns hold positive amounts)."""
    return -quantity if component in DEBIT_COMPONENTS else quantity


def _add_to_holding(entry: LedgerEntry) -> None:
    """Add an appended entry to its holder's Holding row, in the same transaction."""
    column = getattr(Holding, entry.component)
    amount = _holding_amount(entry.component, Decimal(entry.quantity))
    where = (
        Holding.holder_key == entry.holder_key,
        Holding.variety_code == entry.variety_code,
        Holding.period_year == entry.period_year,
    )
    values = {entry.component: column + amount, "entries": Holding.entries + 1}
    bump = update(Holding).where(*where).values(values).execution_options(synchronize_session=False)
    if db.session.execute(bump).rowcount:
        _expire_holdings()
        return
    row = {
        "holder_key": entry.holder_key,
        "enterprise_id": entry.enterprise_id,
        "variety_code": entry.variety_code,
        "period_year": entry.period_year,
        **dict.fromkeys(COMPONENTS, Decimal(0)),
        entry.component: amount,
        "entries": 1,
    }
    try:
        with db.session.begin_nested():
            db.session.execute(insert(Holding), [row])
    except IntegrityError:
        # Another transaction made the row first: add to the row it made.
        db.session.execute(bump)
    _expire_holdings()


def _expire_holdings() -> None:
    """Forget Holding rows loaded in this session: the next read sees the new sums."""
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Holding):
            db.session.expire(obj)


def _debit(
    kind: str, holder: Holder, variety_code: str, quantity: Decimal, reason: str, **kw
) -> LedgerEntry:
    _lock(holder)
    available = balance(holder, variety_code)
    if available < quantity:
        raise LedgerError("insufficient", f"{holder.key} has {available}, needs {quantity}")
    return _append(kind, holder, variety_code, -quantity, reason, **kw)


class EntrySource(TypedDict, total=False):
    """Where an entry comes from and who wrote it. A retry with the same `idempotency_key` gets
    the entry the first call wrote, not a second one."""

    source_type: str
    source_id: str
    actor: Any
    idempotency_key: str | None
    period_year: int | None


def _post(kind: str, write, holder, variety_code: str, quantity, reason: str, **kw) -> LedgerEntry:
    """One entry of `kind` through `write` (_append credits, _debit checks the balance first), or
    the entry an earlier call with the same idempotency key wrote."""
    key = kw.get("idempotency_key")
    if key and (existing := entry_exists(key)):
        return existing
    return write(kind, Holder.parse(holder), variety_code, _quantity(quantity), reason, **kw)


def issue_indicators(
    holder, variety_code: str, quantity, reason: str, **kw: Unpack[EntrySource]
) -> LedgerEntry:
    """Issue confirmed indicators to a holder (确权 → 注册登记)."""
    return _post("issue", _append, holder, variety_code, quantity, reason, **kw)


def allocate_indicators(
    holder,
    variety_code: str,
    quantity,
    period_year: int,
    reason: str,
    *,
    actor=None,
    idempotency_key: str | None = None,
) -> LedgerEntry:
    """Allocate a period's initial indicators to a unit (初始分配)."""
    return _post(
        "allocate",
        _append,
        holder,
        variety_code,
        quantity,
        reason,
        source_type="allocation",
        source_id=str(period_year),
        actor=actor,
        idempotency_key=idempotency_key,
        period_year=period_year,
    )


def transfer_indicators(
    from_holder, to_holder, variety_code: str, quantity, reason: str, **kw: Unpack[EntrySource]
) -> tuple[LedgerEntry, LedgerEntry]:
    """Move indicators between holders: a debit and a credit sharing one transfer id."""
    source, target = Holder.parse(from_holder), Holder.parse(to_holder)
    if source.key == target.key:
        raise LedgerError("same_holder")
    idempotency_key = kw.pop("idempotency_key", None)
    if idempotency_key and (existing := entry_exists(f"{idempotency_key}:out")):
        pair = db.session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.transfer_id == existing.transfer_id)
            .order_by(LedgerEntry.id)
        ).all()
        return pair[0], pair[1]
    qty = _quantity(quantity)
    transfer_id = str(uuid.uuid4())
    common = {**kw, "transfer_id": transfer_id}
    out = _debit(
        "transfer_out",
        source,
        variety_code,
        qty,
        reason,
        idempotency_key=f"{idempotency_key}:out" if idempotency_key else None,
        **common,
    )
    into = _append(
        "transfer_in",
        target,
        variety_code,
        qty,
        reason,
        idempotency_key=f"{idempotency_key}:in" if idempotency_key else None,
        **common,
    )
    return out, into


def surrender_indicators(
    holder, variety_code: str, quantity, reason: str, **kw: Unpack[EntrySource]
) -> LedgerEntry:
    """Cancel indicators a unit surrenders for compliance (履约注销); they settle `period_year`."""
    kw.setdefault("source_type", "compliance")
    return _post("surrender", _debit, holder, variety_code, quantity, reason, **kw)


def cancel_indicators(
    holder, variety_code: str, quantity, reason: str, *, actor=None, **kw
) -> LedgerEntry:
    """Cancel indicators for any other reason (注销), e.g. a punishment."""
    return _debit(
        "cancel", Holder.parse(holder), variety_code, _quantity(quantity), reason, actor=actor, **kw
    )


def take_back_indicators(
    holder, variety_code: str, quantity, reason: str, **kw: Unpack[EntrySource]
) -> LedgerEntry:
    """Take indicators back free of charge (无偿收回). At most what the holder still has."""
    return _post("take_back", _debit, holder, variety_code, quantity, reason, **kw)


def correct_entry(entry_id: int, delta, reason: str, *, actor=None) -> LedgerEntry:
    """Append a signed correction to an earlier entry; the entry itself is never edited."""
    original = db.session.get(LedgerEntry, entry_id)
    if original is None:
        raise LedgerError("not_found", str(entry_id))
    try:
        change = Decimal(str(delta)).quantize(QUANTUM)
    except ArithmeticError as exc:
        raise LedgerError("quantity", str(delta)) from exc
    if not change.is_finite() or change == 0 or abs(change) >= QUANTITY_LIMIT:
        raise LedgerError("quantity", str(delta))
    holder = Holder.parse(original.holder_key)
    if change < 0:
        _lock(holder)
        if balance(holder, original.variety_code) + change < 0:
            raise LedgerError("insufficient")
    return _append(
        "correction",
        holder,
        original.variety_code,
        change,
        reason,
        source_type="ledger_entry",
        source_id=str(original.id),
        actor=actor,
        corrects_entry_id=original.id,
        period_year=original.period_year,
        component=original.component,
    )


# --- trades --------------------------------------------------------------------------------------


POOL_KINDS = ("city", "province")


def pool_of(trade) -> Holder | None:
    """The pool a trade sold from: the province's, or a city's (its listing was theirs)."""
    listing = trade.listing
    if listing is None or listing.seller_kind not in POOL_KINDS:
        return None
    if listing.seller_kind == "province" or not listing.division_code:
        return Holder("province")
    return Holder("city", division_code=listing.division_code)


def trade_seller(trade) -> Holder | None:
    """Whose holdings a trade draws on: its seller on file, or the pool it sold from; None when
    the seller is not in the registry."""
    if trade.seller_enterprise_id:
        return Holder("enterprise", enterprise_id=trade.seller_enterprise_id)
    return pool_of(trade)


def record_trade_transfer(trade, *, actor=None) -> tuple[LedgerEntry, LedgerEntry] | None:
    """Transfer a recorded trade's quantity from seller to buyer, once per trade number.

    Indicators move when the buyer is on file and the seller is either on file or a pool (the
    province's or a city's). A pool sells from its reserve: what its balance does not cover is
    registered to it first (an issue entry naming the trade), so the buyer's purchase is in the
    ledger like any other. Any other trade returns None.
    """
    seller = trade_seller(trade) if trade.buyer_enterprise_id else None
    if seller is None:
        return None
    year = trade.trade_date.year if trade.trade_date else None
    # Both entries name the trade and count in the year it was made.
    about = EntrySource(source_id=trade.number, actor=actor, period_year=year)
    if seller.kind != "enterprise" and not entry_exists(f"trade:{trade.number}:out"):
        short = _quantity(trade.quantity) - balance(seller, trade.variety_code)
        if short > 0:
            issue_indicators(
                seller,
                trade.variety_code,
                short,
                f"储备指标登记（成交 {trade.number}）",
                source_type="reserve",
                idempotency_key=f"trade:{trade.number}:reserve",
                **about,
            )
    return transfer_indicators(
        seller,
        trade.buyer_enterprise_id,
        trade.variety_code,
        trade.quantity,
        f"成交 {trade.number}",
        source_type="trade",
        idempotency_key=f"trade:{trade.number}",
        **about,
    )


# --- the 2-year construction-start rule ---------------------------------------------------------


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def open_construction_obligation(
    enterprise_id: int,
    project_name: str,
    variety_code: str,
    quantity,
    issued_on: date,
    *,
    source_type: str = "",
    source_id: str = "",
    actor=None,
) -> ConstructionObligation:
    """Track a new project's indicators: unless construction starts in 2 years, take them back."""
    obligation = ConstructionObligation(
        enterprise_id=enterprise_id,
        project_name=project_name,
        variety_code=variety_code,
        quantity=_quantity(quantity),
        issued_on=issued_on,
        start_deadline=add_years(issued_on, START_YEARS),
        source_type=source_type,
        source_id=str(source_id or ""),
        created_at=utcnow(),
    )
    db.session.add(obligation)
    db.session.flush()
    record_event(
        "construction.open",
        "construction_obligation",
        obligation.id,
        after={"deadline": obligation.start_deadline, "quantity": obligation.quantity},
        actor=actor,
    )
    return obligation


def record_construction_start(obligation: ConstructionObligation, started_on: date, *, actor=None):
    if obligation.taken_back_at is not None:
        raise LedgerError("already_taken_back")
    before = {"started_on": obligation.started_on}
    obligation.started_on = started_on
    db.session.flush()
    record_event(
        "construction.start",
        "construction_obligation",
        obligation.id,
        before=before,
        after={"started_on": started_on},
        actor=actor,
    )


def construction_warnings_due(today: date, warn_days: int = 90) -> list[ConstructionObligation]:
    return list(
        db.session.scalars(
            select(ConstructionObligation).where(
                ConstructionObligation.started_on.is_(None),
                ConstructionObligation.taken_back_at.is_(None),
                ConstructionObligation.warned_at.is_(None),
                ConstructionObligation.start_deadline <= today + timedelta(days=warn_days),
                ConstructionObligation.start_deadline >= today,
            )
        )
    )


def mark_construction_warned(obligation: ConstructionObligation) -> None:
    obligation.warned_at = utcnow()
    db.session.flush()
    record_event(
        "construction.warn",
        "construction_obligation",
        obligation.id,
        after={"deadline": obligation.start_deadline},
    )


def awaiting_start() -> tuple:
    """Conditions on ConstructionObligation: the project has not started, its indicators were not
    taken back, and no start report of it waits for the city's decision."""
    pending_report = (
        select(ConstructionStartReport.id)
        .where(
            ConstructionStartReport.obligation_id == ConstructionObligation.id,
            ConstructionStartReport.status == "pending",
        )
        .exists()
    )
    return (
        ConstructionObligation.started_on.is_(None),
        ConstructionObligation.taken_back_at.is_(None),
        ~pending_report,
    )


def take_back_expired_obligations(today: date) -> list[ConstructionObligation]:
    """Take back the indicators of every project that did not start by its deadline (idempotent).

    A start report the city has not yet decided holds the take-back back: the unit reported in
    time, and a refusal lets the next run take the indicators back.
    """
    due = (
        select(ConstructionObligation)
        .where(*awaiting_start(), ConstructionObligation.start_deadline < today)
        .order_by(ConstructionObligation.id)
    )
    if db.session.scalar(due.with_only_columns(ConstructionObligation.id).limit(1)) is None:
        return []
    # Two ticks at once (one per app server): the second waits here for the first to commit and
    # then reads the obligations again, so none is taken back, or published, twice.
    lock_chain_head()
    expired = db.session.scalars(due.execution_options(populate_existing=True)).all()
    done = []
    for obligation in expired:
        available = balance(obligation.enterprise_id, obligation.variety_code)
        qty = min(available, obligation.quantity)
        entry = None
        if qty > 0:
            entry = take_back_indicators(
                obligation.enterprise_id,
                obligation.variety_code,
                qty,
                f"项目“{obligation.project_name}”两年内未开工，无偿收回",
                source_type="construction_obligation",
                source_id=str(obligation.id),
                idempotency_key=f"construction:{obligation.id}:take_back",
            )
        obligation.taken_back_at = utcnow()
        obligation.take_back_entry_id = entry.id if entry else None
        db.session.flush()
        record_event(
            "construction.take_back",
            "construction_obligation",
            obligation.id,
            after={"quantity": qty, "entry": obligation.take_back_entry_id},
        )
        done.append(obligation)
    return done


# --- the holdings table: rebuilt from the ledger, and checked against it --------------------------


def _ledger_sums():
    """Every (holder, variety, period, component) sum and entry count, straight from the ledger."""
    return db.session.execute(
        select(
            LedgerEntry.holder_key,
            func.min(LedgerEntry.enterprise_id),
            LedgerEntry.variety_code,
            LedgerEntry.period_year,
            LedgerEntry.component,
            func.sum(LedgerEntry.quantity),
            func.count(),
        ).group_by(
            LedgerEntry.holder_key,
            LedgerEntry.variety_code,
            LedgerEntry.period_year,
            LedgerEntry.component,
        )
    ).all()


def holdings_from_ledger() -> dict[tuple[str, str, int], dict]:
    """What every Holding row should hold, computed from the ledger alone."""
    rows: dict[tuple[str, str, int], dict] = {}
    for holder_key, enterprise_id, variety, year, component, total, count in _ledger_sums():
        row = rows.setdefault(
            (holder_key, variety, year),
            {
                "holder_key": holder_key,
                "enterprise_id": enterprise_id,
                "variety_code": variety,
                "period_year": year,
                **dict.fromkeys(COMPONENTS, Decimal(0)),
                "entries": 0,
            },
        )
        row[component] += _holding_amount(component, Decimal(total or 0)).quantize(QUANTUM)
        row["entries"] += count
    return rows


def rebuild_holdings(*, actor=None) -> int:
    """Replace the holdings table by the sums of the ledger; return the number of rows."""
    lock_chain_head()
    rows = list(holdings_from_ledger().values())
    db.session.execute(delete(Holding).execution_options(synchronize_session=False))
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(Holding), rows[start : start + 5000])
    _expire_holdings()
    record_event(
        "registry.rebuild_holdings", "holding", "*", after={"rows": len(rows)}, actor=actor
    )
    return len(rows)


@dataclass(frozen=True)
class HoldingMismatch:
    holder_key: str
    variety_code: str
    period_year: int
    field: str
    stored: Decimal | None
    ledger: Decimal | None


def check_holdings() -> list[HoldingMismatch]:
    """Every difference between the holdings table and the ledger's sums."""
    expected = holdings_from_ledger()
    stored = {
        (h.holder_key, h.variety_code, h.period_year): h
        for h in db.session.scalars(select(Holding).execution_options(populate_existing=True))
    }
    found = []
    for key in sorted(set(expected) | set(stored), key=str):
        want, have = expected.get(key), stored.get(key)
        for name in (*COMPONENTS, "entries"):
            a = None if have is None else getattr(have, name)
            b = None if want is None else want[name]
            if (a if a is not None else 0) != (b if b is not None else 0) or (
                (a is None) != (b is None) and (a or b)
            ):
                found.append(HoldingMismatch(*key, name, a, b))
    return found


# --- bulk appends (loading many entries at once, e.g. the demo or opening balances) -------------


@dataclass(slots=True)
class PlannedEntry:
    """One entry to append in bulk; debits are checked against the running balance in order."""

    kind: str
    holder: Holder
    variety_code: str
    quantity: Decimal  # positive; the sign follows from the kind
    reason: str
    period_year: int
    created_at: datetime
    source_type: str = ""
    source_id: str = ""
    transfer_id: str | None = None
    idempotency_key: str | None = None
    component: str | None = None
    signed: bool = False  # opening entries carry their own sign


DEBIT_KINDS = frozenset({"transfer_out", "surrender", "cancel", "take_back"})


def append_bulk(
    planned: list[PlannedEntry], *, actor=None, check_balance: bool = True, echo=None
) -> int:
    """Append many entries in the given order: the same rows, Holding sums and audit entries as one
    append each, written in chunks. A debit that the running balance cannot cover is refused (the
    whole batch, since the caller's transaction rolls back)."""
    lock_chain_head()
    running: dict[tuple[str, str], Decimal] = {}
    if check_balance:
        keys = {p.holder.key for p in planned}
        stmt = select(
            LedgerEntry.holder_key, LedgerEntry.variety_code, func.sum(LedgerEntry.quantity)
        ).group_by(LedgerEntry.holder_key, LedgerEntry.variety_code)
        if len(keys) < 1000:  # a long IN list costs more than summing every holder
            stmt = stmt.where(LedgerEntry.holder_key.in_(keys))
        for holder_key, variety, total in db.session.execute(stmt):
            running[(holder_key, variety)] = Decimal(total or 0)
    rows = []
    events = []
    actor_id = getattr(actor, "id", None)
    first_id = _reserve_ids(len(planned))
    for entry_id, p in enumerate(planned, start=first_id):
        qty = p.quantity
        if p.signed:
            qty = Decimal(qty).quantize(QUANTUM)
        else:
            # Already an exact positive quantity (the usual case in a load): no re-parsing.
            if not (
                isinstance(qty, Decimal)
                and qty.as_tuple().exponent == -4
                and 0 < qty < QUANTITY_LIMIT
            ):
                qty = _quantity(qty)
            if p.kind in DEBIT_KINDS:
                qty = -qty
        reason = (p.reason or "").strip()
        if not reason:
            raise LedgerError("reason")
        holder = p.holder
        holder_key = holder.key
        variety = p.variety_code
        key = (holder_key, variety)
        balance_now = running.get(key, ZERO) + qty
        if check_balance and qty < 0 and balance_now < 0:
            raise LedgerError(
                "insufficient", f"{holder_key} has {running.get(key, 0)}, needs {-qty}"
            )
        running[key] = balance_now
        source_id = str(p.source_id or "")
        # In _BULK_COLUMNS order.
        rows.append(
            (
                entry_id,
                p.created_at,
                p.kind,
                holder_key,
                holder.kind,
                holder.enterprise_id,
                holder.division_code,
                variety,
                qty,
                reason,
                p.source_type,
                source_id,
                p.transfer_id,
                None,
                p.idempotency_key,
                actor_id,
                p.period_year,
                p.component or COMPONENT_OF_KIND[p.kind],
            )
        )
        events.append(
            {
                "action": f"ledger.{p.kind}",
                "object_type": "ledger_entry",
                "object_id": entry_id,
                "after": {
                    "holder": holder_key,
                    "variety": variety,
                    "quantity": qty,
                    "source": f"{p.source_type}:{source_id}",
                    "transfer_id": p.transfer_id,
                    "corrects": None,
                    "period": p.period_year,
                },
                "remark": reason,
            }
        )
    # Plain executemany of tuples, no RETURNING: the ids are reserved above.
    table = LedgerEntry.__table__
    for start in range(0, len(rows), 50000):
        insert_rows(table, _BULK_COLUMNS, rows[start : start + 50000])
        if echo and len(rows) > 50000:
            echo(f"  ledger_entry: {min(start + 50000, len(rows)):,}/{len(rows):,}")
    record_events_bulk(events, actor=actor)
    _add_bulk_to_holdings(rows)
    return len(rows)


# The columns of a bulk-appended entry, in the order append_bulk builds its rows.
_BULK_COLUMNS = (
    "id",
    "created_at",
    "kind",
    "holder_key",
    "holder_kind",
    "enterprise_id",
    "division_code",
    "variety_code",
    "quantity",
    "reason",
    "source_type",
    "source_id",
    "transfer_id",
    "corrects_entry_id",
    "idempotency_key",
    "actor_id",
    "period_year",
    "component",
)


def _reserve_ids(count: int) -> int:
    """The first of `count` consecutive ledger entry ids that no other writer will take."""
    if not count:
        return 0
    if db.session.get_bind().dialect.name == "postgresql":
        # Move the sequence past the block in one statement: nextval() calls made by other
        # transactions meanwhile get ids after it (a sequence never hands out a value twice).
        return db.session.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('ledger_entry', 'id'), "
                "nextval(pg_get_serial_sequence('ledger_entry', 'id')) + :n - 1) - :n + 1"
            ),
            {"n": count},
        ).scalar_one()
    # SQLite: this transaction holds the database's write lock (the audit head was locked first).
    return (db.session.scalar(select(func.max(LedgerEntry.id))) or 0) + 1


def _add_bulk_to_holdings(rows: list[tuple]) -> None:
    """Add bulk-appended entries (rows in _BULK_COLUMNS order) to their Holding rows: summed here
    once per (holder, variety, period), then one insert for the new rows and one update for each
    row that already existed."""
    sums: dict[tuple[str, str, int], dict] = {}
    for row in rows:
        holder_key, enterprise_id, variety, quantity, period, component = (
            row[3],
            row[5],
            row[7],
            row[8],
            row[16],
            row[17],
        )
        key = (holder_key, variety, period)
        item = sums.get(key)
        if item is None:
            item = sums[key] = {
                "holder_key": holder_key,
                "enterprise_id": enterprise_id,
                "variety_code": variety,
                "period_year": period,
                **dict.fromkeys(COMPONENTS, ZERO),
                "entries": 0,
            }
        item[component] += -quantity if component in DEBIT_COMPONENTS else quantity
        item["entries"] += 1
    existing = {
        (h.holder_key, h.variety_code, h.period_year): h.id
        for h in db.session.execute(
            select(Holding.holder_key, Holding.variety_code, Holding.period_year, Holding.id)
        )
    }
    columns = (
        "holder_key",
        "enterprise_id",
        "variety_code",
        "period_year",
        *COMPONENTS,
        "entries",
    )
    new = [
        tuple(item[name] for name in columns) for key, item in sums.items() if key not in existing
    ]
    insert_rows(Holding.__table__, columns, new)
    for key, item in sums.items():
        if key in existing:
            db.session.execute(
                update(Holding)
                .where(Holding.id == existing[key])
                .values(
                    {
                        **{c: getattr(Holding, c) + item[c] for c in COMPONENTS},
                        "entries": Holding.entries + item["entries"],
                    }
                )
                .execution_options(synchronize_session=False)
            )
    _expire_holdings()
