"""Review rules: each role's queue, acting on a filing, and what a decision sets off.

Status changes go through portal.filings.workflow.transition() only (the one transition table),
which checks the version and sends `filing_transitioned`. What follows a decision subscribes to
that signal here: a 公示 when the province publishes (closed or withdrawn when the filing leaves
it); a 两高 purchase priced at the province's approval (its payment notice, cancelled if the
filing goes back unpaid); and, when a filing becomes final, what that means (portal/prices: a
closure or retrofit offered to the city's reserve first, a paid purchase issued with its 2-year
start rule); review/compliance.py subscribes for a compliance filing's surrender.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal

from flask import has_request_context, url_for
from flask_babel import get_timezone
from sqlalchemy import Select, func, or_, select

from portal.accounts.models import AuditFirm, User
from portal.accounts.services import post_notice
from portal.audit.services import record_event
from portal.extensions import db
from portal.filings import services as filings
from portal.filings import workflow
from portal.filings.models import (
    Filing,
    FilingAttachment,
    FilingCorrection,
    FilingEvent,
    RetrofitClaim,
)
from portal.filings.signals import filing_transitioned
from portal.forms import decimal_problem
from portal.i18n import Message
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.prices import services as prices
from portal.publicity import services as publicity
from portal.review import deadlines
from portal.uploads import store_upload
from portal.web import current_date, public_record_locale, render_text


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _workflow():
    return workflow


# Steps that no person takes from the queue: the end of a publicity period is `flask tick`'s.
AUTOMATIC = {("publicity", "finalize")}


def manual_steps(filing, actor) -> list:
    return [
        step
        for step in _workflow().available_actions(filing, actor)
        if (step.source, step.action) not in AUTOMATIC
    ]


def _waiting_statuses(role: str) -> dict[str, set[str]]:
    """kind → the statuses at which `role` has a step to take."""
    out: dict[str, set[str]] = {}
    for kind, steps in _workflow().TRANSITIONS.items():
        for (source, action), step in steps.items():
            if step.role == role and (source, action) not in AUTOMATIC:
                out.setdefault(kind, set()).add(source)
    return out


# Queue filters and orders (query argument → condition / ORDER BY), in the style of portal.lists.
QUEUE_SORTS = ("waiting", "recent", "number", "enterprise")


def queue_statuses(user, kind: str) -> set[str]:
    """The statuses at which a filing of `kind` can be in this user's queue."""
    if user.role == "supervisor":
        return {
            status
            for (source, _action) in workflow.TRANSITIONS.get(kind, {})
            for status in (source,)
            if status != "draft"
        }
    return _waiting_statuses(user.role).get(kind, set())


def working_days_table() -> list[tuple[str, int]]:
    """Each reviewing role and its working days per step (REVIEW_WORKING_DAYS)."""
    return [(role, deadlines.working_days_for(role)) for role in ("auditor", "city", "province")]


@dataclass(frozen=True)
class HistoryItem:
    """One line of a filing's history: a step, a reassignment, a correction or a version."""

    at: datetime
    kind: str  # step / assign_auditor / correct / version
    label: str
    actor: str
    role: str
    remark: str
    status: str = ""
    version: int | None = None


def history_of(filing) -> list[HistoryItem]:
    """Every step, remark, reassignment, correction and submitted version, oldest first."""
    items = []
    for event in filing.events:
        kind = (
            event.action
            if event.action
            in (
                filings.ASSIGN_ACTION,
                filings.CORRECT_ACTION,
            )
            else "step"
        )
        items.append(
            HistoryItem(
                event.created_at,
                kind,
                str(workflow.ACTION_LABELS.get(event.action, event.action)),
                event.actor.name if event.actor is not None else "",
                event.actor_role,
                event.remark,
                "" if kind != "step" else event.to_status,
            )
        )
    for version in filing.versions:
        submitter = (
            db.session.get(User, version.submitted_by_id) if version.submitted_by_id else None
        )
        items.append(
            HistoryItem(
                version.created_at,
                "version",
                _("提交第 %(n)s 版", n=version.number),
                submitter.name if submitter is not None else "",
                "enterprise",
                "",
                version=version.number,
            )
        )
    # A submission writes its step and its version at the same moment: the step comes first.
    order = {"step": 0, "version": 1, "assign_auditor": 2, "correct": 2}
    return sorted(items, key=lambda item: (item.at, order.get(item.kind, 3)))


