"""The JSON API: thin views over the same services and filter forms as the public pages.

Each view is declared with `@api(...)`, which registers its route and its description in the
contract (contract.ENDPOINTS), and answers with a record declared in records.py. Errors are RFC 9457
problem documents (portal/errors.py); lists page by number, then by keyset (portal/web.py).
"""

from __future__ import annotations

import json
from dataclasses import replace
from types import SimpleNamespace

from flask import abort, current_app, jsonify, render_template, request, url_for
from sqlalchemy.orm import joinedload, lazyload

from portal.compliance import services as compliance_services
from portal.compliance.forms import ComplianceFilterForm
from portal.disclosure import ledger
from portal.disclosure import services as disclosure
from portal.disclosure import statistics as market_statistics
from portal.disclosure.forms import EnterpriseFilterForm
from portal.disclosure.models import Listing, Trade
from portal.enterprises.models import Enterprise
from portal.errors import problem
from portal.errors import titles as error_titles
from portal.extensions import db, limiter
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.lists import UNKNOWN_CHOICE
from portal.news import services as news
from portal.opendata import bp, records
from portal.opendata.contract import (
    ENDPOINTS,
    Endpoint,
    Parameter,
    absent_or,
    form_parameters,
    register,
)
from portal.opendata.forms import (
    ApiAnnouncementFilterForm,
    ApiListingFilterForm,
    ApiTradeFilterForm,
    PublicityNoticeFilterForm,
    SearchFilterForm,
    StatisticsFilterForm,
    whole,
)
from portal.opendata.openapi import API_VERSION, openapi_document
from portal.publicity import services as publicity
from portal.reference import services as reference
from portal.search import search
from portal.search.views import record_url
from portal.web import COUNT_CAP, current_date, paginate, parse_int

DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 500
SEARCH_PER_PAGE = 20
MAX_ID = 2**31 - 1

