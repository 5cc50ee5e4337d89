"""Make filings in a given status, as the enterprise would have left them."""

from __future__ import annotations

import hashlib
from decimal import Decimal

from portal.extensions import db
from tests.review.backoffice import make_enterprise, make_user

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def make_filing(kind: str, status: str = "submitted", *, enterprise=None, firm_id=None, **fields):
    from portal.filings.models import (
        ClosureClaim,
        ComplianceFiling,
        ProjectPurchase,
        RetrofitClaim,
        VoluntaryApplication,
    )
    from portal.filings.services import now

    model = {
        "retrofit": RetrofitClaim,
        "closure": ClosureClaim,
        "purchase": ProjectPurchase,
        "voluntary": VoluntaryApplication,
        "compliance": ComplianceFiling,
    }[kind]
    enterprise = enterprise or make_enterprise("申报企业", "410100")
    owner = make_user("enterprise", totp=False, enterprise_id=enterprise.id)
    defaults = {
        "retrofit": {
            "project_name": "余热回收改造",
            "baseline_year": 2023,
            "baseline_energy": Decimal("5000"),
            "expected_energy_savings": Decimal("150"),
            "audit_firm_id": firm_id,
        },
        "closure": {"facility_name": "1 号窑", "prior_year_energy": Decimal("800")},
        "purchase": {
            "project_name": "年产 20 万吨项目",
            "variety_code": "energy",
            "required_quantity": Decimal("300"),
        },
        "voluntary": {"in_carbon_trading": False},
        "compliance": {"period_year": 2024, "actual_energy": Decimal("50")},
    }[kind]
    filing = model(
        enterprise_id=enterprise.id,
        division_code=enterprise.division_code,
        created_by_id=owner.id,
        status=status,
        submitted_at=now(),
        **(defaults | fields),
    )
    db.session.add(filing)
    db.session.flush()
    return filing


def checked_pdf():
    from portal.uploads import CheckedUpload

    return CheckedUpload(
        data=PDF,
        sha256=hashlib.sha256(PDF).hexdigest(),
        size=len(PDF),
        content_type="application/pdf",
        original_name="report.pdf",
    )
