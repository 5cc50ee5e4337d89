"""The public registry view of a participating unit: its holdings per period and its movements.

What the registry (注册登记) holds about a unit is public: its holdings per variety at each
period's cut-off (the `holding` table, kept from the ledger) and every ledger movement, newest
first, each linked to the public record that caused it (the trade, the filing's 公示, the
compliance list, the take-back 公示). A movement without a public record shows its reason only.
Accounts and money flows kept by the trading platform are not the registry's and never shown.

Reads only: one query for the holdings, one for a page of movements (ledger_entry by holder_key
and id, ix_ledger_entry_holder_id), and at most one per kind of source to find the links.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import exists, func, or_, select, tuple_

from portal.compliance.models import CompliancePeriod, ComplianceRecord
from portal.extensions import db
from portal.filings.models import NUMBER_PREFIX, Filing
from portal.i18n import local_date
from portal.news.models import Announcement
from portal.publicity.models import PublicityNotice
from portal.registry.models import ConstructionObligation, Holding, LedgerEntry
from portal.registry.services import Holder

QUANTUM = Decimal("0.0001")
# What the public sees of each movement kind (labels live in disclosure/labels.py).
MOVEMENT_KINDS = (
    "allocate",
    "issue",
    "transfer_in",
    "transfer_out",
    "take_back",
    "surrender",
    "cancel",
    "correction",
    "opening",
)
# The public record a movement links to: trade, publicity (a 公示), compliance (a published list).
RECORD_TYPES = ("trade", "publicity", "compliance")


def holder_key(enterprise_id: int) -> str:
    return Holder("enterprise", enterprise_id=enterprise_id).key


@dataclass(frozen=True)
class PeriodHolding:
    """A unit's holdings of one variety at one period's cut-off (31 December)."""

    period_year: int
    variety_code: str
    allocated: Decimal
    bought: Decimal
    sold: Decimal
    taken_back: Decimal
    surrendered: Decimal
    closed: bool  # the period's cut-off has passed
    entries: int = 0  # ledger entries summed in this row

    @property
    def holdings(self) -> Decimal:
        return self.allocated + self.bought - self.sold - self.taken_back

    @property
    def remaining(self) -> Decimal:
        return self.holdings - self.surrendered


def _q(value) -> Decimal:
    return Decimal(value or 0).quantize(QUANTUM)


def period_holdings(enterprise_id: int, today) -> list[PeriodHolding]:
    """The unit's holdings per period and variety, newest period first."""
    rows = db.session.scalars(
        select(Holding)
        .where(Holding.holder_key == holder_key(enterprise_id))
        .order_by(Holding.period_year.desc(), Holding.variety_code.desc())
    )
    return [
        PeriodHolding(
            row.period_year,
            row.variety_code,
            _q(row.allocated),
            _q(row.bought),
            _q(row.sold),
            _q(row.taken_back),
            _q(row.surrendered),
            closed=row.period_year < today.year,
            entries=row.entries or 0,
        )
        for row in rows
    ]


def participates(enterprise_id: int) -> bool:
    """Whether the unit takes part in the registry: it has ledger entries (a holding row), a
    construction obligation, or a compliance record."""
    return bool(
        db.session.scalar(
            select(
                or_(
                    exists().where(Holding.holder_key == holder_key(enterprise_id)),
                    exists().where(ConstructionObligation.enterprise_id == enterprise_id),
                    exists().where(ComplianceRecord.enterprise_id == enterprise_id),
                )
            )
        )
    )


def movements_query(enterprise_id: int):
    """The unit's ledger entries, newest first, and their count: the sum of the holding rows'
    entry counts, so the count never reads the ledger (a page that has read the unit's holdings
    already adds them up instead: `movements_total`)."""
    key = holder_key(enterprise_id)
    stmt = select(LedgerEntry).where(LedgerEntry.holder_key == key).order_by(LedgerEntry.id.desc())
    count = select(func.coalesce(func.sum(Holding.entries), 0)).where(Holding.holder_key == key)
    return stmt, count


def movements_total(holdings: list[PeriodHolding]) -> int:
    """How many ledger entries the unit has, from its holdings as period_holdings read them."""
    return sum(h.entries for h in holdings)


@dataclass(frozen=True)
class Movement:
    """One ledger entry as the public sees it, with the public record that caused it."""

    id: int
    created_at: datetime
    recorded_on: date  # the day of created_at in the portal's time zone
    kind: str
    variety_code: str
    quantity: Decimal  # signed: a credit is positive, a debit negative
    period_year: int
    reason: str
    record_type: str | None  # one of RECORD_TYPES, or None: no public record
    record_key: str | int | None  # trade number, announcement id, or period year
    corrects_entry_id: int | None


