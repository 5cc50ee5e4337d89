"""Filing rules: drafts that never lose work, submission, withdrawal, computations, holdings.

Functions flush and never commit. Status changes go through workflow.transition() only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from flask import abort, has_request_context, url_for
from sqlalchemy import or_, select, union
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from portal.access import REVIEWERS
from portal.accounts.models import AuditFirm, User
from portal.accounts.services import post_notice
from portal.audit.services import record_event
from portal.benchmarks import services as benchmarks
from portal.extensions import db
from portal.filings import workflow
from portal.filings.forms import FORMS
from portal.filings.models import (
    ENTERPRISE_PURPOSES,
    ClosureClaim,
    ComplianceFiling,
    Filing,
    FilingAttachment,
    FilingCorrection,
    FilingEvent,
    FilingVersion,
    ProjectPurchase,
    RetrofitClaim,
    VoluntaryApplication,
)
from portal.filings.signals import filing_transitioned
from portal.i18n import Message, fmt_date, fmt_quantity
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.registry import services as registry
from portal.registry.models import Holding
from portal.uploads import store_upload
from portal.web import current_date

MODELS = {
    "voluntary": VoluntaryApplication,
    "retrofit": RetrofitClaim,
    "closure": ClosureClaim,
    "compliance": ComplianceFiling,
    "purchase": ProjectPurchase,
}
VARIETIES = ("energy", "coal")
CONSTRUCTION_YEARS = 2
# Which attachment purposes each kind accepts; the first is the default.
PURPOSES = {
    "voluntary": ("evidence",),
    "retrofit": ("evidence",),
    "closure": ("evidence",),
    "compliance": ("verification_report", "evidence"),
    "purchase": ("energy_review", "evidence"),
}
# Before submission the filing must carry at least one file of this purpose.
REQUIRED_PURPOSE = {
    "retrofit": "evidence",
    "closure": "evidence",
    "compliance": "verification_report",
    # A 两高 project's 节能审查意见 (the energy-saving review opinion on its design).
    "purchase": "energy_review",
}
# Timeline entries that are not status changes: a reassigned audit firm, a corrected quantity.
ASSIGN_ACTION = "assign_auditor"
CORRECT_ACTION = "correct"
# The quantities a reviewer may lower (核减), per kind: field → its variety (None: the filing's
# variety_code). They are the quantities a final decision issues.
CORRECTABLE = {
    "retrofit": {"verified_energy_savings": "energy", "verified_coal_savings": "coal"},
    "closure": {"prior_year_energy": "energy", "prior_year_coal": "coal"},
    "purchase": {"required_quantity": None},
}
OPEN_STATUSES = tuple(
    s for s in workflow.STATUS_LABELS if s not in workflow.TERMINAL and s != "draft"
)


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _url(endpoint: str, **values) -> str:
    """A path for notices; empty outside a request (e.g. the demo loader)."""
    if not has_request_context():
        return ""
    return url_for(endpoint, **values)


# ---------------------------------------------------------------- loading and access


def can_view(user, filing: Filing) -> bool:
    """Who may read a filing and its attachments: workflow.can_see_filing decides."""
    return workflow.can_see_filing(user, filing)


def get_filing_or_404(filing_id: int, for_user) -> Filing:
    """The filing, or 404 when it does not exist or the user may not see it (no existence leak)."""
    filing = db.session.get(Filing, filing_id)
    if filing is None or not can_view(for_user, filing):
        abort(404)
    return filing


def get_attachment_or_404(attachment_id: int, for_user) -> FilingAttachment:
    attachment = db.session.get(FilingAttachment, attachment_id)
    if attachment is None or not workflow.can_see_attachment(for_user, attachment):
        abort(404)
    return attachment


def filings_of(enterprise_id: int) -> list[Filing]:
    return list(
        db.session.scalars(
            select(Filing)
            .where(Filing.enterprise_id == enterprise_id)
            .order_by(Filing.updated_at.desc(), Filing.id.desc())
        )
    )


def open_filings(enterprise_id: int) -> list[Filing]:
    return list(
        db.session.scalars(
            select(Filing)
            .where(Filing.enterprise_id == enterprise_id, Filing.status.not_in(workflow.TERMINAL))
            .order_by(Filing.updated_at.desc(), Filing.id.desc())
        )
    )


def recent_decisions(enterprise_id: int, limit: int = 10) -> list[FilingEvent]:
    return list(
        db.session.scalars(
            select(FilingEvent)
            .join(Filing, FilingEvent.filing_id == Filing.id)
            .where(
                Filing.enterprise_id == enterprise_id,
                FilingEvent.actor_role.in_(REVIEWERS),
            )
            .order_by(FilingEvent.id.desc())
            .limit(limit)
        )
    )


def approved_audit_firms() -> list[AuditFirm]:
    return list(
        db.session.scalars(
            select(AuditFirm).where(AuditFirm.is_approved.is_(True)).order_by(AuditFirm.name)
        )
    )


# ---------------------------------------------------------------- forms and drafts


def build_form(filing: Filing, formdata=None):
    """The kind's form, filled from `formdata`, else from what was last typed, else the record."""
    form_class = FORMS[filing.kind]
    kwargs = {"meta": {"csrf": False}}
    if filing.kind == "retrofit":
        kwargs["audit_firms"] = approved_audit_firms()
    if filing.kind == "purchase":
        kwargs["benchmarks"] = benchmarks.in_force()
    if formdata is None:
        formdata = MultiDict(filing.draft_data or {})
    form = form_class(formdata=formdata, **kwargs)
    if filing.kind == "retrofit" and auditor_assigned(filing):
        # save_draft keeps the assigned firm whatever is posted; the field says so.
        form.audit_firm_id.render_kw = {"disabled": True}
        form.audit_firm_id.description = _("审核部门已指定第三方审核机构，企业不能更改。")
    return form


