"""THE transition table of every filing kind, and `transition()`, the only way a status changes.

A status names the last step taken (e.g. `city_filed`: the city has recorded the baseline).

    retrofit   draft → submitted → baseline_review (auditor reviewed the baseline) → city_filed
               (city 备案) → savings_audit (auditor: report + verified savings) → city_confirmed
               (确权意见) → province_confirmed → publicity → final
    closure    draft → submitted → city_review → province_review → publicity → final
    purchase   draft → submitted → city_review → province_review → publicity → final
    voluntary  draft → submitted → city_review → province_review → final
    compliance draft → submitted → city_review → province_review → final

Every kind also has: withdraw (enterprise; only from `submitted`, before review begins),
return (back office → `returned`, the enterprise edits and resubmits, every version kept),
reject (city or province → `rejected`). Back-office actions always need a remark.
A kind with a 公示 also has withdraw_publicity (province: `publicity` → the status before it, so
the filing is back in the province's queue to publish again, return or reject).
The back office (portal/review/) drives its steps through `transition()` with the action names below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from portal.access import QUEUE, REVIEWERS, ROLE_LABELS
from portal.accounts.models import User
from portal.audit.services import record_event
from portal.extensions import db
from portal.filings.signals import filing_transitioned
from portal.i18n import lazy_gettext as _l

TERMINAL = frozenset({"final", "rejected", "withdrawn"})
EDITABLE = frozenset({"draft", "returned"})

# Labels for pages (the catalog translates them).
STATUS_LABELS = {
    "draft": _l("草稿"),
    "submitted": _l("已提交，待审核"),
    "baseline_review": _l("基准审核完成（第三方机构）"),
    "city_filed": _l("市级已备案"),
    "savings_audit": _l("节能量审核完成（第三方机构）"),
    "city_confirmed": _l("市级已出具确权意见"),
    "province_confirmed": _l("省级已确认"),
    "city_review": _l("市级审核通过"),
    "province_review": _l("省级审核通过"),
    "publicity": _l("公示中"),
    "final": _l("已办结"),
    "returned": _l("退回修改"),
    "rejected": _l("不予通过"),
    "withdrawn": _l("已撤回"),
}

ACTION_LABELS = {
    "create": _l("创建草稿"),
    "copy": _l("复制已结束的申报，创建草稿"),
    "submit": _l("提交"),
    "resubmit": _l("修改后重新提交"),
    "withdraw": _l("撤回"),
    "review_baseline": _l("出具基准审核意见"),
    "file_baseline": _l("基准备案"),
    "audit_savings": _l("出具节能量审核报告"),
    "confirm_city": _l("出具确权意见"),
    "confirm_province": _l("省级确认"),
    "review_city": _l("市级审核通过"),
    "review_province": _l("省级审核通过"),
    "publish": _l("发布公示"),
    "withdraw_publicity": _l("撤回公示"),
    "finalize": _l("公示期满，办结"),
    "return": _l("退回修改"),
    "reject": _l("不予通过"),
    # Timeline entries that change no status (filings.services.ASSIGN_ACTION, CORRECT_ACTION).
    "assign_auditor": _l("指定第三方审核机构"),
    "correct": _l("核减数量"),
}


@dataclass(frozen=True)
class Step:
    action: str
    source: str
    target: str
    role: str
    remark_required: bool


def _forward(path: list[tuple[str, str, str]]) -> list[tuple[str, str, str, str]]:
    """Turn [(action, role, target), …] after `submitted` into (action, source, target, role)."""
    steps = []
    source = "submitted"
    for action, role, target in path:
        steps.append((action, source, target, role))
        source = target
    return steps


# The city's review, then the province's; and publicity, then the final step.
_REVIEWS = [
    ("review_city", "city", "city_review"),
    ("review_province", "province", "province_review"),
]
_PUBLICITY = [("publish", "province", "publicity"), ("finalize", "province", "final")]

_PATHS = {
    "retrofit": [
        ("review_baseline", "auditor", "baseline_review"),
        ("file_baseline", "city", "city_filed"),
        ("audit_savings", "auditor", "savings_audit"),
        ("confirm_city", "city", "city_confirmed"),
        ("confirm_province", "province", "province_confirmed"),
        *_PUBLICITY,
    ],
    "closure": [*_REVIEWS, *_PUBLICITY],
    "purchase": [*_REVIEWS, *_PUBLICITY],
    "voluntary": [_REVIEWS[0], ("review_province", "province", "final")],
    "compliance": [*_REVIEWS, ("finalize", "province", "final")],
}


def _build() -> dict[str, dict[tuple[str, str], Step]]:
    table: dict[str, dict[tuple[str, str], Step]] = {}
    for kind, path in _PATHS.items():
        steps: dict[tuple[str, str], Step] = {}

        def add(action, source, target, role, remark, steps=steps):
            steps[(source, action)] = Step(action, source, target, role, remark)

        add("submit", "draft", "submitted", "enterprise", False)
        add("withdraw", "submitted", "withdrawn", "enterprise", False)
        add("resubmit", "returned", "submitted", "enterprise", False)
        for action, source, target, role in _forward(path):
            add(action, source, target, role, True)
            # A review step can send the filing back, or refuse it, until publicity begins.
            if source != "publicity":
                add("return", source, "returned", role, True)
                # Auditors advise; only an authority refuses (the city, at an auditor's step).
                add("reject", source, "rejected", "city" if role == "auditor" else role, True)
            else:
                # An upheld objection (异议) reopens the filing: back for changes.
                add("return", source, "returned", role, True)
            if target == "publicity":
                # The province withdraws the 公示 (with a reason): the filing goes back to the
                # step before it, in the province's queue; the withdrawn 公示 never becomes final.
                add("withdraw_publicity", "publicity", source, role, True)
        table[kind] = steps
    return table


TRANSITIONS = _build()

# A step taken by one of portal.access.REVIEWERS is a decision: the enterprise gets a notice
# (inbox + mail). Reviewers read a filing once submitted: portal.access.QUEUE.


class TransitionError(Exception):
    """The action is not allowed (status, role or ownership); `message` says why, in Chinese."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class RemarkRequired(TransitionError):
    pass


