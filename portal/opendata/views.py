"""JSON views over disclosure/services.py: the same filters, the same rows, machine-readable."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import jsonify, request, url_for
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import HTTPException

from portal.compliance import services as compliance_services
from portal.compliance.forms import ComplianceFilterForm
from portal.disclosure import services
from portal.disclosure.forms import ListingFilterForm, TradeFilterForm
from portal.disclosure.models import Listing, Trade
from portal.extensions import db, limiter
from portal.opendata import bp
from portal.web import paginate, parse_int

MAX_PER_PAGE = 500


def _plain(value):
    """Decimals as strings (no float rounding), dates in ISO 8601."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def listing_record(row) -> dict:
    return {
        "number": row.number,
        "variety": row.variety_code,
        "category": row.category_code,
        "seller": row.seller_name,
        "seller_kind": row.seller_kind,
        "seller_uscc": row.seller.uscc if row.seller and row.seller.is_public else None,
        "division": row.division_code,
        "industry": row.industry_code,
        "quantity": row.quantity,
        "remaining_quantity": row.remaining_quantity,
        "listed_price": row.listed_price,
        "starts_on": row.starts_on,
        "ends_on": row.ends_on,
        "method": row.method,
        "status": row.status,
    }


def trade_record(row) -> dict:
    return {
        "number": row.number,
        "listing": row.listing.number if row.listing else None,
        "variety": row.variety_code,
        "category": row.category_code,
        "quantity": row.quantity,
        "unit_price": row.unit_price,
        "amount": row.amount,
        "buyer": row.buyer_name,
        "buyer_division": row.buyer_division_code,
        "seller": row.seller_name,
        "seller_division": row.seller_division_code,
        "industry": row.industry_code,
        "method": row.method,
        "trade_date": row.trade_date,
        "settlement_status": row.settlement_status,
    }


def compliance_record(row) -> dict:
    return {
        "uscc": row.enterprise.uscc,
        "enterprise": row.enterprise.name,
        "division": row.enterprise.division_code,
        "industry": row.enterprise.industry_code,
        "period": row.period_year,
        "variety": row.variety_code,
        "quota": row.quota,
        "bought": row.bought,
        "sold": row.sold,
        "taken_back": row.taken_back,
        "holdings": row.holdings,
        # null means not reported, which is not the same as zero
        "actual": row.actual,
        "status": row.status,
        "shortfall": row.shortfall,
        "rectify_by": row.rectify_by,
    }


def _answer(form, query, record, loads=(), **view_args):
    """Validate the filters, then one page of records with links to the neighbouring pages."""
    if not form.validate():
        response = jsonify({"error": "invalid_filter", "fields": form.errors})
        response.status_code = 400
        return response
    page_number = parse_int(request.args.get("page"))
    per_page = min(max(parse_int(request.args.get("per_page"), 100), 1), MAX_PER_PAGE)
    stmt, _exact_count = query(form.data)
    stmt = stmt.options(*(joinedload(relation) for relation in loads))
    page = paginate(db.session, stmt, page=page_number, per_page=per_page)

    def link(number):
        args = {**request.args.to_dict(), "page": number}
        return url_for(request.endpoint, **view_args, **args, _external=True)

    body = {
        "count": page.total,
        "count_is_lower_bound": page.capped,
        "page": page.page,
        "per_page": page.per_page,
        "next": link(page.page + 1) if page.has_next else None,
        "previous": link(page.page - 1) if page.has_prev else None,
        "results": [{k: _plain(v) for k, v in record(row).items()} for row in page.items],
    }
    return jsonify(body)


@bp.errorhandler(HTTPException)
def json_error(error: HTTPException):
    """Errors in JSON too: a program reading the API should not have to parse an HTML page."""
    response = jsonify({"error": error.name.lower().replace(" ", "_"), "status": error.code})
    response.status_code = error.code or 500
    return response


@bp.after_request
def open_to_every_origin(response):
    # Public, read-only data without cookies: any site may fetch it.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


@bp.get("/listings")
@limiter.limit("120/minute")
def listings():
    return _answer(
        ListingFilterForm(request.args),
        services.listings_query,
        listing_record,
        loads=[Listing.seller],
    )


@bp.get("/trades")
@limiter.limit("120/minute")
def trades():
    return _answer(
        TradeFilterForm(request.args), services.trades_query, trade_record, loads=[Trade.listing]
    )


@bp.get("/compliance/<int:year>")
@limiter.limit("120/minute")
def compliance(year: int):
    compliance_services.get_published_period_or_404(year)
    return _answer(
        ComplianceFilterForm(request.args),
        lambda filters: compliance_services.compliance_query(year, filters),
        compliance_record,
        year=year,
    )