def _field_names(form) -> list[str]:
    return [f.name for f in form]


def _raw(field) -> str:
    return str(field.raw_data[0]) if field.raw_data else ""


def lenient_errors(form) -> dict[str, list[str]]:
    """Errors worth showing while typing: everything except "required" on an empty field."""
    form.validate()
    errors = {}
    for field in form:
        if field.errors and _raw(field).strip():
            errors[field.name] = list(field.errors)
    return errors


def strict_errors(filing: Filing, form) -> dict[str, list[str]]:
    """Every reason the filing cannot be submitted yet, by field name ("" for the whole form)."""
    form.validate()
    errors = {field.name: list(field.errors) for field in form if field.errors}
    for energy, coal in getattr(form, "variety_pairs", ()):
        if (
            form[energy].data is None
            and form[coal].data is None
            and not (errors.get(energy) or errors.get(coal))
        ):
            message = _("能耗和煤炭两项至少填写一项（不涉及的品种可填 0）。")
            errors.setdefault(energy, []).append(message)
    if filing.kind == "voluntary" and filing.enterprise.in_carbon_trading:
        errors.setdefault("in_carbon_trading", []).append(
            _(
                "根据登记信息，本单位已纳入碳排放权交易范围，不能参与用能权交易（实施方案 二（一）3）。"
            )
        )
    if (
        filing.kind == "compliance"
        and filing.period_year
        and not compliance_obligation(filing.enterprise_id, filing.period_year)
    ):
        errors.setdefault("period_year", []).append(
            _(
                "本单位在该履约期没有履约义务（未获初始分配，且无有效的自愿参与），不能报送该年度履约。"
            )
        )
    if (
        filing.kind == "purchase"
        and form.variety_code.data == "coal"
        and form.feedstock_coal.data is None
        and not errors.get("feedstock_coal")
    ):
        errors.setdefault("feedstock_coal", []).append(
            _("申购煤炭指标时请填写原料煤用量（不涉及的填 0）。")
        )
    purpose = REQUIRED_PURPOSE.get(filing.kind)
    if purpose and not any(
        a.purpose == purpose and a.removed_at is None for a in filing.attachments
    ):
        errors.setdefault("file", []).append(_("请上传%(what)s。", what=purpose_label(purpose)))
    return errors


