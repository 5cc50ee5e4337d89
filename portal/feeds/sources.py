"""Every public list that has a feed and can be followed by mail, in one table (SOURCES).

A source answers with the rows of its page: it reads the query string with the page's own filter
form and runs the page's own query function (disclosure.services.listings_query, news.services.
announcements_query, search.services.search…), so a feed or a digest never filters differently
from the page it belongs to. Each source also says when a row became public (`new_rows`), which is
what a digest sends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from flask import abort, current_app, g
from sqlalchemy import String, func, select, type_coerce
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, DateField

from portal.compliance import services as compliance
from portal.compliance.forms import ComplianceFilterForm
from portal.compliance.labels import COMPLIANCE_STATUS
from portal.compliance.models import CompliancePeriod, ComplianceRecord
from portal.disclosure import services as disclosure
from portal.disclosure.forms import EnterpriseFilterForm, ListingFilterForm, TradeFilterForm
from portal.disclosure.labels import LISTING_STATUS, SETTLEMENT_STATUS, TRADE_METHOD
from portal.disclosure.models import Listing, Trade
from portal.extensions import db
from portal.forms import SelectField
from portal.i18n import RequestFormats
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.mail import absolute_url
from portal.news.forms import CATEGORY_LABELS, AnnouncementFilterForm
from portal.news.models import Announcement
from portal.news.services import announcement_body_html, announcements_query
from portal.reference.models import Category, Division, Industry, Variety
from portal.reference.services import by_code
from portal.search import snippets
from portal.search.services import FILTER_ARGS, record_endpoint, search, search_arguments

# How many recent matches of a search a digest looks through for new ones.
SEARCH_DIGEST_WINDOW = 100


@dataclass(frozen=True)
class Entry:
    """One row of a list, as a feed entry or a digest line; times are naive UTC."""

    key: str  # stable: the tag URI's specific part, e.g. "listing/YNQ-GP-2025-000001"
    title: str
    url: str
    updated: datetime
    published: datetime | None = None
    summary: str = ""
    content_html: str | None = None
    category: tuple[str, str] | None = None
    author: str | None = None


@dataclass
class Located:
    """A source with its page's path arguments and validated filters."""

    source: Source
    view_args: dict
    args: MultiDict
    form: object | None = None
    filters: dict = field(default_factory=dict)

    @property
    def query_string(self) -> str:
        """The filters as a canonical query string: the page's own arguments only, sorted, empty
        values left out (paging and unknown arguments change nothing on the page)."""
        return canonical_query(self.args, self.source.arg_names())

    @property
    def page_path(self) -> str:
        """The page's address on this site, path and canonical query string: a subscription's
        target, independent of the host the site is served under."""
        path = current_app.url_map.bind("localhost").build(self.source.endpoint, self.view_args)
        return path + (f"?{self.query_string}" if self.query_string else "")

    def page_url(self) -> str:
        """The page's full address under PUBLIC_BASE_URL."""
        url = absolute_url(self.source.endpoint, **self.view_args)
        return url + (f"?{self.query_string}" if self.query_string else "")

    def title(self) -> str:
        return self.source.title(self)

    def description(self) -> list[str]:
        """The filters in force, for people: ["地区：郑州市", "关键词：节能"]."""
        return self.source.describe(self)


def canonical_query(args: MultiDict, names: frozenset[str]) -> str:
    pairs = sorted(
        (key, value)
        for key, values in args.lists()
        if key in names
        for value in values
        if value.strip()
    )
    return urlencode(pairs)


# ---- time: which rows are new --------------------------------------------------------------------


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def db_clock_offset() -> timedelta:
    """How far the database's now() (as `server_default=func.now()` stores it) is ahead of UTC.

    SQLite's CURRENT_TIMESTAMP is UTC. PostgreSQL stores now() in the session's TimeZone, which the
    server's configuration sets; read it, so a window in UTC matches those columns anywhere.
    """
    if "feeds_db_offset" not in g:
        offset = 0.0
        if db.session.get_bind().dialect.name == "postgresql":
            offset = float(db.session.scalar(select(func.extract("timezone", func.now()))) or 0)
        g.feeds_db_offset = timedelta(seconds=offset)
    return g.feeds_db_offset


def from_db_clock(value: datetime | None) -> datetime | None:
    """A time the database stored with its own now(), in naive UTC."""
    return None if value is None else value - db_clock_offset()


def to_db_clock(value: datetime) -> datetime:
    return value + db_clock_offset()


