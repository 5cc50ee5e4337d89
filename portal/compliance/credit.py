"""The credit platform and 曝光: the record of each export of a period's compliance status to the
provincial credit-information platform (省信用信息共享平台), and the public exposure list of units
that failed to comply or falsified data in trading, once the province confirms them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.compliance.models import ComplianceRecord
from portal.enterprises.models import Enterprise
from portal.extensions import db

EXPORT_FORMATS = ("csv", "xlsx")
EXPOSURE_REASONS = ("non_compliant", "falsified")
EXPOSURE_STATUSES = ("proposed", "confirmed", "withdrawn")


class CreditExport(db.Model):
    """One export of a period's compliance status for the credit platform; its bytes are kept, so
    a download later is the very file that was sent (same SHA-256)."""

    __tablename__ = "credit_export"
    __table_args__ = (Index("ix_credit_export_period_created", "period_year", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period_year: Mapped[int] = mapped_column(ForeignKey("compliance_period.year"))
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    file_format: Mapped[str] = mapped_column(String(8))
    row_count: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    # Deferred: the list of exports never loads the files.
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)

    created_by = relationship("User", lazy="joined")


class ExposureEntry(db.Model):
    """A unit made public (曝光) for failing to comply in a period, or for falsified trading data.

    proposed → confirmed (public) → withdrawn (kept, shown as 已撤销); a proposal may also be
    withdrawn before it is confirmed, and then it never was public.
    """

    __tablename__ = "exposure_entry"
    __table_args__ = (Index("ix_exposure_status_exposed", "status", "exposed_on", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    reason: Mapped[str] = mapped_column(String(16))
    period_year: Mapped[int | None] = mapped_column(ForeignKey("compliance_period.year"))
    trade_number: Mapped[str | None] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")
    exposed_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(12), default="proposed")
    proposed_at: Mapped[datetime]
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    confirmed_at: Mapped[datetime | None]
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    withdraw_reason: Mapped[str] = mapped_column(Text, default="")

    enterprise: Mapped[Enterprise] = relationship(lazy="joined")


# The back office's list of a period (admin_queries.units_query) walks the records of one status,
# or with a shortfall, to find their units: these indexes hold the unit too, so the walk reads the
# index alone. They belong to compliance_record and are created by the same migration as the
# tables above.
Index(
    "ix_compliance_record_period_status_unit",
    ComplianceRecord.period_year,
    ComplianceRecord.status,
    ComplianceRecord.enterprise_id,
)
Index(
    "ix_compliance_record_period_shortfall_unit",
    ComplianceRecord.period_year,
    ComplianceRecord.shortfall,
    ComplianceRecord.enterprise_id,
)