CURSOR = {"type": "string", "pattern": "^[A-Za-z0-9_-]*$", "maxLength": 600}
PAGING = [
    Parameter(
        "page",
        "query",
        absent_or({"type": "integer", "minimum": 1, "maximum": MAX_ID}),
        _l("页码，从 1 开始；只到计数覆盖的页（最多 10,000 条），更后面沿 next 链接（游标）翻页"),
    ),
    Parameter(
        "per_page",
        "query",
        absent_or({"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}),
        _l("每页条数，1–500，默认 100"),
    ),
    Parameter(
        "after",
        "query",
        CURSOR,
        _l("游标：从这一条之后开始（取自 next 链接，勿自行拼写）"),
    ),
    Parameter(
        "before",
        "query",
        CURSOR,
        _l("游标：到这一条之前为止（取自 previous 链接）"),
    ),
]


def api(rule: str, *, record, paged=False, form=None, extra=(), path=(), errors=None, **about):
    """Register a GET view under `rule` and describe it in the contract."""

    def decorate(view):
        endpoint = f"{bp.name}.{view.__name__}"
        register(
            Endpoint(
                endpoint=endpoint,
                rule=rule,
                response=record,
                paged=paged,
                parameters=lambda: [
                    *(form_parameters(form) if form else []),
                    *extra,
                    *(PAGING if paged else []),
                ],
                path_parameters=list(path),
                errors=errors or ((400, 404, 429, 500) if path or paged else (400, 429, 500)),
                takes_parameters=bool(form or extra or path or paged),
                **about,
            )
        )
        return bp.get(rule)(view)

    return decorate


# ---- shared steps -----------------------------------------------------------------------------


def validated(form):
    """The form's data, or a 400 problem that names every field in error."""
    if not form.validate():
        invalid = [
            # The parameter's name in the query string (date_from is "from" on the news form).
            {"name": form[name].name if name in form else str(name), "reason": str(message)}
            for name, messages in form.errors.items()
            for message in messages
        ]
        abort(problem(400, INVALID_FILTER, invalid_params=invalid))
    return form.data


def _number(name: str, default: int) -> int:
    value = request.args.get(name)
    return parse_int(whole(value) if value else value, default)


def _page_size() -> int:
    per_page = _number("per_page", DEFAULT_PER_PAGE)
    if not 1 <= per_page <= MAX_PER_PAGE:
        abort(400, description=_l("per_page 应为 1 到 %(max)s 之间的整数。", max=MAX_PER_PAGE))
    return per_page


def _link(**changes) -> str:
    """This request's URL with some query arguments changed (None removes one)."""
    args = request.args.to_dict(flat=False)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = [str(value)]
    return url_for(request.endpoint, **(request.view_args or {}), **args, _external=True)


def paged_list(statement, record, count_statement=None):
    """One page of `statement` as {count, page, next, previous, results}, with Link and
    X-Total-Count headers. The count is capped as on the pages; `next` never leads past the end."""
    page = paginate(
        db.session,
        statement,
        count_statement,
        page=_number("page", 1),
        per_page=_page_size(),
        keyset=True,
        after=request.args.get("after"),
        before=request.args.get("before"),
    )
    return paged_page(page, record)


def paged_page(page, record, rows=None):
    """The answer for a page already read; `rows` replaces its items where the view enriched them."""
    next_args, prev_args = page.next_args(), page.prev_args()
    links = {"first": _link(page=None, after=None, before=None)}
    if prev_args:
        links["prev"] = _link(**prev_args)
    if next_args:
        links["next"] = _link(**next_args)
    if not page.capped and (page.page is not None or rows is None):
        links["last"] = _link(page=page.pages, after=None, before=None)
    body = {
        "count": page.total,
        "count_is_lower_bound": page.capped,
        "page": page.page,
        "per_page": page.per_page,
        "next": links.get("next"),
        "previous": links.get("prev"),
        "results": [record.dump(row) for row in (page.items if rows is None else rows)],
    }
    response = jsonify(body)
    response.headers["Link"] = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items())
    response.headers["X-Total-Count"] = str(page.total)
    response.headers["X-Total-Count-Capped"] = "true" if page.capped else "false"
    return response


def one(record, row, last_modified=None):
    response = jsonify(record.dump(row))
    if last_modified is not None:
        response.last_modified = last_modified
    return response


@bp.after_request
def cacheable_and_conditional(response):
    """ETag on every JSON answer (and Last-Modified where a record has one), so that a client
    asking again with If-None-Match or If-Modified-Since gets a 304; rate-limit headers."""
    if response.status_code == 200 and response.mimetype == "application/json":
        response.cache_control.public = True
        response.cache_control.max_age = 60
        response.add_etag()
        response.make_conditional(request)
    current = limiter.current_limit
    if current is not None:
        response.headers["X-RateLimit-Limit"] = str(current.limit.amount)
        response.headers["X-RateLimit-Remaining"] = str(max(0, current.remaining))
        response.headers["X-RateLimit-Reset"] = str(int(current.reset_at))
    return response


# ---- the document and its human page ------------------------------------------------------------


@api(
    "/openapi.json",
    record=None,
    tag="meta",
    summary=_l("OpenAPI 3.1 文档"),
    description=_l("本接口的机器可读说明，由提供接口的同一份代码生成。"),
    raw_schema={"type": "object", "required": ["openapi", "info", "paths"]},
    errors=(429, 500),
    examples=["/api/v1/openapi.json"],
)
def openapi():
    return jsonify(openapi_document())


@api(
    "/",
    record=None,
    tag="meta",
    summary=_l("接口入口"),
    description=_l("OpenAPI 文档、说明页和各列表接口的地址。"),
    raw_schema={
        "type": "object",
        "required": ["openapi", "documentation", "endpoints"],
        "properties": {
            "openapi": {"type": "string", "format": "uri"},
            "documentation": {"type": "string", "format": "uri"},
            "endpoints": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    },
    errors=(429, 500),
    examples=["/api/v1/"],
)
def index():
    """The API's root: where the document and the documentation are."""
    return jsonify(
        {
            "openapi": url_for(".openapi", _external=True),
            "documentation": url_for(".docs", _external=True),
            "endpoints": {
                e.operation_id: url_for(e.endpoint, _external=True)
                for e in ENDPOINTS
                if not e.path_parameters
            },
        }
    )


def _parameter_type(schema: dict) -> str:
    if "anyOf" in schema:  # a value, or empty for "not given"
        schema = schema["anyOf"][0]
    if "enum" in schema:
        values = [value for value in schema["enum"] if value]
        return " | ".join(values) if len(values) <= 8 else _("代码（见 /api/v1/reference）")
    if schema.get("type") == "integer":
        return _(
            "整数 %(min)s–%(max)s", min=schema.get("minimum", ""), max=schema.get("maximum", "")
        )
    if schema.get("format") == "date":
        return _("日期 YYYY-MM-DD")
    if schema.get("type") == "boolean":
        return "true | false"
    return _("字符串")


def _fields_of(record) -> list:
    """The record and every record it nests, each once, for the field tables."""
    seen, out = set(), []
    for found in (record, *record.nested()):
        if found.name not in seen:
            seen.add(found.name)
            out.append(found)
    return out


@bp.get("/docs")
def docs():
    """Every endpoint, filter, field, unit and example, for people (Chinese first)."""
    base = url_for(".index", _external=True).rstrip("/")
    sections = []
    for endpoint in ENDPOINTS:
        parameters = [*endpoint.path_parameters, *endpoint.parameters()]
        sections.append(
            {
                "endpoint": endpoint,
                "anchor": endpoint.operation_id,
                "path": "/api/v1" + endpoint.path,
                "parameters": [
                    (p.name, p.where, _parameter_type(p.schema), str(p.description))
                    for p in parameters
                ],
                "records": _fields_of(endpoint.response) if endpoint.response else [],
                "examples": [
                    (url, base + url.removeprefix("/api/v1")) for url in endpoint.examples
                ],
            }
        )
    return render_template(
        "opendata/docs.html",
        sections=sections,
        base=base,
        version=API_VERSION,
        rate_limit=current_app.config["API_RATE_LIMIT"],
        count_cap=COUNT_CAP,
        max_per_page=MAX_PER_PAGE,
        default_per_page=DEFAULT_PER_PAGE,
        problem_example=problem_example(),
        breadcrumbs=[(_("开放数据接口"), None)],
    )


INVALID_FILTER = _l("筛选条件有误，见 invalid_params。")


def problem_example() -> str:
    """What a 400 looks like, in the reader's language, from the messages the API really sends."""
    example = {
        "type": "about:blank",
        "title": str(error_titles()[400]),
        "status": 400,
        "detail": str(INVALID_FILTER),
        "instance": url_for(".listings"),
        "invalid_params": [{"name": "variety", "reason": str(UNKNOWN_CHOICE)}],
    }
    return json.dumps(example, ensure_ascii=False, indent=2)


# ---- market records -------------------------------------------------------------------------------

NUMBER = Parameter(
    "number", "path", {"type": "string", "pattern": "^[A-Za-z0-9-]{1,32}$"}, _l("编号")
)


@api(
    "/listings",
    record=records.LISTING,
    paged=True,
    form=ApiListingFilterForm,
    tag="market",
    summary=_l("挂牌"),
    description=_l("与“挂牌信息”页面相同的筛选条件和排序。"),
    examples=["/api/v1/listings?variety=energy&status=open", "/api/v1/listings?division=410100"],
)
def listings():
    filters = validated(ApiListingFilterForm(request.args))
    stmt, _count = disclosure.listings_query(filters)
    # The seller's code and whether it is public; not its division and industry rows.
    seller = joinedload(Listing.seller).options(
        lazyload(Enterprise.division), lazyload(Enterprise.industry)
    )
    return paged_list(stmt.options(seller), records.LISTING)


@api(
    "/listings/<number>",
    record=records.LISTING_DETAIL,
    path=[NUMBER],
    tag="market",
    summary=_l("一条挂牌"),
    description=_l("含联系人、说明和由它成交的成交编号。"),
    examples=["/api/v1/listings/YNQ-GP-2025-000001"],
)
def listing(number: str):
    row = disclosure.get_listing_or_404(number)
    return one(records.LISTING_DETAIL, row, row.updated_at)


@api(
    "/trades",
    record=records.TRADE,
    paged=True,
    form=ApiTradeFilterForm,
    tag="market",
    summary=_l("成交"),
    description=_l("与“成交公示”页面相同的筛选条件；地区指买方或卖方所在地区。"),
    examples=["/api/v1/trades?variety=coal&sort=-amount", "/api/v1/trades?date_from=2025-01-01"],
)
def trades():
    filters = validated(ApiTradeFilterForm(request.args))
    stmt, _count = disclosure.trades_query(filters)
    return paged_list(stmt.options(joinedload(Trade.listing)), records.TRADE)


@api(
    "/trades/<number>",
    record=records.TRADE,
    path=[NUMBER],
    tag="market",
    summary=_l("一笔成交"),
    description=_l("按成交编号取一笔成交。"),
    examples=["/api/v1/trades/YNQ-CJ-2025-000001"],
)
def trade(number: str):
    row = disclosure.get_trade_or_404(number)
    return one(records.TRADE, row, row.created_at)


# ---- compliance ---------------------------------------------------------------------------------

YEAR = Parameter(
    "year", "path", {"type": "integer", "minimum": 0, "maximum": MAX_ID}, _l("履约期年度")
)


@api(
    "/compliance",
    record=records.COMPLIANCE_PERIOD,
    tag="compliance",
    summary=_l("已公布的履约期"),
    description=_l("各已公布履约期及其各状态的单位数，新的在前。"),
    raw_schema={"type": "array", "items": {"$ref": "#/components/schemas/CompliancePeriod"}},
    examples=["/api/v1/compliance"],
)
def compliance_periods():
    periods = compliance_services.published_periods()
    return jsonify([records.COMPLIANCE_PERIOD.dump(p) for p in periods])


@api(
    "/compliance/<int:year>",
    record=records.COMPLIANCE,
    paged=True,
    form=ComplianceFilterForm,
    path=[YEAR],
    tag="compliance",
    summary=_l("一个履约期的履约名单"),
    description=_l("与“履约名单”页面相同的筛选条件；未公布的年度为 404。"),
    examples=["/api/v1/compliance/2024?status=non_compliant"],
)
def compliance(year: int):
    compliance_services.get_published_period_or_404(year)
    filters = validated(ComplianceFilterForm(request.args))
    stmt, _count = compliance_services.compliance_query(year, filters)
    return paged_list(stmt, records.COMPLIANCE)


# ---- announcements and 公示 ------------------------------------------------------------------------

ID = Parameter("id", "path", {"type": "integer", "minimum": 0, "maximum": MAX_ID}, _l("编号"))


@api(
    "/announcements",
    record=records.ANNOUNCEMENT,
    paged=True,
    form=ApiAnnouncementFilterForm,
    tag="announcements",
    summary=_l("公告"),
    description=_l("已发布的公告，新的在前；与“通知公告”页面相同的筛选条件。"),
    examples=["/api/v1/announcements?category=publicity&open=true"],
)
def announcements():
    form = ApiAnnouncementFilterForm(formdata=request.args)
    validated(form)
    rows, _count = news.filter_announcements(
        category=form.category.data or None,
        division_code=form.division.data or None,
        date_from=form.date_from.data,
        date_to=form.date_to.data,
        open_only=form.open_only.data,
    )
    return paged_list(rows, records.ANNOUNCEMENT)


@api(
    "/announcements/<int:id>",
    record=records.ANNOUNCEMENT_DETAIL,
    path=[ID],
    tag="announcements",
    summary=_l("一条公告"),
    description=_l("全文（已净化的 HTML）与附件。"),
    examples=["/api/v1/announcements/1"],
)
def announcement(id: int):
    row = news.get_public_announcement_or_404(id)
    return one(records.ANNOUNCEMENT_DETAIL, row, row.updated_at or row.published_at)


@api(
    "/publicity",
    record=records.PUBLICITY_NOTICE,
    paged=True,
    form=PublicityNoticeFilterForm,
    tag="announcements",
    summary=_l("公示"),
    description=_l("公示及其状态：公示中、期满生效、异议成立重新办理、已撤回；新的在前。"),
    examples=["/api/v1/publicity?status=open"],
)
def publicity_notices():
    filters = validated(PublicityNoticeFilterForm(request.args))
    stmt, _count = publicity.public_notices_query(filters)
    return paged_list(stmt, records.PUBLICITY_NOTICE)


@api(
    "/publicity/<int:id>",
    record=records.PUBLICITY_NOTICE_DETAIL,
    path=[ID],
    tag="announcements",
    summary=_l("一条公示"),
    description=_l("含异议处理结果的统计；异议人的姓名和联系方式从不公开。"),
    examples=["/api/v1/publicity/1"],
)
def publicity_notice(id: int):
    notice = publicity.get_public_notice_or_404(id)
    return one(records.PUBLICITY_NOTICE_DETAIL, notice)


# ---- enterprises --------------------------------------------------------------------------------

USCC = Parameter(
    "uscc",
    "path",
    {"type": "string", "pattern": "^[0-9A-Za-z]{18}$"},
    _l("统一社会信用代码（18 位）"),
)


@api(
    "/enterprises",
    record=records.ENTERPRISE,
    paged=True,
    form=EnterpriseFilterForm,
    tag="enterprises",
    summary=_l("参与单位"),
    description=_l("公开的参与单位，按名称排序。"),
    examples=["/api/v1/enterprises?division=410100"],
)
def enterprises():
    filters = validated(EnterpriseFilterForm(request.args))
    stmt, _count = disclosure.enterprises_query(filters)
    return paged_list(stmt, records.ENTERPRISE)


@api(
    "/enterprises/<uscc>",
    record=records.ENTERPRISE_PROFILE,
    path=[USCC],
    tag="enterprises",
    summary=_l("参与单位的公开档案"),
    description=_l(
        "交易汇总，以及已公布履约期中的持有量（配额、买入、卖出、收回）与履约情况；登记簿的当前余额不公开。"
    ),
    examples=["/api/v1/enterprises/91410100MA00000000"],
)
def enterprise(uscc: str):
    unit = disclosure.get_public_enterprise_or_404(uscc)
    _listings, listings_count = disclosure.listings_query({"seller_id": unit.id})
    _trades, trades_count = disclosure.trades_query({"party_id": unit.id})
    public = ("uscc", "name", "division_code", "industry_code", "address", "profile")
    profile = SimpleNamespace(
        **{key: getattr(unit, key) for key in public},
        listings_count=db.session.scalar(listings_count),
        trades_count=db.session.scalar(trades_count),
        trade_totals=disclosure.enterprise_trade_totals(unit.id),
        holdings=compliance_services.enterprise_compliance_history(unit.id),
        participates=(participates := ledger.participates(unit.id)),
        period_holdings=ledger.period_holdings(unit.id, current_date()) if participates else [],
    )
    return one(records.ENTERPRISE_PROFILE, profile)


@api(
    "/enterprises/<uscc>/movements",
    record=records.MOVEMENT,
    paged=True,
    path=[USCC],
    tag="enterprises",
    summary=_l("参与单位的指标变动"),
    description=_l(
        "注册登记簿中该单位的每一笔指标变动，新的在前，带引起它的公开记录的网页；"
        "按游标（next 链接）翻页，每页费用相同。交易平台的资金账户和资金往来不在其中。"
    ),
    examples=["/api/v1/enterprises/91410100MA00000000/movements"],
)
def enterprise_movements(uscc: str):
    unit = disclosure.get_public_enterprise_or_404(uscc)
    stmt, count = ledger.movements_query(unit.id)
    page = paginate(
        db.session,
        stmt,
        count,
        page=_number("page", 1),
        per_page=_page_size(),
        keyset=True,
        after=request.args.get("after"),
        before=request.args.get("before"),
    )
    # Every link is a cursor: a unit's movements page at the same cost at any depth.
    page = replace(page, page=None)
    return paged_page(page, records.MOVEMENT, ledger.movements(page.items, news.utcnow()))


# ---- statistics, search, reference --------------------------------------------------------------


@api(
    "/statistics",
    record=records.STATISTICS,
    form=StatisticsFilterForm,
    tag="market",
    summary=_l("市场统计"),
    description=_l(
        "各品种逐月的成交笔数、成交量、成交金额、加权平均价、最高价和最低价，开市以来的累计值，"
        "及最近 30 天汇总；可按交易类别和地区统计。数据来自成交的每日汇总。"
    ),
    examples=[
        "/api/v1/statistics?months=12&variety=energy",
        "/api/v1/statistics?months=24&category=local&division=410100",
    ],
)
def statistics():
    filters = validated(StatisticsFilterForm(request.args))
    months = filters.get("months") or 24
    until = current_date()
    since = market_statistics.months_back(until, months)
    scope = market_statistics.Scope(
        variety=filters.get("variety") or None,
        category=filters.get("category") or None,
        division=filters.get("division") or None,
    )
    recent = market_statistics.recent(30, until)
    report = SimpleNamespace(
        since=since,
        until=until,
        category=scope.category,
        division=scope.division,
        varieties=[
            {
                "variety": series.variety,
                "recent": SimpleNamespace(
                    days=30,
                    trade_count=recent[series.variety.code].trades,
                    quantity=recent[series.variety.code].volume,
                    amount=recent[series.variety.code].amount,
                    average_price=recent[series.variety.code].average_price,
                ),
                "monthly": series.months,
                "cumulative": series.cumulative,
            }
            for series in market_statistics.monthly(scope, since, until)
        ],
    )
    return one(records.STATISTICS, report)


SEARCH_RESULTS = {
    "type": "object",
    "required": ["query", "count", "page", "per_page", "next", "previous", "notices", "results"],
    "additionalProperties": False,
    "properties": {
        "query": {"type": "string"},
        "count": {"type": "integer", "minimum": 0},
        "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer", "minimum": 1},
        "next": {"type": ["string", "null"], "format": "uri"},
        "previous": {"type": ["string", "null"], "format": "uri"},
        "notices": {"type": "array", "items": {"type": "string"}},
        "results": {"type": "array", "items": {"$ref": "#/components/schemas/SearchHit"}},
    },
}


@api(
    "/search",
    record=records.SEARCH_HIT,
    form=SearchFilterForm,
    extra=[PAGING[0]],
    tag="search",
    summary=_l("全站搜索"),
    description=_l(
        "与全站搜索页相同的检索：挂牌、成交、履约、参与单位和公告，每页 20 条；结果按相关度或日期排序，按页码翻页。"
    ),
    raw_schema=SEARCH_RESULTS,
    errors=(400, 404, 429, 500),
    examples=["/api/v1/search?q=郑州 能耗", "/api/v1/search?q=钢铁&type=listing&sort=date"],
)
def search_records():
    filters = validated(SearchFilterForm(request.args))
    page = _number("page", 1)
    if page < 1:
        abort(404)
    found = search(
        filters["q"] or "",
        {
            "kind": filters["type"],
            "division": filters["division"],
            "variety": filters["variety"],
            "year": str(filters["year"] or ""),
        },
        page,
        sort=filters["sort"] or "relevance",
        per_page=SEARCH_PER_PAGE,
    )
    if page > 1 and page > found.pages:
        abort(404)
    hits = [found.redirect] if found.redirect is not None else found.hits
    results = [
        records.SEARCH_HIT.dump(
            SimpleNamespace(
                kind=hit.kind,
                record=hit.record,
                plain_title=_plain_text(hit.title),
                day=hit.day,
                division=hit.division,
                variety=hit.variety,
                url=_absolute(record_url(hit)),
            )
        )
        for hit in hits
    ]
    total = len(results) if found.redirect is not None else found.total
    pages = max(1, -(-total // SEARCH_PER_PAGE))
    links = {"first": _link(page=None)}
    if page > 1:
        links["prev"] = _link(page=page - 1)
    if page < pages:
        links["next"] = _link(page=page + 1)
    links["last"] = _link(page=pages)
    response = jsonify(
        {
            "query": found.query,
            "count": total,
            "page": page,
            "per_page": SEARCH_PER_PAGE,
            "next": links.get("next"),
            "previous": links.get("prev"),
            "notices": [str(n) for n in found.notices],
            "results": results,
        }
    )
    response.headers["Link"] = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items())
    response.headers["X-Total-Count"] = str(total)
    response.headers["X-Total-Count-Capped"] = "false"
    return response


def _plain_text(title) -> str:
    """A hit's title without the search highlights (<mark>), entities decoded."""
    return title.striptags() if hasattr(title, "striptags") else str(title)


def _absolute(path: str | None) -> str | None:
    return request.host_url.rstrip("/") + path if path else None


@api(
    "/reference",
    record=records.REFERENCE,
    tag="meta",
    summary=_l("代码表"),
    description=_l("地区、行业、交易品种（含计量单位）和交易类别的代码与中英文名称。"),
    examples=["/api/v1/reference"],
)
def reference_codes():
    return one(
        records.REFERENCE,
        SimpleNamespace(
            divisions=reference.divisions(),
            industries=reference.industries(),
            varieties=reference.varieties(),
            categories=reference.categories(),
        ),
    )
