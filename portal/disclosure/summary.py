"""The market's summaries (market_daily_summary, market_monthly_summary): kept as trades are
written, rebuilt and checked on demand.

Every flush that inserts, changes or deletes a `Trade` through the ORM (the back office's form and
import, `entry.withdraw_trade`, the tests' factories) changes the summaries in the same transaction:
the trade's old contribution is taken away and its new one added, as increments of the stored rows
of its day and its month
(an upsert, so two transactions recording trades on the same day serialise on that row instead of
losing one of them). High and low cannot be taken away, so a row that lost a trade has them read
again from that day's trades. Bulk loads that bypass the ORM (the demo data) call
`rebuild_summary()` afterwards; `flask statistics rebuild` does the same and `flask statistics
check` compares the table with the trades.

A trade counts once in the market-wide row (division MARKET_WIDE) and once under each distinct
division of its buyer and seller, as the trade list's division filter counts it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    and_,
    case,
    cast,
    delete,
    event,
    func,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy import inspect as inspect_object
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from portal.audit.models import AuditChainHead
from portal.bulk import insert_rows
from portal.disclosure.models import MARKET_WIDE, MarketDailySummary, MarketMonthlySummary, Trade

VOLUME_SCALE = 10_000  # stored volume: ten-thousandths of a unit (Quantity has 4 decimals)
AMOUNT_SCALE = 100  # stored amount: fen (Amount has 2 decimals)

SUMMARY = MarketDailySummary.__table__
MONTHLY = MarketMonthlySummary.__table__
KEY = ("division_code", "variety_code", "category_code", "day")
MONTH_KEY = ("division_code", "variety_code", "category_code", "month")
TRADE_FIELDS = (
    "trade_date",
    "variety_code",
    "category_code",
    "buyer_division_code",
    "seller_division_code",
    "quantity",
    "amount",
    "unit_price",
)


def month_of(day: date) -> date:
    return day.replace(day=1)


def scopes(buyer_division: str | None, seller_division: str | None) -> tuple[str, ...]:
    """The summary rows one trade counts in: the whole market, then each distinct party division."""
    parties = sorted({code for code in (buyer_division, seller_division) if code})
    return (MARKET_WIDE, *parties)


def volume_units(quantity) -> int:
    return int((Decimal(str(quantity)) * VOLUME_SCALE).to_integral_value())


def amount_units(amount) -> int:
    return int((Decimal(str(amount)) * AMOUNT_SCALE).to_integral_value())


@dataclass
class _Delta:
    trades: int = 0
    volume: int = 0
    amount: int = 0
    high: Decimal | None = None
    low: Decimal | None = None
    removed: bool = False

    def add(self, values: dict, sign: int) -> None:
        self.trades += sign
        self.volume += sign * volume_units(values["quantity"])
        self.amount += sign * amount_units(values["amount"])
        if sign < 0:
            self.removed = True
            return
        price = Decimal(str(values["unit_price"]))
        self.high = price if self.high is None else max(self.high, price)
        self.low = price if self.low is None else min(self.low, price)


def _values(trade: Trade, old: bool) -> dict | None:
    """The trade's fields before this flush (old) or after it; None when a field is missing."""
    state = inspect_object(trade)
    values = {}
    for name in TRADE_FIELDS:
        history = state.attrs[name].history
        if old and history.deleted:
            values[name] = history.deleted[0]
        elif old and history.unchanged:
            values[name] = history.unchanged[0]
        else:
            values[name] = getattr(trade, name)
    if any(values[name] is None for name in ("trade_date", "variety_code", "category_code")):
        return None
    return values


def _collect(deltas: dict, values: dict | None, sign: int) -> None:
    if values is None:
        return
    for division in scopes(values["buyer_division_code"], values["seller_division_code"]):
        key = (division, values["variety_code"], values["category_code"], values["trade_date"])
        deltas[key].add(values, sign)


def _changed(trade: Trade) -> bool:
    state = inspect_object(trade)
    return any(state.attrs[name].history.has_changes() for name in TRADE_FIELDS)


def _after_flush(session: Session, _flush_context) -> None:
    deltas: dict[tuple, _Delta] = defaultdict(_Delta)
    for obj in session.new:
        if isinstance(obj, Trade):
            _collect(deltas, _values(obj, old=False), +1)
    for obj in session.dirty:
        if isinstance(obj, Trade) and _changed(obj):
            _collect(deltas, _values(obj, old=True), -1)
            _collect(deltas, _values(obj, old=False), +1)
    for obj in session.deleted:
        if isinstance(obj, Trade):
            _collect(deltas, _values(obj, old=True), -1)
    if deltas:
        connection = session.connection()
        _lock_audit_head(connection)
        apply_deltas(connection, deltas)


