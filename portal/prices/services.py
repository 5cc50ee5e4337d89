"""有偿使用 rules: reference prices, pricing a 两高 purchase at the province's approval, its payment
notice and receipt, expiry, and the city's first right to buy back (收储) what closures and
retrofits free.

Rules (docs/decisions.md, "有偿使用"):
- A purchase is priced when the province approves it (`review_province`): quantity (after any 核减)
  × the reference price of its variety in the 新建"两高"项目 category in force that day, or an
  auction price the province types with its source. The amount is rounded to the fen (ROUND_HALF_UP).
- The notice is due PAYMENT_DUE_DAYS calendar days after it is issued (30 by default); it may be
  paid up to and including its due day, and `flask tick` expires it on the day after.
- The indicators are issued (and the 2-year start obligation opened) only once the province has
  recorded the platform's receipt AND the filing is final, whichever comes second.
- A filing returned or refused before payment cancels its notice; a paid notice stays paid and
  covers the filing when it is approved again.
- A final closure or retrofit first becomes a reserve offer to the city of the unit; nothing is
  issued until the city buys the indicators back (issued to the unit, then transferred to the city)
  or releases them (issued to the unit). After RESERVE_DECISION_DAYS (30 by default) without a
  decision, `flask tick` releases them to the unit.

Functions change state, audit and flush; they never commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app, has_request_context, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.accounts.services import post_notice
from portal.audit.services import record_event, record_new
from portal.extensions import db
from portal.filings import services as filings
from portal.filings.models import Filing
from portal.forms import AMOUNT_LIMIT, MONEY_PLACES, PRICE_LIMIT, decimal_problem
from portal.i18n import Message, fmt_money, fmt_price, fmt_quantity
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.prices.models import (
    OPEN_NOTICE_STATUSES,
    PaymentNotice,
    ReferencePrice,
    ReserveOffer,
)
from portal.reference.models import Category, Variety
from portal.refusals import Refusal
from portal.registry import services as registry
from portal.web import current_date, public_record_locale

CENT = Decimal("0.01")
PURCHASE_CATEGORY = "new_project"  # 新建"两高"项目用能权
RESERVE_CATEGORY = "local"  # 地方用能权指标: what a city holds
DEFAULT_DUE_DAYS = 30
DEFAULT_DECISION_DAYS = 30


class PriceRefusal(Refusal):
    """A refusal with the form field it belongs next to."""

    def __init__(self, message, field: str = ""):
        super().__init__(message)
        self.field = field


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def money(value) -> Decimal:
    """An amount in 元, rounded to the fen."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def amount_of(quantity, unit_price) -> Decimal:
    return money(Decimal(quantity) * Decimal(unit_price))


def _link(endpoint: str, **values) -> str:
    return url_for(endpoint, **values) if has_request_context() else ""


def _real(actor):
    """The actor as the audit log and the foreign keys take it (the scheduler is no user)."""
    return actor if getattr(actor, "id", None) else None


# --- reference prices ------------------------------------------------------------------------------


def price_in_force(variety_code: str, category_code: str, day: date) -> ReferencePrice | None:
    """The reference price of a variety and category on `day`: the latest row effective by then."""
    return db.session.scalar(
        select(ReferencePrice)
        .where(
            ReferencePrice.variety_code == variety_code,
            ReferencePrice.category_code == category_code,
            ReferencePrice.effective_from <= day,
        )
        .order_by(ReferencePrice.effective_from.desc(), ReferencePrice.id.desc())
        .limit(1)
    )


@dataclass
class PriceTable:
    """One variety and category: the price in force today, the ones that follow, and the history."""

    variety: Variety
    category: Category
    current: ReferencePrice | None = None
    scheduled: list[ReferencePrice] = field(default_factory=list)
    superseded: list[ReferencePrice] = field(default_factory=list)


