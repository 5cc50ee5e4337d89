"""Links and metadata for sharing: canonical URLs, language links, JSON-LD, QR codes, snippets,
and the URLs listed in the sitemaps."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime
from functools import lru_cache
from html import escape
from urllib.parse import urlencode

import segno
from flask import current_app, request, url_for
from sqlalchemy import func, select

from portal.compliance.models import CompliancePeriod
from portal.disclosure.models import Listing, Trade
from portal.enterprises.models import Enterprise
from portal.i18n import is_english
from portal.news.services import public_announcements
from portal.urls import public_adapter, public_url

# Pages whose canonical address keeps only some of the query: every filtered or later page of a
# search's results points crawlers at the one page of that query.
CANONICAL_ARGS = {"search.results": frozenset({"q"})}


def _current_url(lang: str | None) -> str:
    """This page's address under PUBLIC_BASE_URL, with `lang` set to `lang` (None: removed)."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    kept = CANONICAL_ARGS.get(request.endpoint)
    args = [
        (key, value)
        for key, value in request.args.items(multi=True)
        if key != "lang" and (kept is None or key in kept)
    ]
    if lang:
        args.append(("lang", lang))
    query = urlencode(args)
    return f"{base}{request.path}" + (f"?{query}" if query else "")


def canonical_url() -> str:
    """The address to share for this page: in English with `?lang=en`, in Chinese without."""
    return _current_url("en" if is_english() else None)


def language_alternates() -> list[tuple[str, str]]:
    """(hreflang, URL) of this page in each language; x-default is the Chinese original."""
    chinese = _current_url(None)
    return [("zh-CN", chinese), ("en", _current_url("en")), ("x-default", chinese)]


# The longest on-site address (path and query) a QR code is drawn for: a code this long still
# scans from a printed page.
QR_MAX_TARGET = 1000


