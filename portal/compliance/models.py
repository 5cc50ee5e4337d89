"""Compliance (履约): a period per year, and each unit's record for it per variety."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    and_,
    event,
    func,
    inspect,
    select,
    update,
)
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from portal.columns import Quantity, SortKey, filter_indexes
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.registry.models import Holding

QUANTUM = Decimal("0.0001")  # Numeric(18, 4), as a stored quantity reads back
# Codes are stored; labels live in compliance/labels.py.
COMPLIANCE_STATUSES = ("on_time", "late", "non_compliant", "not_applicable", "not_reported")


class CompliancePeriod(db.Model):
    """A compliance period (履约期), by year; its list is public once published."""

    __tablename__ = "compliance_period"

    year: Mapped[int] = mapped_column(primary_key=True)
    filing_deadline: Mapped[date]
    published_at: Mapped[datetime | None]
    publicity_ends_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(Text, default="")


# The shortfall order's indexes: the period alone, and the period with each filter.
SHORTFALL_FILTERS = (
    ("", ()),
    ("status_", ("status",)),
    ("division_", ("division_code",)),
    ("industry_", ("industry_code",)),
)


class ComplianceRecord(db.Model):
    """One unit's compliance for one period and one variety: the recorded status and the confirmed
    actual use. Its holdings are not stored here: they are the registry's Holding row of the same
    unit, variety and period (the ledger's sums), loaded with the record.

    holdings = quota + bought − sold − taken_back; compliant when actual ≤ holdings.
    """

    __tablename__ = "compliance_record"
    __table_args__ = (
        UniqueConstraint(
            "enterprise_id", "period_year", "variety_code", name="uq_compliance_unit_period_variety"
        ),
        Index("ix_compliance_period_status", "period_year", "status", "sort_name", "id"),
        Index("ix_compliance_period_sort_name", "period_year", "sort_name", "id"),
        *filter_indexes("ix_compliance_period", ("period_year",), "sort_name"),
        # A filter with another order than the name's: the page is the first rows of one index
        # range, not a sort of every row the filter keeps (10-13 ms at 100,000 units on SQLite).
        # The shortfall order puts NULLs last (COMPLIANCE_SORTS): PostgreSQL's index is in that
        # order; SQLite reads its ascending index backwards (NULL, its smallest value, comes
        # last) and sorts only the rows of equal shortfall by name.
        *(
            Index(
                f"ix_compliance_period_{name}shortfall",
                "period_year",
                *leading,
                "shortfall",
                "sort_name",
                "id",
                postgresql_ops={"shortfall": "DESC NULLS LAST"},
            )
            for name, leading in SHORTFALL_FILTERS
        ),
        Index(
            "ix_compliance_period_division_status",
            "period_year",
            "division_code",
            "status",
            "sort_name",
            "id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    period_year: Mapped[int] = mapped_column(ForeignKey("compliance_period.year"))
    variety_code: Mapped[str] = mapped_column(ForeignKey("variety.code"))
    # None means not reported, which is never shown as zero.
    actual: Mapped[Decimal | None] = mapped_column(Quantity)
    status: Mapped[str] = mapped_column(String(16))
    shortfall: Mapped[Decimal | None] = mapped_column(Quantity)
    rectify_by: Mapped[date | None]
    filed_on: Mapped[date | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    # The unit's Enterprise.name_sort, copied so that the period's list sorts by name from an
    # index of this table alone (kept by the mapper events below).
    sort_name: Mapped[str] = mapped_column(SortKey, default="", server_default="")
    # The unit's division and industry, copied for the same reason: the list filters by them from
    # an index of this table, not by reading each unit of the period in name order.
    division_code: Mapped[str] = mapped_column(String(6), default="", server_default="")
    industry_code: Mapped[str] = mapped_column(String(20), default="", server_default="")

    enterprise: Mapped[Enterprise] = relationship(lazy="joined")
    period: Mapped[CompliancePeriod] = relationship()
    holding: Mapped[Holding | None] = relationship(
        primaryjoin=lambda: and_(
            foreign(ComplianceRecord.enterprise_id) == Holding.enterprise_id,
            foreign(ComplianceRecord.variety_code) == Holding.variety_code,
            foreign(ComplianceRecord.period_year) == Holding.period_year,
        ),
        viewonly=True,
        uselist=False,
        lazy="joined",
    )

    def _part(self, name: str) -> Decimal:
        # Decimal even when there is no holding: a unit with no entries holds zero.
        return Decimal(getattr(self.holding, name, None) or 0).quantize(QUANTUM)

    # The holding's components, read as record figures (quota is what the registry allocated).
    quota = property(lambda self: self._part("allocated"))
    bought = property(lambda self: self._part("bought"))
    sold = property(lambda self: self._part("sold"))
    taken_back = property(lambda self: self._part("taken_back"))
    surrendered = property(lambda self: self._part("surrendered"))

    @property
    def holdings(self) -> Decimal:
        return self.quota + self.bought - self.sold - self.taken_back


# What a record copies from its unit: (the unit's column, the record's).
UNIT_COPIES = (
    ("name_sort", "sort_name"),
    ("division_code", "division_code"),
    ("industry_code", "industry_code"),
)


@event.listens_for(ComplianceRecord, "before_insert")
def _copy_from_unit(_mapper, connection, record: ComplianceRecord) -> None:
    row = connection.execute(
        select(*(getattr(Enterprise, source) for source, _ in UNIT_COPIES)).where(
            Enterprise.id == record.enterprise_id
        )
    ).one()
    for (_, target), value in zip(UNIT_COPIES, row, strict=True):
        setattr(record, target, value)


@event.listens_for(Enterprise, "after_update")
def _follow_changed_unit(_mapper, connection, unit: Enterprise) -> None:
    state = inspect(unit)
    changed = {
        target: getattr(unit, source)
        for source, target in UNIT_COPIES
        if state.attrs[source].history.has_changes()
    }
    if changed:
        connection.execute(
            update(ComplianceRecord)
            .where(ComplianceRecord.enterprise_id == unit.id)
            .values(**changed)
        )
