"""Who is on a period's list: units with an obligation; only confirmed figures feed it."""

from datetime import date, datetime
from decimal import Decimal

import pytest

from portal.compliance import services as compliance
from portal.filings import services as filings
from portal.filings.forms import FORMS
from portal.registry import services as registry
from tests.factories import make_enterprise, make_filing


def _no_obligation(filing) -> bool:
    """Whether submitting the filing is refused because the unit owes nothing for the period."""
    form = FORMS["compliance"](data={"period_year": filing.period_year, "actual_energy": "50"})
    errors = filings.strict_errors(filing, form).get("period_year", [])
    return any("没有履约义务" in str(message) for message in errors)


def test_a_withdrawn_voluntary_unit_has_no_obligation_and_cannot_file(ctx):
    unit = make_enterprise("撤回企业")
    make_filing("voluntary", "withdrawn", enterprise=unit)
    filing = make_filing("compliance", "draft", enterprise=unit, period_year=2025)
    assert not filings.compliance_obligation(unit.id, 2025)
    assert _no_obligation(filing)
    compliance.open_period(2025, date(2026, 6, 30), actor=None)
    with pytest.raises(compliance.ComplianceError) as raised:
        compliance.record_status(2025, unit.id, "energy", "on_time", actual=1, actor=None)
    assert raised.value.code == "no_obligation"


def test_approval_before_the_period_ends_or_an_allocation_creates_the_obligation(ctx):
    volunteer, key_unit, late = (make_enterprise(n) for n in ("自愿企业", "重点企业", "迟批企业"))
    make_filing("voluntary", "final", enterprise=volunteer, decided_at=datetime(2025, 3, 1))
    make_filing("voluntary", "final", enterprise=late, decided_at=datetime(2026, 2, 1))
    registry.allocate_indicators(key_unit.id, "energy", 100, 2025, "2025 年度初始分配")
    assert compliance.obligated_enterprise_ids(2025) == {volunteer.id, key_unit.id}
    filing = make_filing("compliance", "draft", enterprise=volunteer, period_year=2025)
    assert not _no_obligation(filing)


def test_an_unreviewed_filing_never_feeds_the_overview(ctx):
    unit = make_enterprise("待审企业")
    registry.allocate_indicators(unit.id, "energy", 100, 2024, "分配")
    compliance.open_period(2024, date(2099, 3, 31), actor=None)
    filing = make_filing("compliance", "city_review", enterprise=unit, actual_energy=Decimal("500"))
    [row] = compliance.period_overview(2024)
    assert (row.filing_number, row.actual, row.suggested) == (filing.number, None, "not_reported")
    assert row.holdings == Decimal("100")
    filing.status = "final"
    [row] = compliance.period_overview(2024)
    assert (row.actual, row.suggested, row.shortfall) == (Decimal("500"), "non_compliant", 400)


def test_a_surrender_settles_its_period_and_leaves_later_allocations_alone(ctx):
    unit = make_enterprise("缺口企业")
    registry.allocate_indicators(unit.id, "energy", 100, 2024, "2024 年度初始分配")
    registry.allocate_indicators(unit.id, "energy", 80, 2025, "2025 年度初始分配")
    compliance.open_period(2024, date(2099, 3, 31), actor=None)
    filing = make_filing("compliance", "final", enterprise=unit, actual_energy=Decimal("130"))
    compliance.apply_compliance_filing(filing, None)
    assert registry.holding_for(unit.id, "energy", 2024).surrendered == Decimal("100")
    assert registry.balance(unit.id, "energy") == Decimal("80")
    [record] = compliance._records(2024)
    assert (record.status, record.holdings, record.shortfall) == (
        "non_compliant",
        Decimal("100"),
        Decimal("30"),
    )
