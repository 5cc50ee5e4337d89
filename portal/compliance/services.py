"""Compliance administration (履约): periods, each unit's filing against its holdings, status codes,
the published list, deadlines, and the export for the provincial credit-information platform."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import abort, current_app
from sqlalchemy import func, select

from portal.accounts.services import post_notice
from portal.audit.services import record_event
from portal.compliance.labels import COMPLIANCE_STATUS
from portal.compliance.models import COMPLIANCE_STATUSES, CompliancePeriod, ComplianceRecord
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.filings import services as filings_services
from portal.filings.models import ComplianceFiling
from portal.filings.signals import filing_transitioned
from portal.i18n import Message
from portal.i18n import lazy_gettext as _l
from portal.lists import equals, filter_conditions, sorted_by
from portal.news.models import AnnouncementRevision
from portal.news.services import render_markdown
from portal.publicity import services as publicity
from portal.reference.models import Variety
from portal.reference.services import by_code
from portal.refusals import CodedRefusal
from portal.registry import services as registry
from portal.registry.models import Holding
from portal.text import spreadsheet_safe
from portal.web import public_record_locale, render_text

ZERO = Decimal("0")


class ComplianceError(CodedRefusal):
    """A compliance step refused."""


def open_period(year: int, filing_deadline: date, note: str = "", *, actor) -> CompliancePeriod:
    if db.session.get(CompliancePeriod, year) is not None:
        raise ComplianceError("exists")
    period = CompliancePeriod(year=year, filing_deadline=filing_deadline, note=note)
    db.session.add(period)
    db.session.flush()
    record_event(
        "compliance.open",
        "compliance_period",
        year,
        after={"filing_deadline": filing_deadline, "note": note},
        actor=actor,
    )
    return period


def period_holdings(enterprise_id: int, variety_code: str, year: int) -> Decimal:
    """A unit's holdings for a period, from the registry: allocated + bought − sold − taken back."""
    return registry.period_holdings(enterprise_id, variety_code, year)


def suggest_status(
    actual: Decimal | None, holdings: Decimal, filed_on: date | None, deadline: date
) -> tuple[str, Decimal | None]:
    """The status code the numbers suggest, and the shortfall (in compliance when actual ≤ holdings)."""
    if actual is None:
        return "not_reported", None
    if actual > holdings:
        return "non_compliant", actual - holdings
    if filed_on is not None and filed_on > deadline:
        return "late", None
    return "on_time", None


@dataclass
class OverviewRow:
    enterprise: Enterprise
    variety_code: str
    holdings: Decimal
    actual: Decimal | None
    filing_number: str | None
    record: ComplianceRecord | None
    suggested: str
    shortfall: Decimal | None


def period_overview(year: int, division_code: str | None = None) -> list[OverviewRow]:
    """Each unit with an obligation in the period (or a record): its confirmed figures against its
    holdings. A filing still under review is named, but its figures are not used."""
    period = db.session.get(CompliancePeriod, year)
    filings: dict[int, ComplianceFiling] = {}
    confirmed: dict[int, ComplianceFiling] = {}
    for filing in db.session.scalars(
        select(ComplianceFiling)
        .where(ComplianceFiling.period_year == year, ComplianceFiling.status != "withdrawn")
        .order_by(ComplianceFiling.id)
    ):
        filings[filing.enterprise_id] = filing
        if filing.status == "final":
            confirmed[filing.enterprise_id] = filing
    records = {
        (r.enterprise_id, r.variety_code): r
        for r in db.session.scalars(
            select(ComplianceRecord).where(ComplianceRecord.period_year == year)
        )
    }
    holdings = {
        (h.enterprise_id, h.variety_code): h
        for h in db.session.scalars(
            select(Holding).where(Holding.period_year == year, Holding.enterprise_id.is_not(None))
        )
    }
    ids = obligated_enterprise_ids(year) | {eid for eid, _ in records}
    if not ids:
        return []
    stmt = select(Enterprise).where(Enterprise.id.in_(ids)).order_by(Enterprise.name_sort)
    if division_code:
        stmt = stmt.where(Enterprise.division_code == division_code)
    rows = []
    for enterprise in db.session.scalars(stmt):
        filing = filings.get(enterprise.id)
        final = confirmed.get(enterprise.id)
        for code in ("energy", "coal"):
            held = holdings.get((enterprise.id, code))
            amount = held.holdings if held else ZERO
            record = records.get((enterprise.id, code))
            actual = getattr(final, f"actual_{code}", None) if final else None
            if actual is None and record is not None:
                actual = record.actual
            if held is None and actual is None and record is None:
                continue
            filed_on = final.submitted_at.date() if final and final.submitted_at else None
            suggested, shortfall = suggest_status(
                actual, amount, filed_on, period.filing_deadline if period else date.max
            )
            rows.append(
                OverviewRow(
                    enterprise,
                    code,
                    amount,
                    actual,
                    filing.number if filing else None,
                    record,
                    suggested,
                    shortfall,
                )
            )
    return rows


