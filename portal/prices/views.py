"""有偿使用 pages: the public reference prices, and the back office's prices, payment notices and
receipts (the province) and reserve offers (the city of the unit decides). Thin: load → authorize
→ form → service → redirect or render."""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from portal.access import (
    PAYMENT_CLERKS,
    PRICE_SETTERS,
    READERS,
    RESERVE_DECIDERS,
    RESERVE_READERS,
    can_see_division,
    refuse_object,
    role_required,
)
from portal.extensions import db
from portal.i18n import gettext as _
from portal.i18n import localized
from portal.prices import admin_bp, bp, services
from portal.prices.forms import ReceiptForm, ReferencePriceForm, ReissueForm, ReserveDecisionForm
from portal.prices.models import NOTICE_STATUSES, OFFER_STATUSES, ReserveOffer
from portal.reference.models import Category
from portal.reference.services import varieties
from portal.web import current_date, page_of, redirect_after_post, render

# --- public -----------------------------------------------------------------------------------------


@bp.get("/prices")
def index():
    return render(
        "prices/index.html",
        tables=services.price_tables(),
        today=current_date(),
        due_days=services.due_days(),
        breadcrumbs=[(_("参考价格"), None)],
    )


# --- back office: reference prices ----------------------------------------------------------------


def _crumbs(*items):
    return [(_("后台"), url_for("review.index")), *items]


def _price_form(data=None) -> ReferencePriceForm:
    form = ReferencePriceForm(data) if data is not None else ReferencePriceForm()
    form.variety_code.choices = [SelectChoice(v.code, localized(v)) for v in varieties()]
    categories = db.session.scalars(select(Category).order_by(Category.sort_order))
    form.category_code.choices = [SelectChoice(c.code, localized(c)) for c in categories]
    if data is None and not form.category_code.data:
        form.category_code.data = services.PURCHASE_CATEGORY
    return form


def _render_prices(form=None, status: int = 200):
    return render(
        "prices/admin_prices.html",
        form=form
        if form is not None
        else (_price_form() if current_user.role in PRICE_SETTERS else None),
        tables=services.price_tables(),
        breadcrumbs=_crumbs((_("参考价格"), None)),
        status_code=status,
    )


@admin_bp.get("/prices")
@role_required(READERS)
def prices():
    return _render_prices()


@admin_bp.post("/prices")
@role_required(PRICE_SETTERS)
def add_price():
    form = _price_form(request.form)
    if form.validate_on_submit():
        try:
            row = services.add_reference_price(
                form.variety_code.data,
                form.category_code.data,
                form.price.data,
                form.effective_from.data,
                form.source.data,
                actor=current_user,
            )
        except services.PriceRefusal as refused:
            form = _refused(refused, "source", _price_form, request.form)
            return _render_prices(form, 400)
        db.session.commit()
        flash(
            _("已录入参考价格，自 %(day)s 起生效。", day=row.effective_from.isoformat()), "success"
        )
        return redirect_after_post(url_for(".prices"))
    return _render_prices(form, 400)


def _refused(refused, fallback: str, form_class, *args):
    """After a service refused a valid form: roll back, and the posted form again with the refusal
    next to its field (`fallback` where the field is not on the form)."""
    db.session.rollback()
    form = form_class(*args)
    form.validate()
    getattr(form, refused.field, form[fallback]).errors = [refused.message]
    return form


def _status_filter(statuses, unknown: str) -> str | None:
    """The queue's status filter from the query string; 400 for a status it does not have."""
    status = request.args.get("status") or None
    if status is not None and status not in statuses:
        abort(400, description=unknown)
    return status


# page name → (full page, rows partial)
QUEUES = {
    "payments": ("prices/admin_payments.html", "prices/_payment_rows.html"),
    "reserve": ("prices/admin_reserve.html", "prices/_offer_rows.html"),
}


def _render_queue(name: str, query, status, statuses, status_label, breadcrumbs):
    """A back-office queue filtered by status, or its rows alone for htmx."""
    return render(
        *QUEUES[name],
        page=page_of(query),
        status=status,
        statuses=statuses,
        status_label=status_label,
        breadcrumbs=breadcrumbs,
    )


# --- back office: payment notices and receipts -------------------------------------------------------


def get_notice_or_404(notice_id: int):
    notice = services.get_notice(notice_id)
    if notice is None:
        abort(404)
    return notice


@admin_bp.get("/payments")
@role_required(READERS)
def payments():
    status = _status_filter(NOTICE_STATUSES, _("没有这个缴款状态。"))
    return _render_queue(
        "payments",
        services.notices_query(status),
        status,
        NOTICE_STATUSES,
        services.status_label,
        _crumbs((_("缴款通知"), None)),
    )


