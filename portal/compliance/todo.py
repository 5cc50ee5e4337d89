"""The compliance part of the dashboard's 待办 (portal/accounts/todo.py): the compliance filing of
each open period, 限期履约 shortfalls, and a published compliance list during its 公示."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import exists, select

from portal.accounts.todo import Todo, collect_todo
from portal.compliance.models import CompliancePeriod, ComplianceRecord
from portal.extensions import db
from portal.filings import services as filings_services
from portal.filings.models import ComplianceFiling, Filing
from portal.i18n import local_date
from portal.registry.models import LedgerEntry

# A compliance filing in one of these does not count as filed: it was never sent, it was sent
# back, or it ended without a decision and a new one must replace it.
NOT_FILED = ("draft", "returned", "withdrawn", "rejected")


@collect_todo.connect
def _compliance_todo(todo: Todo) -> None:
    periods = open_periods()
    todo.open_periods = len(periods)
    todo.takes_part = takes_part(todo.enterprise_id)
    if todo.takes_part:
        for period, started in _filings_due(todo.enterprise_id, periods):
            url = (
                url_for("filings.edit", filing_id=started.id)
                if started is not None
                else url_for("filings.index", _anchor="new-compliance")
            )
            todo.add("compliance_filing", period.filing_deadline, url, period, filing=started)
    for record in _shortfalls(todo.enterprise_id):
        url = url_for("disclosure.listings", variety=record.variety_code, status="open")
        todo.add("rectify", record.rectify_by, url, record)
    for period in _lists_in_publicity(todo.enterprise_id, todo.now):
        ends_at = period.publicity_ends_at
        url = url_for("compliance.period", year=period.year)
        todo.add("compliance_publicity", local_date(ends_at), url, period, ends_at=ends_at)


def takes_part(enterprise_id: int) -> bool:
    """Whether the unit has compliance obligations: it holds indicators (ledger), has compliance
    records, or its voluntary application is final."""
    return bool(
        db.session.scalar(
            select(
                exists().where(LedgerEntry.enterprise_id == enterprise_id)
                | exists().where(ComplianceRecord.enterprise_id == enterprise_id)
                | exists().where(
                    Filing.enterprise_id == enterprise_id,
                    Filing.kind == "voluntary",
                    Filing.status == "final",
                )
            )
        )
    )


def open_periods() -> list[CompliancePeriod]:
    """Compliance periods whose list is not published yet: filings are still taken."""
    return list(
        db.session.scalars(
            select(CompliancePeriod)
            .where(CompliancePeriod.published_at.is_(None))
            .order_by(CompliancePeriod.filing_deadline)
        )
    )


def _filings_due(
    enterprise_id: int, periods: list[CompliancePeriod]
) -> list[tuple[CompliancePeriod, ComplianceFiling | None]]:
    """The open periods the unit still has to file for, with the draft or returned filing it has
    started for each, if any."""
    if not periods:
        return []
    mine: dict[int, list[ComplianceFiling]] = {}
    for filing in db.session.scalars(
        select(ComplianceFiling)
        .where(
            ComplianceFiling.enterprise_id == enterprise_id,
            ComplianceFiling.period_year.in_([p.year for p in periods]),
        )
        .order_by(ComplianceFiling.id.desc())
    ):
        mine.setdefault(filing.period_year, []).append(filing)
    due = []
    for period in periods:
        if not filings_services.compliance_obligation(enterprise_id, period.year):
            continue  # no obligation in this period: nothing to file
        filings = mine.get(period.year, [])
        if any(f.status not in NOT_FILED for f in filings):
            continue  # submitted, under review or final: nothing left to do
        started = next((f for f in filings if f.status in ("draft", "returned")), None)
        due.append((period, started))
    return due


def _shortfalls(enterprise_id: int) -> list[ComplianceRecord]:
    """Non-compliant records with a date to make up the shortfall (限期履约)."""
    return list(
        db.session.scalars(
            select(ComplianceRecord).where(
                ComplianceRecord.enterprise_id == enterprise_id,
                ComplianceRecord.status == "non_compliant",
                ComplianceRecord.rectify_by.is_not(None),
            )
        )
    )


def _lists_in_publicity(enterprise_id: int, now) -> list[CompliancePeriod]:
    """Published compliance lists still in their 公示 period that name this unit."""
    return list(
        db.session.scalars(
            select(CompliancePeriod)
            .where(
                CompliancePeriod.published_at.is_not(None),
                CompliancePeriod.publicity_ends_at > now,
                exists().where(
                    ComplianceRecord.enterprise_id == enterprise_id,
                    ComplianceRecord.period_year == CompliancePeriod.year,
                ),
            )
            .order_by(CompliancePeriod.year)
        )
    )
