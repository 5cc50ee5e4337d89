"""Filing rules and computations, called directly."""

from datetime import date
from decimal import Decimal

import pytest
from werkzeug.datastructures import MultiDict

from portal.accounts.models import User
from portal.extensions import db
from portal.filings import services, workflow
from portal.filings.models import FilingVersion
from portal.web import current_date
from tests import factories


def test_construction_deadline_is_two_years():
    assert services.construction_deadline(date(2025, 3, 31)) == date(2027, 3, 31)
    assert services.construction_deadline(date(2024, 2, 29)) == date(2026, 2, 28)


def test_compliance_balance_shows_shortfall():
    rows = services.compliance_balance(
        {"energy": Decimal("100"), "coal": Decimal("50")},
        {"energy": Decimal("120.5"), "coal": Decimal("40")},
    )
    energy, coal = rows
    assert energy.shortfall == Decimal("20.5") and energy.balance == Decimal("-20.5")
    assert coal.shortfall == 0 and coal.balance == Decimal("10")
    unknown = services.compliance_balance(None, {"energy": Decimal("1"), "coal": None})
    assert len(unknown) == 1 and unknown[0].shortfall is None


def test_holdings_come_from_the_registry_ledger_when_it_exists(ctx, auth):
    holdings = services.holdings_for(auth.make_enterprise())
    if services._registry_balances(0) is None:
        assert holdings.balances is None
    else:
        assert holdings.balances.get("energy", 0) == 0 and "台账" in holdings.source


@pytest.fixture
def enterprise_user(ctx, auth):
    return db.session.get(User, auth.make_user("enterprise"))


def test_draft_keeps_what_was_typed_even_when_invalid(enterprise_user):
    filing = services.create_filing("closure", enterprise_user)
    errors = services.save_draft(
        filing,
        MultiDict({"facility_name": "1号窑", "prior_year_energy": "12x", "closure_date": ""}),
        enterprise_user,
    )
    assert errors == {"prior_year_energy": ["请填写数字，例如 1234.5。"]}
    assert filing.draft_data["prior_year_energy"] == "12x"
    assert filing.prior_year_energy is None and filing.facility_name == "1号窑"
    services.save_draft(filing, MultiDict({"prior_year_energy": "1,234.5"}), enterprise_user)
    assert filing.prior_year_energy == Decimal("1234.5")
    assert filing.facility_name == "1号窑"  # untouched fields are kept


def test_carbon_trading_unit_is_refused_with_the_reason(enterprise_user):
    filing = services.create_filing("voluntary", enterprise_user)
    errors = services.save_draft(
        filing, MultiDict({"in_carbon_trading": "yes", "reasons": "x"}), enterprise_user
    )
    assert "碳排放权交易" in errors["in_carbon_trading"][0]
    strict = services.strict_errors(filing, services.build_form(filing))
    assert "二（一）3" in strict["in_carbon_trading"][0]
    with pytest.raises(workflow.TransitionError):
        services.submit_filing(filing, enterprise_user)
    assert filing.status == "draft"


def test_grid_coal_unit_closure_is_refused(enterprise_user):
    filing = services.create_filing("closure", enterprise_user)
    errors = services.save_draft(filing, MultiDict({"is_grid_coal_unit": "yes"}), enterprise_user)
    assert "统调燃煤机组" in errors["is_grid_coal_unit"][0]


def test_submit_keeps_each_version_and_resubmits_after_return(ctx, auth):
    user = db.session.get(User, auth.make_user("enterprise"))
    city = db.session.get(User, auth.make_user("city"))
    filing = services.create_filing("voluntary", user)
    data = {
        "in_carbon_trading": "no",
        "reasons": "自愿参与",
        "planned_measures": "余热回收",
        "commitments": "按期履约",
    }
    assert services.save_draft(filing, MultiDict(data), user) == {}
    services.submit_filing(filing, user)
    assert filing.status == "submitted" and not filing.is_editable
    with pytest.raises(workflow.TransitionError):
        services.save_draft(filing, MultiDict(data), user)
    workflow.transition(filing, "return", city, "请补充措施")
    services.save_draft(filing, MultiDict(data | {"planned_measures": "余热回收；电机变频"}), user)
    services.submit_filing(filing, user)
    versions = (
        db.session.query(FilingVersion).filter_by(filing_id=filing.id).order_by("number").all()
    )
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].data["planned_measures"] == "余热回收"
    assert versions[1].data["planned_measures"] == "余热回收；电机变频"
    assert [e.action for e in filing.events] == ["create", "submit", "return", "resubmit"]


def test_purchase_computes_from_the_product_and_output(enterprise_user):
    factories.seed_benchmarks()
    filing = services.create_filing("purchase", enterprise_user)
    services.save_draft(
        filing,
        MultiDict(
            {"product_code": "methanol_coal", "designed_output": "300000", "variety_code": "energy"}
        ),
        enterprise_user,
    )
    # 1,400 kgce/t × 300,000 t ÷ 1,000.
    assert filing.required_quantity == Decimal("420000.0000")
    computed = services.computed_for(filing)
    assert computed["required"] == Decimal("420000.0000")
    assert computed["benchmark"].product_code == "methanol_coal"
    assert computed["deadline"] == services.construction_deadline(current_date())


def test_retrofit_needs_evidence_and_an_approved_auditor(ctx, auth):
    from portal.accounts.models import AuditFirm

    user = db.session.get(User, auth.make_user("enterprise"))
    firm = AuditFirm(name="未备案机构", uscc="91110000600037341L", is_approved=False)
    db.session.add(firm)
    db.session.flush()
    filing = services.create_filing("retrofit", user)
    errors = services.save_draft(filing, MultiDict({"audit_firm_id": str(firm.id)}), user)
    assert errors["audit_firm_id"] == ["请从列表中选择。"]
    strict = services.strict_errors(filing, services.build_form(filing))
    assert "请上传证明材料。" in strict["file"]
    assert "baseline_energy" in strict
