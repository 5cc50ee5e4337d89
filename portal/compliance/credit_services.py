"""What the province does with a period's results beyond recording them: preview a publication,
export the period for the credit platform (recorded, kept, downloadable again), and 曝光."""

from __future__ import annotations

import hashlib
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from flask import url_for
from sqlalchemy import column, func, select, table
from stdnum.cn import uscc as uscc_number

from portal.audit.services import record_event
from portal.compliance import exports
from portal.compliance import services as compliance
from portal.compliance.credit import CreditExport, ExposureEntry
from portal.compliance.models import CompliancePeriod, ComplianceRecord
from portal.enterprises.models import Enterprise
from portal.exports import about_rows, csv_chunks, write_xlsx
from portal.extensions import db
from portal.news.services import utcnow
from portal.publicity.services import notice_for_subject
from portal.refusals import CodedRefusal
from portal.web import public_record_locale

PREVIEW_ROWS = 100
PREVIEW_CHANGES = 200


class CreditError(CodedRefusal):
    """A credit export or 曝光 step refused."""


# ---- Publishing: what will be published, and what changes -----------------------------------


@dataclass
class PublicationPreview:
    year: int
    counts: dict[str, int]
    total: int
    rows: list[ComplianceRecord]
    published: bool  # a list of this period is already public (a correction would follow)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    more_changes: int = 0

    @property
    def unchanged(self) -> bool:
        return self.published and not self.added and not self.removed


def _table_lines(markdown: str) -> list[str]:
    """The data rows of the list's Markdown table (its header and rule left out)."""
    lines = [line for line in markdown.splitlines() if line.startswith("| ")]
    return lines[1:]  # the first is the header


def preview_publication(year: int) -> PublicationPreview:
    """The list that publishing (or correcting) would make public, and how it differs from the
    text published last: the same records and the same text as `publish_list` writes."""
    records = compliance._records(year)  # noqa: SLF001 - the very rows publish_list takes
    counts = Counter(r.status for r in records)
    notice = notice_for_subject("compliance_period", year)
    published = notice is not None and notice.status in ("open", "final")
    preview = PublicationPreview(
        year, dict(counts), len(records), records[:PREVIEW_ROWS], published
    )
    if published and records:
        new = _table_lines(compliance._list_markdown(year, records))  # noqa: SLF001
        old = _table_lines(notice.announcement.body_md)
        new_count, old_count = Counter(new), Counter(old)
        added = [line for line in new if (new_count - old_count)[line]]
        removed = [line for line in old if (old_count - new_count)[line]]
        preview.more_changes = max(0, len(added) + len(removed) - 2 * PREVIEW_CHANGES)
        preview.added, preview.removed = added[:PREVIEW_CHANGES], removed[:PREVIEW_CHANGES]
    return preview


def change_cells(line: str) -> list[str]:
    """The cells of one row of the published Markdown table, for showing a change."""
    return [cell.strip().replace("\\", "") for cell in line.strip().strip("|").split(" | ")]


# ---- The credit-platform export ---------------------------------------------------------------


def export_statement(year: int):
    """Every participating unit's record for the period, by unit and variety."""
    return (
        select(ComplianceRecord)
        .join(ComplianceRecord.enterprise)
        .where(ComplianceRecord.period_year == year)
        .order_by(Enterprise.uscc, ComplianceRecord.variety_code, ComplianceRecord.id)
        .options(*exports.LOADS)
    )


def _export_bytes(year: int, file_format: str) -> tuple[bytes, int]:
    """The file's bytes and its row count; in Chinese whoever exports (a record sent outside)."""
    dataset = exports.CREDIT_EXPORT
    rows = db.session.scalars(export_statement(year).execution_options(yield_per=1000))
    with public_record_locale():
        if file_format == "csv":
            count = 0

            def counted():
                nonlocal count
                for row in rows:
                    count += 1
                    yield row

            text = "".join(csv_chunks(dataset.columns, counted()))
            return text.encode("utf-8"), count
        buffer = io.BytesIO()
        page_url = url_for("compliance_admin.period", year=year, _external=True)
        about = about_rows(dataset, [], page_url)
        count = write_xlsx(buffer, dataset.columns, rows, about, str(dataset.title))
        return buffer.getvalue(), count


def create_credit_export(year: int, file_format: str, *, actor) -> CreditExport:
    """Write the period's export for 省信用信息共享平台, keep its bytes, and record it."""
    period = db.session.get(CompliancePeriod, year)
    if period is None:
        raise CreditError("period")
    if file_format not in ("csv", "xlsx"):
        raise CreditError("format")
    content, count = _export_bytes(year, file_format)
    if count == 0:
        raise CreditError("empty")
    export = CreditExport(
        period_year=year,
        created_at=utcnow(),
        created_by_id=getattr(actor, "id", None),
        file_format=file_format,
        row_count=count,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        content=content,
    )
    db.session.add(export)
    db.session.flush()
    record_event(
        "compliance.credit_export",
        "credit_export",
        export.id,
        after={
            "period_year": year,
            "format": file_format,
            "rows": count,
            "sha256": export.sha256,
        },
        actor=actor,
    )
    return export


def credit_exports(year: int) -> list[CreditExport]:
    """The period's exports, newest first."""
    newest = (CreditExport.created_at.desc(), CreditExport.id.desc())
    stmt = select(CreditExport).where(CreditExport.period_year == year).order_by(*newest)
    return list(db.session.scalars(stmt))


def export_file_name(export: CreditExport) -> str:
    stamp = export.created_at.strftime("%Y%m%d-%H%M%S")
    return f"credit-{export.period_year}-{stamp}-{export.id}.{export.file_format}"


# ---- 曝光 ----------------------------------------------------------------------------------------

