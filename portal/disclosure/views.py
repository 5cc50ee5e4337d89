"""Public pages: thin views over disclosure/services.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from flask import redirect, request, url_for

from portal.compliance import services as compliance
from portal.compliance.labels import COMPLIANCE_STATUS
from portal.disclosure import bp, exports, ledger, services
from portal.disclosure import statistics as stats
from portal.disclosure.forms import (
    DayReportForm,
    EnterpriseFilterForm,
    ListingFilterForm,
    StatisticsFilterForm,
    TradeFilterForm,
)
from portal.disclosure.labels import (
    LISTING_STATUS,
    MOVEMENT_KIND,
    SETTLEMENT_STATUS,
    TRADE_METHOD,
)
from portal.exports import about_rows, csv_response, download, xlsx_response
from portal.extensions import db
from portal.i18n import formats, localized
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.lists import render_list
from portal.reference.services import varieties
from portal.urls import public_url
from portal.web import current_date, paginate, render

LABELS = {
    "listing_status": LISTING_STATUS,
    "trade_method": TRADE_METHOD,
    "settlement_status": SETTLEMENT_STATUS,
    "compliance_status": COMPLIANCE_STATUS,
    "movement_kind": MOVEMENT_KIND,
}
MOVEMENTS_PER_PAGE = 20


# list name → its title, first in the breadcrumbs of the list and of each of its records
TITLES = {"listings": _l("挂牌信息"), "trades": _l("成交公示"), "enterprises": _l("参与单位")}


def _crumbs(kind: str, record: str | None = None) -> list:
    """The breadcrumbs of a market list, or of one record in it."""
    if record is None:
        return [(str(TITLES[kind]), None)]
    return [(str(TITLES[kind]), url_for(f".{kind}")), (record, None)]


def _market_list(kind: str, form=None, **context):
    """One of the market lists (EXPORTS names its filter form and query): the full page, or the
    results that htmx swaps in."""
    form_class, query_factory, _dataset, _page = EXPORTS[kind]
    return render_list(
        form or form_class(request.args),
        query_factory,
        f"disclosure/{kind}.html",
        f"disclosure/_{kind[:-1]}_results.html",
        labels=LABELS,
        **context,
    )


def _market_record(kind: str, row, **context):
    """The page of one listing or trade, under its number."""
    name = kind[:-1]
    return render(
        f"disclosure/{name}_detail.html",
        labels=LABELS,
        breadcrumbs=_crumbs(kind, row.number),
        **{name: row},
        **context,
    )


def _list_view(kind: str):
    def view():
        return _market_list(kind, breadcrumbs=_crumbs(kind))

    view.__name__ = kind
    return view


# The market lists (listings, trades, units): each at /<kind>, its endpoint named after it.
for _kind in TITLES:
    bp.add_url_rule(f"/{_kind}", view_func=_list_view(_kind), methods=["GET"])


@bp.get("/listings/<number>")
def listing_detail(number: str):
    listing = services.get_listing_or_404(number, *services.LISTING_PAGE)
    return _market_record("listings", listing, trades=services.related_trades_for_listing(listing))


@bp.get("/trades/<number>")
def trade_detail(number: str):
    return _market_record("trades", services.get_trade_or_404(number, *services.TRADE_PAGE))


@bp.get("/statistics")
def statistics():
    """Monthly volume and prices per variety, charts beside their tables, from the daily summary."""
    form = StatisticsFilterForm(request.args)
    crumbs = [(_("市场统计"), None)]
    return _statistics_page("statistics", form, crumbs, lambda f: {"report": _monthly_report(f)})


def _statistics_page(name: str, form, crumbs, report):
    """A statistics page, or its results alone for htmx: `report(form)` gives the figures of valid
    choices; invalid ones answer 400 with the form's errors."""
    template, partial = f"disclosure/{name}.html", f"disclosure/_{name}_results.html"
    if not form.validate():
        return render(
            template, partial, form=form, report=None, breadcrumbs=crumbs, status_code=400
        )
    return render(template, partial, form=form, fmt=formats(), breadcrumbs=crumbs, **report(form))


def _scope(form) -> stats.Scope:
    return stats.Scope(
        variety=form.variety.data or None,
        category=form.category.data or None,
        division=form.division.data or None,
    )


def _monthly_report(form) -> dict:
    today = current_date()
    period = form.chosen_period
    since, until = stats.period(period, today, form.date_from.data, form.date_to.data)
    opened = stats.first_trading_day()
    # Figures are per whole month. Months before the first trade or after today hold nothing: a
    # custom range is cut to them, so a far-off date cannot ask for thousands of empty months.
    shown_since = max(since, opened).replace(day=1) if opened else since.replace(day=1)
    shown_until = min(until, max(today, stats.last_trading_day() or today))
    series = []
    if shown_since <= shown_until:
        series = stats.monthly(_scope(form), shown_since, shown_until)
    scope = _scope(form)
    month_end = stats.month_starts(shown_until, shown_until + timedelta(days=31))[-1]
    trades_args = {
        "variety": scope.variety,
        "category": scope.category,
        "division": scope.division,
        "date_from": shown_since.isoformat(),
        "date_to": (month_end - timedelta(days=1)).isoformat(),
    }
    return {
        "period": period,
        "since": since,
        "until": until,
        "shown_since": shown_since,
        "shown_until": shown_until,
        "trades_args": {k: v for k, v in trades_args.items() if v},
        "opened": opened,
        "series": series,
        "any_trades": any(s.has_trades for s in series),
    }