def since_column():
    """When the filing reached its current status: its last status change (a reassignment or a
    correction is not one), else its submission."""
    last_step = (
        select(func.max(FilingEvent.created_at))
        .where(
            FilingEvent.filing_id == Filing.id,
            FilingEvent.action.not_in((filings.ASSIGN_ACTION, filings.CORRECT_ACTION)),
        )
        .correlate(Filing)
        .scalar_subquery()
    )
    return func.coalesce(last_step, Filing.submitted_at, Filing.created_at)


def _overdue_condition(waiting: dict[str, dict[str, set[str]]], today: date):
    """Filings whose step began before the last start day still within its working days."""
    since = since_column()
    clauses = []
    for role, by_kind in waiting.items():
        cutoff = deadlines.last_start_within(today, deadlines.working_days_for(role))
        moment = utc_midnight(cutoff)
        for kind, statuses in by_kind.items():
            clauses.append(
                (Filing.kind == kind) & Filing.status.in_(sorted(statuses)) & (since < moment)
            )
    return or_(*clauses) if clauses else Filing.id.is_(None)


def utc_midnight(day: date) -> datetime:
    """The stored (naive UTC) moment at which a day begins in the portal's time zone."""
    local = datetime.combine(day, time()).replace(tzinfo=get_timezone())
    return local.astimezone(UTC).replace(tzinfo=None)


def queue_query(
    user,
    kind: str | None = None,
    overdue_only: bool = False,
    *,
    status: str | None = None,
    division: str | None = None,
    sort: str | None = None,
    today: date | None = None,
) -> tuple[Select, Select]:
    """The filings waiting for this user, oldest first; a city sees its division, an auditor its
    claims, the supervisor everything in progress (read only)."""
    today = today or current_date()
    roles = ("auditor", "city", "province") if user.role == "supervisor" else (user.role,)
    waiting = {role: _waiting_statuses(role) for role in roles}
    clauses = [
        (Filing.kind == k) & Filing.status.in_(sorted(statuses))
        for by_kind in waiting.values()
        for k, statuses in by_kind.items()
        if not kind or k == kind
    ]
    if user.role == "supervisor":
        # Read only: everything still in progress (returned and in 公示 included).
        stmt = select(Filing).where(
            Filing.status.not_in(("draft", "final", "rejected", "withdrawn"))
        )
        if kind:
            stmt = stmt.where(Filing.kind == kind)
    else:
        stmt = select(Filing).where(or_(*clauses) if clauses else Filing.id.is_(None))
    if user.role == "city":
        stmt = stmt.where(Filing.division_code == user.division_code)
    elif user.role == "auditor":
        stmt = stmt.where(
            Filing.id.in_(
                select(RetrofitClaim.id).where(RetrofitClaim.audit_firm_id == user.audit_firm_id)
            )
        )
    if status:
        stmt = stmt.where(Filing.status == status)
    if division:
        stmt = stmt.where(Filing.division_code == division)
    if overdue_only:
        stmt = stmt.where(_overdue_condition(waiting, today))
    count = select(func.count()).select_from(stmt.subquery())
    since = since_column()
    orders = {
        "waiting": (since, Filing.id),
        "recent": (since.desc(), Filing.id.desc()),
        "number": (Filing.id,),
        "enterprise": (Filing.enterprise_id, Filing.id),
    }
    return stmt.order_by(*orders.get(sort or "waiting", orders["waiting"])), count


def waiting_count(user) -> int:
    _rows, count = queue_query(user)
    return db.session.scalar(count) or 0


def since_of(filing) -> datetime | None:
    steps = [
        e for e in filing.events if e.action not in (filings.ASSIGN_ACTION, filings.CORRECT_ACTION)
    ]
    return steps[-1].created_at if steps else (filing.submitted_at or filing.created_at)


@dataclass(frozen=True)
class Age:
    days: int
    overdue: bool
    deadline: deadlines.Deadline | None = None


def age_of(filing, now: datetime | None = None) -> Age:
    """Days since the filing reached its current status, and the deadline of its step."""
    now = now or utcnow()
    since = since_of(filing) or now
    days = max(0, (now - since).days)
    deadline = deadlines.deadline_of(filing, since, current_date())
    return Age(days, bool(deadline and deadline.overdue), deadline)


def can_see_filing(user, filing) -> bool:
    """Whether a back-office user may see a filing: filings.workflow.can_see_filing decides."""
    return _workflow().can_see_filing(user, filing)


class ReviewError(ValueError):
    """A review action refused before the workflow was asked; `field` names the input at fault."""

    def __init__(self, message: str, field: str = "remark"):
        super().__init__(message)
        self.message = message
        self.field = field