def db_clock_window(column, start: datetime, end: datetime) -> list:
    """SQL conditions: `column`, filled by the database's now(), lies in [start, end) (UTC).

    SQLite's CURRENT_TIMESTAMP is text to the whole second ("2026-11-30 17:13:15"), which sorts
    before the same second as SQLAlchemy writes it ("… 17:13:15.000000"); the bounds, whole seconds,
    are compared as text of the database's own form, so a row stored in a window's first second
    falls inside it.
    """
    start, end = to_db_clock(start), to_db_clock(end)
    if db.session.get_bind().dialect.name == "sqlite":
        text = type_coerce(column, String)
        return [text >= f"{start:%Y-%m-%d %H:%M:%S}", text < f"{end:%Y-%m-%d %H:%M:%S}"]
    return [column >= start, column < end]


_ARG_NAMES: dict[str, frozenset[str]] = {}


# ---- the sources ---------------------------------------------------------------------------------


class Source:
    """A public list: its page, how to read its filters, its rows, and which of them are new."""

    name: str = ""
    endpoint: str = ""
    # The language of the rows themselves: announcements are written in Chinese, so their feed is
    # Chinese whoever asks; None means the rows are built from codes in the requested language.
    content_locale: str | None = None
    subscribable: bool = True

    def locate(self, view_args: dict, args: MultiDict) -> Located:
        """Validate the page's arguments as the page does: 404 where it 404s, 400 for bad filters."""
        located = Located(self, dict(view_args), args)
        form_class = self.form_class()
        if form_class is not None:
            form = form_class(args)
            if not form.validate():
                messages = [str(m) for errors in form.errors.values() for m in errors]
                abort(400, description=" ".join(messages) or _("筛选条件有误。"))
            located.form, located.filters = form, form.data
        return located

    def form_class(self):
        return None

    def arg_names(self) -> frozenset[str]:
        """The query arguments the page reads: its filter form's fields (sort included)."""
        if self.name not in _ARG_NAMES:
            form_class = self.form_class()
            fields = form_class(MultiDict()) if form_class is not None else ()
            _ARG_NAMES[self.name] = frozenset(f.name for f in fields if f.name != "csrf_token")
        return _ARG_NAMES[self.name]

    def title(self, located: Located) -> str:
        raise NotImplementedError

    def describe(self, located: Located) -> list[str]:
        return describe_form(located.form) if located.form is not None else []

    def rows(self, located: Located, limit: int) -> list:
        """The first `limit` rows of the page, in the page's order."""
        return list(db.session.scalars(self.statement(located).limit(limit)))

    def statement(self, located: Located):
        raise NotImplementedError

    def entry(self, row, fmt: RequestFormats) -> Entry:
        raise NotImplementedError

    def new_rows(self, located: Located, start: datetime, end: datetime, limit: int):
        """(rows, total): rows of the page that became public in [start, end), UTC."""
        column, clock = self.newness()
        window = (
            db_clock_window(column, start, end)
            if clock == "db"
            else [column >= start, column < end]
        )
        stmt = self.statement(located).where(*window)
        total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
        return list(db.session.scalars(stmt.limit(limit))), total or 0

    def newness(self):
        """(column, clock): when a row became public; "app" = naive UTC, "db" = the database's now()."""
        raise NotImplementedError


def describe_form(form, skip: tuple[str, ...] = ()) -> list[str]:
    """Each filled filter of a GET form as "label：value", in the current language."""
    parts = []
    for name, item in form._fields.items():
        if name == "sort" or name in skip or item.data in (None, "", False):
            continue
        label = str(item.label.text)
        if isinstance(item, BooleanField):
            parts.append(label)
        elif isinstance(item, SelectField):
            chosen = next((str(option.label.text) for option in item if option.checked), item.data)
            parts.append(f"{label}{_('：')}{chosen}")
        elif isinstance(item, DateField):
            parts.append(f"{label}{_('：')}{item.data.isoformat()}")
        else:
            parts.append(f"{label}{_('：')}{item.data}")
    return parts


def _name(model, code: str | None, fmt: RequestFormats) -> str:
    return fmt.localized(by_code(model, code)) if code else ""


def _label(mapping: dict, code: str | None) -> str:
    label = mapping.get(code or "")
    return str(label) if label is not None else (code or "")


def _joined(*parts: str) -> str:
    return " · ".join(part for part in parts if part and part != "—")