def _filing_id(number: str) -> int | None:
    prefix, digits = number[:2], number[2:]
    if prefix in NUMBER_PREFIX.values() and digits.isdigit() and len(digits) <= 9:
        return int(digits)
    return None


def _public_notices(subjects: list[tuple[str, str]], now: datetime) -> dict[tuple[str, str], int]:
    """(subject type, subject id) → the announcement id of its newest public 公示."""
    if not subjects:
        return {}
    rows = db.session.execute(
        select(PublicityNotice.subject_type, PublicityNotice.subject_id, Announcement.id)
        .join(Announcement, Announcement.id == PublicityNotice.announcement_id)
        .where(
            tuple_(PublicityNotice.subject_type, PublicityNotice.subject_id).in_(subjects),
            Announcement.status == "published",
            Announcement.published_at <= now,
        )
        .order_by(PublicityNotice.id)
    )
    return {(kind, subject): announcement for kind, subject, announcement in rows}


def _published_years(years: set[int]) -> set[int]:
    if not years:
        return set()
    return set(
        db.session.scalars(
            select(CompliancePeriod.year).where(
                CompliancePeriod.year.in_(years), CompliancePeriod.published_at.is_not(None)
            )
        )
    )


def movements(entries: list[LedgerEntry], now: datetime) -> list[Movement]:
    """The entries of a page with their public records, looked up per kind of source at once."""
    filing_ids = {
        e.id: _filing_id(e.source_id) for e in entries if e.source_type == "filing" and e.source_id
    }
    filing_kinds = {}
    if any(filing_ids.values()):
        filing_kinds = dict(
            db.session.execute(
                select(Filing.id, Filing.kind).where(
                    Filing.id.in_({i for i in filing_ids.values() if i})
                )
            ).all()
        )
    obligation_ids = {
        int(e.source_id)
        for e in entries
        if e.source_type == "construction_obligation" and e.source_id.isdigit()
    }
    take_back_announcements = {}
    if obligation_ids:
        take_back_announcements = {
            str(obligation_id): announcement_id
            for obligation_id, announcement_id in db.session.execute(
                select(ConstructionObligation.id, Announcement.id)
                .join(
                    Announcement,
                    Announcement.id == ConstructionObligation.take_back_announcement_id,
                )
                .where(
                    ConstructionObligation.id.in_(obligation_ids),
                    Announcement.status == "published",
                    Announcement.published_at <= now,
                )
            )
        }
    record_years = {}
    record_ids = {
        int(e.source_id)
        for e in entries
        if e.source_type == "compliance_record" and e.source_id.isdigit()
    }
    if record_ids:
        record_years = dict(
            db.session.execute(
                select(ComplianceRecord.id, ComplianceRecord.period_year).where(
                    ComplianceRecord.id.in_(record_ids)
                )
            ).all()
        )
    subjects = [
        ("filing", str(filing_id))
        for filing_id in set(filing_ids.values())
        if filing_id and filing_kinds.get(filing_id) not in (None, "compliance")
    ]
    announcements = _public_notices(subjects, now)
    compliance_years = {
        e.period_year
        for e in entries
        if (e.source_type == "filing" and filing_kinds.get(filing_ids.get(e.id)) == "compliance")
        or e.source_type == "compliance_record"
    } | set(record_years.values())
    published = _published_years(compliance_years)

    out = []
    for e in entries:
        record_type, record_key = None, None
        if e.source_type == "trade" and e.source_id:
            # A trade whose transfer is in the ledger cannot be withdrawn (disclosure/entry.py),
            # so its page is always there.
            record_type, record_key = "trade", e.source_id
        elif e.source_type == "filing":
            filing_id = filing_ids.get(e.id)
            kind = filing_kinds.get(filing_id)
            if kind == "compliance" and e.period_year in published:
                record_type, record_key = "compliance", e.period_year
            elif kind is not None and ("filing", str(filing_id)) in announcements:
                record_type = "publicity"
                record_key = announcements[("filing", str(filing_id))]
        elif e.source_type == "compliance_record" and e.source_id.isdigit():
            year = record_years.get(int(e.source_id))
            if year in published:
                record_type, record_key = "compliance", year
        elif e.source_type == "construction_obligation":
            if e.source_id in take_back_announcements:
                record_type = "publicity"
                record_key = take_back_announcements[e.source_id]
        out.append(
            Movement(
                id=e.id,
                created_at=e.created_at,
                recorded_on=local_date(e.created_at),
                kind=e.kind,
                variety_code=e.variety_code,
                quantity=_q(e.quantity),
                period_year=e.period_year,
                reason=e.reason,
                record_type=record_type,
                record_key=record_key,
                corrects_entry_id=e.corrects_entry_id,
            )
        )
    return out
