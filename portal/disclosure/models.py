"""What the market discloses: listings (挂牌) and trades (成交)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.columns import Amount, Price, Quantity, order_indexes
from portal.enterprises.models import Enterprise
from portal.extensions import db

# Codes are stored; labels live in the templates' catalogs (disclosure/labels.py).
LISTING_STATUSES = ("open", "traded", "partial", "withdrawn", "expired")
TRADE_METHODS = ("listing", "agreement", "auction")
SETTLEMENT_STATUSES = ("pending", "settled", "delivered")
SELLER_KINDS = ("enterprise", "city", "province")


class Listing(db.Model):
    """挂牌: an offer on the provincial public-resource trading platform."""

    __tablename__ = "listing"
    __table_args__ = (
        Index("ix_listing_starts", "starts_on", "id"),
        *order_indexes(
            "ix_listing",
            "starts",
            "starts_on",
            "variety_code",
            "status",
            "division_code",
            "category_code",
            "industry_code",
        ),
        Index("ix_listing_price", "listed_price"),
        Index("ix_listing_quantity", "quantity"),
        # A division's listings by price or quantity: the first rows of one range, not a sort of
        # the division's (about 5,500 of 100,000 for 郑州, 8 ms on SQLite).
        Index("ix_listing_division_price", "division_code", "listed_price", "id"),
        Index("ix_listing_division_quantity", "division_code", "quantity", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    variety_code: Mapped[str] = mapped_column(ForeignKey("variety.code"))
    category_code: Mapped[str] = mapped_column(ForeignKey("category.code"), index=True)
    seller_kind: Mapped[str] = mapped_column(String(12), default="enterprise")
    seller_enterprise_id: Mapped[int | None] = mapped_column(
        ForeignKey("enterprise.id"), index=True
    )
    seller_name: Mapped[str] = mapped_column(String(120))
    # The seller's division; None for the province's own pool.
    division_code: Mapped[str | None] = mapped_column(ForeignKey("division.code"))
    industry_code: Mapped[str | None] = mapped_column(ForeignKey("industry.code"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    remaining_quantity: Mapped[Decimal] = mapped_column(Quantity)
    listed_price: Mapped[Decimal] = mapped_column(Price)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    method: Mapped[str] = mapped_column(String(12), default="listing")
    status: Mapped[str] = mapped_column(String(12), default="open")
    contact_name: Mapped[str] = mapped_column(String(40), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    seller: Mapped[Enterprise | None] = relationship(foreign_keys=[seller_enterprise_id])
    trades: Mapped[list[Trade]] = relationship(
        back_populates="listing", order_by="Trade.trade_date"
    )


class Trade(db.Model):
    """成交: a completed trade, as disclosed."""

    __tablename__ = "trade"
    __table_args__ = (
        Index("ix_trade_date", "trade_date", "id"),
        *order_indexes(
            "ix_trade",
            "date",
            "trade_date",
            "variety_code",
            "buyer_division_code",
            "seller_division_code",
            "category_code",
            "industry_code",
            "method",
        ),
        Index("ix_trade_category_method_date", "category_code", "method", "trade_date"),
        Index("ix_trade_amount", "amount"),
        Index("ix_trade_price", "unit_price"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    listing_id: Mapped[int | None] = mapped_column(ForeignKey("listing.id"), index=True)
    # active_history: the market summary takes a corrected trade's old figures away, so they are
    # loaded before a change even when the row was expired (portal/disclosure/summary.py).
    variety_code: Mapped[str] = mapped_column(ForeignKey("variety.code"), active_history=True)
    category_code: Mapped[str] = mapped_column(
        ForeignKey("category.code"), index=True, active_history=True
    )
    quantity: Mapped[Decimal] = mapped_column(Quantity, active_history=True)
    unit_price: Mapped[Decimal] = mapped_column(Price, active_history=True)
    amount: Mapped[Decimal] = mapped_column(Amount, active_history=True)
    buyer_enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), index=True)
    buyer_name: Mapped[str] = mapped_column(String(120))
    buyer_division_code: Mapped[str | None] = mapped_column(
        ForeignKey("division.code"), active_history=True
    )
    seller_enterprise_id: Mapped[int | None] = mapped_column(
        ForeignKey("enterprise.id"), index=True
    )
    seller_name: Mapped[str] = mapped_column(String(120))
    seller_division_code: Mapped[str | None] = mapped_column(
        ForeignKey("division.code"), active_history=True
    )
    industry_code: Mapped[str | None] = mapped_column(ForeignKey("industry.code"), index=True)
    method: Mapped[str] = mapped_column(String(12), default="listing")
    trade_date: Mapped[date] = mapped_column(active_history=True)
    settlement_status: Mapped[str] = mapped_column(String(12), default="settled", index=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    listing: Mapped[Listing | None] = relationship(back_populates="trades")
    buyer: Mapped[Enterprise | None] = relationship(foreign_keys=[buyer_enterprise_id])
    seller: Mapped[Enterprise | None] = relationship(foreign_keys=[seller_enterprise_id])


# The division_code of the summary rows that cover the whole market (every division, and trades
# whose parties have none). A trade also counts once under each distinct division of its buyer and
# seller, so the rows of the divisions do not add up to the market's.
MARKET_WIDE = "all"


class MarketDailySummary(db.Model):
    """One day's trades of one variety and category, in one division or the whole market.

    Kept by portal/disclosure/summary.py in the transaction that records, corrects or withdraws a
    trade; `flask statistics rebuild` recomputes it from the trades. Volumes are stored as whole
    ten-thousandths of a unit and amounts as whole fen, so sums are exact on every database.
    """

    __tablename__ = "market_daily_summary"
    __table_args__ = (
        Index("ix_market_daily_summary_division_day", "division_code", "day"),
        Index(
            "ix_market_daily_summary_month",
            "division_code",
            "variety_code",
            "category_code",
            "month",
        ),
    )

    division_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    variety_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    category_code: Mapped[str] = mapped_column(String(20), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    month: Mapped[date]  # the first day of day's month: monthly figures group by it
    trades: Mapped[int]
    volume: Mapped[int] = mapped_column(BigInteger)  # ten-thousandths of the variety's unit
    amount: Mapped[int] = mapped_column(BigInteger)  # fen
    high: Mapped[Decimal | None] = mapped_column(Price)
    low: Mapped[Decimal | None] = mapped_column(Price)


class MarketMonthlySummary(db.Model):
    """The sum of a month's rows of market_daily_summary, kept by the same increments.

    The statistics page reads months (a few hundred rows since the market opened) instead of days
    (a few thousand); `flask statistics check` compares it with the sums of the days.
    """

    __tablename__ = "market_monthly_summary"

    division_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    variety_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    category_code: Mapped[str] = mapped_column(String(20), primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)  # its first day
    trades: Mapped[int]
    volume: Mapped[int] = mapped_column(BigInteger)  # ten-thousandths of the variety's unit
    amount: Mapped[int] = mapped_column(BigInteger)  # fen
    high: Mapped[Decimal | None] = mapped_column(Price)
    low: Mapped[Decimal | None] = mapped_column(Price)