def price_tables(today: date | None = None) -> list[PriceTable]:
    """Every variety × category that has a price, newest first within each."""
    today = today or current_date()
    rows = list(
        db.session.scalars(
            select(ReferencePrice).order_by(
                ReferencePrice.variety_code,
                ReferencePrice.category_code,
                ReferencePrice.effective_from.desc(),
                ReferencePrice.id.desc(),
            )
        )
    )
    varieties = {v.code: v for v in db.session.scalars(select(Variety))}
    categories = {c.code: c for c in db.session.scalars(select(Category))}
    tables: dict[tuple[str, str], PriceTable] = {}
    for row in rows:
        key = (row.variety_code, row.category_code)
        table = tables.setdefault(key, PriceTable(varieties[key[0]], categories[key[1]]))
        if row.effective_from > today:
            table.scheduled.append(row)
        elif table.current is None:
            table.current = row
        else:
            table.superseded.append(row)
    order_v = {"energy": 0, "coal": 1}
    return sorted(
        tables.values(),
        key=lambda t: (order_v.get(t.variety.code, 9), t.category.sort_order, t.category.code),
    )


def add_reference_price(
    variety_code: str,
    category_code: str,
    price,
    effective_from: date,
    source: str,
    *,
    actor,
) -> ReferencePrice:
    """Add a reference price; it supersedes the earlier ones from `effective_from` on."""
    if db.session.get(Variety, variety_code or "") is None:
        raise PriceRefusal(_("请选择交易品种。"), "variety_code")
    if db.session.get(Category, category_code or "") is None:
        raise PriceRefusal(_("请选择交易类别。"), "category_code")
    if price is None:
        raise PriceRefusal(_("请填写参考价格。"), "price")
    price = _price(price, "price")
    if effective_from is None:
        raise PriceRefusal(_("请填写生效日期。"), "effective_from")
    source = (source or "").strip()
    if not source:
        raise PriceRefusal(
            _("请写明价格来源，例如“十三五”时期平均交易价格或某次竞价结果。"), "source"
        )
    row = ReferencePrice(
        variety_code=variety_code,
        category_code=category_code,
        price=price.quantize(CENT),
        effective_from=effective_from,
        source=source,
        entered_by_id=getattr(_real(actor), "id", None),
        created_at=utcnow(),
    )
    record_new(
        "price.add",
        row,
        after={
            "variety": variety_code,
            "category": category_code,
            "price": row.price,
            "effective_from": effective_from.isoformat(),
        },
        remark=source,
        actor=_real(actor),
    )
    return row


# --- payment notices --------------------------------------------------------------------------------


def due_days() -> int:
    return int(current_app.config.get("PAYMENT_DUE_DAYS", DEFAULT_DUE_DAYS))


def pay_to_text() -> str:
    """Where to pay, as configured (PAYMENT_PAY_TO); empty: the platform, in the reader's language
    (`pay_to_of`), so a notice reads right in English too."""
    return (current_app.config.get("PAYMENT_PAY_TO") or "").strip()


DEFAULT_PAY_TO = _l("河南省公共资源交易平台（用能权交易）：登录平台，按缴款通知编号缴纳。")


def pay_to_of(notice: PaymentNotice) -> str:
    return notice.pay_to or str(DEFAULT_PAY_TO)


def notices_of(filing) -> list[PaymentNotice]:
    """A filing's payment notices, newest first."""
    return list(
        db.session.scalars(
            select(PaymentNotice)
            .where(PaymentNotice.filing_id == filing.id)
            .order_by(PaymentNotice.id.desc())
        )
    )


def open_notice(filing) -> PaymentNotice | None:
    """The notice of the filing that still counts: issued (to pay) or paid."""
    return db.session.scalar(
        select(PaymentNotice).where(
            PaymentNotice.filing_id == filing.id,
            PaymentNotice.status.in_(OPEN_NOTICE_STATUSES),
        )
    )


def purchase_quantity(filing) -> tuple[str, Decimal | None]:
    """The purchase's variety and the quantity it pays for (after any 核减)."""
    variety = filing.variety_code or "energy"
    return variety, filings.effective_quantity(filing, "required_quantity")


def _price(value, field: str) -> Decimal:
    """A price per unit as a Decimal: above zero, to the fen, within the price column."""
    value = Decimal(value)
    problem = decimal_problem(
        value, places=MONEY_PLACES, minimum=0, maximum=PRICE_LIMIT, minimum_inclusive=False
    )
    if problem:
        raise PriceRefusal(problem, field)
    return value


