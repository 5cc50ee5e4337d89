from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.search.documents import utcnow

_numbers = itertools.count(1)


@pytest.fixture
def app_config(app_config):
    app_config["SEARCH_REBUILD"] = "inline"
    return app_config


@pytest.fixture
def make(app):
    """Create records through the ORM, as the portal does, and commit them."""
    from portal.disclosure.models import Listing
    from portal.enterprises.models import Enterprise
    from portal.news.models import Announcement
    from portal.reference.models import Industry

    class Maker:
        def enterprise(self, name="示例郑州节能科技有限公司", uscc="91410100MA9FXXXX0A", **kw):
            industry = db.session.scalars(select(Industry.code)).first()
            row = Enterprise(
                uscc=uscc,
                name=name,
                division_code=kw.pop("division_code", "410100"),
                industry_code=industry,
                is_public=kw.pop("is_public", True),
                **kw,
            )
            db.session.add(row)
            db.session.commit()
            return row

        def listing(self, seller_name="示例郑州钢铁有限公司", number=None, commit=True, **kw):
            n = next(_numbers)
            row = Listing(
                number=number or f"GP-2024-{n:05d}",
                variety_code=kw.pop("variety_code", "energy"),
                category_code=kw.pop("category_code", None) or _category(),
                seller_kind="enterprise",
                seller_name=seller_name,
                division_code=kw.pop("division_code", "410100"),
                quantity=Decimal("100"),
                remaining_quantity=Decimal("100"),
                listed_price=Decimal("80.00"),
                starts_on=kw.pop("starts_on", date(2024, 5, 1)),
                ends_on=date(2024, 6, 1),
                contact_name=kw.pop("contact_name", "王联系"),
                contact_phone=kw.pop("contact_phone", "13800138000"),
                description=kw.pop("description", "出售节能技术改造形成的用能权指标"),
                **kw,
            )
            db.session.add(row)
            if commit:
                db.session.commit()
            return row

        def announcement(self, title="关于开展用能权交易的通知", status="published", **kw):
            row = Announcement(
                category="notice",
                title=title,
                body_md=kw.pop("body_md", "全省**用能权**有偿使用和交易。"),
                status=status,
                published_at=kw.pop("published_at", utcnow() - timedelta(days=1)),
                **kw,
            )
            db.session.add(row)
            db.session.commit()
            return row

    return Maker()


def _category():
    from portal.reference.models import Category

    return db.session.scalars(select(Category.code)).first()


def keys(results):
    return [(h.kind, h.record) for h in results.hits]
