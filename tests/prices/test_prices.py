"""有偿使用: a 两高 purchase priced at the province's approval, its payment notice, the receipt that
issues the indicators, expiry, and the city's reserve (收储) of what closures and retrofits free."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Notice
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.filings import workflow
from portal.filings.models import Filing
from portal.prices import services as prices
from portal.prices.models import PaymentNotice, ReferencePrice, ReferencePriceChanged, ReserveOffer
from portal.registry import services as registry
from portal.registry.models import ConstructionObligation, LedgerEntry
from portal.review import services as review
from portal.web import current_date
from tests import factories
from tests.factories import login


def _audited(action: str) -> int:
    return db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    )


def _approved_purchase(quantity="300", **approve):
    """A purchase approved by the city and the province (priced), as review.act_on_filing takes it."""
    city = factories.make_user("city", division="410100")
    province = factories.make_user("province")
    filing = factories.make_filing("purchase", "city_review", required_quantity=Decimal(quantity))
    review.act_on_filing(filing, "review_province", province, "同意", filing.version, **approve)
    return filing, city, province


def _final(filing, province):
    workflow.transition(filing, "publish", province, "公示")
    workflow.transition(filing, "finalize", province, "公示期满")


# ---------------------------------------------------------------- pricing at approval


def test_approval_prices_at_the_reference_price_in_force_and_tells_the_enterprise(ctx):
    old = factories.reference_price(price="200.00", effective_from=current_date() - timedelta(400))
    in_force = factories.reference_price(
        price="232.50", effective_from=current_date() - timedelta(5)
    )
    factories.reference_price(price="999.00", effective_from=current_date() + timedelta(10))
    factories.reference_price(variety="coal", price="110.00")  # another variety is never used
    filing, _city, _province = _approved_purchase("1234")
    (notice,) = prices.notices_of(filing)
    assert notice.status == "issued"
    assert notice.quantity == Decimal("1234")
    assert notice.unit_price == Decimal("232.50")
    assert notice.amount == Decimal("286905.00")  # 1,234 × 232.50
    assert notice.price_id == in_force.id != old.id
    assert notice.due_on == notice.issued_on + timedelta(days=30)
    assert notice.number == f"JK{notice.id:06d}"
    assert _audited("payment.issue") == 1
    inbox = db.session.scalars(select(Notice).where(Notice.enterprise_id == filing.enterprise_id))
    assert any(notice.number in n.title and "286,905.00" in n.body for n in inbox)


def test_due_days_and_where_to_pay_are_settings(app, ctx):
    app.config.update(PAYMENT_DUE_DAYS=10, PAYMENT_PAY_TO="郑州市公共资源交易中心二楼窗口")
    factories.reference_price()
    filing, _city, _province = _approved_purchase()
    (notice,) = prices.notices_of(filing)
    assert notice.due_on == current_date() + timedelta(days=10)
    assert prices.pay_to_of(notice) == "郑州市公共资源交易中心二楼窗口"


def test_auction_price_needs_its_source_and_is_used(ctx):
    factories.reference_price()
    province = factories.make_user("province")
    filing = factories.make_filing("purchase", "city_review")
    with pytest.raises(review.ReviewError) as refused:
        review.act_on_filing(
            filing,
            "review_province",
            province,
            "同意",
            filing.version,
            auction_price=Decimal("300"),
        )
    assert refused.value.field == "auction_source"
    assert filing.status == "city_review" and prices.notices_of(filing) == []
    review.act_on_filing(
        filing,
        "review_province",
        province,
        "同意",
        filing.version,
        auction_price=Decimal("305.55"),
        auction_source="2026 年第 3 次竞价，成交日期 2026-11-20",
    )
    (notice,) = prices.notices_of(filing)
    assert (notice.unit_price, notice.amount, notice.price_id) == (
        Decimal("305.55"),
        Decimal("91665.00"),
        None,
    )
    assert notice.price_source.startswith("2026 年第 3 次竞价")


def test_without_a_price_in_force_the_approval_is_refused(ctx):
    factories.reference_price(effective_from=current_date() + timedelta(days=3))
    province = factories.make_user("province")
    filing = factories.make_filing("purchase", "city_review")
    with pytest.raises(review.ReviewError) as refused:
        review.act_on_filing(filing, "review_province", province, "同意", filing.version)
    assert refused.value.field == "auction_price" and "参考价格" in refused.value.message


def test_a_priced_purchase_keeps_its_quantity_and_a_return_cancels_the_unpaid_notice(ctx):
    factories.reference_price()
    filing, _city, province = _approved_purchase()
    assert review.can_correct(province, filing) is False  # 核减 after pricing: return it instead
    workflow.transition(filing, "return", province, "请补充节能审查意见")
    (cancelled,) = prices.notices_of(filing)
    assert cancelled.status == "cancelled" and _audited("payment.cancel") == 1
    assert prices.open_notice(filing) is None


# ---------------------------------------------------------------- receipt and issuance


def test_nothing_is_issued_before_the_receipt_and_the_receipt_issues_and_audits(ctx):
    factories.reference_price()
    filing, _city, province = _approved_purchase()
    _final(filing, province)
    assert filing.status == "final"
    # Final, but unpaid: no indicators, no construction obligation.
    assert registry.balances(filing.enterprise_id) == {}
    assert db.session.scalar(select(func.count()).select_from(ConstructionObligation)) == 0
    assert filing.granted_on is None
    (notice,) = prices.notices_of(filing)
    prices.record_receipt(
        notice, "GGZY-2026-0001", Decimal("69600.00"), current_date(), actor=province
    )
    assert notice.status == "paid" and notice.receipt_reference == "GGZY-2026-0001"
    assert registry.balances(filing.enterprise_id) == {"energy": Decimal("300.0000")}
    (obligation,) = db.session.scalars(select(ConstructionObligation))
    assert obligation.issued_on == current_date() == filing.granted_on
    assert obligation.start_deadline == registry.add_years(current_date(), 2)
    assert _audited("payment.receipt") == 1 and _audited("ledger.issue") == 1
    # Finalizing again (idempotent) issues nothing more.
    review.finalize_filing(filing, province)
    assert registry.balances(filing.enterprise_id) == {"energy": Decimal("300.0000")}


def test_a_receipt_before_the_filing_is_final_waits_for_the_final_step(ctx):
    factories.reference_price()
    filing, _city, province = _approved_purchase()
    (notice,) = prices.notices_of(filing)
    prices.record_receipt(notice, "R-1", notice.amount, current_date(), actor=province)
    assert registry.balances(filing.enterprise_id) == {}
    _final(filing, province)
    assert registry.balances(filing.enterprise_id) == {"energy": Decimal("300.0000")}


def test_duplicate_receipt_reference_and_amount_mismatch_are_refused(ctx):
    factories.reference_price()
    first, _city, province = _approved_purchase()
    second = factories.make_filing("purchase", "city_review")
    review.act_on_filing(second, "review_province", province, "同意", second.version)
    (a,) = prices.notices_of(first)
    (b,) = prices.notices_of(second)
    prices.record_receipt(a, "R-SAME", a.amount, current_date(), actor=province)
    with pytest.raises(prices.PriceRefusal) as duplicate:
        prices.record_receipt(b, "R-SAME", b.amount, current_date(), actor=province)
    assert duplicate.value.field == "reference" and a.number in duplicate.value.message
    with pytest.raises(prices.PriceRefusal) as mismatch:
        prices.record_receipt(
            b, "R-OTHER", b.amount - Decimal("0.01"), current_date(), actor=province
        )
    assert mismatch.value.field == "paid_amount" and "不符" in mismatch.value.message
    with pytest.raises(prices.PriceRefusal) as future:
        prices.record_receipt(b, "R-OTHER", b.amount, current_date() + timedelta(1), actor=province)
    assert future.value.field == "paid_on"
    assert b.status == "issued" and b.receipt_reference is None


def _token(client, path, prefix=""):
    html = client.get(path).get_data(as_text=True)
    match = re.search(
        rf'id="{prefix}csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', html
    )
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def test_receipt_form_refuses_a_mismatch_next_to_the_field_then_records(app, client, sign_in):
    with app.app_context():
        factories.reference_price()
        filing, _city, province = _approved_purchase()
        _final(filing, province)
        db.session.commit()
        notice_id, province_id, enterprise_id = (
            prices.notices_of(filing)[0].id,
            province.id,
            filing.enterprise_id,
        )
        today = current_date().isoformat()
    sign_in(province_id)
    path = f"/admin/payments/{notice_id}"
    token = _token(client, path, "receipt-")
    data = {"csrf_token": token, "reference": "GGZY-9", "paid_on": today}
    wrong = client.post(f"{path}/receipt", data=data | {"paid_amount": "69,599.99"})
    assert wrong.status_code == 400
    page = wrong.get_data(as_text=True)
    assert "不符" in page and "¥69,600.00" in page
    ok = client.post(f"{path}/receipt", data=data | {"paid_amount": "69600"})
    assert ok.status_code == 303
    with app.app_context():
        assert registry.balances(enterprise_id) == {"energy": Decimal("300.0000")}
    again = client.post(f"{path}/receipt", data=data | {"paid_amount": "69600"})
    assert again.status_code == 400  # paid already: nothing more to record


# ---------------------------------------------------------------- the enterprise sees it


def test_the_enterprise_sees_the_notice_on_its_filing_and_dashboard(app, client, sign_in):
    with app.app_context():
        factories.reference_price(price="850.00")
        filing, _city, _province = _approved_purchase("1234")
        db.session.commit()
        filing_id, owner_id = filing.id, filing.created_by_id
    sign_in(owner_id)
    page = client.get(f"/filings/{filing_id}").get_data(as_text=True)
    section = page.split('id="h-payment"')[1].split("</section>")[0]
    assert "1,234 吨标准煤 × ¥850.00/吨标准煤 = ¥1,048,900.00" in section
    assert "“十三五”时期用能权指标平均交易价格" in section
    assert "待缴款" in section and "缴款前不发放" in section
    assert "河南省公共资源交易平台（用能权交易）" in section
    dashboard = client.get("/accounts/").get_data(as_text=True)
    todo = dashboard.split('id="h-todo"')[1].split("</section>")[0]
    assert "缴款通知 JK" in todo and "¥1,048,900.00" in todo and "查看缴款通知" in todo
    english = client.get(f"/filings/{filing_id}?lang=en").get_data(as_text=True)
    assert "1,234 tce × CN¥850.00/tce = CN¥1,048,900.00" in english


# ---------------------------------------------------------------- expiry


def test_an_unpaid_notice_expires_after_its_due_day_through_tick(app, client, runner, sign_in):
    with app.app_context():
        factories.reference_price()
        filing, _city, _province = _approved_purchase()
        (notice,) = prices.notices_of(filing)
        notice.due_on = current_date()  # payable today still
        db.session.commit()
        filing_id, owner_id, notice_id = filing.id, filing.created_by_id, notice.id
    assert "expired 0 payment notice(s)" in runner.invoke(args=["tick"]).output
    with app.app_context():
        db.session.get(PaymentNotice, notice_id).due_on = current_date() - timedelta(days=1)
        db.session.commit()
    assert "expired 1 payment notice(s)" in runner.invoke(args=["tick"]).output
    assert "expired 0 payment notice(s)" in runner.invoke(args=["tick"]).output
    with app.app_context():
        notice = db.session.get(PaymentNotice, notice_id)
        assert notice.status == "expired" and "逾期未缴款" in notice.close_reason
        assert _audited("payment.expire") == 1
        titles = db.session.scalars(select(Notice.title)).all()
        assert any("已逾期失效" in t for t in titles)
        with pytest.raises(prices.PriceRefusal):
            prices.record_receipt(notice, "LATE", notice.amount, current_date(), actor=None)
    sign_in(owner_id)
    page = client.get(f"/filings/{filing_id}").get_data(as_text=True)
    assert "已逾期失效" in page.split('id="h-payment"')[1]


# ---------------------------------------------------------------- 收储


def _final_closure(quantity="800"):
    province = factories.make_user("province")
    filing = factories.make_filing("closure", "publicity", prior_year_energy=Decimal(quantity))
    workflow.transition(filing, "finalize", province, "公示期满")
    return filing


def _reconcile(runner) -> str:
    result = runner.invoke(args=["registry", "reconcile"])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_final_closure_is_offered_to_the_city_first_and_nothing_is_issued(ctx):
    filing = _final_closure()
    (offer,) = prices.offers_of(filing)
    assert (offer.status, offer.quantity, offer.division_code) == ("open", Decimal("800"), "410100")
    assert offer.decide_by == current_date() + timedelta(days=30)
    assert registry.balances(filing.enterprise_id) == {}
    assert _audited("reserve.offer") == 1


def test_buy_back_through_the_form_issues_then_transfers_to_the_city(app, client, runner, sign_in):
    with app.app_context():
        filing = _final_closure()
        city = factories.make_user("city", division="410100")
        other = factories.make_user("city", division="410300")
        db.session.commit()
        offer_id, city_id, other_id, unit = (
            prices.offers_of(filing)[0].id,
            city.id,
            other.id,
            filing.enterprise_id,
        )
    path = f"/admin/reserve/{offer_id}"
    sign_in(other_id)
    assert client.get(path).status_code == 403
    sign_in(city_id)
    token = _token(client, path, "reserve-")
    missing = client.post(f"{path}/decide", data={"csrf_token": token, "decision": "buy"})
    assert missing.status_code == 400 and "收储须填写收储单价" in missing.get_data(as_text=True)
    done = client.post(
        f"{path}/decide", data={"csrf_token": token, "decision": "buy", "unit_price": "245.5"}
    )
    assert done.status_code == 303
    with app.app_context():
        offer = db.session.get(ReserveOffer, offer_id)
        assert (offer.status, offer.unit_price, offer.amount) == (
            "bought",
            Decimal("245.50"),
            Decimal("196400.00"),
        )
        kinds = db.session.execute(
            select(LedgerEntry.kind, LedgerEntry.holder_key, LedgerEntry.quantity).order_by(
                LedgerEntry.id
            )
        ).all()
        assert [(k, h) for k, h, _q in kinds] == [
            ("issue", f"enterprise:{unit}"),
            ("transfer_out", f"enterprise:{unit}"),
            ("transfer_in", "city:410100"),
        ]
        assert registry.balances(unit) == {"energy": Decimal("0.0000")}
        assert registry.balance("city:410100", "energy") == Decimal("800.0000")
        assert _audited("reserve.buy") == 1
    page = client.get(path).get_data(as_text=True)
    assert "800 吨标准煤 × ¥245.50/吨标准煤 = ¥196,400.00" in page
    listing = client.get("/admin/reserve?status=bought")
    assert "已由地市收储" in listing.get_data(as_text=True)
    fragment = client.get("/admin/reserve", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    assert "HX-Request" in fragment.headers.get("Vary", "")
    assert "0 mismatch(es)." in _reconcile(runner)


def test_release_issues_to_the_unit_and_reconciles(app, runner):
    with app.app_context():
        filing = _final_closure("650.5")
        city = factories.make_user("city", division="410100")
        (offer,) = prices.offers_of(filing)
        prices.decide_offer(offer, "release", actor=city, remark="本市暂不收储")
        db.session.commit()
        assert offer.status == "released"
        assert registry.balances(filing.enterprise_id) == {"energy": Decimal("650.5000")}
        assert _audited("reserve.release") == 1
        with pytest.raises(prices.PriceRefusal):
            prices.decide_offer(offer, "buy", actor=city, unit_price=Decimal("1"))
    assert "0 mismatch(es)." in _reconcile(runner)


def test_an_offer_the_city_leaves_undecided_is_released_by_tick(app, runner):
    with app.app_context():
        filing = _final_closure()
        (offer,) = prices.offers_of(filing)
        offer.decide_by = current_date() - timedelta(days=1)
        db.session.commit()
        offer_id, unit = offer.id, filing.enterprise_id
    assert "released 1 reserve offer(s)" in runner.invoke(args=["tick"]).output
    assert "released 0 reserve offer(s)" in runner.invoke(args=["tick"]).output
    with app.app_context():
        assert db.session.get(ReserveOffer, offer_id).status == "released"
        assert registry.balances(unit) == {"energy": Decimal("800.0000")}
        assert _audited("reserve.lapse") == 1


# ---------------------------------------------------------------- reference prices


def test_reference_prices_are_never_changed_in_place(ctx):
    row = factories.reference_price()
    db.session.flush()
    row.price = Decimal("1")
    with pytest.raises(ReferencePriceChanged):
        db.session.flush()


def test_public_prices_page_empty_then_current_and_past(app, client):
    empty = client.get("/prices").get_data(as_text=True)
    assert "尚未公布参考价格" in empty
    with app.app_context():
        factories.reference_price(price="232.00")
        factories.reference_price(
            price="260.00",
            effective_from=current_date() - timedelta(days=1),
            source="2026 年第 1 次竞价结果",
        )
        factories.reference_price(variety="coal", price="110.00")
        db.session.commit()
    page = client.get("/prices").get_data(as_text=True)
    assert "¥260.00/吨标准煤" in page and "2026 年第 1 次竞价结果" in page
    assert "¥232.00/吨标准煤" in page and "已被替代" in page
    assert "¥110.00/吨" in page
    english = client.get("/prices?lang=en").get_data(as_text=True)
    assert "Energy-consumption indicator" in english
    assert 'href="/prices"' in client.get("/sitemap").get_data(as_text=True)


def test_province_adds_a_price_with_errors_in_chinese_next_to_the_field(app, client, sign_in):
    with app.app_context():
        province = factories.make_user("province")
        db.session.commit()
        province_id = province.id
    sign_in(province_id)
    token = _token(client, "/admin/prices", "price-")
    data = {
        "csrf_token": token,
        "variety_code": "energy",
        "category_code": "new_project",
        "effective_from": "2026-01-01",
        "source": "“十三五”时期用能权指标平均交易价格",
    }
    bad = client.post("/admin/prices", data=data | {"price": "12.345"})
    assert bad.status_code == 400 and "最多保留 2 位小数" in bad.get_data(as_text=True)
    bad_date = client.post("/admin/prices", data=data | {"price": "232", "effective_from": "x"})
    assert bad_date.status_code == 400 and "年-月-日" in bad_date.get_data(as_text=True)
    ok = client.post("/admin/prices", data=data | {"price": "232"})
    assert ok.status_code == 303
    with app.app_context():
        row = db.session.scalar(select(ReferencePrice))
        assert (row.price, row.entered_by_id) == (Decimal("232.00"), province_id)
        assert _audited("price.add") == 1


def test_filing_is_final_but_not_issued_is_visible_to_the_back_office(app, client, sign_in):
    with app.app_context():
        factories.reference_price()
        filing, _city, province = _approved_purchase()
        _final(filing, province)
        db.session.commit()
        province_id, filing_id = province.id, filing.id
        assert db.session.get(Filing, filing_id).status == "final"
    sign_in(province_id)
    page = client.get(f"/admin/filings/{filing_id}").get_data(as_text=True)
    assert "缴款经交易平台确认后发放" in page
    listing = client.get("/admin/payments?status=issued").get_data(as_text=True)
    assert "¥69,600.00" in listing
    assert client.get("/admin/payments?status=bogus").status_code == 400
    fragment = client.get("/admin/payments", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True) and fragment.status_code == 200


# ---------------------------------------------------------------- two clerks at once


def test_two_receipts_on_one_notice_at_once_record_one(app, sign_in):
    """Two province clerks record a receipt on the same notice at the same moment: one is kept,
    the other is refused (400) or told someone else changed it (409); nothing is issued twice."""
    with app.app_context():
        factories.reference_price()
        filing, _city, province = _approved_purchase()
        other = factories.make_user("province")
        _final(filing, province)
        db.session.commit()
        notice = prices.notices_of(filing)[0]
        notice_id, amount, unit = notice.id, f"{notice.amount:f}", filing.enterprise_id
        clerks = [province, other]
        today = current_date().isoformat()
        clients = []
        for clerk in clerks:
            client = app.test_client()
            login(client, clerk)
            clients.append(client)
    path = f"/admin/payments/{notice_id}"
    tokens = [_token(client, path, "receipt-") for client in clients]
    answers = {}

    def post(i):
        answers[i] = (
            clients[i]
            .post(
                f"{path}/receipt",
                data={
                    "csrf_token": tokens[i],
                    "reference": f"RACE-{i}",
                    "paid_amount": amount,
                    "paid_on": today,
                },
            )
            .status_code
        )

    threads = [threading.Thread(target=post, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(answers.values())[0] == 303 and sorted(answers.values())[1] in (400, 409)
    with app.app_context():
        notice = db.session.get(PaymentNotice, notice_id)
        assert notice.status == "paid" and notice.receipt_reference in ("RACE-0", "RACE-1")
        assert registry.balances(unit) == {"energy": Decimal("300.0000")}
        assert _audited("payment.receipt") == 1


def test_the_province_reissues_an_expired_notice_at_todays_price(app, client, sign_in):
    with app.app_context():
        factories.reference_price(effective_from=current_date() - timedelta(days=100))
        filing, _city, province = _approved_purchase()
        _final(filing, province)
        (expired,) = prices.notices_of(filing)
        expired.due_on = current_date() - timedelta(days=1)
        prices.run_tick()
        factories.reference_price(price="250.00", effective_from=current_date())
        db.session.commit()
        expired_id, province_id, filing_id = expired.id, province.id, filing.id
    sign_in(province_id)
    path = f"/admin/payments/{expired_id}"
    token = _token(client, path, "reissue-")
    answer = client.post(f"{path}/reissue", data={"csrf_token": token})
    assert answer.status_code == 303
    with app.app_context():
        new, old = prices.notices_of(db.session.get(Filing, filing_id))
        assert (old.status, new.status) == ("expired", "issued")
        assert (new.unit_price, new.amount) == (Decimal("250.00"), Decimal("75000.00"))
        assert new.due_on == current_date() + timedelta(days=30)
    again = client.post(f"{path}/reissue", data={"csrf_token": token})
    assert again.status_code == 400 and "重新出具" in again.get_data(as_text=True)
