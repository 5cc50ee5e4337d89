"""What every view shares: full page or fragment, redirects after POST, pagination, page context."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Flask, abort, current_app, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_login import current_user
from htmx_flask import make_response
from sqlalchemy import func, literal, select

from portal import i18n
from portal.extensions import db
from portal.i18n import TEMPLATE_FILTERS, TEMPLATE_HELPERS, reference_name
from portal.i18n import lazy_gettext as _l
from portal.keyset import InvalidCursor, decode_cursor, encode_cursor, ordered, seek, sort_keys

CARE_COOKIE = "care"

# The main navigation: (endpoint, label, prefix).
# The third item is the endpoint prefix that marks the entry as the current section.
NAVIGATION = (
    ("main.home", _l("首页"), "main.home"),
    ("disclosure.listings", _l("挂牌信息"), "disclosure.listing"),
    ("disclosure.trades", _l("成交公示"), "disclosure.trade"),
    ("compliance.index", _l("履约名单"), "compliance.index"),
    ("disclosure.enterprises", _l("参与单位"), "disclosure.enterprise"),
    ("disclosure.statistics", _l("市场统计"), "disclosure.statistics"),
    ("news.index", _l("通知公告"), "news."),
    ("search.results", _l("全站搜索"), "search."),
)


def render(template: str, partial: str | None = None, *, status_code: int = 200, **context: Any):
    """Render the full page, or only `partial` when htmx asks for a fragment of it, with
    `status_code` (e.g. 400 for a form with errors).

    A history-restore request (the visitor pressed back and htmx's cache missed) gets the full page.
    """
    fragment = (
        partial is not None
        and request.htmx
        and not request.htmx.boosted
        and not request.htmx.history_restore_request
    )
    body = render_template(partial if fragment else template, **context)
    response = make_response(body, status_code)
    response.vary.add("HX-Request")
    return response


def enterprise_crumbs(*trail) -> list:
    """Breadcrumbs of an enterprise's own pages: 我的企业 (its dashboard), then `trail`, each a
    (label, URL or None for the page itself)."""
    return [(str(_l("我的企业")), url_for("enterprise.dashboard")), *trail]


def redirect_after_post(location: str):
    """Answer a successful POST: HX-Redirect for htmx, 303 See Other for a plain form."""
    if request.htmx:
        return make_response("", 204, redirect=location)
    return redirect(location, code=303)


# Counting every match of a broad filter costs more than the page itself on a large table; past this
# many matches the list says "10,000+" and still pages on (GitHub and Google do the same).
COUNT_CAP = 10_000


@dataclass
class Page:
    """One page of a list: its rows, where it stands, and how to reach its neighbours.

    A page is reached by number (`page`, OFFSET; shallow pages) or, in a list paged by keyset, by a
    cursor (`page` is None). Whether a next or previous page exists is known from one row read
    beyond the page, never guessed from a count, so a `next` link never leads past the end.
    """

    items: list
    page: int | None
    per_page: int
    total: int
    capped: bool = False
    more_after: bool | None = None  # None: not read (a Page built by hand); guess from the count
    more_before: bool | None = None
    next_cursor: str | None = None
    prev_cursor: str | None = None

    @property
    def pages(self) -> int:
        """The pages that page numbers reach: those the (capped) count covers."""
        counted = max(1, math.ceil(self.total / self.per_page))
        if self.more_after is None and self.capped and self.page is not None:
            # Past the cap we know only that there is more: allow one page beyond the one shown.
            return max(counted, self.page + 1 if len(self.items) == self.per_page else self.page)
        if self.page is not None and self.page > counted:
            return self.page  # past the cap, paging on by number (a list without keyset)
        return counted

    @property
    def has_prev(self) -> bool:
        if self.page is None:
            return bool(self.more_before and self.prev_cursor)
        return self.page > 1

    @property
    def has_next(self) -> bool:
        if self.more_after is None:
            return self.page is not None and self.page < self.pages
        if self.page is None:
            return bool(self.more_after and self.next_cursor)
        return self.more_after

    @property
    def by_cursor(self) -> bool:
        return self.page is None

    @property
    def first_index(self) -> int | None:
        if self.page is None:
            return None
        return (self.page - 1) * self.per_page + 1 if self.items else 0

    @property
    def last_index(self) -> int | None:
        if self.page is None:
            return None
        return self.first_index + len(self.items) - 1 if self.items else 0

    def next_args(self) -> dict | None:
        """Query arguments of the next page: its number while numbers reach it, else a cursor."""
        if not self.has_next:
            return None
        if self.page is not None and (self.page < self.pages or self.next_cursor is None):
            return {"page": self.page + 1, "after": None, "before": None}
        return {"page": None, "after": self.next_cursor, "before": None}

    def prev_args(self) -> dict | None:
        if not self.has_prev:
            return None
        if self.page is not None:
            return {"page": self.page - 1 if self.page > 2 else None, "after": None, "before": None}
        return {"page": None, "after": None, "before": self.prev_cursor}

    def window(self, size: int = 2) -> list[int | None]:
        """Page numbers to show around the current one; None marks a gap."""
        if self.page is None:
            return []
        shown = {1, self.pages} | set(range(self.page - size, self.page + size + 1))
        out: list[int | None] = []
        last = 0
        for number in sorted(n for n in shown if 1 <= n <= self.pages):
            if number - last > 1:
                out.append(None)
            out.append(number)
            last = number
        return out


def capped_count(statement, cap: int | None = None):
    """A count of `statement`'s rows that stops at cap + 1."""
    cap = COUNT_CAP if cap is None else cap
    limited = (
        statement.with_only_columns(literal(1), maintain_column_froms=True)
        .order_by(None)
        .limit(cap + 1)
        .subquery()
    )
    return select(func.count()).select_from(limited)


def paginate(
    session,
    statement,
    count_statement=None,
    page: int = 1,
    per_page: int | None = None,
    *,
    keyset: bool = False,
    after: str | None = None,
    before: str | None = None,
    total: int | None = None,
) -> Page:
    """Run one page of `statement`; a numbered page past the end is a 404, not an empty page.

    `total` is the number of rows when the caller knows it already (from a summary); else
    `count_statement` counts them, and without either the rows are counted up to COUNT_CAP
    (see Page.capped).
    With `keyset`, every page carries cursors of its first and last rows: page numbers reach the
    pages the count covers, and `after`/`before` (a cursor) reach every page past them at the
    same cost (portal/keyset.py). A page number beyond the counted pages is then a 404 that
    says how to go on, and so is a cursor that this list did not make: neither names a page
    that exists (the parameter itself is well-formed, so it is not a 400).
    """
    per_page = per_page or current_app.config["PAGE_SIZE"]
    if total is not None:
        capped = False
    elif count_statement is None:
        total = session.scalar(capped_count(statement)) or 0
        capped = total > COUNT_CAP
        total = min(total, COUNT_CAP)
    else:
        total, capped = session.scalar(count_statement) or 0, False
    if not keyset:
        return _offset_page(session, statement, page, per_page, total, capped, None)
    keys = sort_keys(statement)
    if after or before:
        try:
            values = decode_cursor(keys, after or before)
        except InvalidCursor:
            abort(
                404,
                description=_l(
                    "没有这个翻页位置：它不是本列表在当前排序下给出的，请回到第一页重新翻页。"
                ),
            )
        return _cursor_page(session, statement, keys, values, bool(before), per_page, total, capped)
    numbered = max(1, math.ceil(total / per_page))
    if capped and page > numbered:
        abort(
            404,
            description=_l(
                "页码最多到 %(max)s；更后面的记录请沿“下一页”链接继续浏览，或加筛选条件缩小范围。",
                max=numbered,
            ),
        )
    return _offset_page(session, statement, page, per_page, total, capped, keys)


def _rows_and_keys(session, statement, keys) -> tuple[list, list]:
    """Run `statement` with its sort columns added, so that each row's cursor can be written."""
    if keys is None:
        return list(session.scalars(statement)), []
    rows = session.execute(statement.add_columns(*(key.column for key in keys))).all()
    return [row[0] for row in rows], [tuple(row[1:]) for row in rows]


# From this many rows deep, a numbered page of a keyset list skips them on the sort columns alone
# (one narrow query, often served from the index without reading the rows), then seeks past the
# last skipped row as a cursor page does: OFFSET over whole rows grew with the depth.
SEEK_FROM_OFFSET = 1000


def _offset_page(session, statement, page, per_page, total, capped, keys) -> Page:
    if page < 1:
        abort(404)
    skip = (page - 1) * per_page
    if keys is not None and skip >= SEEK_FROM_OFFSET:
        last_skipped = session.execute(
            ordered(statement, keys)
            .with_only_columns(*(key.column for key in keys))
            .offset(skip - 1)
            .limit(1)
        ).first()
        if last_skipped is None:
            abort(404)
        page_rows = seek(statement, keys, tuple(last_skipped)).limit(per_page + 1)
        items, values = _rows_and_keys(session, page_rows, keys)
    else:
        if keys is not None:
            statement = ordered(statement, keys)
        items, values = _rows_and_keys(session, statement.limit(per_page + 1).offset(skip), keys)
    if page > 1 and not items:
        abort(404)
    more_after = len(items) > per_page
    items, values = items[:per_page], values[:per_page]
    return Page(
        items=items,
        page=page,
        per_page=per_page,
        total=total,
        capped=capped,
        more_after=more_after,
        more_before=page > 1,
        next_cursor=encode_cursor(keys, values[-1]) if keys and values else None,
        prev_cursor=encode_cursor(keys, values[0]) if keys and values else None,
    )


def _cursor_page(session, statement, keys, values, backwards, per_page, total, capped) -> Page:
    items, found = _rows_and_keys(
        session, seek(statement, keys, values, backwards).limit(per_page + 1), keys
    )
    beyond = len(items) > per_page
    items, found = items[:per_page], found[:per_page]
    if backwards:
        items.reverse()
        found.reverse()
    return Page(
        items=items,
        page=None,
        per_page=per_page,
        total=total,
        capped=capped,
        # The cursor's own row lies on the side we came from (unless it was deleted since).
        more_after=True if backwards else beyond,
        more_before=beyond if backwards else True,
        next_cursor=encode_cursor(keys, found[-1]) if found else None,
        prev_cursor=encode_cursor(keys, found[0]) if found else None,
    )


# The characters werkzeug leaves unquoted in a query (the WHATWG URL spec's query set).
QUERY_SAFE = "!$'()*,/:;?@"


def url_with(**changes: Any) -> str:
    """The current URL with some query arguments changed (None removes one); page resets to 1.

    The path is built from the endpoint and its view arguments alone, and the query is written
    as werkzeug writes it: a query argument that shares a name with a path variable or with one
    of url_for's own (`?year=`, `?_anchor=`) stays a query argument.
    """
    args = request.args.to_dict(flat=False)
    if "page" not in changes:
        args.pop("page", None)
    for key, value in changes.items():
        if value is None or value == "":
            args.pop(key, None)
        else:
            args[key] = [str(value)]
    path = url_for(request.endpoint, **(request.view_args or {}))
    pairs = [(key, value) for key, values in args.items() for value in values]
    query = urlencode(pairs, safe=QUERY_SAFE)
    return f"{path}?{query}" if query else path


def init_app(app: Flask) -> None:
    i18n.init_app(app)  # lazy translated strings are text, never markup
    app.jinja_env.globals.update(TEMPLATE_HELPERS)
    app.jinja_env.filters.update(TEMPLATE_FILTERS)
    app.jinja_env.globals["url_with"] = url_with
    app.jinja_env.globals["ref"] = reference_name
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def site_context():
        current = request.endpoint or ""
        nav = [
            (endpoint, label, current.startswith(prefix)) for endpoint, label, prefix in NAVIGATION
        ]
        return {
            "site": {
                key[5:].lower(): value
                for key, value in app.config.items()
                if key.startswith("SITE_")
            },
            "navigation": nav,
            "care_mode": request.cookies.get(CARE_COOKIE) == "1",
            "colon": i18n.colon(),
        }

    @app.after_request
    def remember_language(response):
        """A link with `?lang=en` also saves the choice, as the language button does; not inside
        another site's frame (a widget), where the cookie would be a third party's."""
        requested = i18n.requested_locale()
        if (
            requested
            and response.mimetype == "text/html"
            and not is_frameable()
            and request.cookies.get(i18n.LOCALE_COOKIE) != requested
        ):
            response.set_cookie(
                i18n.LOCALE_COOKIE,
                requested,
                max_age=i18n.LOCALE_COOKIE_MAX_AGE,
                samesite="Lax",
                httponly=True,
            )
        return response

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if is_frameable():
            # A widget: any site may frame it (its own policy says frame-ancestors *).
            if app.config["WIDGET_CONTENT_SECURITY_POLICY"]:
                response.headers.setdefault(
                    "Content-Security-Policy", app.config["WIDGET_CONTENT_SECURITY_POLICY"]
                )
        else:
            if app.config["CONTENT_SECURITY_POLICY"]:
                response.headers.setdefault(
                    "Content-Security-Policy", app.config["CONTENT_SECURITY_POLICY"]
                )
            response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        if current_app.config["HSTS_SECONDS"] > 0:
            response.headers["Strict-Transport-Security"] = (
                f"max-age={current_app.config['HSTS_SECONDS']}; includeSubDomains"
            )
        if _private_response() and not response.cache_control.no_store:
            # A shared or back-button cache must not keep a page meant for one signed-in person.
            response.headers["Cache-Control"] = "no-store"
        return response


def frameable(view):
    """Mark a view as a widget that other sites may put in an <iframe>.

    Only such views are sent without X-Frame-Options and with WIDGET_CONTENT_SECURITY_POLICY
    (frame-ancestors *); every other response may be framed by this site alone, so a page with a
    form or a button cannot be overlaid by another site (clickjacking).
    """
    view.frameable = True
    return view


def is_frameable() -> bool:
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return getattr(view, "frameable", False)


PRIVATE_PREFIXES = ("/admin", "/filings", "/accounts")


def _private_response() -> bool:
    """Whether this response is behind login: a back-office, filing or account page, or any page
    shown to a signed-in user (static files excepted: they hold nothing personal)."""
    endpoint = request.endpoint or ""
    if endpoint == "static" or endpoint.endswith(".static"):
        return False
    if request.path.startswith(PRIVATE_PREFIXES):
        return True
    return current_user.is_authenticated


def page_of(statement, *order_by) -> Page:
    """The numbered page the request asks for (?page=) of a back-office list, counted exactly."""
    count = select(func.count()).select_from(statement.subquery())
    page = parse_int(request.args.get("page"))
    return paginate(db.session, statement.order_by(*order_by), count, page)


def parse_int(value: str | None, default: int = 1, maximum: int = 2**31 - 1) -> int:
    """Read a page number; anything that is not a whole number up to `maximum` is a 400.

    The bound keeps OFFSET within what every database takes (SQLite refuses integers past 64 bits).
    Zero and negative numbers pass, so that paginate() answers them as a page that does not exist.
    """
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except ValueError:
        abort(400, description=_l("页码必须是正整数。"))
    if abs(number) > maximum:
        abort(400, description=_l("页码超出范围，最大为 %(max)s。", max=maximum))
    return number


def render_text(template: str, **context) -> str:
    """Render a text template without a request (flask tick, the CLI): no context processors."""
    return current_app.jinja_env.get_template(template).render(**context)


def public_record_locale():
    """Announcements and ledger reasons are public records in Chinese, whoever writes them."""
    return force_locale("zh_Hans_CN")


def current_date() -> date:
    """Today in the portal's time zone (BABEL_DEFAULT_TIMEZONE, Asia/Shanghai), not the server's."""
    return datetime.now(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()