def act_on_filing(
    filing,
    action: str,
    actor,
    remark: str,
    expected_version: int | None,
    *,
    verified_energy: Decimal | None = None,
    verified_coal: Decimal | None = None,
    report=None,
    auction_price: Decimal | None = None,
    auction_source: str = "",
):
    """Take one step on a filing, with what that step needs; flush, never commit.

    The province's approval of a 两高 purchase prices it (portal/prices): at the reference price
    in force, or at the auction price typed with its source; the payment notice goes out with the
    step.

    Checks the form's input for the step and hands it to workflow.transition(), which checks the
    version and takes the step; what the step sets off (a 公示, registry entries) follows from
    the `filing_transitioned` signal (see _on_filing_transitioned below).
    Raises workflow.TransitionError (Conflict when the version is stale) or ReviewError.
    """
    workflow = _workflow()
    step = workflow.step_for(filing, action)
    if step is not None and (step.source, step.action) in AUTOMATIC:
        raise ReviewError(_("公示期满且无成立的异议后，系统会自动办结，无需手工操作。"), "action")
    prepare = None
    if action == "audit_savings" and step is not None:
        if verified_energy is None and verified_coal is None:
            raise ReviewError(_("请至少填写一项核定节能量。"), "verified_energy")
        if report is None:
            raise ReviewError(_("请上传第三方审核报告。"), "report")
        for name, value in (("verified_energy", verified_energy), ("verified_coal", verified_coal)):
            problem = value is not None and decimal_problem(Decimal(value))
            if problem:
                raise ReviewError(problem, name)

        def prepare(_step) -> None:
            filing.verified_energy_savings = verified_energy
            filing.verified_coal_savings = verified_coal
            _attach_report(filing, report, actor)

    if action == "review_province" and filing.kind == "purchase" and step is not None:
        try:
            prices.check_auction_price(auction_price, auction_source)
        except prices.PriceRefusal as refused:
            raise ReviewError(refused.message, refused.field) from None

        def prepare(_step) -> None:
            try:
                prices.price_purchase(
                    filing, actor=actor, auction_price=auction_price, auction_source=auction_source
                )
            except prices.PriceRefusal as refused:
                raise ReviewError(refused.message, refused.field) from None

    return workflow.transition(
        filing, action, actor, remark, expected_version=expected_version, prepare=prepare
    )


@filing_transitioned.connect
def _on_filing_transitioned(_action, filing, actor, remark, step) -> None:
    """What a back-office step sets off: the 公示 opens, closes or is withdrawn; a final decision
    writes the registry entries. Steps taken from the publicity hooks below arrive here too; the
    notice they come from is no longer open, so it is left as it is."""
    if step.action == "withdraw_publicity":
        # The same decision as the 公示 withdrawal form: the notice shows when and why.
        notice = publicity.notice_for_subject("filing", filing.id)
        if notice is not None and notice.status in publicity.WITHDRAWABLE:
            publicity.withdraw_notice(notice, remark, actor=actor)
        return
    if step.source == "publicity" and step.action == "return":
        # Sent back during its 公示: that 公示 will not become final.
        notice = publicity.notice_for_subject("filing", filing.id)
        if notice is not None and notice.status == "open":
            publicity.reopen_notice(notice, remark, actor=actor)
    if step.target == "publicity":
        _publish_filing(filing, actor)
    if step.target == "final":
        finalize_filing(filing, actor)
    if filing.kind == "purchase":
        if step.action == "review_province":
            # Priced already when the step came through act_on_filing; else at the reference price.
            prices.price_purchase(filing, actor=actor)
        elif step.target in ("returned", "rejected"):
            prices.cancel_open_notice(filing, remark, actor=actor)


def _attach_report(filing, report, actor) -> None:
    store_upload(report)
    filing.attachments.append(
        FilingAttachment(
            purpose="audit_report",
            sha256=report.sha256,
            size=report.size,
            content_type=report.content_type,
            original_name=report.original_name,
            uploaded_by_id=getattr(actor, "id", None),
        )
    )


KIND_TITLES = {
    "retrofit": _l("节能改造节能量确权"),
    "closure": _l("关停指标确权"),
    "purchase": _l("新建“两高”项目用能权申购"),
    "voluntary": _l("自愿参与交易单位"),
    "compliance": _l("履约"),
}


