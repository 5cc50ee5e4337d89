"""Sharing routes: share images, embeddable widgets, robots.txt, sitemaps, manifest, favicon."""

from __future__ import annotations

from collections.abc import Iterator
from xml.sax.saxutils import escape

from flask import Response, abort, current_app, redirect, request, send_file, url_for

from portal.disclosure.services import market_snapshot, open_listing_count
from portal.extensions import db
from portal.i18n import gettext as _
from portal.i18n import is_english
from portal.news.forms import CATEGORY_LABELS
from portal.news.services import filter_announcements, get_public_announcement_or_404
from portal.sharing import bp, images, services
from portal.urls import is_safe_path, public_url
from portal.web import frameable, parse_int, render

WIDGET_CACHE = "public, max-age=300"
SITEMAP_CACHE = "public, max-age=3600"
QR_CACHE = "public, max-age=86400"


@bp.get("/share/announcements/<int:id>.png")
def announcement_image(id: int):
    announcement = get_public_announcement_or_404(id)
    path = images.share_image_file(announcement)
    if path is None:
        return redirect(url_for("static", filename=images.DEFAULT_IMAGE))
    response = send_file(path, mimetype="image/png", conditional=True, max_age=86400)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


# ---- Widgets: small pages other sites put in an <iframe>. Only these (and news.embed) may be
# framed; they set no cookie, run no script, and open every link in a new tab.


def _widget(template: str, **context):
    response = render(template, **context)
    response.headers["Cache-Control"] = WIDGET_CACHE
    return response


@bp.get("/embed/announcements")
@frameable
def latest_widget():
    category = request.args.get("category") or None
    if category is not None and category not in CATEGORY_LABELS:
        abort(400, description=_("没有这个栏目，请使用 notice、policy、news 或 publicity。"))
    limit = min(max(parse_int(request.args.get("limit"), 5), 1), 20)
    rows, _count = filter_announcements(category=category)
    return _widget(
        "sharing/widget_announcements.html",
        announcements=list(db.session.scalars(rows.limit(limit))),
        category=category,
        category_labels=CATEGORY_LABELS,
    )


@bp.get("/embed/market/<variety>")
@frameable
def market_widget(variety: str):
    snapshot = next((s for s in market_snapshot(30) if s.variety.code == variety), None)
    if snapshot is None:
        abort(404, description=_("没有这个交易品种，请使用 energy 或 coal。"))
    return _widget(
        "sharing/widget_market.html",
        snapshot=snapshot,
        days=30,
        open_listings=open_listing_count(variety),
    )


@bp.get("/embed")
def widgets():
    """Each widget with a preview and the snippet to copy."""
    return render(
        "sharing/widgets.html",
        breadcrumbs=[(_("嵌入本站内容"), None)],
        categories=CATEGORY_LABELS,
        varieties=[s.variety for s in market_snapshot(30)],
    )


# ---- For crawlers and browsers


@bp.get("/robots.txt")
def robots():
    lines = [
        "User-agent: *",
        # Back office, accounts and filings are behind login; the API repeats what the lists
        # and the sitemap already lead to. A search's results may be crawled: each names the one
        # canonical page of its query, and its filter and page links say nofollow.
        "Disallow: /admin/",
        "Disallow: /accounts/",
        "Disallow: /filings/",
        "Disallow: /api/",
        "Allow: /",
        "",
        f"Sitemap: {public_url('sharing.sitemap')}",
        "",
    ]
    response = Response("\n".join(lines), mimetype="text/plain")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def _urlset(urls: Iterator[tuple[str, str | None]]) -> Iterator[str]:
    yield '<?xml version="1.0" encoding="UTF-8"?>\n'
    yield '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
    for loc, lastmod in urls:
        changed = f"<lastmod>{lastmod}</lastmod>" if lastmod else ""
        yield f"<url><loc>{escape(loc)}</loc>{changed}</url>\n"
    yield "</urlset>\n"


def _xml(body) -> Response:
    response = Response(body, mimetype="application/xml")
    response.headers["Cache-Control"] = SITEMAP_CACHE
    return response


@bp.get("/sitemap.xml")
def sitemap():
    """One sitemap while every URL fits in one file; above SITEMAP_MAX_URLS, an index of files."""
    session = db.session
    files = services.sitemap_files(session)
    if files is None:
        everything = (
            url for kind in services.SITEMAP_KINDS for url in services.sitemap_urls(session, kind)
        )
        return _xml("".join(_urlset(everything)))
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n',
        *(
            f"<sitemap><loc>{escape(public_url('sharing.sitemap_part', kind=kind, number=n))}"
            "</loc></sitemap>\n"
            for kind, n in files
        ),
        "</sitemapindex>\n",
    ]
    return _xml("".join(lines))


@bp.get(f"/sitemaps/<any({', '.join(services.SITEMAP_KINDS)}):kind>-<int:number>.xml")
def sitemap_part(kind: str, number: int):
    files = services.sitemap_files(db.session) or []
    if (kind, number) not in files:
        abort(404)
    return _xml("".join(_urlset(services.sitemap_urls(db.session, kind, number))))


@bp.get("/manifest.webmanifest")
def manifest():
    config = current_app.config
    english = is_english()
    body = {
        "name": config["SITE_NAME_EN" if english else "SITE_NAME"],
        "short_name": _("用能权交易"),
        "description": _("河南省用能权有偿使用和交易的挂牌、成交、履约名单和通知公告。"),
        "lang": "en" if english else "zh-CN",
        "start_url": url_for("main.home"),
        "scope": url_for("main.home"),
        "display": "browser",
        "background_color": "#ffffff",
        "theme_color": "#174a8b",
        "icons": [
            {
                "src": url_for("static", filename="img/icon-192.png"),
                "sizes": "192x192",
                "type": "image/png",
            },
            {
                "src": url_for("static", filename="img/icon-512.png"),
                "sizes": "512x512",
                "type": "image/png",
            },
            {
                "src": url_for("static", filename="img/favicon.svg"),
                "sizes": "any",
                "type": "image/svg+xml",
            },
        ],
    }
    response = current_app.json.response(body)
    response.mimetype = "application/manifest+json"
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.get("/share/qr.svg")
def qr_code():
    """The QR code of one of this site's pages (`to`: its path and query; none: the home page),
    for the share panel."""
    target = request.args.get("to") or "/"
    if len(target) > services.QR_MAX_TARGET or not is_safe_path(target):
        abort(400, description=_("二维码只能指向本站的页面。"))
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    response = Response(services.qr_svg(base + target), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = QR_CACHE
    return response


@bp.get("/favicon.ico")
def favicon():
    path = current_app.static_folder + "/img/favicon.ico"
    return send_file(path, mimetype="image/vnd.microsoft.icon", max_age=604800)