def obligated_enterprise_ids(year: int) -> set[int]:
    """The units with a compliance obligation in a period (see filings.compliance_obligation)."""
    return filings_services.obligated_enterprise_ids(year)


def record_status(
    year: int,
    enterprise_id: int,
    variety_code: str,
    status: str,
    *,
    actual: Decimal | None = None,
    rectify_by: date | None = None,
    actor,
) -> ComplianceRecord:
    """Record a unit's status code for a period; a non-compliant unit gets a rectification deadline."""
    if status not in COMPLIANCE_STATUSES:
        raise ComplianceError("status")
    period = db.session.get(CompliancePeriod, year)
    if period is None:
        raise ComplianceError("period")
    if status == "non_compliant" and rectify_by is None:
        raise ComplianceError("rectify_by")
    if not filings_services.compliance_obligation(enterprise_id, year):
        raise ComplianceError("no_obligation")
    record = db.session.scalar(
        select(ComplianceRecord).where(
            ComplianceRecord.period_year == year,
            ComplianceRecord.enterprise_id == enterprise_id,
            ComplianceRecord.variety_code == variety_code,
        )
    )
    before = None
    if record is None:
        record = ComplianceRecord(
            period_year=year, enterprise_id=enterprise_id, variety_code=variety_code, status=status
        )
        db.session.add(record)
    else:
        before = {
            "status": record.status,
            "actual": record.actual,
            "shortfall": record.shortfall,
            "rectify_by": record.rectify_by,
        }
    if actual is not None:
        record.actual = actual
    record.status = status
    holdings = period_holdings(enterprise_id, variety_code, year)
    record.shortfall = (
        (record.actual - holdings)
        if status == "non_compliant" and record.actual is not None and record.actual > holdings
        else None
    )
    record.rectify_by = rectify_by if status in ("non_compliant", "late") else None
    db.session.flush()
    if status == "non_compliant" and (before or {}).get("rectify_by") != record.rectify_by:
        _notify_deadline(record)
    record_event(
        "compliance.record",
        "compliance_record",
        record.id,
        before=before,
        after={
            "status": status,
            "actual": record.actual,
            "shortfall": record.shortfall,
            "rectify_by": record.rectify_by,
        },
        actor=actor,
    )
    return record


def expected_shortfall(record: ComplianceRecord) -> Decimal | None:
    """The shortfall the ledger gives a record: actual − holdings of its period, when non-compliant."""
    holdings = period_holdings(record.enterprise_id, record.variety_code, record.period_year)
    if record.status == "non_compliant" and record.actual is not None and record.actual > holdings:
        return Decimal(record.actual) - holdings
    return None


def recompute_shortfalls(year: int | None = None, *, actor=None) -> int:
    """Set every record's shortfall to what the ledger gives (after the ledger changed); audited."""
    stmt = select(ComplianceRecord).order_by(ComplianceRecord.id)
    if year is not None:
        stmt = stmt.where(ComplianceRecord.period_year == year)
    changed = 0
    for record in db.session.scalars(stmt):
        expected = expected_shortfall(record)
        if expected == record.shortfall or (
            expected is not None
            and record.shortfall is not None
            and Decimal(record.shortfall) == expected
        ):
            continue
        before = {"shortfall": record.shortfall}
        record.shortfall = expected
        record_event(
            "compliance.recompute",
            "compliance_record",
            record.id,
            before=before,
            after={"shortfall": expected},
            remark="按登记簿重算缺口",
            actor=actor,
        )
        changed += 1
    db.session.flush()
    return changed