def _lock_audit_head(connection) -> None:
    """Keep the lock order (the audit chain head first, then anything else; docs/decisions.md):
    a trade's summary row is locked before the trade is audited, and an import audits several
    trades in one transaction. On SQLite the flush already holds the database's write lock."""
    if connection.dialect.name == "postgresql":
        head = AuditChainHead.__table__
        connection.execute(update(head).where(head.c.id == 1).values(seq=head.c.seq + 1))


def apply_deltas(connection, deltas: dict[tuple, _Delta]) -> None:
    """Add each delta to its day's row and its month's row (created if missing); re-read high and
    low where a trade left; drop rows left with no trade."""
    months: dict[tuple, _Delta] = defaultdict(_Delta)
    for (division, variety, category, day), delta in deltas.items():
        month = months[(division, variety, category, month_of(day))]
        month.trades += delta.trades
        month.volume += delta.volume
        month.amount += delta.amount
        month.removed = month.removed or delta.removed
        for price in (delta.high, delta.low):
            if price is not None:
                month.high = price if month.high is None else max(month.high, price)
                month.low = price if month.low is None else min(month.low, price)
    for key in sorted(deltas):
        _upsert(connection, SUMMARY, KEY, key, deltas[key], {"month": month_of(key[3])})
    for key in sorted(months):
        _upsert(connection, MONTHLY, MONTH_KEY, key, months[key], {})
    for key in sorted(k for k, d in deltas.items() if d.removed):
        _reread_high_low(connection, key)
    for key in sorted(k for k, d in months.items() if d.removed):
        _reread_month_high_low(connection, key)
    for table, keys, found in ((SUMMARY, KEY, deltas), (MONTHLY, MONTH_KEY, months)):
        for key in sorted(k for k, d in found.items() if d.removed):
            connection.execute(delete(table).where(_key_is(table, keys, key), table.c.trades == 0))


def _upsert(connection, table, keys: tuple, key: tuple, delta: _Delta, extra: dict) -> None:
    if not (delta.trades or delta.volume or delta.amount or delta.high is not None):
        return
    upsert = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
    stmt = upsert(table).values(
        **dict(zip(keys, key, strict=True)),
        **extra,
        trades=delta.trades,
        volume=delta.volume,
        amount=delta.amount,
        high=delta.high,
        low=delta.low,
    )
    new = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={
            "trades": table.c.trades + new.trades,
            "volume": table.c.volume + new.volume,
            "amount": table.c.amount + new.amount,
            # NULL on either side keeps the other (SQLite's max() of a NULL is NULL).
            "high": case(
                (new.high > table.c.high, new.high), else_=func.coalesce(table.c.high, new.high)
            ),
            "low": case(
                (new.low < table.c.low, new.low), else_=func.coalesce(table.c.low, new.low)
            ),
        },
    )
    connection.execute(stmt)


def _key_is(table, keys: tuple, key: tuple):
    return and_(*(table.c[name] == value for name, value in zip(keys, key, strict=True)))


def _trades_in(division: str, variety: str, category: str, day: date) -> list:
    conditions = [
        Trade.trade_date == day,
        Trade.variety_code == variety,
        Trade.category_code == category,
    ]
    if division != MARKET_WIDE:
        conditions.append(
            or_(Trade.buyer_division_code == division, Trade.seller_division_code == division)
        )
    return conditions


def _reread_high_low(connection, key: tuple) -> None:
    high, low = connection.execute(
        select(func.max(Trade.unit_price), func.min(Trade.unit_price)).where(*_trades_in(*key))
    ).one()
    connection.execute(update(SUMMARY).where(_key_is(SUMMARY, KEY, key)).values(high=high, low=low))


def _reread_month_high_low(connection, key: tuple) -> None:
    division, variety, category, month = key
    high, low = connection.execute(
        select(func.max(SUMMARY.c.high), func.min(SUMMARY.c.low)).where(
            SUMMARY.c.division_code == division,
            SUMMARY.c.variety_code == variety,
            SUMMARY.c.category_code == category,
            SUMMARY.c.month == month,
        )
    ).one()
    connection.execute(
        update(MONTHLY).where(_key_is(MONTHLY, MONTH_KEY, key)).values(high=high, low=low)
    )