def _voluntary_approved_by(year: int):
    """Approved voluntary applications decided before the period's year ended."""
    return select(VoluntaryApplication.enterprise_id).where(
        VoluntaryApplication.status == "final",
        VoluntaryApplication.decided_at < datetime(year + 1, 1, 1),
    )


def _allocated_in(year: int):
    return select(Holding.enterprise_id).where(
        Holding.period_year == year, Holding.enterprise_id.is_not(None), Holding.allocated > 0
    )


def obligated_enterprise_ids(year: int) -> set[int]:
    """The units with a compliance obligation in a period.

    A unit owes compliance for a period when the province allocated it indicators for that period
    (初始分配: the key units, 重点用能单位), or when its voluntary participation was approved before
    the period ended. A withdrawn, returned or refused application creates no obligation.
    """
    return set(db.session.scalars(_allocated_in(year))) | set(
        db.session.scalars(_voluntary_approved_by(year))
    )


def owes_compliance(year: int, enterprise_id):
    """SQL: whether the unit `enterprise_id` (a value, or a column to correlate with) owes
    compliance for a period (see obligated_enterprise_ids)."""
    return or_(
        _allocated_in(year).where(Holding.enterprise_id == enterprise_id).exists(),
        _voluntary_approved_by(year)
        .where(VoluntaryApplication.enterprise_id == enterprise_id)
        .exists(),
    )


def obligated_ids(year: int):
    """A select of the ids of the units that owe compliance for a period, for `id IN (…)`."""
    return union(_allocated_in(year), _voluntary_approved_by(year))


def compliance_obligation(enterprise_id: int, year: int) -> bool:
    """Whether a unit owes compliance for a period (see obligated_enterprise_ids)."""
    return bool(db.session.scalar(select(owes_compliance(year, enterprise_id))))


def purpose_label(purpose: str) -> str:
    return {
        "evidence": _("证明材料"),
        "verification_report": _("核查报告"),
        "audit_report": _("审核报告"),
        "opinion": _("审核意见"),
        "energy_review": _("节能审查意见"),
    }.get(purpose, purpose)


def save_draft(filing: Filing, formdata, actor: User) -> dict[str, list[str]]:
    """Store what was typed, valid or not; copy each valid value to its column. Return errors."""
    if not filing.is_editable:
        raise workflow.TransitionError(_("申报已提交，不能再修改。"))
    names = _field_names(build_form(filing, MultiDict()))
    merged = dict(filing.draft_data or {})
    merged.update({name: str(formdata.get(name, ""))[:10000] for name in names if name in formdata})
    if auditor_assigned(filing):
        # The back office chose the firm: the enterprise's form (its first choice) cannot undo it.
        merged["audit_firm_id"] = str(filing.audit_firm_id)
    filing.draft_data = merged
    form = build_form(filing, MultiDict(merged))
    errors = lenient_errors(form)
    for field in form:
        if field.name in errors:
            value = None
        else:
            value = field.data
        if field.name == "audit_firm_id":
            value = int(value) if value and str(value).isdigit() else None
        elif value is None and field.type in ("StringField", "TextAreaField"):
            value = ""
        elif isinstance(value, str):
            value = value.strip()
            if field.name in ("variety_code", "product_code"):
                value = value or None
        setattr(filing, field.name, value)
    if filing.kind == "purchase":
        apply_benchmark(filing, form)
    filing.updated_at = now()
    db.session.flush()
    return errors