def _notify_deadline(record: ComplianceRecord) -> None:
    """Tell a non-compliant unit its shortfall and deadline (inbox and mail)."""
    title, body = Message.pair(
        _l("%(year)s 年度履约：请限期履约"),
        _l(
            "贵单位 %(year)s 年度实际用能量超过持有指标，缺口 %(shortfall)s，请于 %(deadline)s 前完成履约。"
        ),
        year=record.period_year,
        shortfall=Message.quantity(record.shortfall, record.variety_code),
        deadline=record.rectify_by or "—",
    )
    post_notice(record.enterprise_id, title, body)


@filing_transitioned.connect
def _compliance_filing_final(_action, filing, actor, remark, step) -> None:
    """A compliance filing that becomes final surrenders what was used (registry)."""
    if step.target == "final" and isinstance(filing, ComplianceFiling):
        apply_compliance_filing(filing, actor if getattr(actor, "id", None) else None)
        db.session.flush()


def apply_compliance_filing(filing, actor) -> None:
    """A final compliance filing: record the actuals and surrender (cancel) what was used.

    The surrender settles the filing's period: at most the period's holdings not yet surrendered
    (and what the unit still has). A shortfall is not taken from a later period's indicators: the
    unit is ordered to make it up by a deadline (限期履约).
    """
    period = db.session.get(CompliancePeriod, filing.period_year) if filing.period_year else None
    year = filing.period_year
    for code in ("energy", "coal"):
        actual = getattr(filing, f"actual_{code}", None)
        if actual is None:
            continue
        actual = Decimal(actual)
        if year is not None:
            open_in_period = period_holdings(
                filing.enterprise_id, code, year
            ) - registry.period_surrendered(filing.enterprise_id, code, year)
        else:
            open_in_period = actual
        surrender = min(actual, open_in_period, registry.balance(filing.enterprise_id, code))
        if surrender > 0:
            registry.surrender_indicators(
                filing.enterprise_id,
                code,
                surrender,
                f"{filing.period_year} 年度履约注销（{filing.number}）",
                source_type="filing",
                source_id=filing.number,
                actor=actor,
                idempotency_key=f"filing:{filing.id}:surrender:{code}",
                period_year=year,
            )
        if period is not None:
            filed_on = filing.submitted_at.date() if filing.submitted_at else None
            holdings = period_holdings(filing.enterprise_id, code, period.year)
            status, _short = suggest_status(actual, holdings, filed_on, period.filing_deadline)
            record = record_status(
                period.year,
                filing.enterprise_id,
                code,
                status,
                actual=actual,
                rectify_by=period.filing_deadline + timedelta(days=90)
                if status == "non_compliant"
                else None,
                actor=actor,
            )
            record.filed_on = filed_on


def publish_list(year: int, *, actor, now: datetime | None = None):
    """Publish the compliance list of a period as a 公示; it becomes final after the period."""
    period = db.session.get(CompliancePeriod, year)
    if period is None:
        raise ComplianceError("period")
    records = _records(year)
    if not records:
        raise ComplianceError("empty")
    existing = publicity.notice_for_subject("compliance_period", year)
    if existing is not None and existing.status in ("open", "final"):
        raise ComplianceError("published")
    notice = publicity.publish_publicity(
        "compliance_period",
        year,
        _list_title(year),
        _list_markdown(year, records),
        actor=actor,
        now=now,
    )
    before = {"published_at": period.published_at}
    period.published_at = notice.announcement.published_at
    period.publicity_ends_at = notice.announcement.publicity_ends_at
    db.session.flush()
    record_event(
        "compliance.publish",
        "compliance_period",
        year,
        before=before,
        after={"published_at": period.published_at, "publicity_ends_at": period.publicity_ends_at},
        actor=actor,
    )
    return notice


