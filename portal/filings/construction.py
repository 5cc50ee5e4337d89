"""The 2-year start rule, as the enterprise and its city live it (实施方案 二(四)).

A new project must start construction within 2 years of getting its indicators, or they are taken
back free of charge. The enterprise reports the start with evidence (a document checked by its
content); the city authority of the unit's division confirms the report, which records the start
date on the obligation (registry.record_construction_start), or refuses it with a remark, which
keeps the obligation open. Each step is audited and tells the other side (inbox and mail).

The ledger, the obligation and the take-back are the registry's; the take-back's 公示 is
publicity's (`flask tick`). This module sits above both accounts (notices) and registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import abort
from sqlalchemy import select

from portal.access import can_see_enterprise
from portal.accounts.services import post_notice
from portal.audit.services import record_event, record_new
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.i18n import Message
from portal.i18n import lazy_gettext as _l
from portal.news.models import Announcement
from portal.refusals import CodedRefusal
from portal.registry import services as registry
from portal.registry.models import (
    ConstructionObligation,
    ConstructionStartReport,
    LedgerEntry,
)
from portal.uploads import CheckedUpload, store_upload
from portal.web import current_date

NOTE_LIMIT = 1000
REMARK_LIMIT = 500


class StartReportError(CodedRefusal):
    """A start report or a decision refused; `code` names the rule (the view words it)."""


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# ---------------------------------------------------------------- loading, with the access rule


def get_own_obligation_or_404(obligation_id: int, enterprise_id: int) -> ConstructionObligation:
    """The enterprise's own obligation; any other (or none) is a 404, so nothing leaks."""
    obligation = db.session.get(ConstructionObligation, obligation_id)
    if obligation is None or obligation.enterprise_id != enterprise_id:
        abort(404)
    return obligation


def get_report_or_404(report_id: int, for_user) -> ConstructionStartReport:
    """A start report for the back office: the province and the supervisor see every one, a city
    those of its own division's units; anyone else gets a 404."""
    report = db.session.get(ConstructionStartReport, report_id)
    if report is None:
        abort(404)
    if not can_see_enterprise(for_user, db.session.get(Enterprise, report.enterprise_id)):
        abort(404)
    return report


def get_own_report_or_404(report_id: int, enterprise_id: int) -> ConstructionStartReport:
    report = db.session.get(ConstructionStartReport, report_id)
    if report is None or report.enterprise_id != enterprise_id:
        abort(404)
    return report


def can_decide(user, report: ConstructionStartReport) -> bool:
    """Only the city authority of the unit's division decides a start report."""
    enterprise = db.session.get(Enterprise, report.enterprise_id)
    return (
        getattr(user, "role", None) == "city"
        and enterprise is not None
        and enterprise.division_code == user.division_code
    )


# ---------------------------------------------------------------- what the enterprise sees


@dataclass
class ObligationView:
    """One project's obligation as the enterprise's pages show it."""

    obligation: ConstructionObligation
    report: ConstructionStartReport | None  # the newest start report
    taken_back: object  # Decimal quantity taken back, or None
    notice_announcement_id: int | None  # the take-back's public 公示
    overdue: bool = False  # the deadline has passed and nothing was reported (tick will take back)

    @property
    def state(self) -> str:
        """open, reported (waiting for the city), started, or taken_back."""
        if self.obligation.taken_back_at is not None:
            return "taken_back"
        if self.obligation.started_on is not None:
            return "started"
        if self.report is not None and self.report.status == "pending":
            return "reported"
        return "open"


def obligations_of(enterprise_id: int, *, source_id: str | None = None) -> list[ObligationView]:
    """The enterprise's project obligations (of one filing, when `source_id` names its number),
    with the newest start report, the quantity taken back and the take-back's 公示."""
    stmt = select(ConstructionObligation).where(
        ConstructionObligation.enterprise_id == enterprise_id
    )
    if source_id is not None:
        stmt = stmt.where(
            ConstructionObligation.source_type == "filing",
            ConstructionObligation.source_id == source_id,
        )
    obligations = list(db.session.scalars(stmt.order_by(ConstructionObligation.id)))
    if not obligations:
        return []
    today = current_date()
    ids = [o.id for o in obligations]
    reports: dict[int, ConstructionStartReport] = {}
    for report in db.session.scalars(
        select(ConstructionStartReport)
        .where(ConstructionStartReport.obligation_id.in_(ids))
        .order_by(ConstructionStartReport.id)
    ):
        reports[report.obligation_id] = report
    entry_ids = [o.take_back_entry_id for o in obligations if o.take_back_entry_id]
    quantities = {}
    if entry_ids:
        quantities = dict(
            db.session.execute(
                select(LedgerEntry.id, LedgerEntry.quantity).where(LedgerEntry.id.in_(entry_ids))
            ).all()
        )
    announcement_ids = [
        o.take_back_announcement_id for o in obligations if o.take_back_announcement_id
    ]
    public = set()
    if announcement_ids:
        public = set(
            db.session.scalars(
                select(Announcement.id).where(
                    Announcement.id.in_(announcement_ids), Announcement.status == "published"
                )
            )
        )
    views = []
    for o in obligations:
        taken = None
        if o.taken_back_at is not None:
            taken = -quantities[o.take_back_entry_id] if o.take_back_entry_id else 0
        announcement = o.take_back_announcement_id
        views.append(
            ObligationView(
                o,
                reports.get(o.id),
                taken,
                announcement if announcement in public else None,
                overdue=o.start_deadline < today,
            )
        )
    return views


