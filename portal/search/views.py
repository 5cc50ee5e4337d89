"""The search page and the suggestions under the header box. Thin: read → search → render."""

from __future__ import annotations

from flask import abort, make_response, redirect, request, url_for

from portal.i18n import formats, localized
from portal.i18n import gettext as _
from portal.reference.services import divisions, varieties
from portal.search import bp, snippets
from portal.search.services import Hit, record_endpoint, search, search_arguments, suggest
from portal.web import parse_int, redirect_after_post, render


def facet_names() -> dict[str, dict[str, str]]:
    return {
        "kind": {},
        "year": {},
        "division": {d.code: localized(d) for d in divisions()},
        "variety": {v.code: localized(v) for v in varieties()},
    }


def record_url(hit: Hit) -> str | None:
    """The public page of a hit's record (a compliance record's is its period's list)."""
    target = record_endpoint(hit)
    return url_for(target[0], **target[1]) if target else None


@bp.get("")
def results():
    q, filters, sort = search_arguments(request.args)
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
    snippets.fill(found.hits, formats())
    response = make_response(
        render(
            "search/results.html",
            "search/_results.html",
            results=found,
            q=q,
            record_url=record_url,
            facet_names=facet_names(),
            breadcrumbs=[(_("全站搜索"), None)],
        )
    )
    if found.unavailable:
        # "Search is being rebuilt" is true for a moment only: no cache keeps it.
        response.cache_control.no_store = True
    return response


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