def republish_list(year: int, reason: str, *, actor):
    """Correct a published list: same announcement (permalink), new text, old text kept with the
    reason (shown as 更新于 with the history on the public page)."""
    reason = (reason or "").strip()
    if not reason:
        raise ComplianceError("reason")
    notice = publicity.notice_for_subject("compliance_period", year)
    if notice is None:
        raise ComplianceError("not_published")
    records = _records(year)
    announcement = notice.announcement
    body = _list_markdown(year, records)
    if body == announcement.body_md:
        raise ComplianceError("unchanged")
    now = publicity.utcnow()
    announcement.revisions.append(
        AnnouncementRevision(
            title=announcement.title, body_md=announcement.body_md, reason=reason, replaced_at=now
        )
    )
    announcement.body_md = body
    announcement.body_html = render_markdown(body)
    announcement.updated_at = now
    db.session.flush()
    record_event(
        "compliance.republish",
        "compliance_period",
        year,
        after={"announcement": announcement.id, "revisions": len(announcement.revisions)},
        remark=reason,
        actor=actor,
    )
    return notice


def list_text(year: int) -> str:
    """The list's text as the records and the ledger give it now (what a publication shows)."""
    return _list_markdown(year, _records(year))


def _list_title(year: int) -> str:
    with public_record_locale():
        return render_text("compliance/_publicity_title.html", year=year).strip()


def _records(year: int) -> list[ComplianceRecord]:
    return list(
        db.session.scalars(
            select(ComplianceRecord)
            .where(ComplianceRecord.period_year == year)
            .order_by(ComplianceRecord.enterprise_id, ComplianceRecord.variety_code)
        )
    )


def _list_markdown(year: int, records) -> str:
    with public_record_locale():
        return _list_markdown_text(year, records)


def _list_markdown_text(year: int, records) -> str:
    names = {code: getattr(by_code(Variety, code), "name", code) for code in ("energy", "coal")}
    return render_text(
        "compliance/_publicity.html",
        year=year,
        records=records,
        labels=COMPLIANCE_STATUS,
        variety_names=names,
    )


@publicity.publicity_finalized.connect_via("compliance_period")
def _list_final(_subject_type, notice, actor) -> None:
    record_event(
        "compliance.final",
        "compliance_period",
        notice.subject_id,
        after={"final": True},
        actor=actor if getattr(actor, "id", None) else None,
    )


@publicity.publicity_withdrawn.connect_via("compliance_period")
def _list_withdrawn(_subject_type, notice, reason, actor) -> None:
    """A withdrawn list is no longer published; the province may publish it again."""
    period = db.session.get(CompliancePeriod, int(notice.subject_id))
    if period is None:
        return
    before = {"published_at": period.published_at, "publicity_ends_at": period.publicity_ends_at}
    period.published_at = None
    period.publicity_ends_at = None
    db.session.flush()
    record_event(
        "compliance.withdraw",
        "compliance_period",
        period.year,
        before=before,
        after={"published_at": None, "publicity_ends_at": None},
        remark=reason,
        actor=actor,
    )


def is_final(year: int) -> bool:
    notice = publicity.notice_for_subject("compliance_period", year)
    return notice is not None and notice.status == "final"


# --- the credit-platform export ------------------------------------------------------------------

EXPORT_FIELDS = (
    "uscc",
    "name",
    "division_code",
    "period_year",
    "variety_code",
    "status",
    "actual",
    "holdings",
    "shortfall",
    "rectify_by",
)


def non_compliant_rows(year: int) -> list[dict]:
    """Units that missed their obligation, keyed by 统一社会信用代码, for 省信用信息共享平台."""
    records = db.session.scalars(
        select(ComplianceRecord)
        .where(ComplianceRecord.period_year == year, ComplianceRecord.status == "non_compliant")
        .order_by(ComplianceRecord.enterprise_id, ComplianceRecord.variety_code)
    )
    rows = []
    for r in records:
        rows.append(
            {
                "uscc": r.enterprise.uscc,
                "name": r.enterprise.name,
                "division_code": r.enterprise.division_code,
                "period_year": year,
                "variety_code": r.variety_code,
                "status": r.status,
                "actual": None if r.actual is None else str(r.actual),
                "holdings": str(r.holdings),
                "shortfall": None if r.shortfall is None else str(r.shortfall),
                "rectify_by": r.rectify_by.isoformat() if r.rectify_by else None,
            }
        )
    return rows


