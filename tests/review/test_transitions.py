"""Every back-office step of the transition table, taken through review.services: allowed for its
role (and only within its division or firm), refused for every other role."""

from decimal import Decimal

import pytest

from portal.accounts.models import AuditFirm
from portal.extensions import db
from portal.filings import workflow
from portal.review import services
from tests.factories import checked_pdf, make_filing, make_uscc, make_user, reference_price

BACK_OFFICE = ("auditor", "city", "province")
STEPS = [
    (kind, source, action, step.target, step.role)
    for kind, steps in workflow.TRANSITIONS.items()
    for (source, action), step in steps.items()
    if step.role in BACK_OFFICE and (source, action) not in services.AUTOMATIC
]


def _actors():
    firm = AuditFirm(name="审核机构", uscc=make_uscc())
    db.session.add(firm)
    db.session.flush()
    return firm, {
        "auditor": make_user("auditor", audit_firm_id=firm.id),
        "city": make_user("city", division="410100"),
        "province": make_user("province"),
        "supervisor": make_user("supervisor"),
        "editor": make_user("editor"),
    }


def _extra(action):
    if action == "audit_savings":
        return {"verified_energy": Decimal("120"), "report": checked_pdf()}
    return {}


@pytest.mark.parametrize(("kind", "source", "action", "target", "role"), STEPS)
def test_step_is_allowed_for_its_role(ctx, kind, source, action, target, role):
    firm, actors = _actors()
    filing = make_filing(kind, source, firm_id=firm.id)
    if kind == "compliance":
        from portal.registry.services import issue_indicators

        issue_indicators(filing.enterprise_id, "energy", 100, "确权")
    if kind == "purchase":
        reference_price()  # the province's approval prices the purchase
    step = services.act_on_filing(
        filing, action, actors[role], "办理意见", filing.version, **_extra(action)
    )
    assert step.target == target and filing.status == target
    assert filing.events[-1].remark == "办理意见"


@pytest.mark.parametrize(("kind", "source", "action", "target", "role"), STEPS)
def test_step_is_refused_for_other_roles(ctx, kind, source, action, target, role):
    firm, actors = _actors()
    filing = make_filing(kind, source, firm_id=firm.id)
    for other, actor in actors.items():
        if other == role:
            continue
        with pytest.raises(workflow.TransitionError):
            services.act_on_filing(filing, action, actor, "意见", filing.version, **_extra(action))
        assert filing.status == source


@pytest.mark.parametrize(("kind", "source", "action", "target", "role"), STEPS)
def test_step_needs_a_remark(ctx, kind, source, action, target, role):
    firm, actors = _actors()
    filing = make_filing(kind, source, firm_id=firm.id)
    with pytest.raises(workflow.RemarkRequired):
        services.act_on_filing(filing, action, actors[role], "  ", filing.version, **_extra(action))
    assert filing.status == source


def test_city_of_another_division_and_unassigned_auditor_are_refused(ctx):
    firm, actors = _actors()
    filing = make_filing("retrofit", "baseline_review", firm_id=firm.id)
    other_city = make_user("city", division="410300")
    with pytest.raises(workflow.TransitionError):
        services.act_on_filing(filing, "file_baseline", other_city, "备案", filing.version)
    other_firm = AuditFirm(name="另一机构", uscc=make_uscc())
    db.session.add(other_firm)
    db.session.flush()
    stranger = make_user("auditor", audit_firm_id=other_firm.id)
    claim = make_filing("retrofit", "submitted", firm_id=firm.id)
    with pytest.raises(workflow.TransitionError):
        services.act_on_filing(claim, "review_baseline", stranger, "意见", claim.version)
    assert not services.can_see_filing(stranger, claim)
    assert not services.can_see_filing(other_city, claim)


def test_publicity_end_is_not_a_manual_step(ctx):
    _firm, actors = _actors()
    filing = make_filing("closure", "publicity")
    with pytest.raises(services.ReviewError):
        services.act_on_filing(filing, "finalize", actors["province"], "办结", filing.version)
    assert filing.status == "publicity"


def test_savings_audit_needs_quantity_and_report(ctx):
    firm, actors = _actors()
    filing = make_filing("retrofit", "city_filed", firm_id=firm.id)
    with pytest.raises(services.ReviewError) as missing:
        services.act_on_filing(filing, "audit_savings", actors["auditor"], "审核", filing.version)
    assert missing.value.field == "verified_energy"
    with pytest.raises(services.ReviewError) as no_report:
        services.act_on_filing(
            filing,
            "audit_savings",
            actors["auditor"],
            "审核",
            filing.version,
            verified_energy=Decimal("1"),
        )
    assert no_report.value.field == "report"


def test_stale_version_is_a_conflict(ctx):
    _firm, actors = _actors()
    filing = make_filing("closure", "submitted")
    stale = filing.version
    services.act_on_filing(filing, "review_city", actors["city"], "通过", stale)
    with pytest.raises(workflow.Conflict):
        services.act_on_filing(filing, "return", actors["province"], "退回", stale)
    assert filing.status == "city_review"
    assert [e.action for e in filing.events] == ["review_city"]
