from datetime import date
from decimal import Decimal

import pytest

from portal.extensions import db
from tests import factories as f


@pytest.fixture
def market(app):
    """Two cities' units, three listings (one of the province), trades, a published compliance
    year with a unit that did not report, and two announcements."""
    with app.app_context():
        zz = f.enterprise("示例郑州豫能化工有限公司", "410100", "chemical")
        smx = f.enterprise("示例三门峡有色金属有限公司", "411200", "nonferrous")
        l1 = f.listing(zz, number="YNQ-GP-2025-000001", starts_on=date(2025, 1, 5))
        l2 = f.listing(
            smx,
            number="YNQ-GP-2025-000002",
            variety_code="coal",
            listed_price=Decimal("150.50"),
            quantity=Decimal("1234.5678"),
            starts_on=date(2025, 6, 1),
            method="auction",
        )
        f.listing(None, number="YNQ-GP-2024-000003", starts_on=date(2024, 3, 1))
        f.trade(smx, zz, l1, number="YNQ-CJ-2025-000001", trade_date=date(2025, 1, 20))
        f.trade(
            zz,
            smx,
            l2,
            number="YNQ-CJ-2025-000002",
            variety_code="coal",
            unit_price=Decimal("155.50"),
            trade_date=date(2025, 6, 10),
            method="auction",
        )
        f.period(2024)
        f.compliance(zz, 2024, "on_time")
        f.compliance(smx, 2024, "not_reported", actual=None)
        f.announcement(title="关于开展用能权交易的通知", category="notice")
        f.announcement(title="用能权确权结果公示", category="publicity", division_code="411200")
        db.session.commit()