def export_csv(year: int) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_FIELDS)
    writer.writeheader()
    for row in non_compliant_rows(year):
        writer.writerow({k: spreadsheet_safe(v) for k, v in row.items()})
    return "\ufeff" + buffer.getvalue()  # BOM: Excel opens UTF-8 CSV correctly


def export_json(year: int) -> str:
    return json.dumps(
        {
            "source": current_app.config["SITE_NAME"],
            "period_year": year,
            "records": non_compliant_rows(year),
        },
        ensure_ascii=False,
        indent=2,
    )


# ---- The published lists ----

# Every sort ends with the row's id: no two rows tie, so a keyset page (web.paginate) can start
# exactly after the last row shown.
COMPLIANCE_SORTS = {
    "name": (ComplianceRecord.sort_name.asc(), ComplianceRecord.id.asc()),
    "-shortfall": (
        ComplianceRecord.shortfall.desc().nulls_last(),
        ComplianceRecord.sort_name.asc(),
        ComplianceRecord.id.asc(),
    ),
    "status": (
        ComplianceRecord.status.asc(),
        ComplianceRecord.sort_name.asc(),
        ComplianceRecord.id.asc(),
    ),
}
COMPLIANCE_FILTERS = {
    # The record's own copies of its unit's division and industry (kept by the model's events).
    "division": equals(ComplianceRecord.division_code),
    "industry": equals(ComplianceRecord.industry_code),
    "variety": equals(ComplianceRecord.variety_code),
    "status": equals(ComplianceRecord.status),
}


def compliance_query(year: int, filters: dict, *, with_unit: bool = False):
    """The period's published rows, filtered and sorted as asked, and their count. Every filter
    and sort reads compliance_record alone, so a page and its count walk one index of it;
    `with_unit` joins the unit (for a load of its columns from the join, as the exports do)."""
    conditions = [
        ComplianceRecord.period_year == year,
        *filter_conditions(COMPLIANCE_FILTERS, filters),
    ]
    stmt, count = select(ComplianceRecord), select(func.count(ComplianceRecord.id))
    if with_unit:
        stmt = stmt.join(ComplianceRecord.enterprise)
    stmt = sorted_by(stmt.where(*conditions), COMPLIANCE_SORTS, filters.get("sort"), "name")
    return stmt, count.where(*conditions)


def period_total(counts: dict[str, int], filters: dict) -> int | None:
    """How many rows a period's list shows, from its status counts, when no filter but the
    status is on; None otherwise (the rows are then counted)."""
    if any(filters.get(name) for name in COMPLIANCE_FILTERS if name != "status"):
        return None
    status = filters.get("status")
    return counts.get(status, 0) if status else sum(counts.values())


def published_periods() -> list[CompliancePeriod]:
    stmt = (
        select(CompliancePeriod)
        .where(CompliancePeriod.published_at.is_not(None))
        .order_by(CompliancePeriod.year.desc())
    )
    return list(db.session.scalars(stmt))


def get_published_period_or_404(year: int) -> CompliancePeriod:
    period = db.session.get(CompliancePeriod, year)
    if period is None or period.published_at is None:
        abort(404)
    return period


def period_status_counts(year: int) -> dict[str, int]:
    rows = db.session.execute(
        select(ComplianceRecord.status, func.count())
        .where(ComplianceRecord.period_year == year)
        .group_by(ComplianceRecord.status)
    ).all()
    return {status: count for status, count in rows}


# ---- Single records ----


def enterprise_compliance_history(enterprise_id: int) -> list[ComplianceRecord]:
    """The unit's compliance records in published periods only, newest period first."""
    stmt = (
        select(ComplianceRecord)
        .join(CompliancePeriod, CompliancePeriod.year == ComplianceRecord.period_year)
        .where(
            ComplianceRecord.enterprise_id == enterprise_id,
            CompliancePeriod.published_at.is_not(None),
        )
        .order_by(ComplianceRecord.period_year.desc(), ComplianceRecord.variety_code)
    )
    return list(db.session.scalars(stmt))