def auditor_assigned(filing: Filing) -> bool:
    """Whether the back office has (re)assigned the filing's audit firm: then it stays, across
    returns and resubmissions, until the back office assigns another one."""
    return filing.kind == "retrofit" and any(e.action == ASSIGN_ACTION for e in filing.events)


def create_filing(kind: str, actor: User) -> Filing:
    """Open an empty draft for the actor's enterprise: a draft exists before the first keystroke."""
    if kind not in MODELS:
        abort(404)
    filing = _new_draft(kind, actor, action="create")
    record_event("filing.create", "filing", filing.id, after={"kind": kind}, actor=actor)
    return filing


def _new_draft(kind: str, actor: User, *, action: str, remark: str = "", copied_from=None):
    """A draft of the actor's enterprise, with the first step of its timeline."""
    enterprise = actor.enterprise
    filing = MODELS[kind](
        enterprise_id=enterprise.id,
        division_code=enterprise.division_code,
        created_by_id=actor.id,
        status="draft",
        draft_data={},
        copied_from_id=copied_from.id if copied_from is not None else None,
    )
    db.session.add(filing)
    db.session.flush()
    filing.add_event(action, actor, remark, "", "draft", now())
    db.session.flush()
    return filing


# ---------------------------------------------------------------- copying a closed filing

# A filing that ended without a decision in its favour can start again as a new draft. A filing
# that is final stays as it is: its indicators are in the registry, and a new claim starts empty.
COPYABLE = frozenset({"withdrawn", "rejected"})


def can_copy(user, filing: Filing) -> bool:
    """Whether the user may copy the filing into a new draft: its own enterprise, once it ended
    withdrawn or refused (reading it is workflow.can_see_filing's decision, checked first)."""
    return (
        getattr(user, "role", None) == "enterprise"
        and workflow.can_see_filing(user, filing)
        and workflow.owns(user, filing)
        and filing.status in COPYABLE
    )


def provenance(filing: Filing, for_user) -> dict:
    """The filing this one was copied from, and the copies made of it, as far as the user may see
    them (a reviewer never learns of a draft that was not submitted)."""
    source = filing.copied_from
    copies = db.session.scalars(
        select(Filing).where(Filing.copied_from_id == filing.id).order_by(Filing.id)
    )
    return {
        "source": source if source is not None and can_view(for_user, source) else None,
        "copies": [c for c in copies if can_view(for_user, c)],
    }


def _form_value(value) -> str:
    """A stored value as the kind's form reads it back (是/否 as yes/no, dates as 年-月-日)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value)


def formdata_of(filing: Filing) -> MultiDict:
    """The filing's fields as form data: the stored values, else what was typed."""
    typed = filing.draft_data or {}
    data = {}
    for name in _field_names(build_form(filing, MultiDict())):
        value = getattr(filing, name, None)
        data[name] = _form_value(value) if value is not None else str(typed.get(name, ""))
    return MultiDict(data)


def _enterprise_files(filing: Filing) -> list[FilingAttachment]:
    """The current files the enterprise itself attached (not an auditor's report or an opinion)."""
    files = []
    for attachment in filing.attachments:
        if attachment.removed_at is not None or attachment.purpose not in PURPOSES[filing.kind]:
            continue
        uploader = (
            db.session.get(User, attachment.uploaded_by_id) if attachment.uploaded_by_id else None
        )
        if uploader is None or uploader.role == "enterprise":
            files.append(attachment)
    return files


