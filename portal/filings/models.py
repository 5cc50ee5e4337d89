"""Filings (申报): one record type and table per kind, on a shared `filing` base table.

Joined-table inheritance: `filing` holds what every kind shares (status, version, owner, the raw
draft); each kind's own table holds its typed fields. The back office can thus list every filing in
one query, and the timeline, versions and attachments point at one `filing.id`.
Quantities are Numeric(18,4) Decimals per variety: energy in tce, coal in t, never floats.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import AuditFirm, User
from portal.benchmarks.models import EfficiencyBenchmark
from portal.columns import Quantity
from portal.enterprises.models import Enterprise
from portal.extensions import db

KINDS = ("voluntary", "retrofit", "closure", "compliance", "purchase")
NUMBER_PREFIX = {
    "voluntary": "ZY",
    "retrofit": "JN",
    "closure": "GT",
    "compliance": "LY",
    "purchase": "LG",
}


class Filing(db.Model):
    """What every filing shares; `version` is the optimistic lock (SQLAlchemy version_id_col)."""

    __tablename__ = "filing"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(24), default="draft", index=True)
    version: Mapped[int] = mapped_column(default=1)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    # Copied from the enterprise, so a city reviewer's queue is one indexed query.
    division_code: Mapped[str] = mapped_column(ForeignKey("division.code"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    # What the person typed, valid or not, so that nothing is lost (autosave stores it as is).
    draft_data: Mapped[dict] = mapped_column(JSON, default=dict)
    submitted_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    submitted_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    # A draft copied from a withdrawn or refused filing names it, so both pages link to each other.
    copied_from_id: Mapped[int | None] = mapped_column(ForeignKey("filing.id"), index=True)

    enterprise: Mapped[Enterprise] = relationship()
    created_by: Mapped[User] = relationship()
    copied_from: Mapped[Filing | None] = relationship(
        remote_side=[id], foreign_keys=[copied_from_id]
    )
    events: Mapped[list[FilingEvent]] = relationship(
        back_populates="filing", order_by="FilingEvent.id", cascade="all, delete-orphan"
    )
    versions: Mapped[list[FilingVersion]] = relationship(
        back_populates="filing", order_by="FilingVersion.number", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[FilingAttachment]] = relationship(
        back_populates="filing", order_by="FilingAttachment.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"polymorphic_on": "kind", "version_id_col": version}

    def add_event(self, action: str, actor, remark: str, source=None, target=None, at=None):
        """Append a step to the timeline; without `source` and `target`, a step that keeps the
        status (a reassignment, a 核减)."""
        self.events.append(
            FilingEvent(
                action=action,
                from_status=self.status if source is None else source,
                to_status=self.status if target is None else target,
                actor_id=actor.id,
                actor_role=actor.role,
                remark=remark,
                created_at=at or datetime.now(UTC).replace(tzinfo=None),
            )
        )

    @property
    def number(self) -> str:
        return f"{NUMBER_PREFIX.get(self.kind, 'SB')}{self.id:06d}"

    @property
    def is_editable(self) -> bool:
        return self.status in ("draft", "returned")

    @property
    def title(self) -> str:
        return getattr(self, "project_name", "") or getattr(self, "facility_name", "") or ""


class VoluntaryApplication(Filing):
    """自愿参与申请."""

    __tablename__ = "voluntary_application"

    id: Mapped[int] = mapped_column(ForeignKey("filing.id"), primary_key=True)
    reasons: Mapped[str] = mapped_column(Text, default="")
    planned_measures: Mapped[str] = mapped_column(Text, default="")
    commitments: Mapped[str] = mapped_column(Text, default="")
    # None: not answered yet. True refuses the application: a unit inside carbon-emissions
    # trading may not trade energy-use rights (实施方案 二(一)3).
    in_carbon_trading: Mapped[bool | None]

    __mapper_args__ = {"polymorphic_identity": "voluntary"}


class RetrofitClaim(Filing):
    """节能改造节能量申报: the baseline now; the auditor's verified savings later."""

    __tablename__ = "retrofit_claim"

    id: Mapped[int] = mapped_column(ForeignKey("filing.id"), primary_key=True)
    project_name: Mapped[str] = mapped_column(String(120), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    baseline_year: Mapped[int | None]
    baseline_energy: Mapped[Decimal | None] = mapped_column(Quantity)
    baseline_coal: Mapped[Decimal | None] = mapped_column(Quantity)
    expected_energy_savings: Mapped[Decimal | None] = mapped_column(Quantity)
    expected_coal_savings: Mapped[Decimal | None] = mapped_column(Quantity)
    audit_firm_id: Mapped[int | None] = mapped_column(ForeignKey("audit_firm.id"), index=True)
    # Set by the auditor's savings audit in the back office (portal/review/).
    verified_energy_savings: Mapped[Decimal | None] = mapped_column(Quantity)
    verified_coal_savings: Mapped[Decimal | None] = mapped_column(Quantity)

    audit_firm: Mapped[AuditFirm | None] = relationship()

    __mapper_args__ = {"polymorphic_identity": "retrofit"}


class ClosureClaim(Filing):
    """关停指标申报."""

    __tablename__ = "closure_claim"

    id: Mapped[int] = mapped_column(ForeignKey("filing.id"), primary_key=True)
    facility_name: Mapped[str] = mapped_column(String(120), default="")
    facility_description: Mapped[str] = mapped_column(Text, default="")
    closure_date: Mapped[date | None]
    # None: not answered. True refuses the claim: grid-dispatched coal power units
    # (统调燃煤机组) cannot earn indicators by closing (实施方案 二(二)).
    is_grid_coal_unit: Mapped[bool | None]
    prior_year_energy: Mapped[Decimal | None] = mapped_column(Quantity)
    prior_year_coal: Mapped[Decimal | None] = mapped_column(Quantity)

    __mapper_args__ = {"polymorphic_identity": "closure"}


class ComplianceFiling(Filing):
    """履约申报: verified actual consumption per variety for one period."""

    __tablename__ = "compliance_filing"

    id: Mapped[int] = mapped_column(ForeignKey("filing.id"), primary_key=True)
    period_year: Mapped[int | None]
    actual_energy: Mapped[Decimal | None] = mapped_column(Quantity)
    actual_coal: Mapped[Decimal | None] = mapped_column(Quantity)

    __mapper_args__ = {"polymorphic_identity": "compliance"}


class ProjectPurchase(Filing):
    """两高项目用能权申购: required = benchmark × designed output."""

    __tablename__ = "project_purchase"

    id: Mapped[int] = mapped_column(ForeignKey("filing.id"), primary_key=True)
    project_name: Mapped[str] = mapped_column(String(120), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    variety_code: Mapped[str | None] = mapped_column(String(10))
    # The product picked from the benchmark table, and the row in force when the quantity was
    # last computed: rows are never edited, so the filing keeps the value it was computed with.
    product_code: Mapped[str | None] = mapped_column(String(40))
    benchmark_id: Mapped[int | None] = mapped_column(ForeignKey("efficiency_benchmark.id"))
    # Copied from the benchmark row. Purchases filed before the table typed them (and
    # `benchmark`, per unit of output in the variety's unit) and keep what they typed.
    industry_code: Mapped[str | None] = mapped_column(ForeignKey("industry.code"))
    benchmark_basis: Mapped[str | None] = mapped_column(String(12))  # benchmark / advanced
    benchmark: Mapped[Decimal | None] = mapped_column(Quantity)
    output_unit: Mapped[str] = mapped_column(String(20), default="")
    designed_output: Mapped[Decimal | None] = mapped_column(Quantity)
    # 原料煤 (t/year): left out of a coal purchase (实施方案 二(一)3).
    feedstock_coal: Mapped[Decimal | None] = mapped_column(Quantity)
    is_grid_coal_unit: Mapped[bool | None]
    required_quantity: Mapped[Decimal | None] = mapped_column(Quantity)
    # The day the indicators are granted (final); construction must start within 2 years.
    granted_on: Mapped[date | None]
    construction_started_on: Mapped[date | None]

    benchmark_row: Mapped[EfficiencyBenchmark | None] = relationship()

    __mapper_args__ = {"polymorphic_identity": "purchase"}


class FilingEvent(db.Model):
    """One step on a filing's timeline: the status it reached, when, by whom, with what remark."""

    __tablename__ = "filing_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    filing_id: Mapped[int] = mapped_column(ForeignKey("filing.id"), index=True)
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_role: Mapped[str] = mapped_column(String(12), default="")
    remark: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    filing: Mapped[Filing] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class FilingVersion(db.Model):
    """A snapshot of the fields as submitted; every submission is kept."""

    __tablename__ = "filing_version"
    __table_args__ = (UniqueConstraint("filing_id", "number", name="uq_filing_version_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    filing_id: Mapped[int] = mapped_column(ForeignKey("filing.id"), index=True)
    number: Mapped[int]
    data: Mapped[dict] = mapped_column(JSON)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    filing: Mapped[Filing] = relationship(back_populates="versions")


# What the enterprise attaches to its filings (energy_review: a 两高 project's 节能审查意见); the
# back office adds audit_report and opinion.
ENTERPRISE_PURPOSES = ("evidence", "verification_report", "energy_review")
_ONE_CURRENT_COPY = text(
    "removed_at IS NULL AND purpose IN ("
    + ", ".join(f"'{purpose}'" for purpose in ENTERPRISE_PURPOSES)
    + ")"
)


class FilingAttachment(db.Model):
    """A file attached to a filing; the bytes live at UPLOAD_DIR/<sha256[:2]>/<sha256>.

    The enterprise's files hold a given content once per filing: two of its current (not removed)
    attachments never share a SHA-256. The partial unique index enforces it when two uploads race.
    """

    __tablename__ = "filing_attachment"
    __table_args__ = (
        Index(
            "uq_filing_attachment_current_content",
            "filing_id",
            "sha256",
            unique=True,
            sqlite_where=_ONE_CURRENT_COPY,
            postgresql_where=_ONE_CURRENT_COPY,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    filing_id: Mapped[int] = mapped_column(ForeignKey("filing.id"), index=True)
    # evidence / verification_report (compliance) / audit_report (auditor) / opinion (authority)
    purpose: Mapped[str] = mapped_column(String(24), default="evidence")
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(100))
    original_name: Mapped[str] = mapped_column(String(200))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Kept after removal so that submitted versions still name their files.
    removed_at: Mapped[datetime | None]

    filing: Mapped[Filing] = relationship(back_populates="attachments")


class FilingCorrection(db.Model):
    """核减: a reviewer lowers a quantity of a filing, with a reason; rows are never changed.

    The latest row of a field holds while the field still has the value it corrected
    (`original`): a resubmission with another figure starts over from the enterprise's figure.
    """

    __tablename__ = "filing_correction"

    id: Mapped[int] = mapped_column(primary_key=True)
    filing_id: Mapped[int] = mapped_column(ForeignKey("filing.id"), index=True)
    field: Mapped[str] = mapped_column(String(40))
    variety_code: Mapped[str] = mapped_column(String(10))
    original: Mapped[Decimal] = mapped_column(Quantity)
    corrected: Mapped[Decimal] = mapped_column(Quantity)
    reason: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_role: Mapped[str] = mapped_column(String(12), default="")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    filing: Mapped[Filing] = relationship()
    actor: Mapped[User | None] = relationship()