def qr_image_url(url: str) -> str:
    """The address of the QR code image of `url`, one of this site's pages under PUBLIC_BASE_URL.

    The image is its own request (sharing.views.qr_code), loaded when the share panel scrolls into
    view and cached by the browser: drawing a code takes about 4 ms, which a page of a record
    (each with its own address) would otherwise spend on every uncached view."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    target = url[len(base) :] if url.startswith(base) else url
    return url_for("sharing.qr_code", to=target or "/")


@lru_cache(maxsize=512)
def qr_svg(url: str) -> bytes:
    """A QR code of `url` as an SVG document."""
    code = segno.make(url, error="m", micro=False)
    out = io.BytesIO()
    code.save(out, kind="svg", scale=4, border=4, dark="#000", light="#fff", xmldecl=False)
    return out.getvalue()


def widget_snippet(url: str, title: str, height: int = 420) -> str:
    """The HTML another site pastes to show a widget: escaped here, shown as text on the page."""
    return (
        f'<iframe src="{escape(url)}" title="{escape(str(title))}" width="100%" '
        f'height="{int(height)}" loading="lazy" style="border:0"></iframe>'
    )


def _organization_id() -> str:
    return public_url("main.home") + "#organization"


def organization_json_ld() -> dict:
    """schema.org GovernmentOrganization for the sponsor, on every page."""
    config = current_app.config
    return {
        "@context": "https://schema.org",
        "@type": "GovernmentOrganization",
        "@id": _organization_id(),
        "name": config["SITE_SPONSOR"],
        "alternateName": config["SITE_SPONSOR_EN"],
        "url": public_url("main.home"),
        "logo": public_url("static", filename="img/icon-512.png"),
        "email": config["SITE_CONTACT_EMAIL"],
        "telephone": config["SITE_CONTACT_PHONE"],
        "address": {
            "@type": "PostalAddress",
            "streetAddress": config["SITE_ADDRESS"],
            "addressRegion": "河南省",
            "addressCountry": "CN",
        },
        "department": {
            "@type": "WebSite",
            "name": config["SITE_NAME"],
            "alternateName": config["SITE_NAME_EN"],
            "url": public_url("main.home"),
        },
    }


def _iso(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def news_article_json_ld(announcement, image_url: str) -> dict:
    """schema.org NewsArticle for one announcement."""
    url = public_url("news.detail", id=announcement.id)
    organization = {"@id": _organization_id()}
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": announcement.title[:110],
        "url": url,
        "mainEntityOfPage": url,
        "image": [image_url],
        "datePublished": _iso(announcement.published_at),
        "dateModified": _iso(announcement.updated_at or announcement.published_at),
        "inLanguage": "zh-CN",
        "author": organization,
        "publisher": organization,
        "isAccessibleForFree": True,
    }
    if announcement.summary:
        data["description"] = announcement.summary
    return data


# ---- Sitemaps: every public page a search engine should know, split into files of at most
# SITEMAP_MAX_URLS (50,000, the sitemaps.org limit) with an index above it.

SITEMAP_KINDS = ("pages", "announcements", "listings", "trades", "enterprises")

# The pages that are not records: lists, data pages, about.
STATIC_PAGES = (
    ("main.home", {}),
    ("disclosure.listings", {}),
    ("disclosure.trades", {}),
    ("compliance.index", {}),
    ("compliance.exposure", {}),
    ("disclosure.enterprises", {}),
    ("disclosure.statistics", {}),
    ("prices.index", {}),
    ("news.index", {}),
    ("news.index", {"category": "notice"}),
    ("news.index", {"category": "policy"}),
    ("news.index", {"category": "news"}),
    ("news.index", {"category": "publicity"}),
    ("downloads.index", {}),
    ("downloads.dictionary", {}),
    ("downloads.licence", {}),
    ("downloads.archives", {}),
    ("sharing.widgets", {}),
    ("benchmarks.index", {}),
    ("main.about", {}),
    ("main.accessibility", {}),
    ("main.sitemap", {}),
)


def _record_queries() -> dict:
    """Per kind: (select of the URL key and the last change, ordered by id; count select)."""
    announcements = public_announcements().subquery()
    public = Enterprise.is_public.is_(True)
    return {
        "announcements": (
            select(
                announcements.c.id,
                func.coalesce(announcements.c.updated_at, announcements.c.published_at),
            ).order_by(announcements.c.id),
            select(func.count()).select_from(announcements),
        ),
        "listings": (
            select(Listing.number, Listing.updated_at).order_by(Listing.id),
            select(func.count(Listing.id)),
        ),
        "trades": (
            select(Trade.number, Trade.created_at).order_by(Trade.id),
            select(func.count(Trade.id)),
        ),
        "enterprises": (
            select(Enterprise.uscc, Enterprise.created_at).where(public).order_by(Enterprise.id),
            select(func.count(Enterprise.id)).where(public),
        ),
    }


RECORD_PAGES = {
    "announcements": ("news.detail", "id"),
    "listings": ("disclosure.listing_detail", "number"),
    "trades": ("disclosure.trade_detail", "number"),
    "enterprises": ("disclosure.enterprise_detail", "uscc"),
}


def _published_years(session) -> list[int]:
    return list(
        session.scalars(
            select(CompliancePeriod.year)
            .where(CompliancePeriod.published_at.is_not(None))
            .order_by(CompliancePeriod.year)
        )
    )


def sitemap_counts(session) -> dict[str, int]:
    counts = {"pages": len(STATIC_PAGES) + len(_published_years(session))}
    for kind, (_rows, count) in _record_queries().items():
        counts[kind] = session.scalar(count) or 0
    return counts


def sitemap_files(session) -> list[tuple[str, int]] | None:
    """The (kind, number) of each sitemap file, or None when one file holds every URL."""
    limit = current_app.config["SITEMAP_MAX_URLS"]
    counts = sitemap_counts(session)
    if sum(counts.values()) <= limit:
        return None
    return [
        (kind, number)
        for kind in SITEMAP_KINDS
        for number in range(1, -(-counts[kind] // limit) + 1)
    ]


def sitemap_urls(session, kind: str, number: int | None = None) -> Iterator[tuple[str, str | None]]:
    """(URL, last change) of the `number`th file of `kind` (1-based), or of every file."""
    adapter = public_adapter()
    limit = current_app.config["SITEMAP_MAX_URLS"]
    if kind == "pages":
        pages = list(STATIC_PAGES) + [
            ("compliance.period", {"year": year}) for year in _published_years(session)
        ]
        if number is not None:
            pages = pages[(number - 1) * limit : number * limit]
        for endpoint, args in pages:
            yield adapter.build(endpoint, args, force_external=True), None
        return
    rows, _count = _record_queries()[kind]
    if number is not None:
        rows = rows.offset((number - 1) * limit).limit(limit)
    endpoint, argument = RECORD_PAGES[kind]
    for key, changed in session.execute(rows.execution_options(yield_per=5000)):
        yield adapter.build(endpoint, {argument: key}, force_external=True), _iso(changed)