def check_auction_price(auction_price, auction_source: str) -> tuple[Decimal | None, str]:
    """An auction price typed at approval comes with its source, and fits a price column."""
    auction_source = (auction_source or "").strip()
    if auction_price is None:
        if auction_source:
            raise PriceRefusal(_("填写了价格来源，请同时填写竞价成交单价。"), "auction_price")
        return None, ""
    auction_price = _price(auction_price, "auction_price")
    if not auction_source:
        raise PriceRefusal(
            _("请写明竞价成交单价的来源（如竞价公告编号和成交日期）。"), "auction_source"
        )
    return auction_price, auction_source


def price_purchase(
    filing, *, actor, auction_price=None, auction_source: str = "", today: date | None = None
) -> PaymentNotice:
    """Price an approved purchase and issue its payment notice (idempotent: an open one stands)."""
    existing = open_notice(filing)
    if existing is not None:
        return existing
    today = today or current_date()
    auction_price, auction_source = check_auction_price(auction_price, auction_source)
    variety, quantity = purchase_quantity(filing)
    if quantity is None or quantity <= 0:
        raise PriceRefusal(_("申购数量为空，不能计算应缴金额。"), "auction_price")
    reference = None
    if auction_price is not None:
        unit_price, source = auction_price.quantize(CENT), auction_source
    else:
        reference = price_in_force(variety, PURCHASE_CATEGORY, today)
        if reference is None:
            raise PriceRefusal(
                _(
                    "该品种目前没有现行的参考价格：请先在“参考价格”中录入，或填写竞价成交单价及其来源。"
                ),
                "auction_price",
            )
        unit_price, source = Decimal(reference.price), reference.source
    amount = amount_of(quantity, unit_price)
    if amount >= AMOUNT_LIMIT:
        raise PriceRefusal(_("应缴金额过大，请核对数量和单价。"), "auction_price")
    notice = PaymentNotice(
        filing_id=filing.id,
        enterprise_id=filing.enterprise_id,
        variety_code=variety,
        category_code=PURCHASE_CATEGORY,
        quantity=quantity,
        unit_price=unit_price,
        amount=amount,
        price_id=reference.id if reference is not None else None,
        price_source=source,
        issued_on=today,
        due_on=today + timedelta(days=due_days()),
        pay_to=pay_to_text(),
        status="issued",
        issued_by_id=getattr(_real(actor), "id", None),
        created_at=utcnow(),
    )
    record_new(
        "payment.issue",
        notice,
        after={
            "filing": filing.number,
            "variety": variety,
            "quantity": quantity,
            "unit_price": unit_price,
            "amount": amount,
            "price_id": notice.price_id,
            "due_on": notice.due_on.isoformat(),
        },
        remark=source,
        actor=_real(actor),
    )
    post_notice(
        filing.enterprise_id,
        Message(
            _l("缴款通知 %(number)s：申报 %(filing)s"), number=notice.number, filing=filing.number
        ),
        Message(
            _l(
                "应缴金额：%(quantity)s × %(price)s = %(amount)s（价格依据：%(source)s）。"
                "请于 %(due)s 前缴纳：%(pay_to)s 缴款确认后发放指标。"
            ),
            quantity=Message.quantity(quantity, variety),
            price=Message.price(unit_price, variety),
            amount=Message.money(amount),
            source=Message.chinese(source),
            due=notice.due_on,
            pay_to=Message.chinese(notice.pay_to) if notice.pay_to else DEFAULT_PAY_TO,
        ),
        link=_link("filings.detail", filing_id=filing.id),
    )
    return notice


def cancel_open_notice(filing, reason: str, *, actor) -> PaymentNotice | None:
    """Cancel the filing's unpaid notice (the approval it priced no longer stands)."""
    notice = open_notice(filing)
    if notice is None or notice.status != "issued":
        return None
    _close(notice, "cancelled", reason, actor)
    post_notice(
        filing.enterprise_id,
        Message(_l("缴款通知 %(number)s 已作废"), number=notice.number),
        Message(
            _l("申报 %(filing)s 已退回或不予通过，缴款通知作废，请勿缴款。"), filing=filing.number
        ),
        link=_link("filings.detail", filing_id=filing.id),
    )
    return notice


