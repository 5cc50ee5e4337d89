"""The back office's compliance list of one period, built to scale: one row per unit, paged by
keyset in the database, and the page's records, filings and holdings read in one query each.

Who takes part in a period: a unit with a compliance record for it, a compliance filing for it, or
holdings in the registry. Holdings are read in `page_holdings()` only, from the ledger; when the
registry keeps a holdings table, that function (and `_has_holdings`) is what changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import func, not_, or_, select

from portal.compliance.models import CompliancePeriod, ComplianceRecord
from portal.compliance.services import suggest_status
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.filings.models import ComplianceFiling
from portal.registry.models import LedgerEntry

VARIETIES = ("energy", "coal")
ZERO = Decimal("0")
# The status filter's own value for "no status recorded yet".
UNRECORDED = "unrecorded"


def _record_for(year: int, *conditions):
    return (
        select(ComplianceRecord.id)
        .where(
            ComplianceRecord.enterprise_id == Enterprise.id,
            ComplianceRecord.period_year == year,
            *conditions,
        )
        .exists()
    )


def _filing_for(year: int):
    # A select of the entity joins its two tables (filing, compliance_filing).
    return (
        select(ComplianceFiling.id)
        .where(
            ComplianceFiling.enterprise_id == Enterprise.id,
            ComplianceFiling.period_year == year,
            ComplianceFiling.status != "withdrawn",
        )
        .exists()
    )


def _has_holdings():
    return select(LedgerEntry.id).where(LedgerEntry.enterprise_id == Enterprise.id).exists()


def search_condition(text: str):
    """A unit whose name contains `text`, or whose USCC is `text` (or starts with it)."""
    text = text.strip()
    upper = text.upper()
    return or_(
        Enterprise.name.contains(text, autoescape=True),
        Enterprise.uscc.startswith(upper, autoescape=True),
    )


def units_query(year: int, filters: dict):
    """The select of the period's units (Enterprise rows) in name order, ending with the id."""
    conditions = [or_(_record_for(year), _filing_for(year), _has_holdings())]
    if filters.get("division"):
        conditions.append(Enterprise.division_code == filters["division"])
    status = filters.get("status")
    if status == UNRECORDED:
        conditions.append(not_(_record_for(year)))
    elif status:
        conditions.append(_record_for(year, ComplianceRecord.status == status))
    if filters.get("shortfall") == "yes":
        conditions.append(_record_for(year, ComplianceRecord.shortfall > 0))
    elif filters.get("shortfall") == "no":
        conditions.append(not_(_record_for(year, ComplianceRecord.shortfall > 0)))
    if filters.get("q"):
        conditions.append(search_condition(filters["q"]))
    return select(Enterprise).where(*conditions).order_by(Enterprise.name, Enterprise.id)


def page_holdings(enterprise_ids: list[int]) -> dict[tuple[int, str], Decimal]:
    """Holdings per (unit, variety): quota + bought − sold − taken back, i.e. every ledger entry
    but the surrenders (compliance uses them), as compliance.services.ledger_components counts."""
    if not enterprise_ids:
        return {}
    rows = db.session.execute(
        select(LedgerEntry.enterprise_id, LedgerEntry.variety_code, func.sum(LedgerEntry.quantity))
        .where(LedgerEntry.enterprise_id.in_(enterprise_ids), LedgerEntry.kind != "surrender")
        .group_by(LedgerEntry.enterprise_id, LedgerEntry.variety_code)
    ).all()
    return {(eid, code): Decimal(total or 0) for eid, code, total in rows}


@dataclass
class VarietyCell:
    variety_code: str
    holdings: Decimal
    actual: Decimal | None
    record: ComplianceRecord | None
    suggested: str
    shortfall: Decimal | None


@dataclass
class UnitRow:
    enterprise: Enterprise
    filing_number: str | None
    cells: list[VarietyCell] = field(default_factory=list)


def unit_rows(period: CompliancePeriod, enterprises: list[Enterprise]) -> list[UnitRow]:
    """The page's units with, per variety, holdings, the filing's actual, the recorded status and
    the status the numbers suggest: three queries, whatever the page's size."""
    ids = [e.id for e in enterprises]
    if not ids:
        return []
    records = {
        (r.enterprise_id, r.variety_code): r
        for r in db.session.scalars(
            select(ComplianceRecord)
            .where(ComplianceRecord.period_year == period.year)
            .where(ComplianceRecord.enterprise_id.in_(ids))
        )
    }
    filings = {}
    for filing in db.session.scalars(
        select(ComplianceFiling)
        .where(
            ComplianceFiling.period_year == period.year,
            ComplianceFiling.status != "withdrawn",
            ComplianceFiling.enterprise_id.in_(ids),
        )
        .order_by(ComplianceFiling.id)
    ):
        filings[filing.enterprise_id] = filing  # the latest one wins, as period_overview does
    holdings = page_holdings(ids)
    rows = []
    for enterprise in enterprises:
        filing = filings.get(enterprise.id)
        filed_on = filing.submitted_at.date() if filing and filing.submitted_at else None
        row = UnitRow(enterprise, filing.number if filing else None)
        for code in VARIETIES:
            held = holdings.get((enterprise.id, code), ZERO)
            actual = getattr(filing, f"actual_{code}", None) if filing else None
            record = records.get((enterprise.id, code))
            if held == 0 and actual is None and record is None:
                continue
            suggested, shortfall = suggest_status(
                actual, held, filed_on, period.filing_deadline or date.max
            )
            row.cells.append(VarietyCell(code, held, actual, record, suggested, shortfall))
        rows.append(row)
    return rows


def unit_in_period(year: int, enterprise_id: int) -> bool:
    """Whether the unit takes part in the period (the same rule as the list)."""
    stmt = select(Enterprise.id).where(
        Enterprise.id == enterprise_id,
        or_(_record_for(year), _filing_for(year), _has_holdings()),
    )
    return db.session.scalar(stmt) is not None


def status_counts(year: int) -> dict[str, int]:
    """Records per status for the period (one grouped query)."""
    rows = db.session.execute(
        select(ComplianceRecord.status, func.count())
        .where(ComplianceRecord.period_year == year)
        .group_by(ComplianceRecord.status)
    ).all()
    return dict(rows)
