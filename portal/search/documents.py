"""What the index holds: one document per public record, and the rule that makes it public.

Publicity is decided here, when a change is applied, never when it is collected: an announcement
scheduled for later is not public at commit time but becomes so when its time comes (sync_pending).
Nothing private is read: no listing contact, no enterprise address, nothing from filings or accounts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from portal.compliance.labels import COMPLIANCE_STATUS
from portal.compliance.models import CompliancePeriod, ComplianceRecord
from portal.disclosure import labels
from portal.disclosure.models import Listing, Trade
from portal.enterprises.models import Enterprise
from portal.news.models import Announcement
from portal.reference.models import Category, Division, Industry, Variety

KINDS = ("listing", "trade", "compliance", "enterprise", "announcement")

_TAGS = re.compile(r"<[^>]+>")
_MARKDOWN = re.compile(r"[#*_`>\[\]()!|]+")


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Names:
    """Reference names by code, loaded once per batch."""

    def __init__(self, session: Session) -> None:
        self.division = {r.code: r for r in session.scalars(select(Division))}
        self.variety = {r.code: r for r in session.scalars(select(Variety))}
        self.category = {r.code: r for r in session.scalars(select(Category))}
        self.industry = {r.code: r for r in session.scalars(select(Industry))}

    @staticmethod
    def zh(row) -> str:
        return row.name if row is not None else ""

    @staticmethod
    def en(row) -> str:
        return (row.name_en or "") if row is not None else ""


def _label(mapping: dict, code: str | None) -> str:
    label = mapping.get(code or "")
    # The msgid is the Chinese label; reading it needs no request or locale.
    return label._args[0] if label is not None and hasattr(label, "_args") else str(label or "")


def _day(value: date | datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


def _number(value) -> str:
    """A Decimal as stored text (formatted for the visitor at render time); "" for None."""
    return "" if value is None else str(value)


def _doc(
    kind, key_id, record, code, title, body, division, variety, when, *, english="", facts=None
) -> dict:
    """One index document. `body` is the Chinese text (searched, and stored for phrase checks);
    `names_en` holds the English reference names (searched, never stored or shown); `facts` are the
    stored values the result line is built from at render time, in the visitor's language."""
    day = _day(when)
    document = {
        "key": f"{kind}:{key_id}",
        "kind": kind,
        "record": str(record),
        "code": code or "",
        "title": title,
        "body": body,
        "division": division or "",
        "variety": variety or "",
        "year": day[:4],
        "date": day,
    }
    if english.strip():
        document["names_en"] = english
    if facts is not None:
        document["facts"] = facts
    return document