class MarketSource(Source):
    """A market list (listings, trades, units): its filter form, title and query are the page's."""

    filters: type
    heading: object  # a lazy string
    query: staticmethod  # filters → (statement, count), as the page runs it

    def form_class(self):
        return self.filters

    def title(self, located):
        return str(self.heading)

    def statement(self, located):
        return self.query(located.filters)[0]

    def record_entry(self, row, fmt, variety, title, updated, summary, **more):
        """A listing or trade, under its number: its page, its variety as the category, and a
        summary that starts with its trading category."""
        kind = self.name[:-1]
        return Entry(
            key=f"{kind}/{row.number}",
            title=title,
            url=absolute_url(f"disclosure.{kind}_detail", number=row.number),
            updated=from_db_clock(updated),
            published=from_db_clock(row.created_at),
            summary=_joined(_name(Category, row.category_code, fmt), *summary),
            category=(row.variety_code, variety),
            **more,
        )


class AnnouncementSource(Source):
    name = "announcements"
    endpoint = "news.index"
    content_locale = "zh_Hans_CN"

    def form_class(self):
        return lambda args: AnnouncementFilterForm(formdata=args)

    def title(self, located):
        label = CATEGORY_LABELS.get(located.filters.get("category") or "")
        return str(label) if label is not None else _("通知公告")

    def describe(self, located):
        return describe_form(located.form, skip=("category",))  # the title names the category

    def statement(self, located):
        return announcements_query(located.filters)[0]

    def entry(self, row: Announcement, fmt):
        return Entry(
            key=f"announcement/{row.id}",
            title=row.title,
            url=absolute_url("news.detail", id=row.id),
            updated=row.updated_at or row.published_at,
            published=row.published_at,
            summary=row.summary or row.title,
            content_html=announcement_body_html(row),
            category=(row.category, str(CATEGORY_LABELS.get(row.category, row.category))),
            author=row.source or None,
        )

    def newness(self):
        return Announcement.published_at, "app"


class ListingSource(MarketSource):
    name = "listings"
    endpoint = "disclosure.listings"

    filters = ListingFilterForm
    heading = _l("挂牌信息")
    query = staticmethod(disclosure.listings_query)

    def entry(self, row: Listing, fmt):
        variety = _name(Variety, row.variety_code, fmt)
        return self.record_entry(
            row,
            fmt,
            variety,
            title=_(
                "挂牌 %(number)s：%(seller)s，%(variety)s %(quantity)s，%(price)s",
                number=row.number,
                seller=row.seller_name,
                variety=variety,
                quantity=fmt.qty(row.quantity, row.variety_code),
                price=fmt.price(row.listed_price, row.variety_code),
            ),
            updated=row.updated_at or row.created_at,
            summary=(
                _name(Division, row.division_code, fmt) or _("省级"),
                _label(LISTING_STATUS, row.status),
                _(
                    "挂牌期 %(start)s 至 %(end)s",
                    start=fmt.fdate(row.starts_on),
                    end=fmt.fdate(row.ends_on),
                ),
                _label(TRADE_METHOD, row.method),
            ),
            author=row.seller_name,
        )

    def newness(self):
        return Listing.created_at, "db"


class TradeSource(MarketSource):
    name = "trades"
    endpoint = "disclosure.trades"

    filters = TradeFilterForm
    heading = _l("成交公示")
    query = staticmethod(disclosure.trades_query)

    def entry(self, row: Trade, fmt):
        variety = _name(Variety, row.variety_code, fmt)
        return self.record_entry(
            row,
            fmt,
            variety,
            title=_(
                "成交 %(number)s：%(buyer)s 购入 %(seller)s %(variety)s %(quantity)s",
                number=row.number,
                buyer=row.buyer_name,
                seller=row.seller_name,
                variety=variety,
                quantity=fmt.qty(row.quantity, row.variety_code),
            ),
            updated=row.created_at,
            summary=(
                _("成交单价 %(price)s", price=fmt.price(row.unit_price, row.variety_code)),
                _("成交金额 %(amount)s", amount=fmt.money(row.amount)),
                _("成交日期 %(date)s", date=fmt.fdate(row.trade_date)),
                _label(TRADE_METHOD, row.method),
                _label(SETTLEMENT_STATUS, row.settlement_status),
            ),
        )

    def newness(self):
        return Trade.created_at, "db"