def _close(notice: PaymentNotice, status: str, reason: str, actor) -> None:
    before = {"status": notice.status}
    notice.status = status
    notice.closed_at = utcnow()
    notice.close_reason = reason
    db.session.flush()
    record_event(
        f"payment.{'expire' if status == 'expired' else 'cancel'}",
        notice,
        before=before,
        after={"status": status},
        remark=reason,
        actor=_real(actor),
    )


def get_notice(notice_id: int) -> PaymentNotice | None:
    return db.session.get(PaymentNotice, notice_id)


def record_receipt(
    notice: PaymentNotice,
    reference: str,
    paid_amount,
    paid_on: date | None,
    *,
    actor,
    today: date | None = None,
) -> PaymentNotice:
    """Record the platform's receipt of a notice; then, if the filing is final, issue."""
    today = today or current_date()
    reference = (reference or "").strip()
    # Lock the notice (PostgreSQL): a second clerk recording at once waits, then sees it paid.
    db.session.refresh(notice, with_for_update=True)
    if notice.status != "issued":
        raise PriceRefusal(
            _(
                "这份缴款通知的状态是“%(status)s”，不能登记缴款。",
                status=status_label(notice.status),
            ),
            "reference",
        )
    if not reference:
        raise PriceRefusal(_("请填写交易平台的缴款凭证编号。"), "reference")
    taken = db.session.scalar(
        select(PaymentNotice).where(PaymentNotice.receipt_reference == reference)
    )
    if taken is not None:
        raise PriceRefusal(
            _("该缴款凭证编号已登记在缴款通知 %(number)s 上，不能重复登记。", number=taken.number),
            "reference",
        )
    if paid_amount is None:
        raise PriceRefusal(_("请填写实缴金额。"), "paid_amount")
    paid_amount = Decimal(paid_amount)
    if paid_amount != Decimal(notice.amount):
        raise PriceRefusal(
            _(
                "实缴金额 %(paid)s 与缴款通知的应缴金额 %(due)s 不符，不能登记；请核对交易平台的缴款凭证。",
                paid=fmt_money(paid_amount),
                due=fmt_money(notice.amount),
            ),
            "paid_amount",
        )
    if paid_on is None:
        raise PriceRefusal(_("请填写缴款日期。"), "paid_on")
    if paid_on > today:
        raise PriceRefusal(_("缴款日期不能晚于今天。"), "paid_on")
    if paid_on < notice.issued_on:
        raise PriceRefusal(_("缴款日期不能早于缴款通知的出具日期。"), "paid_on")
    notice.status = "paid"
    notice.receipt_reference = reference
    notice.paid_amount = money(paid_amount)
    notice.paid_on = paid_on
    notice.receipt_recorded_at = utcnow()
    notice.receipt_recorded_by_id = getattr(_real(actor), "id", None)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        # The same reference recorded on another notice at the same moment (the unique constraint).
        raise PriceRefusal(_("该缴款凭证编号刚刚已被登记，不能重复登记。"), "reference") from None
    record_event(
        "payment.receipt",
        notice,
        before={"status": "issued"},
        after={
            "status": "paid",
            "reference": reference,
            "paid_amount": notice.paid_amount,
            "paid_on": paid_on.isoformat(),
        },
        actor=_real(actor),
    )
    filing = notice.filing
    issued = issue_paid_purchase(filing, actor=actor, today=today)
    post_notice(
        notice.enterprise_id,
        Message(_l("缴款已确认：缴款通知 %(number)s"), number=notice.number),
        Message(_l("指标已发放到贵单位的持有账户。"))
        if issued
        else Message(_l("公示期满办结后，指标将发放到贵单位的持有账户。")),
        link=_link("filings.detail", filing_id=notice.filing_id),
    )
    return notice