# What a trade number is checked against: the public trade records (disclosure sits above this
# package, so its model is not imported; the table's name and key are its public contract).
_TRADE = table("trade", column("number"))


def _unit_by_uscc(text: str) -> Enterprise:
    code = (text or "").strip().upper()
    if not uscc_number.is_valid(code):
        raise CreditError("uscc")
    unit = db.session.scalar(select(Enterprise).where(Enterprise.uscc == code))
    if unit is None:
        raise CreditError("unknown_unit")
    return unit


def propose_exposure(
    uscc: str,
    reason: str,
    exposed_on: date,
    *,
    period_year: int | None = None,
    trade_number: str | None = None,
    detail: str = "",
    actor,
) -> ExposureEntry:
    """Propose a unit for the public exposure list: not public until a province user confirms."""
    unit = _unit_by_uscc(uscc)
    detail = (detail or "").strip()
    trade_number = (trade_number or "").strip() or None
    if reason == "non_compliant":
        if period_year is None:
            raise CreditError("period_year")
        period = db.session.get(CompliancePeriod, period_year)
        if period is None or period.published_at is None:
            raise CreditError("period_unpublished")
        missed = db.session.scalar(
            select(func.count(ComplianceRecord.id)).where(
                ComplianceRecord.enterprise_id == unit.id,
                ComplianceRecord.period_year == period_year,
                ComplianceRecord.status == "non_compliant",
            )
        )
        if not missed:
            raise CreditError("not_non_compliant")
        trade_number = None
    elif reason == "falsified":
        if not trade_number:
            raise CreditError("trade_number")
        if (
            db.session.scalar(select(_TRADE.c.number).where(_TRADE.c.number == trade_number))
            is None
        ):
            raise CreditError("unknown_trade")
        if not detail:
            raise CreditError("detail")
        period_year = None
    else:
        raise CreditError("reason")
    entry = ExposureEntry(
        enterprise_id=unit.id,
        reason=reason,
        period_year=period_year,
        trade_number=trade_number,
        detail=detail,
        exposed_on=exposed_on,
        status="proposed",
        proposed_at=utcnow(),
        proposed_by_id=getattr(actor, "id", None),
        withdraw_reason="",
    )
    db.session.add(entry)
    db.session.flush()
    record_event(
        "compliance.exposure_propose",
        "exposure_entry",
        entry.id,
        after=_exposure_state(entry),
        actor=actor,
    )
    return entry


def _exposure_state(entry: ExposureEntry) -> dict:
    return {
        "status": entry.status,
        "uscc": entry.enterprise.uscc if entry.enterprise else None,
        "reason": entry.reason,
        "period_year": entry.period_year,
        "trade_number": entry.trade_number,
        "exposed_on": entry.exposed_on,
        "detail": entry.detail,
    }


# The allowed steps: (from, action) → to.
EXPOSURE_STEPS = {
    ("proposed", "confirm"): "confirmed",
    ("proposed", "withdraw"): "withdrawn",
    ("confirmed", "withdraw"): "withdrawn",
}


def _step(entry: ExposureEntry, action: str) -> tuple[dict, str]:
    target = EXPOSURE_STEPS.get((entry.status, action))
    if target is None:
        raise CreditError("step")
    before = _exposure_state(entry)
    entry.status = target
    return before, target


def confirm_exposure(entry: ExposureEntry, *, actor) -> ExposureEntry:
    """Confirm a proposal: from now on it is on the public exposure list."""
    before, _target = _step(entry, "confirm")
    entry.confirmed_at = utcnow()
    entry.confirmed_by_id = getattr(actor, "id", None)
    db.session.flush()
    record_event(
        "compliance.exposure_confirm",
        "exposure_entry",
        entry.id,
        before=before,
        after=_exposure_state(entry),
        actor=actor,
    )
    return entry


def withdraw_exposure(entry: ExposureEntry, reason: str, *, actor) -> ExposureEntry:
    """Withdraw an entry; a confirmed one stays on the public page as 已撤销 (the reason goes to
    the audit log only)."""
    reason = (reason or "").strip()
    if not reason:
        raise CreditError("withdraw_reason")
    before, _target = _step(entry, "withdraw")
    entry.withdrawn_at = utcnow()
    entry.withdrawn_by_id = getattr(actor, "id", None)
    entry.withdraw_reason = reason
    db.session.flush()
    record_event(
        "compliance.exposure_withdraw",
        "exposure_entry",
        entry.id,
        before=before,
        after=_exposure_state(entry),
        remark=reason,
        actor=actor,
    )
    return entry


def public_exposure_query(filters: dict):
    """The public exposure list: confirmed entries (and withdrawn ones that were public), newest
    date first; a list's (select, count) pair as portal.lists expects."""
    conditions = [ExposureEntry.confirmed_at.is_not(None)]
    if filters.get("reason"):
        conditions.append(ExposureEntry.reason == filters["reason"])
    if filters.get("division"):
        conditions.append(Enterprise.division_code == filters["division"])
    stmt = (
        select(ExposureEntry)
        .join(ExposureEntry.enterprise)
        .where(*conditions)
        .order_by(ExposureEntry.exposed_on.desc(), ExposureEntry.id.desc())
    )
    count = select(func.count(ExposureEntry.id)).join(ExposureEntry.enterprise).where(*conditions)
    return stmt, count


def admin_exposures() -> list[ExposureEntry]:
    """Every entry for the back office, the open proposals first."""
    return list(
        db.session.scalars(
            select(ExposureEntry)
            .order_by(
                (ExposureEntry.status != "proposed"),
                ExposureEntry.exposed_on.desc(),
                ExposureEntry.id.desc(),
            )
            .limit(500)
        )
    )
