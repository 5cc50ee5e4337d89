"""The search page and the suggestions under the header box. Thin: read → search → render."""

from __future__ import annotations

from flask import abort, redirect, request, url_for
from flask_babel import gettext as _

from portal.i18n import RequestFormats, localized
from portal.reference.services import divisions, varieties
from portal.search import bp, snippets
from portal.search.services import Hit, search, suggest
from portal.web import parse_int, redirect_after_post, render

FILTER_ARGS = {"type": "kind", "division": "division", "variety": "variety", "year": "year"}
SORTS = ("relevance", "date")


def facet_names() -> dict[str, dict[str, str]]:
    return {
        "kind": {},
        "year": {},
        "division": {d.code: localized(d) for d in divisions()},
        "variety": {v.code: localized(v) for v in varieties()},
    }


def record_url(hit: Hit) -> str | None:
    """The public page of a hit's record (a compliance record's is its period's list)."""
    if hit.kind == "listing":
        return url_for("disclosure.listing_detail", number=hit.record)
    if hit.kind == "trade":
        return url_for("disclosure.trade_detail", number=hit.record)
    if hit.kind == "enterprise":
        return url_for("disclosure.enterprise_detail", uscc=hit.record)
    if hit.kind == "announcement":
        return url_for("news.detail", id=int(hit.record))
    if hit.kind == "compliance" and hit.link:
        year, _uscc = hit.link.split("|", 1)
        return url_for("compliance.period", year=int(year))
    return None


@bp.get("")
def results():
    q = request.args.get("q", "")
    filters = {name: request.args.get(arg, "").strip() for arg, name in FILTER_ARGS.items()}
    sort = request.args.get("sort", "relevance")
    if sort not in SORTS:
        sort = "relevance"
    page = parse_int(request.args.get("page"))
    if page < 1:
        abort(400, description=_("页码必须是正整数。"))
    found = search(q, filters, page, sort=sort)
    if found.redirect is not None:
        target = record_url(found.redirect)
        if target:
            return redirect_after_post(target) if request.htmx else redirect(target, code=303)
    if found.total and page > found.pages:
        abort(404)
    snippets.fill(found.hits, RequestFormats())
    return render(
        "search/results.html",
        "search/_results.html",
        results=found,
        q=q,
        record_url=record_url,
        facet_names=facet_names(),
        breadcrumbs=[(_("全站搜索"), None)],
    )


@bp.get("/suggest")
def suggest_view():
    q = request.args.get("q", "").strip()
    hits = suggest(q) if len(q) >= 2 else []
    return render(
        "search/suggest.html",
        "search/_suggest.html",
        hits=hits,
        q=q,
        record_url=record_url,
    )