def issue_paid_purchase(filing, *, actor, today: date | None = None) -> bool:
    """Issue a final purchase's indicators once its notice is paid; open the 2-year obligation.

    Idempotent (the ledger's idempotency key, one obligation per filing). Returns whether the
    indicators are in the ledger now.
    """
    if filing.kind != "purchase" or filing.status != "final":
        return False
    notice = open_notice(filing)
    if notice is None or notice.status != "paid":
        return False
    with public_record_locale():
        reason = _(
            "新建“两高”项目用能权申购 %(number)s（缴款通知 %(notice)s）",
            number=filing.number,
            notice=notice.number,
        )
    already = registry.entry_exists(f"filing:{filing.id}:issue:{notice.variety_code}")
    registry.issue_indicators(
        filing.enterprise_id,
        notice.variety_code,
        notice.quantity,
        reason,
        source_type="filing",
        source_id=filing.number,
        actor=_real(actor),
        idempotency_key=f"filing:{filing.id}:issue:{notice.variety_code}",
    )
    if already is None:
        # The 2-year construction rule runs from the day the indicators are issued.
        filing.granted_on = today or current_date()
        registry.open_construction_obligation(
            filing.enterprise_id,
            filing.project_name or filing.number,
            notice.variety_code,
            notice.quantity,
            filing.granted_on,
            source_type="filing",
            source_id=filing.number,
            actor=_real(actor),
        )
    db.session.flush()
    return True


def _overdue(model, status: str, deadline, today: date) -> list:
    """The rows of `model` still in `status` whose `deadline` is before `today`, oldest first."""
    stmt = select(model).where(model.status == status, deadline < today).order_by(model.id)
    return list(db.session.scalars(stmt))


def expire_due_notices(today: date, *, actor=None) -> list[PaymentNotice]:
    """Expire every issued notice whose due day has passed; tell each enterprise (idempotent)."""
    due = _overdue(PaymentNotice, "issued", PaymentNotice.due_on, today)
    for notice in due:
        with public_record_locale():
            reason = _("逾期未缴款（缴款期限 %(due)s）", due=notice.due_on.isoformat())
        _close(notice, "expired", reason, actor)
        post_notice(
            notice.enterprise_id,
            Message(_l("缴款通知 %(number)s 已逾期失效"), number=notice.number),
            Message(
                _l(
                    "缴款通知 %(number)s 未在 %(due)s 前缴款，已失效，相应指标不予发放。如需继续申购，请联系省级节能主管部门。"
                ),
                number=notice.number,
                due=notice.due_on,
            ),
            link=_link("filings.detail", filing_id=notice.filing_id),
        )
    return due


REISSUABLE = ("province_review", "publicity", "final")


def can_reissue(notice: PaymentNotice) -> bool:
    """An expired notice of a purchase still approved, with no other notice to pay or paid."""
    filing = notice.filing
    return (
        notice.status == "expired"
        and filing.kind == "purchase"
        and filing.status in REISSUABLE
        and open_notice(filing) is None
    )


def reissue_notice(
    expired: PaymentNotice, *, actor, auction_price=None, auction_source: str = ""
) -> PaymentNotice:
    """Issue a new notice for a purchase whose notice expired, priced on the day of reissue."""
    if not can_reissue(expired):
        raise PriceRefusal(
            _("只有已逾期失效、且申购仍有效的缴款通知可以重新出具。"), "auction_price"
        )
    return price_purchase(
        expired.filing, actor=actor, auction_price=auction_price, auction_source=auction_source
    )


def payments_due(enterprise_id: int) -> list[PaymentNotice]:
    """The enterprise's notices still to pay, soonest due first."""
    return list(
        db.session.scalars(
            select(PaymentNotice)
            .where(PaymentNotice.enterprise_id == enterprise_id, PaymentNotice.status == "issued")
            .order_by(PaymentNotice.due_on, PaymentNotice.id)
        )
    )


def notices_query(status: str | None = None):
    stmt = select(PaymentNotice).order_by(PaymentNotice.id.desc())
    if status:
        stmt = stmt.where(PaymentNotice.status == status)
    return stmt


# --- 收储 (the city's reserve) ---------------------------------------------------------------------


def decision_days() -> int:
    return int(current_app.config.get("RESERVE_DECISION_DAYS", DEFAULT_DECISION_DAYS))


def offers_of(filing) -> list[ReserveOffer]:
    return list(
        db.session.scalars(
            select(ReserveOffer)
            .where(ReserveOffer.filing_id == filing.id)
            .order_by(ReserveOffer.id)
        )
    )


