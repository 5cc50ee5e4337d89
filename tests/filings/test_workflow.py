"""Every transition of the table is allowed for its role and owner, and refused otherwise."""

from decimal import Decimal

import pytest

from portal.accounts.models import User
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.filings import services, workflow
from portal.filings.models import FilingEvent
from tests import factories

ROLES = ("enterprise", "auditor", "city", "province", "editor", "supervisor")
ALL_STEPS = [
    (kind, step) for kind, steps in workflow.TRANSITIONS.items() for step in steps.values()
]


@pytest.fixture
def people(app, auth):
    """One user per role, the enterprise's auditor firm assigned; plus strangers."""
    enterprise_id = auth.make_enterprise(division_code="410100")
    ids = {role: auth.make_user(role) for role in ROLES if role != "enterprise"}
    ids["enterprise"] = auth.make_user("enterprise", enterprise_id=enterprise_id)
    ids["other_city"] = auth.make_user("city", division_code="410300")
    ids["other_auditor"] = auth.make_user("auditor")
    ids["other_enterprise"] = auth.make_user("enterprise")
    return ids


def _filing(kind, people, status):
    actor = db.session.get(User, people["enterprise"])
    filing = services.create_filing(kind, actor)
    if kind == "retrofit":
        filing.audit_firm_id = db.session.get(User, people["auditor"]).audit_firm_id
    if kind == "purchase":
        # The province's approval prices the quantity at the reference price in force.
        filing.variety_code, filing.required_quantity = "energy", Decimal("100")
        factories.reference_price()
    filing.status = status
    db.session.flush()
    return filing


@pytest.mark.parametrize(
    "kind,step", ALL_STEPS, ids=[f"{k}-{s.source}-{s.action}" for k, s in ALL_STEPS]
)
def test_each_transition_is_allowed_only_for_its_role(ctx, people, kind, step):
    filing = _filing(kind, people, step.source)
    for role in ROLES:
        if role == step.role:
            continue
        with pytest.raises(workflow.TransitionError):
            workflow.transition(filing, step.action, db.session.get(User, people[role]), "意见")
    stranger = {"enterprise": "other_enterprise", "city": "other_city", "auditor": "other_auditor"}
    if step.role in stranger:
        with pytest.raises(workflow.TransitionError):
            workflow.transition(
                filing, step.action, db.session.get(User, people[stranger[step.role]]), "意见"
            )
    actor = db.session.get(User, people[step.role])
    if step.remark_required:
        with pytest.raises(workflow.RemarkRequired):
            workflow.transition(filing, step.action, actor, "  ")
    assert filing.status == step.source
    events_before = len(filing.events)
    workflow.transition(filing, step.action, actor, "办理意见")
    assert filing.status == step.target
    assert len(filing.events) == events_before + 1
    assert filing.events[-1].to_status == step.target
    assert db.session.query(AuditEvent).filter_by(action=f"filing.{step.action}").count() == 1


def test_actions_not_in_the_table_are_refused(ctx, people):
    enterprise = db.session.get(User, people["enterprise"])
    province = db.session.get(User, people["province"])
    filing = _filing("closure", people, "draft")
    with pytest.raises(workflow.TransitionError):
        workflow.transition(filing, "withdraw", enterprise)  # nothing to withdraw yet
    with pytest.raises(workflow.TransitionError):
        workflow.transition(filing, "finalize", province, "意见")
    filing.status = "city_review"
    with pytest.raises(workflow.TransitionError):
        workflow.transition(filing, "withdraw", enterprise)  # review has begun
    for terminal in ("final", "rejected", "withdrawn"):
        filing.status = terminal
        for action in workflow.ACTION_LABELS:
            for role in ("enterprise", "city", "province"):
                with pytest.raises(workflow.TransitionError):
                    workflow.transition(filing, action, db.session.get(User, people[role]), "x")


def test_stale_version_is_a_conflict_and_nothing_happens(ctx, people):
    city = db.session.get(User, people["city"])
    filing = _filing("closure", people, "submitted")
    seen = filing.version
    workflow.transition(filing, "review_city", city, "通过", expected_version=seen)
    with pytest.raises(workflow.Conflict):
        workflow.transition(filing, "return", city, "再退回", expected_version=seen)
    assert filing.status == "city_review"
    assert db.session.query(FilingEvent).filter_by(action="return").count() == 0


def test_decision_posts_a_notice_and_a_mail(app, ctx, people):
    from portal.accounts.models import Notice

    city = db.session.get(User, people["city"])
    filing = _filing("closure", people, "submitted")
    workflow.transition(filing, "return", city, "请补充关停证明")
    notice = db.session.query(Notice).filter_by(enterprise_id=filing.enterprise_id).one()
    assert filing.number in notice.title and "请补充关停证明" in notice.body


def test_paths_reach_final(ctx):
    for kind, steps in workflow.TRANSITIONS.items():
        status = "submitted"
        seen = set()
        while status != "final":
            forward = [
                s
                for (source, action), s in steps.items()
                if source == status
                and action not in ("return", "reject", "withdraw", "withdraw_publicity")
            ]
            assert len(forward) == 1, (kind, status)
            status = forward[0].target
            assert status not in seen
            seen.add(status)
    retrofit = workflow.TRANSITIONS["retrofit"]
    # Withdrawing a 公示 takes the filing back one step, to the province's queue.
    back = retrofit[("publicity", "withdraw_publicity")]
    assert (back.target, back.role, back.remark_required) == (
        "province_confirmed",
        "province",
        True,
    )
    assert workflow.TRANSITIONS["closure"][("publicity", "withdraw_publicity")].target == (
        "province_review"
    )
    assert ("publicity", "withdraw_publicity") not in workflow.TRANSITIONS["voluntary"]
    assert retrofit[("submitted", "review_baseline")].role == "auditor"
    assert retrofit[("baseline_review", "file_baseline")].role == "city"
    assert retrofit[("city_filed", "audit_savings")].role == "auditor"
    assert retrofit[("savings_audit", "confirm_city")].target == "city_confirmed"