class Conflict(TransitionError):
    """Someone else changed the filing first (optimistic locking); nothing was done."""


def check_version(filing, expected_version: int | None) -> None:
    """Refuse a step taken on an older version of the page (optimistic locking, first line).

    The second line is the mapper's version_id_col: a writer that passed this check at the same
    moment gets a StaleDataError at flush, which portal/errors.py answers with a 409.
    """
    if expected_version is not None and int(expected_version) != filing.version:
        raise Conflict(_l("该申报已被他人更新，请刷新页面查看最新状态后再操作。"))


def step_for(filing, action: str) -> Step | None:
    return TRANSITIONS.get(filing.kind, {}).get((filing.status, action))


def available_actions(filing, actor) -> list[Step]:
    """The steps this actor may take now (for buttons); ownership included."""
    steps = [
        s for (source, _), s in TRANSITIONS.get(filing.kind, {}).items() if source == filing.status
    ]
    return [s for s in steps if s.role == actor.role and owns(actor, filing)]


def owns(actor, filing) -> bool:
    """Whether the actor acts for this filing: its enterprise, its city, its assigned auditor."""
    if actor is None or not getattr(actor, "is_active", False):
        return False
    role = actor.role
    if role == "enterprise":
        return actor.enterprise_id is not None and actor.enterprise_id == filing.enterprise_id
    if role == "city":
        return actor.division_code is not None and actor.division_code == filing.division_code
    if role == "auditor":
        firm = getattr(filing, "audit_firm_id", None)
        return firm is not None and actor.audit_firm_id == firm
    return role == "province"


def was_submitted(filing) -> bool:
    """Whether the enterprise has submitted the filing at least once (submit sets both)."""
    return (filing.submitted_count or 0) > 0 or filing.submitted_at is not None