def copy_filing(source: Filing, actor: User) -> Filing:
    """Open a new draft with the fields and files of a withdrawn or refused filing.

    The files are not stored again: the copy's attachments point at the same content (SHA-256).
    The new draft names its source, its timeline starts with the copy, and the audit log has it.
    """
    if not can_copy(actor, source):
        raise workflow.TransitionError(_("只有本企业已撤回或不予通过的申报可以复制为新草稿。"))
    draft = _new_draft(source.kind, actor, action="copy", copied_from=source)
    save_draft(draft, formdata_of(source), actor)
    copied = []
    for original in _enterprise_files(source):
        attachment = _attachment(draft, original.purpose, original, actor)
        db.session.add(attachment)
        copied.append(attachment)
    db.session.flush()
    record_event(
        "filing.copy",
        "filing",
        draft.id,
        before={"source": source.id, "status": source.status},
        after={
            "kind": draft.kind,
            "attachments": [
                {"id": a.id, "sha256": a.sha256, "name": a.original_name} for a in copied
            ],
        },
        actor=actor,
    )
    return draft


def delete_draft(filing: Filing, actor: User) -> None:
    """Discard a draft that was never submitted."""
    if filing.status != "draft" or filing.submitted_count:
        raise workflow.TransitionError(_("只有从未提交过的草稿可以删除。"))
    record_event(
        "filing.delete_draft", "filing", filing.id, before={"kind": filing.kind}, actor=actor
    )
    db.session.delete(filing)
    db.session.flush()


def snapshot(filing: Filing) -> dict:
    """The fields as they are, as JSON-safe strings, with the files attached at this moment."""
    form = build_form(filing)
    data = {}
    for field in form:
        value = getattr(filing, field.name, None)
        data[field.name] = None if value is None else str(value)
    data["attachments"] = [
        {"id": a.id, "name": a.original_name, "sha256": a.sha256, "purpose": a.purpose}
        for a in filing.attachments
        if a.removed_at is None
    ]
    if filing.kind == "purchase":
        data["required_quantity"] = (
            None if filing.required_quantity is None else str(filing.required_quantity)
        )
        row = benchmarks.get_benchmark(filing.benchmark_id)
        data["benchmark"] = None if row is None else _benchmark_snapshot(row)
    return data


def _benchmark_snapshot(row) -> dict:
    """The benchmark row a submitted version was computed with, as it reads then."""
    return {
        "id": row.id,
        "product_code": row.product_code,
        "product_name": row.product_name,
        "basis": row.basis,
        "value": str(row.value),
        "value_unit": row.value_unit,
        "output_unit": row.output_unit,
        "source": row.source,
        "effective_on": row.effective_on.isoformat(),
    }


def submit_filing(
    filing: Filing,
    actor: User,
    expected_version: int | None = None,
    expected_benchmark_id: int | None = None,
):
    """Submit (or resubmit after a return): check everything, keep a version, lock the filing.

    `expected_benchmark_id`: the benchmark row the confirmation page showed (a purchase); a value
    recorded since then refuses the submission, so nobody confirms a quantity they did not see."""
    errors = strict_errors(filing, build_form(filing))
    if errors:
        raise workflow.TransitionError(_("申报还有未填或有误的内容，请返回修改。"))
    action = "resubmit" if filing.status == "returned" else "submit"
    if filing.kind == "purchase":
        # The row in force on the day of (re)submission; the filing keeps it from then on.
        apply_benchmark(filing, build_form(filing))
        if expected_benchmark_id is not None and filing.benchmark_id != expected_benchmark_id:
            raise workflow.TransitionError(
                _("能效标杆值在您确认期间已调整，需申购的指标已重新计算，请核对后再提交。")
            )
    step = workflow.transition(filing, action, actor, expected_version=expected_version)
    filing.submitted_count = (filing.submitted_count or 0) + 1
    db.session.add(
        FilingVersion(
            filing_id=filing.id,
            number=filing.submitted_count,
            data=snapshot(filing),
            submitted_by_id=actor.id,
            created_at=now(),
        )
    )
    db.session.flush()
    return step


def withdraw_filing(filing: Filing, actor: User, remark: str = "", expected_version=None):
    return workflow.transition(
        filing, "withdraw", actor, remark=remark, expected_version=expected_version
    )