def _words(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def listing_document(row: Listing, names: Names) -> dict:
    variety = names.variety.get(row.variety_code)
    category = names.category.get(row.category_code)
    division = names.division.get(row.division_code or "")
    industry = names.industry.get(row.industry_code or "")
    body = _words(
        names.zh(variety),
        names.zh(category),
        names.zh(division),
        names.zh(industry),
        _label(labels.LISTING_STATUS, row.status),
        _label(labels.TRADE_METHOD, row.method),
        "挂牌",
        row.description or "",
    )
    title = f"{row.seller_name} {variety.name if variety else ''}挂牌 {row.number}"
    facts = {
        "category": row.category_code or "",
        "quantity": _number(row.quantity),
        "price": _number(row.listed_price),
        "status": row.status,
        "text": row.description or "",
    }
    return _doc(
        "listing",
        row.id,
        row.number,
        row.number,
        title,
        body,
        row.division_code,
        row.variety_code,
        row.starts_on,
        english=_words(*(names.en(r) for r in (variety, category, division, industry))),
        facts=facts,
    )


def trade_document(row: Trade, names: Names) -> dict:
    variety = names.variety.get(row.variety_code)
    category = names.category.get(row.category_code)
    buyer_division = names.division.get(row.buyer_division_code or "")
    seller_division = names.division.get(row.seller_division_code or "")
    industry = names.industry.get(row.industry_code or "")
    title = f"{row.buyer_name} 购入 {row.seller_name} {variety.name if variety else ''} 成交 {row.number}"
    body = _words(
        names.zh(variety),
        names.zh(category),
        names.zh(buyer_division),
        names.zh(seller_division),
        names.zh(industry),
        _label(labels.TRADE_METHOD, row.method),
        "成交 交易",
    )
    facts = {
        "category": row.category_code or "",
        "seller_division": row.seller_division_code or "",
        "buyer_division": row.buyer_division_code or "",
        "quantity": _number(row.quantity),
        "price": _number(row.unit_price),
        "amount": _number(row.amount),
        "method": row.method,
    }
    english = (variety, category, buyer_division, seller_division, industry)
    return _doc(
        "trade",
        row.id,
        row.number,
        row.number,
        title,
        body,
        row.buyer_division_code or row.seller_division_code,
        row.variety_code,
        row.trade_date,
        english=_words(*(names.en(r) for r in english)),
        facts=facts,
    )


def compliance_document(row: ComplianceRecord, period: CompliancePeriod, names: Names) -> dict:
    enterprise = row.enterprise
    variety = names.variety.get(row.variety_code)
    division = names.division.get(enterprise.division_code)
    industry = names.industry.get(enterprise.industry_code)
    status = _label(COMPLIANCE_STATUS, row.status)
    title = f"{enterprise.name} {row.period_year}年度{variety.name if variety else ''}履约 {status}"
    body = _words(
        enterprise.uscc, names.zh(variety), names.zh(division), names.zh(industry), "履约"
    )
    facts = {
        "status": row.status,
        "holdings": _number(row.holdings),
        "actual": _number(row.actual),
        "shortfall": _number(row.shortfall),
    }
    return _doc(
        "compliance",
        row.id,
        row.id,
        "",
        title,
        body,
        enterprise.division_code,
        row.variety_code,
        period.published_at,
        english=_words(*(names.en(r) for r in (variety, division, industry)), "compliance"),
        facts=facts,
    ) | {"year": str(row.period_year), "link": f"{row.period_year}|{enterprise.uscc}"}


def enterprise_document(row: Enterprise, names: Names) -> dict:
    # The public profile only: name, code, division, industry, profile text. Never the address.
    division = names.division.get(row.division_code)
    industry = names.industry.get(row.industry_code)
    body = _words(row.uscc, names.zh(division), names.zh(industry), row.profile or "")
    facts = {"uscc": row.uscc, "industry": row.industry_code or "", "text": row.profile or ""}
    return _doc(
        "enterprise",
        row.id,
        row.uscc,
        row.uscc,
        row.name,
        body,
        row.division_code,
        "",
        row.created_at,
        english=_words(names.en(division), names.en(industry)),
        facts=facts,
    )


def announcement_document(row: Announcement, names: Names) -> dict:
    text = _TAGS.sub(" ", row.body_html) if row.body_html else _MARKDOWN.sub(" ", row.body_md)
    attachments = " ".join(f"{a.filename} {a.text or ''}" for a in row.attachments)
    body = " ".join([row.summary or "", text, row.source or "", attachments])
    return _doc(
        "announcement",
        row.id,
        row.id,
        "",
        row.title,
        body,
        row.division_code,
        "",
        row.published_at,
    ) | {"category": row.category}


# ---- publicity rules, applied when a change reaches the index -------------------------------


def is_public_announcement(row: Announcement | None, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return (
        row is not None
        and row.status == "published"
        and row.published_at is not None
        and row.published_at <= now
    )


def documents_for(session: Session, model: str, record_id: str, names: Names):
    """(keys to delete, documents to write) for one changed record, by today's rules."""
    if model == "listing":
        row = session.get(Listing, int(record_id))
        return [f"listing:{record_id}"], ([listing_document(row, names)] if row else [])
    if model == "trade":
        row = session.get(Trade, int(record_id))
        return [f"trade:{record_id}"], ([trade_document(row, names)] if row else [])
    if model == "compliance":
        row = session.get(ComplianceRecord, int(record_id))
        key = [f"compliance:{record_id}"]
        if row is None or row.period is None or row.period.published_at is None:
            return key, []
        return key, [compliance_document(row, row.period, names)]
    if model == "compliance_period":
        rows = session.scalars(
            select(ComplianceRecord).where(ComplianceRecord.period_year == int(record_id))
        ).all()
        keys = [f"compliance:{r.id}" for r in rows]
        period = session.get(CompliancePeriod, int(record_id))
        if period is None or period.published_at is None:
            return keys, []
        return keys, [compliance_document(r, period, names) for r in rows]
    if model == "enterprise":
        row = session.get(Enterprise, int(record_id))
        keys = [f"enterprise:{record_id}"]
        if row is None:
            return keys, []
        docs = [enterprise_document(row, names)] if row.is_public else []
        # The enterprise's name is part of its published compliance records.
        for record in session.scalars(
            select(ComplianceRecord).where(ComplianceRecord.enterprise_id == row.id)
        ):
            keys.append(f"compliance:{record.id}")
            if record.period and record.period.published_at:
                docs.append(compliance_document(record, record.period, names))
        return keys, docs
    if model == "announcement":
        row = session.get(Announcement, int(record_id))
        key = [f"announcement:{record_id}"]
        return key, ([announcement_document(row, names)] if is_public_announcement(row) else [])
    return [], []


def all_documents(session: Session, batch: int = 2000) -> Iterator[dict]:
    """Every public record, for a full rebuild, oldest first within each kind."""
    names = Names(session)
    for row in session.scalars(
        select(Listing).order_by(Listing.starts_on, Listing.id).execution_options(yield_per=batch)
    ):
        yield listing_document(row, names)
    for row in session.scalars(
        select(Trade).order_by(Trade.trade_date, Trade.id).execution_options(yield_per=batch)
    ):
        yield trade_document(row, names)
    periods = {
        p.year: p
        for p in session.scalars(
            select(CompliancePeriod).where(CompliancePeriod.published_at.is_not(None))
        )
    }
    if periods:
        for row in session.scalars(
            select(ComplianceRecord)
            .where(ComplianceRecord.period_year.in_(list(periods)))
            .order_by(ComplianceRecord.id)
            .execution_options(yield_per=batch)
        ):
            yield compliance_document(row, periods[row.period_year], names)
    for row in session.scalars(
        select(Enterprise)
        .where(Enterprise.is_public.is_(True))
        .order_by(Enterprise.id)
        .execution_options(yield_per=batch)
    ):
        yield enterprise_document(row, names)
    for row in session.scalars(
        select(Announcement)
        .where(Announcement.status == "published", Announcement.published_at <= utcnow())
        .options(selectinload(Announcement.attachments))
        .order_by(Announcement.published_at, Announcement.id)
    ):
        yield announcement_document(row, names)


def count_public(session: Session) -> int:
    total = session.scalar(select(func.count()).select_from(Listing)) or 0
    total += session.scalar(select(func.count()).select_from(Trade)) or 0
    total += (
        session.scalar(
            select(func.count())
            .select_from(ComplianceRecord)
            .join(CompliancePeriod)
            .where(CompliancePeriod.published_at.is_not(None))
        )
        or 0
    )
    total += session.scalar(select(func.count()).where(Enterprise.is_public.is_(True))) or 0
    total += (
        session.scalar(
            select(func.count()).where(
                Announcement.status == "published", Announcement.published_at <= utcnow()
            )
        )
        or 0
    )
    return total
