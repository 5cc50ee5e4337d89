"""The registry (注册登记): an append-only ledger of indicator entries, and the 2-year start rule."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.columns import Quantity
from portal.extensions import db
from portal.reference.models import Variety

# issue: 确权/核定 issued to a holder; transfer_out/transfer_in: the two halves of a transfer,
# sharing transfer_id; surrender: 履约注销; cancel: any other cancellation; take_back: 无偿收回;
# correction: a signed adjustment that points at the entry it corrects.
ENTRY_KINDS = (
    "issue",
    "transfer_out",
    "transfer_in",
    "surrender",
    "cancel",
    "take_back",
    "correction",
)
HOLDER_KINDS = ("enterprise", "city", "province")


class LedgerAppendOnly(RuntimeError):
    """A ledger entry was about to be updated or deleted; entries are never changed in place."""


class LedgerEntry(db.Model):
    """One signed change to one holder's balance of one variety."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        Index("ix_ledger_entry_holder_variety", "holder_key", "variety_code"),
        Index("ix_ledger_entry_source", "source_type", "source_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(16))
    # "enterprise:12", "city:410100" or "province": one string, so one lock row per holder.
    holder_key: Mapped[str] = mapped_column(String(24))
    holder_kind: Mapped[str] = mapped_column(String(12))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), index=True)
    division_code: Mapped[str | None] = mapped_column(ForeignKey("division.code"))
    variety_code: Mapped[str] = mapped_column(ForeignKey("variety.code"))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    reason: Mapped[str] = mapped_column(Text)
    source_type: Mapped[str] = mapped_column(String(24), default="")
    source_id: Mapped[str] = mapped_column(String(64), default="")
    transfer_id: Mapped[str | None] = mapped_column(String(36), index=True)
    corrects_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"))
    # Unique, so an operation repeated (a trade imported twice, a tick run twice) is refused
    # by the database itself, even under concurrency.
    idempotency_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    variety: Mapped[Variety] = relationship(lazy="joined")


class LedgerHolderLock(db.Model):
    """One row per holder; a debit locks it first, so two debits of one holder never interleave."""

    __tablename__ = "ledger_holder_lock"

    holder_key: Mapped[str] = mapped_column(String(24), primary_key=True)
    seq: Mapped[int] = mapped_column(default=0)


class ConstructionObligation(db.Model):
    """Indicators for a new project: construction must start within 2 years, or they are taken back."""

    __tablename__ = "construction_obligation"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    project_name: Mapped[str] = mapped_column(String(200))
    variety_code: Mapped[str] = mapped_column(ForeignKey("variety.code"))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    issued_on: Mapped[date]
    start_deadline: Mapped[date] = mapped_column(index=True)
    started_on: Mapped[date | None]
    warned_at: Mapped[datetime | None]
    taken_back_at: Mapped[datetime | None]
    take_back_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"))
    source_type: Mapped[str] = mapped_column(String(24), default="")
    source_id: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime]


@event.listens_for(LedgerEntry, "before_update")
def _refuse_update(mapper, connection, target):
    raise LedgerAppendOnly(f"ledger entry {target.id} may not be updated")


@event.listens_for(LedgerEntry, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise LedgerAppendOnly(f"ledger entry {target.id} may not be deleted")