def _decision_taken(_action, filing, actor, remark, step) -> None:
    """A back-office step: the enterprise is told (inbox and mail)."""
    if step.role in REVIEWERS:
        notify_decision(filing, step, remark)


# First, before what the step sets off in other packages (the order transition() always had).
filing_transitioned.connect(_decision_taken, order=-1)


def notify_decision(filing: Filing, step, remark: str) -> None:
    """Tell the enterprise about a back-office decision: inbox and mail."""
    status = workflow.STATUS_LABELS.get(step.target, step.target)
    post_notice(
        filing.enterprise_id,
        Message(_l("申报 %(number)s：%(status)s"), number=filing.number, status=status),
        Message(_l("办理意见：%(remark)s"), remark=Message.remark(remark)) if remark else "",
        link=_url("filings.detail", filing_id=filing.id),
    )


# ---------------------------------------------------------------- attachments


def current_attachment_with(filing: Filing, sha256: str) -> FilingAttachment | None:
    """The enterprise's current (not removed) attachment of the filing with this content, if any."""
    return db.session.scalar(
        select(FilingAttachment).where(
            FilingAttachment.filing_id == filing.id,
            FilingAttachment.sha256 == sha256,
            FilingAttachment.removed_at.is_(None),
            FilingAttachment.purpose.in_(ENTERPRISE_PURPOSES),
        )
    )


def attach_upload(
    filing: Filing, upload, purpose: str, actor: User
) -> tuple[FilingAttachment, bool]:
    """Attach a checked upload (portal.uploads) and store its bytes outside static/.

    The enterprise's files hold a given content once per filing: when one of its current
    attachments already has the same SHA-256, that one is returned with False and nothing is stored
    or recorded. True: a new attachment. A back-office file (audit report, opinion) is always added.
    """
    if purpose not in PURPOSES[filing.kind] and actor.role == "enterprise":
        purpose = PURPOSES[filing.kind][0]
    if actor.role == "enterprise" and not filing.is_editable:
        raise workflow.TransitionError(_("申报已提交，不能再添加附件。"))
    once = purpose in ENTERPRISE_PURPOSES
    existing = current_attachment_with(filing, upload.sha256) if once else None
    if existing is not None:
        return existing, False
    store_upload(upload)
    attachment = _attachment(filing, purpose, upload, actor)
    try:
        # Two uploads of one file at once: the unique index lets one in; the other finds it.
        with db.session.begin_nested():
            db.session.add(attachment)
    except IntegrityError:
        existing = current_attachment_with(filing, upload.sha256)
        if existing is None:
            raise
        return existing, False
    record_event(
        "filing.attach",
        "filing",
        filing.id,
        after={"attachment": attachment.id, "sha256": upload.sha256, "name": upload.original_name},
        actor=actor,
    )
    return attachment, True


def _attachment(filing: Filing, purpose: str, file, actor) -> FilingAttachment:
    """A new attachment row for a stored file (a checked upload, or another filing's file)."""
    stored = {
        key: getattr(file, key) for key in ("sha256", "size", "content_type", "original_name")
    }
    return FilingAttachment(
        filing_id=filing.id, purpose=purpose, uploaded_by_id=actor.id, created_at=now(), **stored
    )


def add_attachment(filing: Filing, upload, purpose: str, actor: User) -> FilingAttachment:
    """Attach a checked upload; an identical file already attached is returned, not added again."""
    return attach_upload(filing, upload, purpose, actor)[0]


def remove_attachment(attachment: FilingAttachment, actor: User) -> None:
    if not attachment.filing.is_editable:
        raise workflow.TransitionError(_("申报已提交，不能再删除附件。"))
    attachment.removed_at = now()
    record_event(
        "filing.detach",
        "filing",
        attachment.filing_id,
        before={"attachment": attachment.id},
        actor=actor,
    )


# ---------------------------------------------------------------- computations