class ComplianceListSource(Source):
    """The compliance lists themselves: one entry per published period (履约名单的每次公布)."""

    name = "compliance_lists"
    endpoint = "compliance.index"

    def title(self, located):
        return _("履约名单")

    def statement(self, located):
        return (
            select(CompliancePeriod)
            .where(CompliancePeriod.published_at.is_not(None))
            .order_by(CompliancePeriod.year.desc())
        )

    def entry(self, row: CompliancePeriod, fmt):
        counts = compliance.period_status_counts(row.year)
        return Entry(
            key=f"compliance-list/{row.year}",
            title=_("%(year)s 年度履约名单", year=row.year),
            url=absolute_url("compliance.period", year=row.year),
            updated=row.published_at,
            published=row.published_at,
            summary=_joined(
                *(
                    f"{label} {fmt.num(counts.get(code, 0))}"
                    for code, label in COMPLIANCE_STATUS.items()
                )
            ),
        )

    def newness(self):
        return CompliancePeriod.published_at, "app"


class ComplianceRecordSource(Source):
    """One period's published list, filtered: a unit's record is new when it is first published
    or corrected."""

    name = "compliance"
    endpoint = "compliance.period"

    def locate(self, view_args, args):
        compliance.get_published_period_or_404(int(view_args["year"]))
        return super().locate(view_args, args)

    def form_class(self):
        return ComplianceFilterForm

    def title(self, located):
        return _("%(year)s 年度履约名单", year=located.view_args["year"])

    def statement(self, located):
        return compliance.compliance_query(int(located.view_args["year"]), located.filters)[0]

    def entry(self, row: ComplianceRecord, fmt):
        variety = _name(Variety, row.variety_code, fmt)
        published = row.period.published_at if row.period else None
        updated = max(filter(None, [published, from_db_clock(row.updated_at)]), default=published)
        return Entry(
            key=f"compliance/{row.period_year}/{row.enterprise.uscc}/{row.variety_code}",
            title=_(
                "%(name)s %(year)s 年度%(variety)s履约：%(status)s",
                name=row.enterprise.name,
                year=row.period_year,
                variety=variety,
                status=_label(COMPLIANCE_STATUS, row.status),
            ),
            url=absolute_url("compliance.period", year=row.period_year),
            updated=updated or utcnow(),
            published=published,
            summary=_joined(
                _name(Division, row.enterprise.division_code, fmt),
                _("持有指标 %(q)s", q=fmt.qty(row.holdings, row.variety_code)),
                _("实际用能量 %(q)s", q=fmt.qty(row.actual, row.variety_code))
                if row.actual is not None
                else _("实际用能量未报送"),
                _("缺口 %(q)s", q=fmt.qty(row.shortfall, row.variety_code))
                if row.shortfall
                else "",
            ),
            category=(row.status, _label(COMPLIANCE_STATUS, row.status)),
            author=row.enterprise.name,
        )

    def new_rows(self, located, start, end, limit):
        """Every row when the list itself was published in the window, else the corrected ones."""
        stmt = self.statement(located)
        period = db.session.get(CompliancePeriod, int(located.view_args["year"]))
        published = period.published_at if period else None
        if published is None or not start <= published < end:
            stmt = stmt.where(*db_clock_window(ComplianceRecord.updated_at, start, end))
        total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
        return list(db.session.scalars(stmt.limit(limit))), total or 0


class EnterpriseSource(MarketSource):
    """Public participating units. Not offered by mail: a unit becomes public by a registry entry,
    and no column says when, so "new since" cannot be answered exactly."""

    name = "enterprises"
    endpoint = "disclosure.enterprises"
    subscribable = False

    filters = EnterpriseFilterForm
    heading = _l("参与单位")
    query = staticmethod(disclosure.enterprises_query)

    def entry(self, row, fmt):
        return Entry(
            key=f"enterprise/{row.uscc}",
            title=row.name,
            url=absolute_url("disclosure.enterprise_detail", uscc=row.uscc),
            updated=from_db_clock(row.created_at),
            published=from_db_clock(row.created_at),
            summary=_joined(
                _("统一社会信用代码 %(code)s", code=row.uscc),
                _name(Division, row.division_code, fmt),
                _name(Industry, row.industry_code, fmt),
            ),
        )


