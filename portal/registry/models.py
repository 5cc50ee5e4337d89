"""The registry (注册登记): an append-only ledger of indicator entries, and the 2-year start rule."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.columns import Quantity
from portal.enterprises.models import Enterprise
from portal.extensions import append_only, db
from portal.reference.models import Variety

# issue: 确权/核定 issued to a holder; transfer_out/transfer_in: the two halves of a transfer,
# sharing transfer_id; surrender: 履约注销; cancel: any other cancellation; take_back: 无偿收回;
# correction: a signed adjustment that points at the entry it corrects; allocate: 初始分配, a
# period's initial allocation; opening: an opening balance carried in from records kept before the
# ledger (its `component` says which part of the holdings it opens).
ENTRY_KINDS = (
    "allocate",
    "issue",
    "transfer_out",
    "transfer_in",
    "surrender",
    "cancel",
    "take_back",
    "correction",
    "opening",
)
# Which part of a period's holdings each kind counts in (opening entries name theirs).
COMPONENT_OF_KIND = {
    "allocate": "allocated",
    "issue": "allocated",
    "correction": "allocated",
    "transfer_in": "bought",
    "transfer_out": "sold",
    "take_back": "taken_back",
    "cancel": "taken_back",
    "surrender": "surrendered",
}
# Holding's columns hold positive amounts; these components are debits (negative entries).
DEBIT_COMPONENTS = frozenset({"sold", "taken_back", "surrendered"})
COMPONENTS = ("allocated", "bought", "sold", "taken_back", "surrendered")
HOLDER_KINDS = ("enterprise", "city", "province")


class LedgerAppendOnly(RuntimeError):
    """A ledger entry was about to be updated or deleted; entries are never changed in place."""


def _referring_index(name: str, column: str) -> Index:
    """An index on a column that refers to a ledger entry, over the rows that do (few). Without
    it, finding what refers to an entry (SQLite checks it for each entry deleted) reads the ledger."""
    where = text(f"{column} IS NOT NULL")
    return Index(name, column, sqlite_where=where, postgresql_where=where)


class LedgerEntry(db.Model):
    """One signed change to one holder's balance of one variety."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        Index("ix_ledger_entry_holder_variety", "holder_key", "variety_code"),
        Index("ix_ledger_entry_source", "source_type", "source_id"),
        # A holder's movements, newest first (the public profile pages them by keyset on id).
        Index("ix_ledger_entry_holder_id", "holder_key", "id"),
        _referring_index("ix_ledger_entry_corrects_entry_id", "corrects_entry_id"),
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
    # The compliance period (year) the entry counts in: a trade's year, an allocation's period, the
    # period a surrender settles. Holdings of a period are the sums of its entries.
    period_year: Mapped[int] = mapped_column(index=True)
    component: Mapped[str] = mapped_column(String(12))

    variety: Mapped[Variety] = relationship(lazy="joined")


class Holding(db.Model):
    """A holder's holdings of one variety in one period: the sums of its ledger entries.

    Maintained in the transaction of every ledger append and rebuilt from the ledger by
    `flask registry rebuild-holdings`; `flask registry reconcile` checks it. It is the one table of
    holdings: nothing else stores a balance.
    holdings = allocated + bought − sold − taken_back (the figure compliance compares with the
    actual use); surrendered settles the period afterwards; the balance left is holdings − surrendered.
    """

    __tablename__ = "holding"
    __table_args__ = (
        UniqueConstraint("holder_key", "variety_code", "period_year", name="uq_holding_key"),
        Index("ix_holding_enterprise_period", "enterprise_id", "period_year", "variety_code"),
        Index("ix_holding_period_variety", "period_year", "variety_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    holder_key: Mapped[str] = mapped_column(String(24))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"))
    variety_code: Mapped[str] = mapped_column(ForeignKey("variety.code"))
    period_year: Mapped[int]
    allocated: Mapped[Decimal] = mapped_column(Quantity, default=0)
    bought: Mapped[Decimal] = mapped_column(Quantity, default=0)
    sold: Mapped[Decimal] = mapped_column(Quantity, default=0)
    taken_back: Mapped[Decimal] = mapped_column(Quantity, default=0)
    surrendered: Mapped[Decimal] = mapped_column(Quantity, default=0)
    entries: Mapped[int] = mapped_column(default=0)

    @property
    def holdings(self) -> Decimal:
        parts = (self.allocated, self.bought, self.sold, self.taken_back)
        allocated, bought, sold, taken_back = (Decimal(part or 0) for part in parts)
        return allocated + bought - sold - taken_back

    @property
    def remaining(self) -> Decimal:
        return self.holdings - Decimal(self.surrendered or 0)


class LedgerHolderLock(db.Model):
    """One row per holder; a debit locks it first, so two debits of one holder never interleave."""

    __tablename__ = "ledger_holder_lock"

    holder_key: Mapped[str] = mapped_column(String(24), primary_key=True)
    seq: Mapped[int] = mapped_column(default=0)


class ConstructionObligation(db.Model):
    """Indicators for a new project: construction must start within 2 years, or they are taken back."""

    __tablename__ = "construction_obligation"
    __table_args__ = (
        _referring_index("ix_construction_obligation_take_back_entry_id", "take_back_entry_id"),
    )

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
    # The announcement of the 公示 that published the take-back (one per `flask tick` run that
    # took any back).
    take_back_announcement_id: Mapped[int | None] = mapped_column(ForeignKey("announcement.id"))
    source_type: Mapped[str] = mapped_column(String(24), default="")
    source_id: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime]


# pending: waiting for the city; confirmed: the start is recorded; refused: the obligation stays open.
START_REPORT_STATUSES = ("pending", "confirmed", "refused")


class ConstructionStartReport(db.Model):
    """An enterprise's report that its project started construction, with its evidence.

    The city authority of the unit's division confirms it (the start date is recorded on the
    obligation) or refuses it with a remark (the obligation stays open). A report still pending
    that was made by the deadline holds back the take-back until the city decides.
    """

    __tablename__ = "construction_start_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    obligation_id: Mapped[int] = mapped_column(ForeignKey("construction_obligation.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    started_on: Mapped[date]
    note: Mapped[str] = mapped_column(Text, default="")
    # The evidence file, stored once under its SHA-256 (portal/uploads.py).
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(100))
    original_name: Mapped[str] = mapped_column(String(200))
    size: Mapped[int]
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    submitted_at: Mapped[datetime]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None]
    remark: Mapped[str] = mapped_column(Text, default="")

    obligation: Mapped[ConstructionObligation] = relationship(lazy="joined")
    enterprise: Mapped[Enterprise] = relationship(lazy="joined")


append_only(LedgerEntry, LedgerAppendOnly, "ledger entry")


class LedgerOpeningSource(db.Model):
    """Figures that compliance records held before the ledger held them (moved here by migration).

    `flask registry open-balances` turns each row into opening entries for what the ledger lacks,
    once (`opened_at`); nothing reads these figures for display.
    """

    __tablename__ = "ledger_opening_source"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int]
    period_year: Mapped[int]
    variety_code: Mapped[str] = mapped_column(String(10))
    quota: Mapped[Decimal] = mapped_column(Quantity, default=0)
    bought: Mapped[Decimal] = mapped_column(Quantity, default=0)
    sold: Mapped[Decimal] = mapped_column(Quantity, default=0)
    taken_back: Mapped[Decimal] = mapped_column(Quantity, default=0)
    opened_at: Mapped[datetime | None]