def _quantities(filing) -> list[tuple[str, Decimal]]:
    """What becomes final: the quantities per variety this filing issues."""
    # A reviewer's correction (核减) in force replaces the filed quantity.
    pairs = [
        (variety, filings.effective_quantity(filing, name))
        for name, variety in filings.correctable_fields(filing).items()
    ]
    return [(code, Decimal(qty)) for code, qty in pairs if qty is not None and Decimal(qty) > 0]


def _publish_filing(filing, actor) -> None:
    with public_record_locale():
        _publish_filing_text(filing, actor)


def _publish_filing_text(filing, actor) -> None:
    context = {
        "filing": filing,
        "enterprise": filing.enterprise,
        "kind_title": KIND_TITLES.get(filing.kind, ""),
        "quantities": _quantities(filing),
    }
    publicity.publish_publicity(
        "filing",
        filing.id,
        render_text("review/_publicity_filing_title.html", **context).strip(),
        render_text("review/_publicity_filing.html", **context),
        actor=actor,
        division_code=filing.division_code,
    )


def finalize_filing(filing, actor) -> None:
    """Write what a final decision means (idempotent per filing and variety).

    A closure's or retrofit's indicators are offered to the city's reserve first (收储): they are
    issued when the city decides. A purchase's are issued once its payment notice is paid, with
    the 2-year start obligation from that day (portal/prices).
    """
    with public_record_locale():
        reason = f"{KIND_TITLES.get(filing.kind, '')} {filing.number}"
    actor_user = actor if getattr(actor, "id", None) else None
    if filing.kind in ("retrofit", "closure"):
        prices.offer_to_reserve(filing, _quantities(filing), actor=actor)
    if filing.kind == "purchase":
        prices.issue_paid_purchase(filing, actor=actor)
    if filing.kind == "voluntary" and not filing.enterprise.is_public:
        filing.enterprise.is_public = True
        record_event(
            "enterprise.publish",
            "enterprise",
            filing.enterprise_id,
            before={"is_public": False},
            after={"is_public": True},
            remark=reason,
            actor=actor_user,
        )
    # A compliance filing's surrender is compliance.services' receiver of the same signal.
    db.session.flush()


# --- publicity hooks --------------------------------------------------------------------------------


@publicity.publicity_finalized.connect_via("filing")
def _filing_publicity_ended(_subject_type, notice, actor) -> None:
    filing = db.session.get(Filing, int(notice.subject_id))
    if filing is None or filing.status != "publicity":
        return
    latest = publicity.notice_for_subject("filing", filing.id)
    if latest is None or latest.id != notice.id:
        return  # an earlier 公示 of this filing: only the current one decides
    # The registry entries follow from the step (_on_filing_transitioned).
    # Kept as the msgid, whoever's request ends the period: each reader sees it in their language.
    with public_record_locale():
        remark = _("公示期满，无成立的异议。")
    _workflow().transition(filing, "finalize", actor, remark=remark)


def _filing_in_publicity(notice) -> Filing | None:
    """The filing a 公示 is about, while it is still in publicity."""
    filing = db.session.get(Filing, int(notice.subject_id))
    return filing if filing is not None and filing.status == "publicity" else None


@publicity.publicity_reopened.connect_via("filing")
def _filing_objection_upheld(_subject_type, notice, remark, actor) -> None:
    """Send the filing back for review when the workflow offers a way back from publicity."""
    filing = _filing_in_publicity(notice)
    if filing is None:
        return
    workflow = _workflow()
    step = workflow.step_for(filing, "return")
    if step is not None:
        province = actor if getattr(actor, "role", None) == step.role else publicity.SYSTEM
        workflow.transition(
            filing, "return", province, remark=_("公示期间异议成立：%(answer)s", answer=remark)
        )
    # Without such a step the filing stays in publicity; the reopened notice keeps tick from
    # finalizing it.


@publicity.publicity_withdrawn.connect_via("filing")
def _filing_publicity_withdrawn(_subject_type, notice, reason, actor) -> None:
    """A withdrawn 公示: the filing goes back to the province's queue; its enterprise is told."""
    filing = _filing_in_publicity(notice)
    if filing is not None:
        remark = _("公示已撤回：%(reason)s", reason=reason)
        _workflow().transition(filing, "withdraw_publicity", actor, remark=remark)


# Statuses at which the next step is an auditor's, so the firm may still be (re)assigned.
ASSIGNABLE = ("submitted", "city_filed")


def can_assign_auditor(user, filing) -> bool:
    return (
        filing.kind == "retrofit"
        and filing.status in ASSIGNABLE
        and user.role in ("city", "province")
        and can_see_filing(user, filing)
    )


