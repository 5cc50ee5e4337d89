"""有偿使用: reference prices, payment notices (缴款通知) of 两高 purchases, and city reserve offers
(收储).

Money is exact: prices Numeric(14, 2) 元 per unit, amounts Numeric(20, 2) 元, quantities
Numeric(18, 4). A reference price row is never changed: a new row supersedes it from its own
`effective_from`, so the price in force on any day can be told again later.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.columns import Amount, Price, Quantity
from portal.enterprises.models import Enterprise
from portal.extensions import append_only, db
from portal.filings.models import Filing

NOTICE_PREFIX = "JK"  # 缴款通知
OFFER_PREFIX = "SC"  # 收储
NOTICE_STATUSES = ("issued", "paid", "expired", "cancelled")
# A filing has at most one notice that still counts (to pay, or paid).
OPEN_NOTICE_STATUSES = ("issued", "paid")
OFFER_STATUSES = ("open", "bought", "released")
_ONE_OPEN_NOTICE = text("status IN ('issued', 'paid')")


class ReferencePriceChanged(RuntimeError):
    """A reference price row was about to be updated or deleted; a new row supersedes it instead."""


class ReferencePrice(db.Model):
    """The reference price of one variety and category from a day on (十三五 average, an auction)."""

    __tablename__ = "reference_price"
    __table_args__ = (
        Index("ix_reference_price_in_force", "variety_code", "category_code", "effective_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    variety_code: Mapped[str] = mapped_column(ForeignKey("variety.code"))
    category_code: Mapped[str] = mapped_column(ForeignKey("category.code"))
    price: Mapped[Decimal] = mapped_column(Price)  # 元 per unit of the variety
    effective_from: Mapped[date]
    source: Mapped[str] = mapped_column(Text)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime]

    entered_by: Mapped[User | None] = relationship()


append_only(ReferencePrice, ReferencePriceChanged, "reference price")


class PaymentNotice(db.Model):
    """缴款通知: what a 两高 project pays for its new indicators, and the platform's receipt.

    issued → paid (the receipt recorded) | expired (unpaid after its due date) | cancelled (the
    filing was sent back or refused before payment). The indicators are issued only once the
    notice is paid and the filing is final.
    """

    __tablename__ = "payment_notice"
    __table_args__ = (
        Index(
            "uq_payment_notice_open_per_filing",
            "filing_id",
            unique=True,
            sqlite_where=_ONE_OPEN_NOTICE,
            postgresql_where=_ONE_OPEN_NOTICE,
        ),
        Index("ix_payment_notice_status_due", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    filing_id: Mapped[int] = mapped_column(ForeignKey("filing.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    variety_code: Mapped[str] = mapped_column(ForeignKey("variety.code"))
    category_code: Mapped[str] = mapped_column(ForeignKey("category.code"))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit_price: Mapped[Decimal] = mapped_column(Price)
    amount: Mapped[Decimal] = mapped_column(Amount)
    # The reference price row the unit price came from; None for an auction price typed at approval.
    price_id: Mapped[int | None] = mapped_column(ForeignKey("reference_price.id"))
    price_source: Mapped[str] = mapped_column(Text)
    issued_on: Mapped[date]
    due_on: Mapped[date]
    # PAYMENT_PAY_TO when the notice was issued; empty: the platform, in the reader's language.
    pay_to: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="issued")
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime]
    # The platform's receipt (缴款凭证): its reference number is unique across all notices.
    receipt_reference: Mapped[str | None] = mapped_column(String(64), unique=True)
    paid_amount: Mapped[Decimal | None] = mapped_column(Amount)
    paid_on: Mapped[date | None]
    receipt_recorded_at: Mapped[datetime | None]
    receipt_recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    closed_at: Mapped[datetime | None]  # expired or cancelled
    close_reason: Mapped[str] = mapped_column(Text, default="")
    # Optimistic lock: of two clerks recording a receipt at once, the second gets a 409.
    version: Mapped[int] = mapped_column(default=1)

    filing: Mapped[Filing] = relationship()
    enterprise: Mapped[Enterprise] = relationship()
    price: Mapped[ReferencePrice | None] = relationship()
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])
    receipt_recorded_by: Mapped[User | None] = relationship(foreign_keys=[receipt_recorded_by_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def number(self) -> str:
        return f"{NOTICE_PREFIX}{self.id:06d}"


class ReserveOffer(db.Model):
    """收储: indicators a closure or retrofit freed, offered first to the city of the unit.

    open → bought (the city buys them back at its price) | released (to the unit, by the city or,
    once `decide_by` has passed, by `flask tick`). Until then nothing is issued.
    """

    __tablename__ = "reserve_offer"
    __table_args__ = (
        UniqueConstraint("filing_id", "variety_code", name="uq_reserve_offer_filing_variety"),
        Index("ix_reserve_offer_division_status", "division_code", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    filing_id: Mapped[int] = mapped_column(ForeignKey("filing.id"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    division_code: Mapped[str] = mapped_column(ForeignKey("division.code"))
    variety_code: Mapped[str] = mapped_column(ForeignKey("variety.code"))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    offered_at: Mapped[datetime]
    decide_by: Mapped[date]
    status: Mapped[str] = mapped_column(String(12), default="open")
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    unit_price: Mapped[Decimal | None] = mapped_column(Price)
    amount: Mapped[Decimal | None] = mapped_column(Amount)
    remark: Mapped[str] = mapped_column(Text, default="")
    # Optimistic lock: of two decisions at once, the second gets a 409.
    version: Mapped[int] = mapped_column(default=1)

    filing: Mapped[Filing] = relationship()
    enterprise: Mapped[Enterprise] = relationship()
    decided_by: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def number(self) -> str:
        return f"{OFFER_PREFIX}{self.id:06d}"
