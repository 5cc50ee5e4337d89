"""What the market discloses: listings (挂牌) and trades (成交)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.columns import Amount, Price, Quantity
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
        Index("ix_listing_variety_starts", "variety_code", "starts_on"),
        Index("ix_listing_status_starts", "status", "starts_on"),
        Index("ix_listing_division_starts", "division_code", "starts_on"),
        Index("ix_listing_category_starts", "category_code", "starts_on"),
        Index("ix_listing_industry_starts", "industry_code", "starts_on"),
        Index("ix_listing_price", "listed_price"),
        Index("ix_listing_quantity", "quantity"),
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
        Index("ix_trade_variety_date", "variety_code", "trade_date"),
        Index("ix_trade_buyer_division_date", "buyer_division_code", "trade_date"),
        Index("ix_trade_seller_division_date", "seller_division_code", "trade_date"),
        Index("ix_trade_category_date", "category_code", "trade_date"),
        Index("ix_trade_industry_date", "industry_code", "trade_date"),
        Index("ix_trade_method_date", "method", "trade_date"),
        Index("ix_trade_category_method_date", "category_code", "method", "trade_date"),
        Index("ix_trade_amount", "amount"),
        Index("ix_trade_price", "unit_price"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    listing_id: Mapped[int | None] = mapped_column(ForeignKey("listing.id"), index=True)
    variety_code: Mapped[str] = mapped_column(ForeignKey("variety.code"))
    category_code: Mapped[str] = mapped_column(ForeignKey("category.code"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit_price: Mapped[Decimal] = mapped_column(Price)
    amount: Mapped[Decimal] = mapped_column(Amount)
    buyer_enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), index=True)
    buyer_name: Mapped[str] = mapped_column(String(120))
    buyer_division_code: Mapped[str | None] = mapped_column(ForeignKey("division.code"))
    seller_enterprise_id: Mapped[int | None] = mapped_column(
        ForeignKey("enterprise.id"), index=True
    )
    seller_name: Mapped[str] = mapped_column(String(120))
    seller_division_code: Mapped[str | None] = mapped_column(ForeignKey("division.code"))
    industry_code: Mapped[str | None] = mapped_column(ForeignKey("industry.code"), index=True)
    method: Mapped[str] = mapped_column(String(12), default="listing")
    trade_date: Mapped[date]
    settlement_status: Mapped[str] = mapped_column(String(12), default="settled", index=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    listing: Mapped[Listing | None] = relationship(back_populates="trades")
    buyer: Mapped[Enterprise | None] = relationship(foreign_keys=[buyer_enterprise_id])
    seller: Mapped[Enterprise | None] = relationship(foreign_keys=[seller_enterprise_id])
