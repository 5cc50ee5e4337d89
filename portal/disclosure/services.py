"""Queries behind the public pages. Plain functions, no request object, so tests call them directly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from flask import abort
from sqlalchemy import func, select

from portal.disclosure.models import Listing, Trade
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.lists import either, equals, filter_conditions, sorted_by
from portal.reference.services import varieties
from portal.web import current_date


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
    until = until or current_date()
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


def open_listing_count(variety_code: str) -> int:
    """How many listings of a variety are open now."""
    stmt = select(func.count(Listing.id)).where(
        Listing.status == "open", Listing.variety_code == variety_code
    )
    return db.session.scalar(stmt) or 0


def home_snapshot() -> dict:
    return {
        "since_days": 30,
        "varieties": market_snapshot(30),
        "open_listings": open_listings(8),
        "today": current_date(),
    }


# ---- Lists: each takes the filter values (a plain dict) and returns a select and its count. ----

LISTING_SORTS = {
    "-date": (Listing.starts_on.desc(), Listing.id.desc()),
    "date": (Listing.starts_on.asc(), Listing.id.asc()),
    "-price": (Listing.listed_price.desc(), Listing.id.desc()),
    "price": (Listing.listed_price.asc(), Listing.id.asc()),
    "-quantity": (Listing.quantity.desc(), Listing.id.desc()),
}
TRADE_SORTS = {
    "-date": (Trade.trade_date.desc(), Trade.id.desc()),
    "date": (Trade.trade_date.asc(), Trade.id.asc()),
    "-amount": (Trade.amount.desc(), Trade.id.desc()),
    "-price": (Trade.unit_price.desc(), Trade.id.desc()),
    "price": (Trade.unit_price.asc(), Trade.id.asc()),
}


# Each list's filters: query argument → a function of the value that gives the SQL condition.
LISTING_FILTERS = {
    "division": equals(Listing.division_code),
    "variety": equals(Listing.variety_code),
    "category": equals(Listing.category_code),
    "status": equals(Listing.status),
    "industry": equals(Listing.industry_code),
    "date_from": lambda day: Listing.starts_on >= day,
    "date_to": lambda day: Listing.starts_on <= day,
    "seller_id": equals(Listing.seller_enterprise_id),
}
TRADE_FILTERS = {
    # A city sees every trade its enterprises took part in, as buyer or as seller.
    "division": either(Trade.buyer_division_code, Trade.seller_division_code),
    "variety": equals(Trade.variety_code),
    "category": equals(Trade.category_code),
    "method": equals(Trade.method),
    "industry": equals(Trade.industry_code),
    "date_from": lambda day: Trade.trade_date >= day,
    "date_to": lambda day: Trade.trade_date <= day,
    "party_id": either(Trade.buyer_enterprise_id, Trade.seller_enterprise_id),
}
ENTERPRISE_FILTERS = {
    "division": equals(Enterprise.division_code),
    "industry": equals(Enterprise.industry_code),
}


def listings_query(filters: dict):
    """The select of listings matching `filters`, and its exact count."""
    conditions = filter_conditions(LISTING_FILTERS, filters)
    stmt = sorted_by(
        select(Listing).where(*conditions), LISTING_SORTS, filters.get("sort"), "-date"
    )
    return stmt, select(func.count(Listing.id)).where(*conditions)


def trades_query(filters: dict):
    conditions = filter_conditions(TRADE_FILTERS, filters)
    stmt = sorted_by(select(Trade).where(*conditions), TRADE_SORTS, filters.get("sort"), "-date")
    return stmt, select(func.count(Trade.id)).where(*conditions)


def enterprises_query(filters: dict):
    conditions = [Enterprise.is_public.is_(True), *filter_conditions(ENTERPRISE_FILTERS, filters)]
    stmt = select(Enterprise).where(*conditions).order_by(Enterprise.name, Enterprise.id)
    return stmt, select(func.count(Enterprise.id)).where(*conditions)


def get_listing_or_404(number: str) -> Listing:
    listing = db.session.scalar(select(Listing).where(Listing.number == number))
    if listing is None:
        abort(404)
    return listing


def get_trade_or_404(number: str) -> Trade:
    trade = db.session.scalar(select(Trade).where(Trade.number == number))
    if trade is None:
        abort(404)
    return trade


def get_public_enterprise_or_404(uscc: str) -> Enterprise:
    enterprise = db.session.scalar(select(Enterprise).where(Enterprise.uscc == uscc.upper()))
    if enterprise is None or not enterprise.is_public:
        abort(404)
    return enterprise


def enterprise_trade_totals(enterprise_id: int) -> list[dict]:
    """Bought and sold per variety, over all disclosed trades."""
    out = []
    for variety in varieties():
        bought = db.session.scalar(
            select(func.coalesce(func.sum(Trade.quantity), 0)).where(
                Trade.buyer_enterprise_id == enterprise_id, Trade.variety_code == variety.code
            )
        )
        sold = db.session.scalar(
            select(func.coalesce(func.sum(Trade.quantity), 0)).where(
                Trade.seller_enterprise_id == enterprise_id, Trade.variety_code == variety.code
            )
        )
        out.append({"variety": variety, "bought": Decimal(bought), "sold": Decimal(sold)})
    return out


def related_trades_for_listing(listing: Listing) -> list[Trade]:
    return list(
        db.session.scalars(
            select(Trade).where(Trade.listing_id == listing.id).order_by(Trade.trade_date)
        )
    )


# ---- Market statistics ----


@dataclass
class MonthRow:
    year: int
    month: int
    trade_count: int
    quantity: Decimal
    amount: Decimal

    @property
    def average_price(self) -> Decimal | None:
        return (self.amount / self.quantity).quantize(Decimal("0.01")) if self.quantity else None


def monthly_statistics(variety_code: str, since: date, until: date) -> list[MonthRow]:
    """Trades per calendar month for one variety: count, volume, amount, volume-weighted price.

    Months without trades are present with zeros, so a chart's time axis has no gaps.
    """
    year = func.extract("year", Trade.trade_date)
    month = func.extract("month", Trade.trade_date)
    rows = db.session.execute(
        select(year, month, func.count(), func.sum(Trade.quantity), func.sum(Trade.amount))
        .where(Trade.variety_code == variety_code, Trade.trade_date.between(since, until))
        .group_by(year, month)
    ).all()
    found = {(int(y), int(m)): (n, q, a) for y, m, n, q, a in rows}
    out = []
    y, m = since.year, since.month
    while (y, m) <= (until.year, until.month):
        n, q, a = found.get((y, m), (0, 0, 0))
        out.append(MonthRow(y, m, n, Decimal(q or 0), Decimal(a or 0)))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def market_statistics(months: int = 24, until: date | None = None) -> dict:
    """Each variety's monthly rows and price chart, from the first day of the month `months` ago."""
    until = until or current_date()
    first = until.year * 12 + until.month - 1 - months
    since = date(first // 12, first % 12 + 1, 1)
    series = []
    for variety in varieties():
        rows = monthly_statistics(variety.code, since, until)
        series.append({"variety": variety, "rows": rows, "chart": price_chart(rows)})
    return {"series": series, "since": since, "until": until}


def price_chart(rows: list[MonthRow], width: int = 640, height: int = 200, pad: int = 32) -> dict:
    """Coordinates of a line of monthly average prices, for an inline SVG (no JavaScript)."""
    priced = [(i, r.average_price) for i, r in enumerate(rows) if r.average_price is not None]
    if not priced:
        return {"points": "", "low": None, "high": None, "width": width, "height": height}
    low = min(p for _, p in priced)
    high = max(p for _, p in priced)
    span = (high - low) or Decimal(1)
    step = (width - 2 * pad) / max(len(rows) - 1, 1)

    def xy(i, p):
        x = pad + i * step
        y = height - pad - float((p - low) / span) * (height - 2 * pad)
        return f"{x:.1f},{y:.1f}"

    return {
        "points": " ".join(xy(i, p) for i, p in priced),
        "dots": [(xy(i, p).split(","), rows[i], p) for i, p in priced],
        "low": low,
        "high": high,
        "width": width,
        "height": height,
        "pad": pad,
    }
