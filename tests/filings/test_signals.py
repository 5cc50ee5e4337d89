"""A filing step is announced once, after it is taken; its consequences subscribe in a fixed order."""

import pytest

from portal.accounts.models import User
from portal.extensions import db
from portal.filings import services, signals, workflow
from portal.publicity import services as publicity
from portal.review import services as review


@pytest.fixture
def people(app, auth):
    enterprise_id = auth.make_enterprise(division_code="410100")
    return {
        "enterprise": auth.make_user("enterprise", enterprise_id=enterprise_id),
        "city": auth.make_user("city", division_code="410100"),
    }


def test_transition_sends_filing_transitioned_once_after_the_step(ctx, people):
    filing = services.create_filing("voluntary", db.session.get(User, people["enterprise"]))
    filing.status = "submitted"
    db.session.flush()
    city = db.session.get(User, people["city"])
    seen = []

    def receiver(sender, **kwargs):
        seen.append((sender, kwargs["filing"].status, kwargs["step"].target, kwargs["remark"]))

    with signals.filing_transitioned.connected_to(receiver):
        workflow.transition(filing, "review_city", city, " 通过 ")
        with pytest.raises(workflow.TransitionError):
            workflow.transition(filing, "review_city", city, "再次")  # refused: not announced
    assert seen == [("review_city", "city_review", "city_review", "通过")]


def test_stale_version_is_refused_by_transition_before_any_receiver_runs(ctx, people):
    filing = services.create_filing("voluntary", db.session.get(User, people["enterprise"]))
    filing.status = "submitted"
    db.session.flush()
    seen = []
    with signals.filing_transitioned.connected_to(lambda sender, **kw: seen.append(sender)):
        with pytest.raises(workflow.Conflict):
            review.act_on_filing(
                filing,
                "review_city",
                db.session.get(User, people["city"]),
                "通过",
                filing.version - 1,
            )
    assert seen == [] and filing.status == "submitted"


def test_the_enterprise_is_told_first_then_review_acts(app):
    """The notice first (as transition() always did), then the 公示 and registry consequences;
    review's two receivers act on different kinds of filing, so their relative order is free."""
    names = [
        f"{r.__module__}.{r.__name__}" for r in signals.filing_transitioned.receivers_for("publish")
    ]
    assert names[0] == "portal.filings.services._decision_taken"
    assert set(names[1:]) == {
        "portal.review.services._on_filing_transitioned",
        "portal.compliance.services._compliance_filing_final",
    }


def test_ordered_signal_runs_a_lower_order_first():
    from portal.signals import OrderedSignal

    signal = OrderedSignal("test")
    calls = []
    signal.connect(lambda sender: calls.append("late"), sender="x", weak=False)
    signal.connect(lambda sender: calls.append("first"), sender="x", weak=False, order=-1)
    signal.send("x")
    assert calls == ["first", "late"]


def test_ordered_signal_calls_receivers_in_connection_order():
    from portal.signals import OrderedSignal

    signal = OrderedSignal("test")
    calls = []
    receivers = [lambda sender, n=n: calls.append(n) for n in range(20)]
    for receiver in receivers:
        signal.connect(receiver, sender="x")
    signal.send("x")
    assert calls == list(range(20))


def test_publicity_signals_have_their_subscribers(app):
    def names(signal, sender):
        return [r.__name__ for r in signal.receivers_for(sender)]

    assert names(publicity.publicity_finalized, "filing") == ["_filing_publicity_ended"]
    assert names(publicity.publicity_reopened, "filing") == ["_filing_objection_upheld"]
    assert names(publicity.publicity_withdrawn, "filing") == ["_filing_publicity_withdrawn"]
    assert names(publicity.publicity_finalized, "compliance_period") == ["_list_final"]
    assert names(publicity.publicity_withdrawn, "compliance_period") == ["_list_withdrawn"]
