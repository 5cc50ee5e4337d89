"""Public pages: thin views over disclosure/services.py."""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_babel import gettext as _

from portal.compliance import services as compliance
from portal.compliance.labels import COMPLIANCE_STATUS
from portal.disclosure import bp, exports, services
from portal.disclosure.forms import EnterpriseFilterForm, ListingFilterForm, TradeFilterForm
from portal.disclosure.labels import LISTING_STATUS, SETTLEMENT_STATUS, TRADE_METHOD
from portal.exports import download
from portal.extensions import db
from portal.lists import render_list
from portal.urls import public_url
from portal.web import render

LABELS = {
    "listing_status": LISTING_STATUS,
    "trade_method": TRADE_METHOD,
    "settlement_status": SETTLEMENT_STATUS,
    "compliance_status": COMPLIANCE_STATUS,
}


@bp.get("/listings")
def listings():
    form = ListingFilterForm(request.args)
    return render_list(
        form,
        services.listings_query,
        "disclosure/listings.html",
        "disclosure/_listing_results.html",
        labels=LABELS,
        breadcrumbs=[(_("挂牌信息"), None)],
    )


@bp.get("/listings/<number>")
def listing_detail(number: str):
    listing = services.get_listing_or_404(number)
    return render(
        "disclosure/listing_detail.html",
        listing=listing,
        trades=services.related_trades_for_listing(listing),
        labels=LABELS,
        breadcrumbs=[(_("挂牌信息"), url_for(".listings")), (listing.number, None)],
    )


@bp.get("/trades")
def trades():
    form = TradeFilterForm(request.args)
    return render_list(
        form,
        services.trades_query,
        "disclosure/trades.html",
        "disclosure/_trade_results.html",
        labels=LABELS,
        breadcrumbs=[(_("成交公示"), None)],
    )


@bp.get("/trades/<number>")
def trade_detail(number: str):
    trade = services.get_trade_or_404(number)
    return render(
        "disclosure/trade_detail.html",
        trade=trade,
        labels=LABELS,
        breadcrumbs=[(_("成交公示"), url_for(".trades")), (trade.number, None)],
    )


@bp.get("/statistics")
def statistics():
    """Monthly volume and average price per variety over the last 24 months, chart and table."""
    report = services.market_statistics(months=24)
    return render(
        "disclosure/statistics.html",
        **report,
        breadcrumbs=[(_("市场统计"), None)],
    )


@bp.get("/enterprises")
def enterprises():
    form = EnterpriseFilterForm(request.args)
    return render_list(
        form,
        services.enterprises_query,
        "disclosure/enterprises.html",
        "disclosure/_enterprise_results.html",
        labels=LABELS,
        breadcrumbs=[(_("参与单位"), None)],
    )


@bp.get("/enterprises/<uscc>")
def enterprise_detail(uscc: str):
    enterprise = services.get_public_enterprise_or_404(uscc)
    if uscc != enterprise.uscc:
        return redirect(url_for(".enterprise_detail", uscc=enterprise.uscc), code=301)
    listings_stmt, listings_count = services.listings_query({"seller_id": enterprise.id})
    trades_stmt, trades_count = services.trades_query({"party_id": enterprise.id})
    return render(
        "disclosure/enterprise_detail.html",
        enterprise=enterprise,
        listings=list(db.session.scalars(listings_stmt.limit(10))),
        listings_total=db.session.scalar(listings_count),
        trades=list(db.session.scalars(trades_stmt.limit(10))),
        trades_total=db.session.scalar(trades_count),
        totals=services.enterprise_trade_totals(enterprise.id),
        compliance=compliance.enterprise_compliance_history(enterprise.id),
        labels=LABELS,
        breadcrumbs=[(_("参与单位"), url_for(".enterprises")), (enterprise.name, None)],
    )


# ---- Open data: every filtered list downloads as CSV and XLSX, from one set of columns. ----

# list name → (filter form, query, dataset, list page)
EXPORTS = {
    "listings": (
        ListingFilterForm,
        services.listings_query,
        exports.LISTINGS,
        "disclosure.listings",
    ),
    "trades": (TradeFilterForm, services.trades_query, exports.TRADES, "disclosure.trades"),
    "enterprises": (
        EnterpriseFilterForm,
        services.enterprises_query,
        exports.ENTERPRISES,
        "disclosure.enterprises",
    ),
}


def _export(kind: str, file_format: str):
    form_class, query_factory, dataset, page = EXPORTS[kind]
    form = form_class(request.args)
    if not form.validate():
        return render_list(
            form,
            query_factory,
            f"disclosure/{kind}.html",
            f"disclosure/_{kind[:-1]}_results.html",
            labels=LABELS,
        )
    stmt, _count = query_factory(form.data)
    stmt = stmt.options(*exports.LOADS[kind])
    return download(dataset, form, stmt, file_format, kind, public_url(page, **form.active))


@bp.get("/listings/export.csv", defaults={"kind": "listings"})
@bp.get("/trades/export.csv", defaults={"kind": "trades"})
@bp.get("/enterprises/export.csv", defaults={"kind": "enterprises"})
def export_csv(kind: str):
    return _export(kind, "csv")


@bp.get("/listings/export.xlsx", defaults={"kind": "listings"})
@bp.get("/trades/export.xlsx", defaults={"kind": "trades"})
@bp.get("/enterprises/export.xlsx", defaults={"kind": "enterprises"})
def export_xlsx(kind: str):
    return _export(kind, "xlsx")
