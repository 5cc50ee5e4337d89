"""Small, explicit test data. Each helper adds rows and flushes; the test commits if it needs to."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from decimal import Decimal

from stdnum.cn import uscc as stdnum_uscc

from portal.disclosure.models import CompliancePeriod, ComplianceRecord, Listing, Trade
from portal.enterprises.models import Enterprise
from portal.extensions import db

_serial = itertools.count(1)


def make_uscc(division: str = "410100", n: int | None = None) -> str:
    """A valid 统一社会信用代码 with the given division code."""
    n = next(_serial) if n is None else n
    # The organisation code (9th–17th) carries its own GB 11714 check digit.
    body = f"{n:08d}"
    weights = [3, 7, 9, 10, 5, 8, 4, 2]
    check = 11 - sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11
    org = body + {10: "X", 11: "0"}.get(check, str(check))
    first17 = "91" + division + org
    return first17 + stdnum_uscc.calc_check_digit(first17)


def enterprise(
    name="示例郑州豫能化工有限公司", division="410100", industry="chemical", **kw
) -> Enterprise:
    e = Enterprise(
        uscc=kw.pop("uscc", None) or make_uscc(division),
        name=name,
        division_code=division,
        industry_code=industry,
        is_public=kw.pop("is_public", True),
        **kw,
    )
    db.session.add(e)
    db.session.flush()
    return e


def listing(seller: Enterprise | None = None, number: str | None = None, **kw) -> Listing:
    n = next(_serial)
    values = dict(
        number=number or f"YNQ-GP-2025-{n:06d}",
        variety_code="energy",
        category_code="voluntary",
        seller_kind="enterprise" if seller else "province",
        seller_enterprise_id=seller.id if seller else None,
        seller_name=seller.name if seller else "河南省发展和改革委员会",
        division_code=seller.division_code if seller else None,
        industry_code=seller.industry_code if seller else None,
        quantity=Decimal("1000"),
        remaining_quantity=Decimal("1000"),
        listed_price=Decimal("320.00"),
        starts_on=date(2025, 3, 1),
        ends_on=date(2025, 3, 31),
        method="listing",
        status="open",
        contact_name="王示例",
        contact_phone="0371-12345678",
    )
    values.update(kw)
    row = Listing(**values)
    db.session.add(row)
    db.session.flush()
    return row


def trade(
    buyer: Enterprise,
    seller: Enterprise | None = None,
    listing: Listing | None = None,
    number: str | None = None,
    **kw,
) -> Trade:
    n = next(_serial)
    quantity = kw.pop("quantity", Decimal("100"))
    unit_price = kw.pop("unit_price", Decimal("330.00"))
    values = dict(
        number=number or f"YNQ-CJ-2025-{n:06d}",
        listing_id=listing.id if listing else None,
        variety_code="energy",
        category_code="voluntary",
        quantity=quantity,
        unit_price=unit_price,
        amount=(quantity * unit_price).quantize(Decimal("0.01")),
        buyer_enterprise_id=buyer.id,
        buyer_name=buyer.name,
        buyer_division_code=buyer.division_code,
        seller_enterprise_id=seller.id if seller else None,
        seller_name=seller.name if seller else "河南省发展和改革委员会",
        seller_division_code=seller.division_code if seller else None,
        industry_code=buyer.industry_code,
        trade_date=date(2025, 3, 10),
        settlement_status="settled",
    )
    values.update(kw)
    row = Trade(**values)
    db.session.add(row)
    db.session.flush()
    return row


def period(year=2024, published=True) -> CompliancePeriod:
    row = CompliancePeriod(
        year=year,
        filing_deadline=date(year + 1, 3, 31),
        published_at=datetime(year + 1, 6, 1) if published else None,
        publicity_ends_at=datetime(year + 1, 6, 8) if published else None,
    )
    db.session.add(row)
    db.session.flush()
    return row


def compliance(unit: Enterprise, year=2024, status="on_time", **kw) -> ComplianceRecord:
    values = dict(
        enterprise_id=unit.id,
        period_year=year,
        variety_code="energy",
        quota=Decimal("5000"),
        bought=Decimal("0"),
        sold=Decimal("0"),
        taken_back=Decimal("0"),
        actual=Decimal("4800"),
        status=status,
    )
    values.update(kw)
    row = ComplianceRecord(**values)
    db.session.add(row)
    db.session.flush()
    return row