def assign_audit_firm(filing, firm_id: int, actor, remark: str = "", expected_version=None):
    """Assign (or change) the third-party auditor of a retrofit claim before its audit step."""
    workflow = _workflow()
    workflow.check_version(filing, expected_version)
    if not can_assign_auditor(actor, filing):
        raise ReviewError(_("当前环节不能指定审核机构。"), "audit_firm_id")
    firm = db.session.get(AuditFirm, firm_id)
    if firm is None or not firm.is_approved:
        raise ReviewError(_("请选择已批准的第三方审核机构。"), "audit_firm_id")
    before = {"audit_firm": filing.audit_firm_id}
    previous = filing.audit_firm
    filing.audit_firm_id = firm.id
    # Kept across returns and resubmissions: filings.services.save_draft sees this entry.
    filing.draft_data = dict(filing.draft_data or {}) | {"audit_firm_id": str(firm.id)}
    change = _(
        "%(before)s → %(after)s%(remark)s",
        before=previous.name if previous is not None else _("未指定"),
        after=firm.name,
        remark=f"：{remark}" if remark else "",
    )
    filing.add_event(filings.ASSIGN_ACTION, actor, change)
    db.session.flush()
    record_event(
        "filing.assign_auditor",
        "filing",
        filing.id,
        before=before,
        after={"audit_firm": firm.id},
        remark=remark,
        actor=actor,
    )


# --- corrections (核减) ------------------------------------------------------------------------------


def can_correct(user, filing) -> bool:
    """A reviewer whose forward step it is now may lower the filing's quantities (a city that may
    only refuse at an auditor's step may not)."""
    return (
        user.role in ("auditor", "city", "province")
        and bool(filings.correctable_fields(filing))
        and filing.status not in workflow.TERMINAL
        and filing.status not in ("publicity", "returned", "draft")
        # A priced purchase keeps the quantity it was priced at: return it to change the quantity.
        and not (filing.kind == "purchase" and prices.open_notice(filing) is not None)
        and any(step.action not in ("return", "reject") for step in manual_steps(filing, user))
    )


def correct_quantity(filing, field: str, corrected, reason: str, actor, expected_version=None):
    """Lower (核减) one of the filing's quantities, with a reason; flush, never commit.

    The original stays on the filing; the correction is what issuance and 公示 use
    (filings.services.effective_quantity). Timeline entry and audit entry; the enterprise is told.
    """
    workflow.check_version(filing, expected_version)
    if not can_correct(actor, filing):
        raise ReviewError(_("当前环节不能核减数量。"), "field")
    fields = filings.correctable_fields(filing)
    if field not in fields:
        raise ReviewError(_("请从列表中选择要核减的数量。"), "field")
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError(_("请填写核减理由。"), "reason")
    original = getattr(filing, field, None)
    if original is None:
        raise ReviewError(_("该数量尚未填写，不能核减。"), "field")
    current = filings.effective_quantity(filing, field)
    if corrected is None:
        raise ReviewError(_("请填写核减后的数量。"), "corrected")
    corrected = Decimal(corrected)
    problem = decimal_problem(corrected)
    if problem:
        raise ReviewError(problem, "corrected")
    if corrected < 0 or corrected >= current:
        raise ReviewError(
            _("核减后的数量须不小于 0 且小于当前数量（%(current)s）。", current=f"{current:f}"),
            "corrected",
        )
    row = FilingCorrection(
        filing_id=filing.id,
        field=field,
        variety_code=fields[field],
        original=Decimal(original),
        corrected=corrected,
        reason=reason,
        actor_id=actor.id,
        actor_role=actor.role,
        created_at=utcnow(),
    )
    db.session.add(row)
    before = {"version": filing.version, field: f"{current:f}"}
    filing.add_event(filings.CORRECT_ACTION, actor, reason)
    # A new version of the filing: a page shown before the correction cannot act on it unseen.
    filing.updated_at = utcnow()
    db.session.flush()
    record_event(
        "filing.correct",
        "filing",
        filing.id,
        before=before,
        after={"version": filing.version, field: f"{corrected:f}"},
        remark=reason,
        actor=actor,
    )
    post_notice(
        filing.enterprise_id,
        Message(_l("申报 %(number)s：数量已核减"), number=filing.number),
        Message(_l("核减理由：%(reason)s"), reason=Message.chinese(reason)),
        link=url_for("filings.detail", filing_id=filing.id) if has_request_context() else "",
    )
    return row
