"""公示 rules: publish a decision for a period, take objections, answer them, and finalize (tick)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from flask import abort, current_app
from sqlalchemy import func, select

from portal.accounts.services import post_notice
from portal.audit.services import record_event, record_new
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.i18n import Message
from portal.i18n import lazy_gettext as _l
from portal.mail import absolute_url
from portal.news.models import Announcement
from portal.news.services import render_markdown
from portal.publicity.models import Objection, PublicityNotice
from portal.refusals import CodedRefusal
from portal.registry import services as registry
from portal.registry.models import LedgerEntry
from portal.signals import OrderedSignal
from portal.web import public_record_locale, render_text


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class SystemActor:
    """The scheduler (`flask tick`) acting for the province when a publicity period ends."""

    id: None = None
    role: str = "province"
    email: str = "system (flask tick)"
    is_active: bool = True
    division_code: None = None
    audit_firm_id: None = None
    enterprise_id: None = None


SYSTEM = SystemActor()


class PublicityClosed(ValueError):
    """The announcement takes no objections now (no period, not started, ended, or withdrawn)."""


class PublicityError(CodedRefusal):
    """A 公示 action refused; `code` names why (the view turns it into a message)."""


# --- the statutory period ------------------------------------------------------------------------


def set_publicity_period(announcement: Announcement, starts_at: datetime) -> None:
    """Give a 公示 its period from the rules: PUBLICITY_DAYS natural days from its start.

    The one place a publicity period is set; nobody types its length (filings, compliance lists
    and editors' 公示公告 all come through here).
    """
    days = max(1, int(current_app.config["PUBLICITY_DAYS"]))
    announcement.publicity_starts_at = starts_at
    announcement.publicity_ends_at = starts_at + timedelta(days=days)


# --- publishing ----------------------------------------------------------------------------------


def publish_publicity(
    subject_type: str,
    subject_id,
    title: str,
    body_md: str,
    *,
    actor=None,
    division_code: str | None = None,
    now: datetime | None = None,
) -> PublicityNotice:
    """Publish a 公示 announcement with its statutory period, tied to the decision it is about."""
    now = now or utcnow()
    announcement = Announcement(
        category="publicity",
        title=title,
        summary=title,
        body_md=body_md,
        body_html=render_markdown(body_md),
        source=current_app.config["SITE_SPONSOR"],
        division_code=division_code,
        status="published",
        published_at=now,
    )
    set_publicity_period(announcement, now)
    db.session.add(announcement)
    db.session.flush()
    return _open_notice(announcement, subject_type, subject_id, now, actor)


def _open_notice(
    announcement: Announcement, subject_type: str, subject_id, now: datetime, actor
) -> PublicityNotice:
    """Open the objection window of a 公示 about a subject, and audit it."""
    notice = PublicityNotice(
        announcement_id=announcement.id,
        subject_type=subject_type,
        subject_id=str(subject_id),
        status="open",
        created_at=now,
    )
    record_new(
        "publicity.publish",
        notice,
        after={
            "announcement": announcement.id,
            "subject": f"{subject_type}:{subject_id}",
            "ends_at": announcement.publicity_ends_at,
        },
        actor=actor,
    )
    return notice


def notice_for_subject(subject_type: str, subject_id) -> PublicityNotice | None:
    return db.session.scalar(
        select(PublicityNotice)
        .where(
            PublicityNotice.subject_type == subject_type,
            PublicityNotice.subject_id == str(subject_id),
        )
        .order_by(PublicityNotice.id.desc())
        .limit(1)
    )


def notice_for_announcement(announcement_id: int) -> PublicityNotice | None:
    return db.session.scalar(
        select(PublicityNotice).where(PublicityNotice.announcement_id == announcement_id)
    )


def notice_for_editorial(
    announcement: Announcement, starts_at: datetime, *, actor=None
) -> PublicityNotice:
    """The notice of an editor's 公示公告: its period from the rules, its notice made once."""
    set_publicity_period(announcement, starts_at)
    notice = notice_for_announcement(announcement.id) if announcement.id else None
    if notice is None:
        notice = _open_notice(announcement, "other", announcement.id, utcnow(), actor)
    return notice


def is_open(announcement: Announcement, now: datetime | None = None) -> bool:
    now = now or utcnow()
    if announcement.publicity_ends_at is None or announcement.status != "published":
        return False
    notice = notice_for_announcement(announcement.id)
    if notice is not None and notice.status == "withdrawn":
        return False
    if announcement.published_at is None or announcement.published_at > now:
        return False
    starts = announcement.publicity_starts_at
    return (starts is None or starts <= now) and now < announcement.publicity_ends_at


# --- objections ----------------------------------------------------------------------------------


def file_objection(
    announcement: Announcement, real_name: str, contact: str, reason: str, now=None
) -> Objection:
    """Record an objection (异议) raised under a real name while the period is open."""
    now = now or utcnow()
    if not is_open(announcement, now):
        raise PublicityClosed()
    notice = notice_for_announcement(announcement.id)
    objection = Objection(
        announcement_id=announcement.id,
        notice_id=notice.id if notice else None,
        subject_type=notice.subject_type if notice else "other",
        subject_id=notice.subject_id if notice else "",
        real_name=real_name.strip(),
        contact=contact.strip(),
        reason=reason.strip(),
        status="pending",
        created_at=now,
    )
    db.session.add(objection)
    db.session.flush()
    # The audit trail names the objection, not the person: personal data stays in one table.
    record_event(
        "objection.file",
        objection,
        after={"announcement": announcement.id, "status": "pending"},
    )
    return objection


def answer_objection(objection: Objection, outcome: str, answer: str, *, actor) -> Objection:
    """Answer an objection: uphold it (the decision is reopened) or dismiss it, with reasons."""
    if outcome not in ("upheld", "dismissed"):
        raise ValueError(outcome)
    if objection.status != "pending":
        raise ValueError("already answered")
    before = {"status": objection.status}
    objection.status = outcome
    objection.answer = answer.strip()
    objection.answered_by_id = getattr(actor, "id", None)
    objection.answered_at = utcnow()
    db.session.flush()
    record_event(
        "objection.answer",
        objection,
        before=before,
        after={"status": outcome},
        remark=objection.answer,
        actor=actor,
    )
    if outcome == "upheld" and objection.notice is not None:
        reopen_notice(objection.notice, objection.answer, actor=actor)
    return objection


def reopen_notice(notice: PublicityNotice, remark: str, *, actor) -> None:
    """An upheld objection: the decision does not become final; its subject goes back to review."""
    if notice.status != "open":
        return
    notice.status = "reopened"
    notice.reopened_at = utcnow()
    db.session.flush()
    record_event(
        "publicity.reopen",
        notice,
        before={"status": "open"},
        after={"status": "reopened"},
        remark=remark,
        actor=actor,
    )
    publicity_reopened.send(notice.subject_type, notice=notice, remark=remark, actor=actor)


# A 公示 can be withdrawn until it becomes final (an upheld objection does not end its period).
WITHDRAWABLE = ("open", "reopened")


def withdraw_notice(
    notice: PublicityNotice, reason: str, *, actor, now: datetime | None = None
) -> PublicityNotice:
    """Withdraw a 公示: the province's decision, with a reason; it closes the objection window.

    The public page keeps the notice and says when and why it was withdrawn; the decision it
    published never becomes final from it (a filing goes back to the province's queue).
    """
    if getattr(actor, "role", None) != "province":
        raise PublicityError("role")
    reason = (reason or "").strip()
    if not reason:
        raise PublicityError("reason")
    if notice.status not in WITHDRAWABLE:
        raise PublicityError("status")
    now = now or utcnow()
    announcement = notice.announcement
    before = {"status": notice.status, "ends_at": announcement.publicity_ends_at}
    notice.status = "withdrawn"
    notice.withdrawn_at = now
    notice.withdrawn_by_id = getattr(actor, "id", None)
    notice.withdrawal_reason = reason
    # The window closes now; the statutory end it would have had stays in the audit entry.
    if announcement.publicity_ends_at is None or announcement.publicity_ends_at > now:
        announcement.publicity_ends_at = now
    db.session.flush()
    record_event(
        "publicity.withdraw",
        notice,
        before=before,
        after={"status": "withdrawn", "ends_at": announcement.publicity_ends_at},
        remark=reason,
        actor=actor,
    )
    publicity_withdrawn.send(notice.subject_type, notice=notice, reason=reason, actor=actor)
    return notice


def withdrawal_of(announcement) -> PublicityNotice | None:
    """The withdrawn notice of this announcement, for the public pages; None if not withdrawn."""
    if announcement is None or announcement.category != "publicity":
        return None
    notice = notice_for_announcement(announcement.id)
    return notice if notice is not None and notice.status == "withdrawn" else None


def can_see_objector(user, objection: Objection) -> bool:
    """Whether a user may see who raised an objection (name and contact).

    Only those who answer objections: the province, and the city of the 公示's division. Editors,
    supervisors and everybody else see that an objection exists, and its text.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.role == "province":
        return True
    division = objection.announcement.division_code
    return user.role == "city" and division is not None and division == user.division_code


def objection_outcomes(announcement_id: int) -> dict[str, int]:
    """Counts per status, for the public page: never names, contacts or reasons."""
    rows = db.session.execute(
        select(Objection.status, func.count())
        .where(Objection.announcement_id == announcement_id)
        .group_by(Objection.status)
    ).all()
    return {status: count for status, count in rows}


def answered_objections(announcement_id: int) -> list[Objection]:
    return list(
        db.session.scalars(
            select(Objection)
            .where(Objection.announcement_id == announcement_id, Objection.status != "pending")
            .order_by(Objection.id)
        )
    )


# --- finalizing: `flask tick` ---------------------------------------------------------------------

# What a 公示's end means belongs to its subject's package: each sends one of these signals with
# `sender` the notice's subject_type ("filing", "compliance_period", …), so this package needs no
# knowledge of filings. Receivers subscribe with `.connect(fn, sender=subject_type)`:
# - publicity_finalized(subject_type, notice, actor): the period ended with no objection upheld;
# - publicity_reopened(subject_type, notice, remark, actor): an objection was upheld;
# - publicity_withdrawn(subject_type, notice, reason, actor): the province withdrew the 公示.
# Receivers run in connection order, in the same transaction; one that raises undoes the step.
publicity_finalized = OrderedSignal("publicity-finalized")
publicity_reopened = OrderedSignal("publicity-reopened")
publicity_withdrawn = OrderedSignal("publicity-withdrawn")


def _open_past_end(now: datetime, *conditions) -> list[PublicityNotice]:
    """Notices still open whose period ended by `now`, narrowed by `conditions`, in id order."""
    return list(
        db.session.scalars(
            select(PublicityNotice)
            .join(Announcement, Announcement.id == PublicityNotice.announcement_id)
            .where(
                PublicityNotice.status == "open",
                Announcement.publicity_ends_at <= now,
                *conditions,
            )
            .order_by(PublicityNotice.id)
        )
    )


def _objection_in(*statuses: str):
    return (
        select(Objection.id)
        .where(Objection.notice_id == PublicityNotice.id, Objection.status.in_(statuses))
        .exists()
    )


def notices_due(now: datetime) -> list[PublicityNotice]:
    """Open notices whose period has ended, with no upheld and no unanswered objection."""
    # A notice whose announcement is not public (withdrawn outside the 公示 rules, or not yet
    # published) never makes its decision final.
    return _open_past_end(
        now, Announcement.status == "published", ~_objection_in("pending", "upheld")
    )


def finalize_notice(notice: PublicityNotice, *, actor=SYSTEM, now=None) -> None:
    if notice.status != "open" or notice.announcement.status != "published":
        raise PublicityError("status")
    notice.status = "final"
    notice.finalized_at = now or utcnow()
    db.session.flush()
    record_event(
        "publicity.final",
        notice,
        before={"status": "open"},
        after={"status": "final", "subject": f"{notice.subject_type}:{notice.subject_id}"},
        actor=actor if getattr(actor, "id", None) else None,
    )
    publicity_finalized.send(notice.subject_type, notice=notice, actor=actor)


@dataclass
class TickReport:
    finalized: list[int] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)
    warned: list[int] = field(default_factory=list)
    taken_back: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def waiting_on_objections(now: datetime) -> list[PublicityNotice]:
    """Ended periods held back by an objection not yet answered."""
    return _open_past_end(now, _objection_in("pending"))


def notices_taken_down(now: datetime) -> list[PublicityNotice]:
    """Open notices past their end whose announcement is no longer public: tick never finalizes
    them, and says so, so that somebody decides."""
    return _open_past_end(now, Announcement.status != "published")


def run_tick(now: datetime | None = None, today: date | None = None) -> TickReport:
    """Do everything that is due; running it again at once does nothing more (idempotent).

    Each notice is finalized in its own savepoint, so one that fails does not block the others.
    """
    now = now or utcnow()
    today = today or now.date()
    report = TickReport()
    for notice in notices_due(now):
        try:
            with db.session.begin_nested():
                finalize_notice(notice, now=now)
            report.finalized.append(notice.id)
        except Exception as error:  # noqa: BLE001 — reported, and the other notices go on
            report.errors.append(f"notice {notice.id}: {error}")
    report.waiting = [n.id for n in waiting_on_objections(now)]
    report.errors += [
        f"notice {n.id}: its announcement was taken down outside a 公示 withdrawal; "
        "the province must withdraw it (with a reason) or publish it again"
        for n in notices_taken_down(now)
    ]
    for obligation in registry.construction_warnings_due(today):
        registry.mark_construction_warned(obligation)
        _warn_construction(obligation)
        report.warned.append(obligation.id)
    taken_back = registry.take_back_expired_obligations(today)
    report.taken_back = [o.id for o in taken_back]
    if taken_back:
        publish_take_backs(taken_back, today, now=now)
    return report


# The 公示 of one tick's take-backs: its subject is the day they were taken back.
TAKE_BACK_SUBJECT = "construction_take_back"


@dataclass(frozen=True)
class TakeBackRow:
    obligation_id: int
    enterprise_id: int
    name: str
    uscc: str
    project: str
    variety_code: str
    quantity: object  # Decimal: what was taken back (0 when nothing was left to take)
    day: date
    deadline: date


def publish_take_backs(obligations, today: date, *, now: datetime | None = None) -> PublicityNotice:
    """Publish one run's take-backs as a 公示 with its list, link each obligation to it, and tell
    each enterprise (inbox and mail)."""
    entries = {
        e.id: e
        for e in db.session.scalars(
            select(LedgerEntry).where(
                LedgerEntry.id.in_(
                    [o.take_back_entry_id for o in obligations if o.take_back_entry_id]
                )
            )
        )
    }
    units = {
        e.id: e
        for e in db.session.scalars(
            select(Enterprise).where(Enterprise.id.in_({o.enterprise_id for o in obligations}))
        )
    }
    rows = [
        TakeBackRow(
            obligation_id=o.id,
            enterprise_id=o.enterprise_id,
            name=units[o.enterprise_id].name,
            uscc=units[o.enterprise_id].uscc,
            project=o.project_name,
            variety_code=o.variety_code,
            quantity=-entries[o.take_back_entry_id].quantity if o.take_back_entry_id else 0,
            day=today,
            deadline=o.start_deadline,
        )
        for o in sorted(obligations, key=lambda o: o.id)
    ]
    with public_record_locale():
        context = {"rows": rows, "today": today}
        notice = publish_publicity(
            TAKE_BACK_SUBJECT,
            today.isoformat(),
            render_text("publicity/_take_back_title.html", **context).strip(),
            render_text("publicity/_take_back.html", **context),
            now=now,
        )
    for obligation in obligations:
        obligation.take_back_announcement_id = notice.announcement_id
    db.session.flush()
    link = absolute_url("news.detail", id=notice.announcement_id)
    for row in rows:
        title, body = Message.pair(
            _l("项目用能权指标已无偿收回：%(name)s"),
            _l(
                "贵单位项目“%(name)s”未在 %(deadline)s 前开工建设，按规定由政府无偿收回其用能权指标（%(variety)s）%(quantity)s。收回已在公示中列出：%(link)s 如项目已按期开工，请在公示期内实名提出异议，并附开工证明材料。"
            ),
            name=Message.chinese(row.project),
            deadline=row.deadline,
            variety=Message.reference("variety", row.variety_code),
            quantity=Message.quantity(row.quantity, row.variety_code),
            link=link,
        )
        post_notice(row.enterprise_id, title, body)
    return notice


def _warn_construction(obligation) -> None:
    """Tell the enterprise its project must start before the deadline (inbox and mail)."""
    post_notice(
        obligation.enterprise_id,
        Message.about(_l("项目开工期限提醒：%(name)s"), obligation.project_name),
        Message.about(
            _l(
                "贵单位项目“%(name)s”取得的用能权指标须在 %(deadline)s 前开工建设，逾期未开工的将由政府无偿收回。"
            ),
            obligation.project_name,
            deadline=obligation.start_deadline,
        ),
    )


# --- the public list of 公示 notices --------------------------------------------------------------

NOTICE_FILTERS = {
    "status": lambda value: PublicityNotice.status == value,
    "subject": lambda value: PublicityNotice.subject_type == value,
    "division": lambda value: Announcement.division_code == value,
}


def public_notices_query(filters: dict, now: datetime | None = None):
    """The 公示 notices the public may see, newest first, and their count: those whose announcement
    is published. A withdrawn or reopened one stays listed, with its status: the page stays up and
    says why."""
    conditions = [
        Announcement.status == "published",
        Announcement.published_at <= (now or utcnow()),
        *(
            condition(filters[name])
            for name, condition in NOTICE_FILTERS.items()
            if filters.get(name)
        ),
    ]
    joined = select(PublicityNotice).join(
        Announcement, Announcement.id == PublicityNotice.announcement_id
    )
    # Newest notice first: a notice is made when its 公示 is published, and its id is an index.
    stmt = joined.where(*conditions).order_by(PublicityNotice.id.desc())
    count = (
        select(func.count(PublicityNotice.id))
        .join(Announcement, Announcement.id == PublicityNotice.announcement_id)
        .where(*conditions)
    )
    return stmt, count


def get_public_notice_or_404(notice_id: int) -> PublicityNotice:
    """A notice whose announcement the public may see; any other is a 404."""
    stmt, _count = public_notices_query({})
    notice = db.session.scalar(stmt.where(PublicityNotice.id == notice_id))
    if notice is None:
        abort(404)
    return notice
