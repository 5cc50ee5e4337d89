"""A period's list takes its total from the status counts when it can, and counts otherwise."""

from portal.compliance.services import period_total

COUNTS = {"compliant": 12_000, "non_compliant": 30, "rectifying": 4}


def test_total_of_the_whole_period_and_of_one_status():
    assert period_total(COUNTS, {"status": "", "sort": "name"}) == 12_034
    assert period_total(COUNTS, {"status": "non_compliant", "sort": "-shortfall"}) == 30
    assert period_total(COUNTS, {"status": "exempt"}) == 0


def test_any_other_filter_leaves_the_count_to_the_query():
    for name in ("division", "industry", "variety"):
        assert period_total(COUNTS, {name: "x", "status": "compliant"}) is None