def offer_to_reserve(filing, quantities, *, actor, today: date | None = None) -> list[ReserveOffer]:
    """Offer a final closure's or retrofit's indicators to the city first (one offer per variety).

    Nothing is issued yet; the city decides (`decide_offer`), or tick releases them after the
    decision period. Idempotent per filing and variety.
    """
    today = today or current_date()
    made = []
    existing = {o.variety_code: o for o in offers_of(filing)}
    for code, quantity in quantities:
        if code in existing:
            continue
        offer = ReserveOffer(
            filing_id=filing.id,
            enterprise_id=filing.enterprise_id,
            division_code=filing.division_code,
            variety_code=code,
            quantity=Decimal(quantity),
            offered_at=utcnow(),
            decide_by=today + timedelta(days=decision_days()),
            status="open",
        )
        record_new(
            "reserve.offer",
            offer,
            after={
                "filing": filing.number,
                "division": filing.division_code,
                "variety": code,
                "quantity": offer.quantity,
                "decide_by": offer.decide_by.isoformat(),
            },
            actor=_real(actor),
        )
        made.append(offer)
    if made:
        post_notice(
            filing.enterprise_id,
            Message(_l("申报 %(number)s 已办结：指标先由所在地市收储"), number=filing.number),
            Message(
                _l(
                    "按规定，关停和节能改造腾出的指标先由所在地市政府收储。地市节能主管部门将在 %(day)s 前决定收储或放行；"
                    "收储的按其价格付款，放行或逾期未决定的指标发放到贵单位的持有账户。"
                ),
                day=made[0].decide_by,
            ),
            link=_link("filings.detail", filing_id=filing.id),
        )
    return made


def can_decide_offer(user, offer: ReserveOffer) -> bool:
    """Only the city authority of the unit's division decides, while the offer is open."""
    return (
        getattr(user, "role", None) == "city"
        and user.division_code == offer.division_code
        and offer.status == "open"
    )


def _issue_reason(offer: ReserveOffer) -> str:
    filing = offer.filing
    kind = _("节能改造节能量确权") if filing.kind == "retrofit" else _("关停指标确权")
    return f"{kind} {filing.number}"


def _issue_to_unit(offer: ReserveOffer, actor):
    with public_record_locale():
        reason = _issue_reason(offer)
    return registry.issue_indicators(
        offer.enterprise_id,
        offer.variety_code,
        offer.quantity,
        reason,
        source_type="filing",
        source_id=offer.filing.number,
        actor=_real(actor),
        idempotency_key=f"filing:{offer.filing_id}:issue:{offer.variety_code}",
    )


def decide_offer(
    offer: ReserveOffer, decision: str, *, actor, unit_price=None, remark: str = ""
) -> ReserveOffer:
    """The city buys the offer back (at its price) or releases it to the unit; both write the ledger.

    Buy-back: issued to the unit (its confirmed indicators), then transferred to the city's holder
    with the price in the reason, so the unit's record shows what it earned and what the city bought.
    """
    # Lock the offer (PostgreSQL): a second decision at the same moment waits, then is refused.
    db.session.refresh(offer, with_for_update=True)
    if not can_decide_offer(actor, offer):
        raise PriceRefusal(_("这项收储不在您的办理范围内，或已经办理。"), "decision")
    remark = (remark or "").strip()
    before = {"status": offer.status}
    if decision == "buy":
        if unit_price is None:
            raise PriceRefusal(_("收储须填写收储单价。"), "unit_price")
        unit_price = _price(unit_price, "unit_price")
        amount = amount_of(offer.quantity, unit_price)
        if amount >= AMOUNT_LIMIT:
            raise PriceRefusal(_("收储金额过大，请核对单价。"), "unit_price")
        _issue_to_unit(offer, actor)
        with public_record_locale():
            reason = _(
                "地方收储 %(number)s：%(quantity)s × %(price)s = %(amount)s",
                number=offer.number,
                quantity=fmt_quantity(offer.quantity, offer.variety_code),
                price=fmt_price(unit_price, offer.variety_code),
                amount=fmt_money(amount),
            )
        registry.transfer_indicators(
            registry.Holder("enterprise", enterprise_id=offer.enterprise_id),
            registry.Holder("city", division_code=offer.division_code),
            offer.variety_code,
            offer.quantity,
            reason,
            source_type="reserve",
            source_id=offer.number,
            actor=_real(actor),
            idempotency_key=f"reserve:{offer.id}",
        )
        offer.status = "bought"
        offer.unit_price = unit_price.quantize(CENT)
        offer.amount = amount
        title = Message(_l("收储决定：%(number)s 由地市收储"), number=offer.filing.number)
        body = Message(
            _l("所在地市以 %(price)s 收储 %(quantity)s，金额 %(amount)s，款项通过交易平台结算。"),
            price=Message.price(unit_price, offer.variety_code),
            quantity=Message.quantity(offer.quantity, offer.variety_code),
            amount=Message.money(amount),
        )
    elif decision == "release":
        _issue_to_unit(offer, actor)
        offer.status = "released"
        title = Message(_l("收储决定：%(number)s 的指标放行给贵单位"), number=offer.filing.number)
        body = Message(
            _l("所在地市不收储，%(quantity)s 已发放到贵单位的持有账户。"),
            quantity=Message.quantity(offer.quantity, offer.variety_code),
        )
    else:
        raise PriceRefusal(_("请选择收储或放行。"), "decision")
    offer.decided_at = utcnow()
    offer.decided_by_id = getattr(_real(actor), "id", None)
    offer.remark = remark
    db.session.flush()
    record_event(
        f"reserve.{'buy' if decision == 'buy' else 'release'}",
        offer,
        before=before,
        after={"status": offer.status, "unit_price": offer.unit_price, "amount": offer.amount},
        remark=remark,
        actor=_real(actor),
    )
    post_notice(
        offer.enterprise_id, title, body, link=_link("filings.detail", filing_id=offer.filing_id)
    )
    return offer