def can_see_filing(user, filing) -> bool:
    """THE rule for who may read a filing (pages, queues, versions and attachments).

    The enterprise's own users see it from the first draft. Reviewers (the city of its division,
    the auditor assigned to it, the province, the supervisor) see it only once it has been
    submitted at least once: a draft that was never submitted is the enterprise's alone.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if not getattr(user, "is_active", False):
        return False
    role = user.role
    if role == "enterprise":
        return user.enterprise_id is not None and user.enterprise_id == filing.enterprise_id
    if role not in QUEUE or not was_submitted(filing):
        return False
    if role in ("province", "supervisor"):
        return True
    return owns(user, filing)


def submitted_attachment_ids(filing) -> set[int]:
    """The attachments that went out with a submission (kept in each submitted version)."""
    return {
        item["id"]
        for version in filing.versions
        for item in (version.data or {}).get("attachments", [])
        if isinstance(item, dict) and "id" in item
    }


def can_see_attachment(user, attachment) -> bool:
    """A filing's file: its enterprise sees all; a reviewer sees what was submitted with a
    version, and what the back office attached (an audit report), never a draft's new upload."""
    filing = attachment.filing
    if not can_see_filing(user, filing):
        return False
    if user.role == "enterprise":
        return True
    if attachment.id in submitted_attachment_ids(filing):
        return True
    uploader = (
        db.session.get(User, attachment.uploaded_by_id) if attachment.uploaded_by_id else None
    )
    return uploader is not None and uploader.role in REVIEWERS


def visible_attachments(user, filing) -> list:
    """The filing's current (not removed) files this user may see."""
    return [a for a in filing.attachments if a.removed_at is None and can_see_attachment(user, a)]


def transition(
    filing,
    action: str,
    actor,
    remark: str = "",
    expected_version: int | None = None,
    *,
    prepare: Callable[[Step], None] | None = None,
):
    """Take one step: check the table, role, ownership and version; record event, audit, notice.

    The one place the version a page was shown at is checked. `prepare(step)`, when given, runs
    once every check has passed and before the status changes (the data a step brings with it,
    e.g. an auditor's verified savings, go out in the same version). Then `filing_transitioned`
    is sent (portal/filings/signals.py): the packages that act on a step subscribe to it.
    Flushes, never commits. Raises TransitionError (or its RemarkRequired / Conflict) and changes
    nothing when the step is refused.
    """
    check_version(filing, expected_version)
    step = step_for(filing, action)
    if step is None:
        raise TransitionError(
            _l(
                "当前状态（%(status)s）下不能执行“%(action)s”。",
                status=STATUS_LABELS.get(filing.status, filing.status),
                action=ACTION_LABELS.get(action, action),
            )
        )
    if actor is None or actor.role != step.role:
        raise TransitionError(
            _l("只有%(role)s可以执行此操作。", role=ROLE_LABELS.get(step.role, step.role))
        )
    if not owns(actor, filing):
        raise TransitionError(_l("此申报不在您的办理范围内。"))
    remark = (remark or "").strip()
    if step.remark_required and not remark:
        raise RemarkRequired(_l("请填写办理意见。"))

    if prepare is not None:
        prepare(step)
    before = {"status": filing.status, "version": filing.version}
    now = datetime.now(UTC).replace(tzinfo=None)
    filing.status = step.target
    if step.target in TERMINAL or step.target == "returned":
        filing.decided_at = now
    if action in ("submit", "resubmit"):
        filing.submitted_at = now
    filing.add_event(action, actor, remark, step.source, step.target, now)
    db.session.flush()
    record_event(
        f"filing.{action}",
        "filing",
        filing.id,
        before=before,
        after={"status": filing.status, "version": filing.version},
        remark=remark,
        actor=actor,
    )
    filing_transitioned.send(action, filing=filing, actor=actor, remark=remark, step=step)
    return step
