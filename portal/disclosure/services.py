"""Queries behind the public pages. Plain functions, no request object (STYLE.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from flask import abort
from sqlalchemy import func, or_, select

from portal.disclosure.models import CompliancePeriod, ComplianceRecord, Listing, Trade
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.reference.services import varieties
from portal.web import Page, paginate


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
COMPLIANCE_SORTS = {
    "name": (Enterprise.name.asc(), ComplianceRecord.id.asc()),
    "-shortfall": (ComplianceRecord.shortfall.desc().nulls_last(), Enterprise.name.asc()),
    "status": (ComplianceRecord.status.asc(), Enterprise.name.asc()),
}


def _count(stmt):
    return select(func.count()).select_from(stmt.order_by(None).subquery())


def listings_query(filters: dict):
    conditions = []
    if filters.get("division"):
        conditions.append(Listing.division_code == filters["division"])
    if filters.get("variety"):
        conditions.append(Listing.variety_code == filters["variety"])
    if filters.get("category"):
        conditions.append(Listing.category_code == filters["category"])
    if filters.get("status"):
        conditions.append(Listing.status == filters["status"])
    if filters.get("industry"):
        conditions.append(Listing.industry_code == filters["industry"])
    if filters.get("date_from"):
        conditions.append(Listing.starts_on >= filters["date_from"])
    if filters.get("date_to"):
        conditions.append(Listing.starts_on <= filters["date_to"])
    if filters.get("seller_id"):
        conditions.append(Listing.seller_enterprise_id == filters["seller_id"])
    stmt = select(Listing).where(*conditions)
    count = select(func.count(Listing.id)).where(*conditions)
    return stmt.order_by(
        *LISTING_SORTS.get(filters.get("sort") or "-date", LISTING_SORTS["-date"])
    ), count


def trades_query(filters: dict):
    conditions = []
    if filters.get("division"):
        code = filters["division"]
        conditions.append(
            or_(Trade.buyer_division_code == code, Trade.seller_division_code == code)
        )
    if filters.get("variety"):
        conditions.append(Trade.variety_code == filters["variety"])
    if filters.get("category"):
        conditions.append(Trade.category_code == filters["category"])
    if filters.get("method"):
        conditions.append(Trade.method == filters["method"])
    if filters.get("industry"):
        conditions.append(Trade.industry_code == filters["industry"])
    if filters.get("date_from"):
        conditions.append(Trade.trade_date >= filters["date_from"])
    if filters.get("date_to"):
        conditions.append(Trade.trade_date <= filters["date_to"])
    if filters.get("party_id"):
        party = filters["party_id"]
        conditions.append(
            or_(Trade.buyer_enterprise_id == party, Trade.seller_enterprise_id == party)
        )
    stmt = select(Trade).where(*conditions)
    count = select(func.count(Trade.id)).where(*conditions)
    return stmt.order_by(
        *TRADE_SORTS.get(filters.get("sort") or "-date", TRADE_SORTS["-date"])
    ), count


def compliance_query(year: int, filters: dict):
    conditions = [ComplianceRecord.period_year == year]
    if filters.get("division"):
        conditions.append(Enterprise.division_code == filters["division"])
    if filters.get("industry"):
        conditions.append(Enterprise.industry_code == filters["industry"])
    if filters.get("variety"):
        conditions.append(ComplianceRecord.variety_code == filters["variety"])
    if filters.get("status"):
        conditions.append(ComplianceRecord.status == filters["status"])
    base = select(ComplianceRecord).join(ComplianceRecord.enterprise).where(*conditions)
    count = (
        select(func.count(ComplianceRecord.id)).join(ComplianceRecord.enterprise).where(*conditions)
    )
    order = COMPLIANCE_SORTS.get(filters.get("sort") or "name", COMPLIANCE_SORTS["name"])
    return base.order_by(*order), count


def enterprises_query(filters: dict):
    conditions = [Enterprise.is_public.is_(True)]
    if filters.get("division"):
        conditions.append(Enterprise.division_code == filters["division"])
    if filters.get("industry"):
        conditions.append(Enterprise.industry_code == filters["industry"])
    stmt = select(Enterprise).where(*conditions).order_by(Enterprise.name, Enterprise.id)
    return stmt, select(func.count(Enterprise.id)).where(*conditions)


def list_page(query, page: int) -> Page:
    stmt, count = query
    return paginate(db.session, stmt, count, page)


# ---- Compliance periods ----


def published_periods() -> list[CompliancePeriod]:
    stmt = (
        select(CompliancePeriod)
        .where(CompliancePeriod.published_at.is_not(None))
        .order_by(CompliancePeriod.year.desc())
    )
    return list(db.session.scalars(stmt))


def get_published_period_or_404(year: int) -> CompliancePeriod:
    period = db.session.get(CompliancePeriod, year)
    if period is None or period.published_at is None:
        abort(404)
    return period


def period_status_counts(year: int) -> dict[str, int]:
    rows = db.session.execute(
        select(ComplianceRecord.status, func.count())
        .where(ComplianceRecord.period_year == year)
        .group_by(ComplianceRecord.status)
    ).all()
    return {status: count for status, count in rows}


# ---- Single records ----


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


def enterprise_compliance_history(enterprise_id: int) -> list[ComplianceRecord]:
    """The unit's compliance records in published periods only, newest period first."""
    stmt = (
        select(ComplianceRecord)
        .join(CompliancePeriod, CompliancePeriod.year == ComplianceRecord.period_year)
        .where(
            ComplianceRecord.enterprise_id == enterprise_id,
            CompliancePeriod.published_at.is_not(None),
        )
        .order_by(ComplianceRecord.period_year.desc(), ComplianceRecord.variety_code)
    )
    return list(db.session.scalars(stmt))


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
