"""Queries behind the public pages. Plain functions, no request object, so tests call them directly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import abort
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import joinedload

from portal.disclosure import statistics
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
    """Volume and average price of each variety over the last `days` days (the daily summary)."""
    recent = statistics.recent(days, until or current_date())
    return [
        VarietySnapshot(v, recent[v.code].trades, recent[v.code].volume, recent[v.code].amount)
        for v in varieties()
    ]


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
    stmt = select(Enterprise).where(*conditions).order_by(Enterprise.name_sort, Enterprise.id)
    return stmt, select(func.count(Enterprise.id)).where(*conditions)


def get_listing_or_404(number: str, *options) -> Listing:
    listing = db.session.scalar(select(Listing).where(Listing.number == number).options(*options))
    if listing is None:
        abort(404)
    return listing


# What a record's page shows of its relations, read in the record's own query (outer joins)
# instead of one query each as the template reaches them.
LISTING_PAGE = (joinedload(Listing.seller),)
TRADE_PAGE = (joinedload(Trade.buyer), joinedload(Trade.seller), joinedload(Trade.listing))


def get_trade_or_404(number: str, *options) -> Trade:
    trade = db.session.scalar(select(Trade).where(Trade.number == number).options(*options))
    if trade is None:
        abort(404)
    return trade


def get_public_enterprise_or_404(uscc: str) -> Enterprise:
    enterprise = db.session.scalar(select(Enterprise).where(Enterprise.uscc == uscc.upper()))
    if enterprise is None or not enterprise.is_public:
        abort(404)
    return enterprise


def enterprise_trade_totals(enterprise_id: int) -> list[dict]:
    """Bought and sold per variety, over all disclosed trades: one query over the unit's trades
    (the buyer's and the seller's index), summed per variety and side."""

    def side(column):
        return func.coalesce(
            func.sum(case((column == enterprise_id, Trade.quantity), else_=None)), 0
        )

    sums = {
        variety: (bought, sold)
        for variety, bought, sold in db.session.execute(
            select(
                Trade.variety_code,
                side(Trade.buyer_enterprise_id),
                side(Trade.seller_enterprise_id),
            )
            .where(
                or_(
                    Trade.buyer_enterprise_id == enterprise_id,
                    Trade.seller_enterprise_id == enterprise_id,
                )
            )
            .group_by(Trade.variety_code)
        )
    }
    totals = []
    for variety in varieties():
        bought, sold = sums.get(variety.code, (0, 0))
        totals.append({"variety": variety, "bought": Decimal(bought), "sold": Decimal(sold)})
    return totals


def related_trades_for_listing(listing: Listing) -> list[Trade]:
    return list(
        db.session.scalars(
            select(Trade).where(Trade.listing_id == listing.id).order_by(Trade.trade_date)
        )
    )
