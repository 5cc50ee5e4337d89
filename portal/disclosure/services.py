"""Queries behind the public pages. Plain functions, no request object (STYLE.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from portal.disclosure.models import Listing, Trade
from portal.extensions import db
from portal.reference.services import varieties


def today() -> date:
    """Today in the portal's time zone (Asia/Shanghai)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from flask import current_app

    return datetime.now(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


@dataclass
class VarietySnapshot:
    variety: object
    trade_count: int
    quantity: Decimal
    amount: Decimal

    @property
    def average_price(self) -> Decimal | None:
        """Volume-weighted average price, or None when nothing traded."""
        if not self.quantity:
            return None
        return (self.amount / self.quantity).quantize(Decimal("0.01"))


def market_snapshot(days: int = 30, until: date | None = None) -> list[VarietySnapshot]:
    """Volume and average price of each variety over the last `days` days."""
    until = until or today()
    since = until - timedelta(days=days - 1)
    rows = db.session.execute(
        select(Trade.variety_code, func.count(), func.sum(Trade.quantity), func.sum(Trade.amount))
        .where(Trade.trade_date.between(since, until))
        .group_by(Trade.variety_code)
    ).all()
    found = {code: (count, qty, amount) for code, count, qty, amount in rows}
    out = []
    for variety in varieties():
        count, qty, amount = found.get(variety.code, (0, None, None))
        out.append(VarietySnapshot(variety, count, Decimal(qty or 0), Decimal(amount or 0)))
    return out


def open_listings(limit: int = 8) -> list[Listing]:
    stmt = (
        select(Listing)
        .where(Listing.status == "open")
        .order_by(Listing.starts_on.desc(), Listing.id.desc())
    )
    return list(db.session.scalars(stmt.limit(limit)))


def home_snapshot() -> dict:
    return {
        "since_days": 30,
        "varieties": market_snapshot(30),
        "open_listings": open_listings(8),
        "today": today(),
    }