def _render_payment(notice, form=None, status: int = 200, reissue=None):
    clerk = current_user.role in PAYMENT_CLERKS
    if form is None and notice.status == "issued" and clerk:
        form = ReceiptForm()
    if reissue is None and clerk and services.can_reissue(notice):
        reissue = ReissueForm()
    return render(
        "prices/admin_payment.html",
        notice=notice,
        form=form,
        reissue=reissue,
        status_label=services.status_label,
        breadcrumbs=_crumbs((_("缴款通知"), url_for(".payments")), (notice.number, None)),
        status_code=status,
    )


@admin_bp.get("/payments/<int:notice_id>")
@role_required(READERS)
def payment(notice_id: int):
    return _render_payment(get_notice_or_404(notice_id))


@admin_bp.post("/payments/<int:notice_id>/receipt")
@role_required(PAYMENT_CLERKS)
def record_receipt(notice_id: int):
    notice = get_notice_or_404(notice_id)
    form = ReceiptForm()
    if not form.validate_on_submit():
        return _render_payment(notice, form, 400)
    try:
        services.record_receipt(
            notice,
            form.reference.data,
            form.paid_amount.data,
            form.paid_on.data,
            actor=current_user,
        )
    except services.PriceRefusal as refused:
        form = _refused(refused, "reference", ReceiptForm)
        notice = get_notice_or_404(notice_id)
        return _render_payment(notice, form, 400)
    db.session.commit()
    flash(_("已登记缴款：%(number)s。", number=notice.number), "success")
    return redirect_after_post(url_for(".payment", notice_id=notice_id))


@admin_bp.post("/payments/<int:notice_id>/reissue")
@role_required(PAYMENT_CLERKS)
def reissue(notice_id: int):
    notice = get_notice_or_404(notice_id)
    form = ReissueForm()
    if not form.validate_on_submit():
        return _render_payment(notice, status=400, reissue=form)
    try:
        new = services.reissue_notice(
            notice,
            actor=current_user,
            auction_price=form.auction_price.data,
            auction_source=form.auction_source.data or "",
        )
    except services.PriceRefusal as refused:
        form = _refused(refused, "auction_price", ReissueForm)
        notice = get_notice_or_404(notice_id)
        return _render_payment(notice, status=400, reissue=form)
    db.session.commit()
    flash(_("已重新出具缴款通知：%(number)s。", number=new.number), "success")
    return redirect_after_post(url_for(".payment", notice_id=new.id))


# --- back office: 收储 --------------------------------------------------------------------------------


def get_offer_or_404(offer_id: int, for_user) -> ReserveOffer:
    offer = db.session.get(ReserveOffer, offer_id)
    if offer is None:
        abort(404)
    if not can_see_division(for_user, offer.division_code):
        refuse_object()
    return offer


@admin_bp.get("/reserve")
@role_required(RESERVE_READERS)
def reserve():
    status = _status_filter(OFFER_STATUSES, _("没有这个收储状态。"))
    return _render_queue(
        "reserve",
        services.offers_query(current_user, status),
        status,
        OFFER_STATUSES,
        services.offer_status_label,
        _crumbs((_("指标收储"), None)),
    )


def _render_offer(offer, form=None, status: int = 200):
    if form is None and services.can_decide_offer(current_user, offer):
        form = ReserveDecisionForm()
    return render(
        "prices/admin_offer.html",
        offer=offer,
        form=form,
        suggested=services.suggested_reserve_price(offer),
        status_label=services.offer_status_label,
        breadcrumbs=_crumbs((_("指标收储"), url_for(".reserve")), (offer.number, None)),
        status_code=status,
    )


@admin_bp.get("/reserve/<int:offer_id>")
@role_required(RESERVE_READERS)
def offer(offer_id: int):
    return _render_offer(get_offer_or_404(offer_id, current_user))


@admin_bp.post("/reserve/<int:offer_id>/decide")
@role_required(RESERVE_DECIDERS)
def decide_offer(offer_id: int):
    found = get_offer_or_404(offer_id, current_user)
    if not services.can_decide_offer(current_user, found):
        refuse_object()
    form = ReserveDecisionForm()
    if not form.validate_on_submit():
        return _render_offer(found, form, 400)
    try:
        services.decide_offer(
            found,
            form.decision.data,
            actor=current_user,
            unit_price=form.unit_price.data,
            remark=form.remark.data or "",
        )
    except services.PriceRefusal as refused:
        form = _refused(refused, "decision", ReserveDecisionForm)
        found = get_offer_or_404(offer_id, current_user)
        return _render_offer(found, form, 400)
    db.session.commit()
    flash(_("已办理收储决定：%(number)s。", number=found.number), "success")
    return redirect_after_post(url_for(".offer", offer_id=offer_id))