def apply_benchmark(filing: ProjectPurchase, form) -> None:
    """Name the chosen product's row in force, copy what it says about the project, and compute
    the quantity from it (benchmarks.services.requirement); None while a part is missing or out
    of range. A purchase filed before the table keeps what it typed until a product is chosen."""
    row = form.benchmark if filing.product_code else None
    filing.benchmark_id = row.id if row is not None else None
    if row is not None:
        filing.industry_code = row.industry_code
        filing.benchmark_basis = row.basis
        filing.output_unit = row.output_unit
        filing.benchmark = None  # the row holds the value
    feedstock = filing.feedstock_coal if filing.variety_code == "coal" else None
    need = benchmarks.requirement(row, filing.designed_output, filing.variety_code, feedstock)
    filing.required_quantity = need.quantity if need is not None else None


def construction_deadline(granted_on: date) -> date:
    """The last day to start construction: 2 years after the indicators are granted."""
    try:
        return granted_on.replace(year=granted_on.year + CONSTRUCTION_YEARS)
    except ValueError:  # 29 February → 28 February
        return granted_on.replace(year=granted_on.year + CONSTRUCTION_YEARS, day=28)


@dataclass
class VarietyBalance:
    variety: str
    holdings: Decimal | None
    actual: Decimal | None

    @property
    def balance(self) -> Decimal | None:
        if self.holdings is None or self.actual is None:
            return None
        return self.holdings - self.actual

    @property
    def shortfall(self) -> Decimal | None:
        balance = self.balance
        if balance is None:
            return None
        return -balance if balance < 0 else Decimal("0")


def compliance_balance(holdings: dict | None, actual: dict) -> list[VarietyBalance]:
    """Per variety: holdings, actual, balance and shortfall (compliant when actual ≤ holdings)."""
    rows = []
    for variety in VARIETIES:
        value = actual.get(variety)
        if value is None:
            continue
        held = None if holdings is None else holdings.get(variety, Decimal("0"))
        rows.append(VarietyBalance(variety, held, value))
    return rows


@dataclass
class Holdings:
    balances: dict | None
    source: str


def _registry_balances(enterprise_id: int) -> dict | None:
    return {k: Decimal(v) for k, v in registry.balances(enterprise_id).items()}


def holdings_for(enterprise_id: int) -> Holdings:
    """Holdings per variety from the registry ledger, or None (and why) before it is live."""
    balances = _registry_balances(enterprise_id)
    if balances is not None:
        return Holdings(balances, _("来源：注册登记系统指标台账。"))
    return Holdings(None, "")


def compliance_holdings(enterprise_id: int, year: int | None) -> tuple[dict | None, str]:
    """Holdings to set against a compliance filing, and where they come from."""
    return _registry_balances(enterprise_id), _("持有量来自注册登记系统指标台账。")


def computed_for(filing: Filing) -> dict:
    """What the page shows beside the form: balances, required indicators, deadlines."""
    if filing.kind == "compliance":
        holdings, source = compliance_holdings(filing.enterprise_id, filing.period_year)
        actual = {"energy": filing.actual_energy, "coal": filing.actual_coal}
        return {"rows": compliance_balance(holdings, actual), "source": source}
    if filing.kind == "purchase":
        granted = filing.granted_on
        row = benchmarks.get_benchmark(filing.benchmark_id)
        feedstock = filing.feedstock_coal if filing.variety_code == "coal" else None
        return {
            "required": filing.required_quantity,
            "variety": filing.variety_code,
            "granted_on": granted,
            "deadline": construction_deadline(granted or current_date()),
            "benchmark": row,
            "output": filing.designed_output,
            "need": benchmarks.requirement(
                row, filing.designed_output, filing.variety_code, feedstock
            ),
            # Filed before the table: the benchmark the enterprise typed, per unit of output.
            "typed_benchmark": filing.benchmark if row is None else None,
            "output_unit": filing.output_unit,
            "is_grid_coal_unit": filing.is_grid_coal_unit,
        }
    return {}


