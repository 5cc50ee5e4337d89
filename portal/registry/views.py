"""Back-office ledger pages: holders and balances, one holder's entries, manual operations."""

from __future__ import annotations

from decimal import Decimal

from flask import abort, flash, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from wtforms.fields.choices import SelectChoice

from portal.access import (
    AUTHORITIES,
    LEDGER,
    REGISTRARS,
    can_see_division,
    can_see_enterprise,
    refuse_object,
    role_required,
)
from portal.enterprises.models import Enterprise
from portal.enterprises.services import InvalidUSCC, normalize_uscc
from portal.extensions import db
from portal.i18n import gettext as _
from portal.i18n import localized
from portal.reference.services import varieties
from portal.registry import bp, services
from portal.registry.forms import (
    ConstructionStartForm,
    CorrectionForm,
    HolderFilterForm,
    LedgerEntryForm,
)
from portal.registry.models import ConstructionObligation, LedgerEntry
from portal.web import current_date, page_of, paginate, parse_int, redirect_after_post, render


def ledger_error_message(error: services.LedgerError) -> str:
    messages = {
        "insufficient": _("余额不足：该操作会使持有人余额为负，已拒绝。"),
        "quantity": _("数量必须是大于零的数字（最多四位小数）。"),
        "holder": _("持有人格式不正确。"),
        "reason": _("请写明事由。"),
        "same_holder": _("转出方和转入方不能相同。"),
        "not_found": _("要更正的分录不存在。"),
    }
    return messages.get(error.code, _("操作被拒绝。"))


def get_holder_or_404(holder_key: str, for_user) -> services.Holder:
    """Parse a holder key and check that the user may see it."""
    try:
        holder = services.Holder.parse(holder_key)
    except services.LedgerError:
        abort(404)
    if holder.kind == "enterprise":
        enterprise = db.session.get(Enterprise, holder.enterprise_id)
        if enterprise is None:
            abort(404)
        if not can_see_enterprise(for_user, enterprise):
            refuse_object()
    elif holder.kind == "city":
        if not can_see_division(for_user, holder.division_code):
            refuse_object()
    elif for_user.role not in ("province", "supervisor"):
        refuse_object()
    return holder


@bp.get("/")
@role_required(LEDGER)
def index():
    """Every enterprise holder with its balance per variety (a city sees its own division)."""
    form = HolderFilterForm(request.args)
    form.validate()
    totals = (
        select(
            LedgerEntry.holder_key,
            LedgerEntry.variety_code,
            func.sum(LedgerEntry.quantity).label("total"),
        )
        .group_by(LedgerEntry.holder_key, LedgerEntry.variety_code)
        .subquery()
    )
    holders = select(LedgerEntry.holder_key).distinct()
    if current_user.role == "city":
        holders = holders.where(
            or_(
                LedgerEntry.enterprise_id.in_(
                    select(Enterprise.id).where(
                        Enterprise.division_code == current_user.division_code
                    )
                ),
                LedgerEntry.holder_key == f"city:{current_user.division_code}",
            )
        )
    if form.q.data:
        like = f"%{form.q.data.strip()}%"
        holders = holders.where(
            LedgerEntry.enterprise_id.in_(
                select(Enterprise.id).where(
                    or_(Enterprise.name.like(like), Enterprise.uscc.like(like))
                )
            )
        )
    holders = holders.order_by(LedgerEntry.holder_key)
    page = paginate(
        db.session,
        holders,
        select(func.count()).select_from(holders.subquery()),
        parse_int(request.args.get("page")),
    )
    page.items = list(page.items)
    keys = page.items
    rows = db.session.execute(select(totals).where(totals.c.holder_key.in_(keys))).all()
    table: dict[str, dict[str, Decimal]] = {key: {} for key in keys}
    for key, variety, total in rows:
        table[key][variety] = Decimal(total or 0)
    return render(
        "registry/index.html",
        "registry/_holders.html",
        form=form,
        page=page,
        table=table,
        labels={key: services.holder_label(key) for key in keys},
        varieties=varieties(),
        breadcrumbs=[(_("注册登记簿"), None)],
    )


@bp.get("/holders/<holder_key>")
@role_required(LEDGER)
def holder(holder_key: str):
    found = get_holder_or_404(holder_key, for_user=current_user)
    stmt = (
        select(LedgerEntry)
        .where(LedgerEntry.holder_key == found.key)
        .order_by(LedgerEntry.id.desc())
    )
    page = page_of(stmt)
    correction = CorrectionForm() if current_user.role == "province" else None
    return render(
        "registry/holder.html",
        "registry/_entries.html",
        holder=found,
        holder_name=services.holder_label(found.key),
        balances=services.holder_balances(found),
        page=page,
        correction=correction,
        varieties=varieties(),
        breadcrumbs=[
            (_("注册登记簿"), url_for(".index")),
            (services.holder_label(found.key), None),
        ],
    )