def pending_reports(for_user) -> list[ConstructionStartReport]:
    """Start reports waiting for a decision that the user may see, oldest first."""
    stmt = (
        select(ConstructionStartReport)
        .join(Enterprise, Enterprise.id == ConstructionStartReport.enterprise_id)
        .where(ConstructionStartReport.status == "pending")
        .order_by(ConstructionStartReport.id)
    )
    if for_user.role == "city":
        stmt = stmt.where(Enterprise.division_code == for_user.division_code)
    return list(db.session.scalars(stmt))


# ---------------------------------------------------------------- the enterprise reports


def submit_start_report(
    obligation: ConstructionObligation,
    started_on: date,
    evidence: CheckedUpload,
    note: str,
    *,
    actor,
    today: date,
) -> ConstructionStartReport:
    """Report that construction started, with its evidence; the city decides."""
    # Read the obligation again under a row lock (PostgreSQL): a take-back committed meanwhile is
    # seen here, and the report is refused rather than left waiting on indicators already gone.
    obligation = db.session.scalar(
        select(ConstructionObligation)
        .where(ConstructionObligation.id == obligation.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if obligation.taken_back_at is not None:
        raise StartReportError("taken_back")
    if obligation.started_on is not None:
        raise StartReportError("started")
    waiting = db.session.scalar(
        select(ConstructionStartReport.id).where(
            ConstructionStartReport.obligation_id == obligation.id,
            ConstructionStartReport.status == "pending",
        )
    )
    if waiting is not None:
        raise StartReportError("pending")
    if started_on > today:
        raise StartReportError("future")
    if started_on > obligation.start_deadline:
        raise StartReportError("after_deadline")
    if started_on < obligation.issued_on:
        raise StartReportError("before_issue")
    store_upload(evidence)
    report = ConstructionStartReport(
        obligation_id=obligation.id,
        enterprise_id=obligation.enterprise_id,
        started_on=started_on,
        note=(note or "").strip()[:NOTE_LIMIT],
        sha256=evidence.sha256,
        content_type=evidence.content_type,
        original_name=evidence.original_name,
        size=evidence.size,
        status="pending",
        submitted_by_id=getattr(actor, "id", None),
        submitted_at=utcnow(),
    )
    record_new(
        "construction.report",
        report,
        after={
            "obligation": obligation.id,
            "started_on": started_on,
            "evidence": evidence.sha256,
        },
        actor=actor,
    )
    return report


# ---------------------------------------------------------------- the city decides


def decide_start_report(
    report: ConstructionStartReport, *, confirm: bool, remark: str, actor
) -> ConstructionStartReport:
    """Confirm (the start date is recorded on the obligation) or refuse (it stays open), and tell
    the enterprise."""
    if not can_decide(actor, report):
        raise StartReportError("role")
    if report.status != "pending":
        raise StartReportError("decided")
    remark = (remark or "").strip()
    if not confirm and not remark:
        raise StartReportError("remark")
    obligation = report.obligation
    if confirm:
        try:
            registry.record_construction_start(obligation, report.started_on, actor=actor)
        except registry.LedgerError as error:
            raise StartReportError("taken_back") from error
    report.status = "confirmed" if confirm else "refused"
    report.remark = remark[:REMARK_LIMIT]
    report.decided_by_id = getattr(actor, "id", None)
    report.decided_at = utcnow()
    db.session.flush()
    record_event(
        "construction.report_decide",
        report,
        before={"status": "pending"},
        after={"status": report.status, "started_on": report.started_on},
        remark=report.remark,
        actor=actor,
    )
    project, remark = obligation.project_name, Message.chinese(report.remark)
    if confirm:
        title = Message.about(_l("开工报告已确认：%(name)s"), project)
        body = Message.about(
            _l(
                "贵单位项目“%(name)s”的开工报告已经确认，开工日期 %(day)s 已登记，指标不再因逾期未开工被收回。%(remark)s"
            ),
            project,
            day=report.started_on,
            remark=remark,
        )
    else:
        title = Message.about(_l("开工报告未通过：%(name)s"), project)
        body = Message.about(
            _l(
                "贵单位项目“%(name)s”的开工报告未通过，理由：%(remark)s 项目须在 %(deadline)s 前开工，逾期未开工的指标由政府无偿收回；可补充材料后重新报告。"
            ),
            project,
            remark=remark,
            deadline=obligation.start_deadline,
        )
    post_notice(report.enterprise_id, title, body, link="dashboard")
    return report