@bp.get("/statistics/daily")
def statistics_daily():
    """One day's report (日报): per variety and category, per division, and cumulative totals."""
    form = DayReportForm(request.args)
    crumbs = [(_("市场统计"), url_for(".statistics")), (_("成交日报"), None)]
    return _statistics_page("statistics_daily", form, crumbs, _daily_report)


def _daily_report(form) -> dict:
    latest = stats.last_trading_day(current_date())
    day = form.day.data or latest or current_date()
    return {
        "report": stats.day_report(day, _scope(form)),
        "latest": latest,
        "previous_day": stats.last_trading_day(day - timedelta(days=1)) if day > date.min else None,
        "next_day": stats.next_trading_day(day),
    }


@bp.get("/statistics/monthly.<any(csv, xlsx):file_format>")
def statistics_monthly_export(file_format: str):
    """The monthly table of the statistics page, as CSV or XLSX, for the same choices."""
    form = StatisticsFilterForm(request.args)
    if not form.validate():
        return statistics()
    report = _monthly_report(form)
    page = public_url("disclosure.statistics", **form.active)
    return _table_download(
        exports.MONTHLY_STATISTICS,
        form,
        list(exports.monthly_rows(report["series"], _scope(form))),
        file_format,
        page,
    )


@bp.get("/statistics/daily.<any(csv, xlsx):file_format>")
def statistics_daily_export(file_format: str):
    """The daily report's tables, as CSV or XLSX, for the same choices."""
    form = DayReportForm(request.args)
    if not form.validate():
        return statistics_daily()
    report = _daily_report(form)["report"]
    page = public_url("disclosure.statistics_daily", **form.active)
    rows = list(exports.daily_rows(report.day, report.by_category, report.by_division))
    return _table_download(exports.DAILY_STATISTICS, form, rows, file_format, page)


def _table_download(dataset, form, rows, file_format: str, page_url: str):
    filename = dataset.name
    if file_format == "csv":
        return csv_response(dataset.columns, rows, f"{filename}.csv")
    about = about_rows(dataset, form.described(), page_url)
    return xlsx_response(dataset.columns, rows, f"{filename}.xlsx", about, str(dataset.title))


# A unit's profile shows its newest listings and trades, this many of each, with their totals.
PROFILE_ROWS = 10


def _first_and_total(stmt, count) -> tuple[list, int]:
    """The first PROFILE_ROWS rows of `stmt` and how many there are: one more row is read, and
    the rows are counted only when it is there (most units have fewer)."""
    rows = list(db.session.scalars(stmt.limit(PROFILE_ROWS + 1)))
    if len(rows) <= PROFILE_ROWS:
        return rows, len(rows)
    return rows[:PROFILE_ROWS], db.session.scalar(count)


@bp.get("/enterprises/<uscc>")
def enterprise_detail(uscc: str):
    enterprise = services.get_public_enterprise_or_404(uscc)
    if uscc != enterprise.uscc:
        return redirect(url_for(".enterprise_detail", uscc=enterprise.uscc), code=301)
    listings, listings_total = _first_and_total(
        *services.listings_query({"seller_id": enterprise.id})
    )
    trades, trades_total = _first_and_total(*services.trades_query({"party_id": enterprise.id}))
    return render(
        "disclosure/enterprise_detail.html",
        enterprise=enterprise,
        listings=listings,
        listings_total=listings_total,
        trades=trades,
        trades_total=trades_total,
        totals=services.enterprise_trade_totals(enterprise.id),
        compliance=compliance.enterprise_compliance_history(enterprise.id),
        labels=LABELS,
        breadcrumbs=_crumbs("enterprises", enterprise.name),
        **_registry(enterprise, first_page_only=True),
    )


def _registry(enterprise, *, first_page_only: bool = False) -> dict:
    """The unit's registry section: holdings per period and a page of movements (keyset)."""
    holdings = ledger.period_holdings(enterprise.id, current_date())
    if not holdings and not ledger.participates(enterprise.id):
        return {"participates": False}
    stmt, _count = ledger.movements_query(enterprise.id)
    args = {} if first_page_only else request.args
    page = paginate(
        db.session,
        stmt,
        total=ledger.movements_total(holdings),
        per_page=MOVEMENTS_PER_PAGE,
        keyset=True,
        after=args.get("after"),
        before=args.get("before"),
    )
    # Cursor links only (no page numbers): every page costs what the first one does.
    page = replace(page, page=None)
    return {
        "participates": True,
        # Bound once per render: a page formats a few dozen quantities and labels.
        "fmt": formats(),
        "kinds": {kind: str(label) for kind, label in MOVEMENT_KIND.items()},
        "variety_names": {v.code: localized(v) for v in varieties()},
        "holdings": holdings,
        "movement_page": page,
        "movements": ledger.movements(page.items, datetime.now(UTC).replace(tzinfo=None)),
    }


@bp.get("/enterprises/<uscc>/registry")
def enterprise_registry(uscc: str):
    """Every ledger movement of a unit, newest first, a page at a time."""
    enterprise = services.get_public_enterprise_or_404(uscc)
    if uscc != enterprise.uscc:
        return redirect(url_for(".enterprise_registry", uscc=enterprise.uscc), code=301)
    return render(
        "disclosure/enterprise_registry.html",
        "disclosure/_movements.html",
        enterprise=enterprise,
        labels=LABELS,
        breadcrumbs=[
            (_("参与单位"), url_for(".enterprises")),
            (enterprise.name, url_for(".enterprise_detail", uscc=enterprise.uscc)),
            (_("登记记录"), None),
        ],
        **_registry(enterprise),
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
        return _market_list(kind, form)
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