def _resolve_holder(raw: str) -> services.Holder | None:
    """A USCC names an enterprise; `province` and `city:410100` name the pools."""
    raw = (raw or "").strip()
    try:
        uscc = normalize_uscc(raw)
    except InvalidUSCC:
        try:
            return services.Holder.parse(raw)
        except services.LedgerError:
            return None
    enterprise = db.session.scalar(select(Enterprise).where(Enterprise.uscc == uscc))
    return services.Holder("enterprise", enterprise_id=enterprise.id) if enterprise else None


@bp.route("/entries/new", methods=["GET", "POST"])
@role_required(REGISTRARS)
def new_entry():
    form = LedgerEntryForm()
    form.variety_code.choices = [SelectChoice(v.code, localized(v)) for v in varieties()]
    if form.validate_on_submit():
        target = _resolve_holder(form.holder.data)
        if target is None:
            form.holder.errors.append(_("找不到这个持有人：请填写已登记企业的统一社会信用代码。"))
        else:
            operation = {
                "issue": services.issue_indicators,
                "cancel": services.cancel_indicators,
                "take_back": services.take_back_indicators,
            }[form.kind.data]
            try:
                operation(
                    target,
                    form.variety_code.data,
                    form.quantity.data,
                    form.reason.data,
                    source_type="manual",
                    actor=current_user,
                )
            except services.LedgerError as error:
                form.quantity.errors.append(ledger_error_message(error))
            else:
                db.session.commit()
                flash(_("已登记。"), "success")
                return redirect_after_post(url_for(".holder", holder_key=target.key))
    return render(
        "registry/new_entry.html",
        form=form,
        breadcrumbs=[(_("注册登记簿"), url_for(".index")), (_("手工登记"), None)],
    )


@bp.post("/holders/<holder_key>/corrections")
@role_required(REGISTRARS)
def correct(holder_key: str):
    found = get_holder_or_404(holder_key, for_user=current_user)
    form = CorrectionForm()
    if form.validate_on_submit():
        entry = db.session.get(LedgerEntry, int(form.entry_id.data))
        if entry is None or entry.holder_key != found.key:
            abort(404)
        try:
            services.correct_entry(entry.id, form.delta.data, form.reason.data, actor=current_user)
        except services.LedgerError as error:
            flash(ledger_error_message(error), "error")
        else:
            db.session.commit()
            flash(_("更正已登记，原分录保留。"), "success")
    else:
        flash(_("更正未登记：请填写非零的更正数量和更正原因。"), "error")
    return redirect_after_post(url_for(".holder", holder_key=found.key))


# --- the 2-year construction-start rule ------------------------------------------------------------


@bp.get("/construction")
@role_required(LEDGER)
def construction():
    """Projects whose indicators must be used to start construction within 2 years."""
    stmt = select(ConstructionObligation).join(
        Enterprise, Enterprise.id == ConstructionObligation.enterprise_id
    )
    if current_user.role == "city":
        stmt = stmt.where(Enterprise.division_code == current_user.division_code)
    page = page_of(stmt, ConstructionObligation.start_deadline, ConstructionObligation.id)
    return render(
        "registry/construction.html",
        "registry/_construction_rows.html",
        page=page,
        today=current_date(),
        form=ConstructionStartForm(),
        breadcrumbs=[(_("注册登记簿"), url_for(".index")), (_("两年开工期限"), None)],
    )


@bp.post("/construction/<int:obligation_id>/start")
@role_required(AUTHORITIES)
def record_start(obligation_id: int):
    obligation = db.session.get(ConstructionObligation, obligation_id)
    if obligation is None:
        abort(404)
    if not can_see_enterprise(current_user, db.session.get(Enterprise, obligation.enterprise_id)):
        refuse_object()
    form = ConstructionStartForm()
    if not form.validate_on_submit():
        flash(_("请填写开工日期（年-月-日）。"), "error")
    else:
        try:
            services.record_construction_start(obligation, form.started_on.data, actor=current_user)
        except services.LedgerError:
            flash(_("指标已被收回，不能再登记开工。"), "error")
        else:
            db.session.commit()
            flash(_("已登记开工日期。"), "success")
    return redirect_after_post(url_for(".construction"))
