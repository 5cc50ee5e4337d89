"""The back office's compliance list of one period, built to scale: one row per unit, paged by
keyset in the database, and the page's records, filings and holdings read in one query each.

Who is on it: the units that owe compliance for the period (allocated indicators for it, or
voluntary participation approved before it ended: filings.services.owes_compliance, the rule of
the public list), and any unit with a record for it. Holdings are read in `page_holdings()` only, from the registry's holding
table (kept with every ledger entry), the same figures the public lists show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, except_, or_, select
from sqlalchemy.orm import lazyload

from portal.compliance.models import CompliancePeriod, ComplianceRecord
from portal.compliance.services import suggest_status
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.filings import services as filings
from portal.filings.models import ComplianceFiling
from portal.registry.models import Holding

VARIETIES = ("energy", "coal")
ZERO = Decimal("0")
# The status filter's own value for "no status recorded yet".
UNRECORDED = "unrecorded"


def _recorded(year: int, *conditions):
    """The ids of the units with a record for the period that meets `conditions`: used as
    `id IN (…)` for a status or shortfall filter, which the database builds once and walks."""
    return select(ComplianceRecord.enterprise_id).where(
        ComplianceRecord.period_year == year, *conditions
    )


def _has_record(year: int, *conditions):
    """Whether the unit has a record for the period: a correlated EXISTS, one probe of the unique
    (enterprise, period, variety) index per unit, cheap while most units qualify and the page
    stops after its last row.

    OFFSET 0 keeps PostgreSQL from turning the EXISTS into a hashed subplan, which reads every
    record of the period into a hash on each request before the first row (the planner cannot
    see that the LIMIT of a page stops the scan early); SQLite probes either way.
    """
    return (
        select(ComplianceRecord.id)
        .where(
            ComplianceRecord.enterprise_id == Enterprise.id,
            ComplianceRecord.period_year == year,
            *conditions,
        )
        .offset(0)
        .exists()
    )


def _takes_part(year: int):
    return or_(_has_record(year), filings.owes_compliance(year, Enterprise.id))


USCC_PART = re.compile(r"^[0-9A-HJ-NP-RTUW-Y]{2,18}$")


def search_condition(text: str):
    """A unit whose USCC starts with `text` when it looks like (part of) a USCC, else one whose
    name contains it. A USCC part is searched by a range of the unique index on uscc."""
    text = text.strip()
    upper = text.upper()
    if USCC_PART.match(upper):
        if len(upper) == 18:
            return Enterprise.uscc == upper
        return and_(Enterprise.uscc >= upper, Enterprise.uscc < upper + "\x7f")
    return Enterprise.name.contains(text, autoescape=True)


def units_query(year: int, filters: dict):
    """The select of the period's units (Enterprise rows) in name order, ending with the id.

    The cheap conditions come first (division, name or USCC), then the record sets: a status or
    shortfall filter names units with a record, which take part by definition, so it replaces
    the participation test; the rest probe per unit (EXISTS), which stops with the page.
    """
    conditions = []
    if filters.get("division"):
        conditions.append(Enterprise.division_code == filters["division"])
    if filters.get("q"):
        conditions.append(search_condition(filters["q"]))
    status = filters.get("status")
    shortfall = filters.get("shortfall")
    recorded = False
    if status and status != UNRECORDED:
        conditions.append(Enterprise.id.in_(_recorded(year, ComplianceRecord.status == status)))
        recorded = True
    if shortfall == "yes":
        conditions.append(Enterprise.id.in_(_recorded(year, ComplianceRecord.shortfall > 0)))
        recorded = True
    if status == UNRECORDED:
        # Few units, if any, match: the set of those that owe and have no record is built once.
        owed = filings.obligated_ids(year).subquery()
        conditions.append(Enterprise.id.in_(except_(select(owed.c[0]), _recorded(year))))
    elif not recorded:
        conditions.append(_takes_part(year))
    if shortfall == "no":
        # The units with a shortfall are few (a covering index): a set to leave out.
        conditions.append(Enterprise.id.not_in(_recorded(year, ComplianceRecord.shortfall > 0)))
    # The page shows reference names through the template's cache: the unit's division and
    # industry rows would only widen every row the database reads in name order.
    return (
        select(Enterprise)
        .options(lazyload(Enterprise.division), lazyload(Enterprise.industry))
        .where(*conditions)
        .order_by(Enterprise.name_sort, Enterprise.id)
    )


def page_holdings(enterprise_ids: list[int], year: int) -> dict[tuple[int, str], Decimal]:
    """Holdings per (unit, variety) in the period, from the registry's holding table: allocated +
    bought − sold − taken back (surrenders settle the period afterwards and are not counted)."""
    if not enterprise_ids:
        return {}
    rows = db.session.scalars(
        select(Holding).where(
            Holding.enterprise_id.in_(enterprise_ids), Holding.period_year == year
        )
    )
    return {(row.enterprise_id, row.variety_code): Decimal(row.holdings) for row in rows}


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
    holdings = page_holdings(ids, period.year)
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
    stmt = select(Enterprise.id).where(Enterprise.id == enterprise_id, _takes_part(year))
    return db.session.scalar(stmt) is not None