# ---------------------------------------------------------------- corrections (核减)


def correctable_fields(filing: Filing) -> dict[str, str]:
    """field → variety code of the quantities of this filing a reviewer may lower."""
    fields = CORRECTABLE.get(filing.kind, {})
    return {name: variety or (filing.variety_code or "energy") for name, variety in fields.items()}


def corrections_of(filing: Filing) -> list[FilingCorrection]:
    return list(
        db.session.scalars(
            select(FilingCorrection)
            .where(FilingCorrection.filing_id == filing.id)
            .order_by(FilingCorrection.id)
        )
    )


def current_corrections(filing: Filing) -> dict[str, FilingCorrection]:
    """field → the correction in force: the latest one, while the field keeps the value it lowered."""
    current: dict[str, FilingCorrection] = {}
    for correction in corrections_of(filing):
        current[correction.field] = correction
    return {
        name: correction
        for name, correction in current.items()
        if getattr(filing, name, None) is not None
        and Decimal(getattr(filing, name)) == Decimal(correction.original)
    }


def effective_quantity(filing: Filing, field: str) -> Decimal | None:
    """The quantity later steps use: the corrected value when one is in force, else the filed one."""
    correction = current_corrections(filing).get(field)
    if correction is not None:
        return Decimal(correction.corrected)
    value = getattr(filing, field, None)
    return None if value is None else Decimal(value)


# ---------------------------------------------------------------- what was submitted, shown


def shown_value(form, name: str, value) -> str:
    """A stored or snapshotted value as the enterprise's form shows it: choices by their label,
    是/否, dates and quantities formatted; "—" when empty."""
    if value in (None, "", "None"):
        return "—"
    field = form[name] if name in form else None
    if field is None:
        return str(value)
    if field.type == "YesNoField":
        if value in (True, "True", "yes"):
            return _("是")
        if value in (False, "False", "no"):
            return _("否")
        return "—"
    if field.type == "ChoiceField":
        labels = {str(c.value): str(c.label) for c in field.choices or []}
        return labels.get(str(value), str(value))
    if field.type == "QuantityField":
        try:
            return fmt_quantity(Decimal(str(value)))
        except ArithmeticError:
            return str(value)
    if field.type == "DayField":
        try:
            return fmt_date(date.fromisoformat(str(value)))
        except ValueError:
            return str(value)
    return str(value)


def _shown_quantity(value) -> str:
    return "—" if value in (None, "", "None") else fmt_quantity(Decimal(str(value)))


@dataclass
class Change:
    name: str
    label: str
    before: str
    after: str


def version_changes(filing: Filing, version) -> list[Change]:
    """What changed in `version` against the submission before it, field by field (files too)."""
    earlier = [v for v in filing.versions if v.number < version.number]
    if not earlier:
        return []
    before, after = earlier[-1].data or {}, version.data or {}
    form = build_form(filing, MultiDict())
    changes = []
    for field in form:
        old, new = before.get(field.name), after.get(field.name)
        if (old or None) != (new or None):
            changes.append(
                Change(
                    field.name,
                    str(field.label.text),
                    shown_value(form, field.name, old),
                    shown_value(form, field.name, new),
                )
            )
    if before.get("required_quantity") != after.get("required_quantity"):
        changes.append(
            Change(
                "required_quantity",
                _("需申购的指标"),
                _shown_quantity(before.get("required_quantity")),
                _shown_quantity(after.get("required_quantity")),
            )
        )
    old_files = {a["sha256"]: a["name"] for a in before.get("attachments", [])}
    new_files = {a["sha256"]: a["name"] for a in after.get("attachments", [])}
    if old_files.keys() != new_files.keys():
        changes.append(
            Change(
                "attachments",
                _("附件"),
                "、".join(sorted(old_files.values())) or "—",
                "、".join(sorted(new_files.values())) or "—",
            )
        )
    return changes