def release_lapsed_offers(today: date) -> list[ReserveOffer]:
    """Release to the unit every offer whose decision day has passed undecided (idempotent)."""
    lapsed = _overdue(ReserveOffer, "open", ReserveOffer.decide_by, today)
    for offer in lapsed:
        _issue_to_unit(offer, None)
        offer.status = "released"
        offer.decided_at = utcnow()
        with public_record_locale():
            offer.remark = _("地市未在期限内决定，指标放行给单位。")
        db.session.flush()
        record_event(
            "reserve.lapse",
            offer,
            before={"status": "open"},
            after={"status": "released"},
            remark=offer.remark,
        )
        post_notice(
            offer.enterprise_id,
            Message(_l("收储期限已过：%(number)s 的指标放行给贵单位"), number=offer.filing.number),
            Message(
                _l("%(quantity)s 已发放到贵单位的持有账户。"),
                quantity=Message.quantity(offer.quantity, offer.variety_code),
            ),
            link=_link("filings.detail", filing_id=offer.filing_id),
        )
    return lapsed


def offers_query(user, status: str | None = None):
    """The offers a back-office user may read: a city its division's, the province and supervisor all."""
    stmt = select(ReserveOffer).order_by(ReserveOffer.status != "open", ReserveOffer.id.desc())
    if user.role == "city":
        stmt = stmt.where(ReserveOffer.division_code == user.division_code)
    if status:
        stmt = stmt.where(ReserveOffer.status == status)
    return stmt


def suggested_reserve_price(offer: ReserveOffer) -> ReferencePrice | None:
    """The reference price of 地方用能权指标 of the offer's variety, as a starting point."""
    return price_in_force(offer.variety_code, RESERVE_CATEGORY, current_date())


# --- the scheduler -----------------------------------------------------------------------------------


@dataclass
class PricesTickReport:
    expired: list[int] = field(default_factory=list)
    released: list[int] = field(default_factory=list)


def run_tick(today: date | None = None) -> PricesTickReport:
    """Expire unpaid notices past their due day; release reserve offers past their decision day."""
    today = today or current_date()
    report = PricesTickReport()
    report.expired = [n.id for n in expire_due_notices(today)]
    report.released = [o.id for o in release_lapsed_offers(today)]
    return report


# --- labels ---------------------------------------------------------------------------------------------


def status_label(status: str) -> str:
    return {
        "issued": _("待缴款"),
        "paid": _("已缴款"),
        "expired": _("已逾期失效"),
        "cancelled": _("已作废"),
    }.get(status, status)


def offer_status_label(status: str) -> str:
    return {
        "open": _("待地市决定"),
        "bought": _("已由地市收储"),
        "released": _("已放行给单位"),
    }.get(status, status)


def filing_of(notice_or_offer) -> Filing:
    return notice_or_offer.filing
