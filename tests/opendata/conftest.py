"""The API's tests run with rate limits on and raised (the limiter's code path runs, its budget does
not get in the way); test_rate_limits.py lowers them to see the 429s."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from portal.extensions import db
from portal.news.services import utcnow
from tests import factories as f

RAISED_LIMIT = "1000000 per minute"


@pytest.fixture
def app_config(app_config):
    app_config["RATELIMIT_ENABLED"] = True
    app_config["API_RATE_LIMIT"] = RAISED_LIMIT
    app_config["SEARCH_REBUILD"] = "inline"
    return app_config


@pytest.fixture
def market(app):
    """Two units, listings and trades of both varieties, a published and an unpublished year."""
    with app.app_context():
        zz = f.enterprise("示例郑州豫能化工有限公司", "410100", "chemical")
        hb = f.enterprise("示例鹤壁新材建材有限公司", "410600", "building")
        listing = f.listing(zz, number="YNQ-GP-2025-000001")
        f.listing(hb, number="YNQ-GP-2025-000002", variety_code="coal")
        f.trade(hb, zz, listing, number="YNQ-CJ-2025-000001", quantity=Decimal("12.3456"))
        f.period(2024)
        f.period(2025, published=False)
        f.compliance(zz, 2024, "on_time")
        f.compliance(hb, 2024, "not_reported", actual=None)
        # A unit that holds nothing: its holdings are zero, written "0.0000", never the integer 0.
        f.compliance(
            hb, 2024, "not_applicable", variety_code="coal", quota=Decimal("0"), actual=None
        )
        db.session.commit()
        return {"zz": zz.uscc, "hb": hb.uscc}


@pytest.fixture
def api_records(app, market):
    """Every kind of record the API serves: the market, announcements and 公示 notices."""
    with app.app_context():
        f.announcement(title="关于开展用能权交易试点工作的通知", division_code="410100")
        publicity = f.announcement(
            title="关于示例郑州豫能化工有限公司节能改造用能权确权的公示",
            category="publicity",
            publicity_starts_at=utcnow() - timedelta(hours=1),
            publicity_ends_at=utcnow() + timedelta(days=6),
            attachments=[
                {
                    "filename": "确权意见.pdf",
                    "content_type": "application/pdf",
                    "size": 1024,
                    "sha256": "0" * 64,
                }
            ],
        )
        f.publicity_notice(publicity, subject_type="filing", status="open")
        ended = f.announcement(
            title="2024 年度履约名单公示",
            category="publicity",
            published_at=utcnow() - timedelta(days=30),
            publicity_ends_at=utcnow() - timedelta(days=23),
        )
        f.publicity_notice(
            ended, subject_type="compliance_period", status="final", finalized_at=utcnow()
        )
        f.announcement(title="尚未发布的草稿", status="draft")
        db.session.commit()
    return market


@pytest.fixture
def many_listings(app):
    """45 listings of one seller over 15 days (three a day), for paging."""
    with app.app_context():
        seller = f.enterprise("示例平顶山钢铁有限公司", "410400", "steel")
        for n in range(45):
            f.listing(
                seller,
                number=f"YNQ-GP-2024-{n:06d}",
                starts_on=date(2024, 1, 1) + timedelta(days=n // 3),
                listed_price=Decimal(300 + n % 7),
            )
        db.session.commit()