def listen() -> None:
    """Keep the summary in step with every ORM flush that touches a trade (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)


# ---- rebuilding from the trades -------------------------------------------------------------


def summary_select():
    """The summary computed from the trades in one statement (the rebuild's and the check's): each
    trade once per scope it counts in (scopes()), then grouped."""
    t = Trade.__table__

    def counted(division, *where):
        return select(
            division.label("division_code"),
            t.c.variety_code,
            t.c.category_code,
            t.c.trade_date.label("day"),
            t.c.quantity,
            t.c.amount,
            t.c.unit_price,
        ).where(*where)

    each = union_all(
        counted(literal(MARKET_WIDE)),
        counted(t.c.buyer_division_code, t.c.buyer_division_code.is_not(None)),
        counted(
            t.c.seller_division_code,
            t.c.seller_division_code.is_not(None),
            or_(
                t.c.buyer_division_code.is_(None),
                t.c.buyer_division_code != t.c.seller_division_code,
            ),
        ),
    ).subquery()
    group = (each.c.division_code, each.c.variety_code, each.c.category_code, each.c.day)
    return select(
        *group,
        func.count().label("trades"),
        func.sum(cast(func.round(each.c.quantity * VOLUME_SCALE), BigInteger)).label("volume"),
        func.sum(cast(func.round(each.c.amount * AMOUNT_SCALE), BigInteger)).label("amount"),
        func.max(each.c.unit_price).label("high"),
        func.min(each.c.unit_price).label("low"),
    ).group_by(*group)


def _rows(connection, stmt) -> dict[tuple, tuple]:
    out = {}
    for row in connection.execute(stmt):
        key = (row.division_code, row.variety_code, row.category_code, _as_date(row.day))
        high = None if row.high is None else Decimal(str(row.high)).quantize(Decimal("0.01"))
        low = None if row.low is None else Decimal(str(row.low)).quantize(Decimal("0.01"))
        out[key] = (int(row.trades), int(row.volume), int(row.amount), high, low)
    return out


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def rebuild_summary(connection) -> int:
    """Replace the whole summary with what the trades say; return the number of rows."""
    computed = _rows(connection, summary_select())
    connection.execute(delete(MONTHLY))
    connection.execute(delete(SUMMARY))
    # Tuples through portal.bulk: a full rebuild writes a row per scope and day (about 120,000
    # at 100,000 trades), bound as SQLAlchemy binds them, without a dict per row.
    rows = [(*key, month_of(key[3]), *figures) for key, figures in computed.items()]
    insert_rows(SUMMARY, (*KEY, "month", *FIGURES), rows, connection)
    months = [(*key, *figures) for key, figures in _months_of(computed).items()]
    insert_rows(MONTHLY, (*MONTH_KEY, *FIGURES), months, connection)
    return len(rows)


FIGURES = ("trades", "volume", "amount", "high", "low")


def _months_of(days: dict[tuple, tuple]) -> dict[tuple, tuple]:
    """The monthly rows that the daily rows add up to."""
    out: dict[tuple, tuple] = {}
    for (division, variety, category, day), (trades, volume, amount, high, low) in days.items():
        key = (division, variety, category, month_of(day))
        if key not in out:
            out[key] = (trades, volume, amount, high, low)
            continue
        t, v, a, h, lo = out[key]
        highs = [p for p in (h, high) if p is not None]
        lows = [p for p in (lo, low) if p is not None]
        out[key] = (
            t + trades,
            v + volume,
            a + amount,
            max(highs, default=None),
            min(lows, default=None),
        )
    return out


@dataclass
class Mismatch:
    key: tuple
    stored: tuple | None
    expected: tuple | None


def check_summary(connection) -> list[Mismatch]:
    """Every summary row, daily or monthly, that differs from the trades (missing, extra, or with
    other figures); a monthly row's key ends with its month."""
    expected = _rows(connection, summary_select())
    stored = _rows(connection, select(*(SUMMARY.c[name] for name in (*KEY, *FIGURES))))
    stored_months = _rows(
        connection,
        select(
            MONTHLY.c.division_code,
            MONTHLY.c.variety_code,
            MONTHLY.c.category_code,
            MONTHLY.c.month.label("day"),
            *(MONTHLY.c[name] for name in FIGURES),
        ),
    )
    return _differences(stored, expected) + _differences(stored_months, _months_of(expected))


def _differences(stored: dict, expected: dict) -> list[Mismatch]:
    return [
        Mismatch(key, stored.get(key), expected.get(key))
        for key in sorted(set(stored) | set(expected))
        if stored.get(key) != expected.get(key)
    ]