class SearchSource(Source):
    """The site search: the same engine call as the search page, with the same arguments."""

    name = "search"
    endpoint = "search.results"

    def arg_names(self):
        return frozenset({"q", "sort", *FILTER_ARGS})

    def locate(self, view_args, args):
        q, filters, sort = search_arguments(args)
        return Located(
            self, dict(view_args), args, None, {"q": q, "filters": filters, "sort": sort}
        )

    def title(self, located):
        q = (located.filters.get("q") or "").strip()
        return _("搜索：%(q)s", q=q) if q else _("全站搜索")

    def describe(self, located):
        names = {"kind": _("类型"), "division": _("地区"), "variety": _("品种"), "year": _("年份")}
        return [
            f"{names[name]}{_('：')}{value}"
            for name, value in located.filters["filters"].items()
            if value
        ]

    def _hits(self, located, limit: int, sort: str):
        filters = located.filters
        found = search(filters["q"], filters["filters"], 1, sort=sort, per_page=limit)
        if found.redirect is not None:
            return [found.redirect]
        return found.hits

    def rows(self, located, limit):
        return self._hits(located, limit, located.filters["sort"])

    def entry(self, hit, fmt):
        snippets.Lines(fmt).fill(hit)
        target = record_endpoint(hit)
        summary = " ".join(filter(None, [_plain(hit.snippet), _plain(hit.excerpt)]))
        when = _hit_time(hit)
        return Entry(
            key=_hit_key(hit),
            title=_plain(hit.title),
            url=absolute_url(target[0], **target[1]) if target else absolute_url("search.results"),
            updated=when,
            published=when,
            summary=summary,
            category=(hit.kind, hit.kind),
        )

    def new_rows(self, located, start, end, limit):
        """Matches among the newest SEARCH_DIGEST_WINDOW by date that became public in the window."""
        hits = self._hits(located, SEARCH_DIGEST_WINDOW, "date")
        since = became_public(hits)
        new = [
            hit
            for hit in hits
            if (when := since.get((hit.kind, hit.record))) and start <= when < end
        ]
        return new[:limit], len(new)


def _plain(value) -> str:
    """The text of a search highlight (escaped markup with <mark> tags), for a feed or a mail."""
    if value is None:
        return ""
    return value.striptags() if hasattr(value, "striptags") else str(value)


def _hit_key(hit) -> str:
    """The same entry key as the record's own list gives it."""
    if hit.kind == "compliance" and hit.link:
        year, uscc = hit.link.split("|", 1)
        return f"compliance/{year}/{uscc}/{hit.variety}"
    return f"{hit.kind}/{hit.record}"


def _hit_time(hit) -> datetime:
    day = hit.day
    return datetime(day.year, day.month, day.day) if day else datetime(2000, 1, 1)


def became_public(hits) -> dict[tuple[str, str], datetime]:
    """When each hit's record became public (naive UTC), looked up by kind; one query per kind."""
    by_kind: dict[str, list[str]] = {}
    for hit in hits:
        by_kind.setdefault(hit.kind, []).append(hit.record)
    found: dict[tuple[str, str], datetime] = {}
    if by_kind.get("announcement"):
        ids = [int(r) for r in by_kind["announcement"] if r.isdigit()]
        for id_, at in db.session.execute(
            select(Announcement.id, Announcement.published_at).where(Announcement.id.in_(ids))
        ):
            found[("announcement", str(id_))] = at
    for kind, model in (("listing", Listing), ("trade", Trade)):
        if by_kind.get(kind):
            for number, at in db.session.execute(
                select(model.number, model.created_at).where(model.number.in_(by_kind[kind]))
            ):
                found[(kind, number)] = from_db_clock(at)
    if by_kind.get("compliance"):
        ids = [int(r) for r in by_kind["compliance"] if r.isdigit()]
        rows = db.session.execute(
            select(ComplianceRecord.id, ComplianceRecord.updated_at, CompliancePeriod.published_at)
            .join(CompliancePeriod, CompliancePeriod.year == ComplianceRecord.period_year)
            .where(ComplianceRecord.id.in_(ids))
        )
        for id_, updated, published in rows:
            found[("compliance", str(id_))] = max(filter(None, [published, from_db_clock(updated)]))
    return found


SOURCES: dict[str, Source] = {
    source.endpoint: source
    for source in (
        AnnouncementSource(),
        ListingSource(),
        TradeSource(),
        ComplianceListSource(),
        ComplianceRecordSource(),
        EnterpriseSource(),
        SearchSource(),
    )
}
BY_NAME: dict[str, Source] = {source.name: source for source in SOURCES.values()}


def source_for_endpoint(endpoint: str | None) -> Source | None:
    return SOURCES.get(endpoint or "")
