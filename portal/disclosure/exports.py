"""The public datasets of the market (listings, trades, participating units):
their columns, shared by the CSV and XLSX downloads, the bulk archive and the data dictionary."""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy.orm import joinedload, lazyload, load_only

from portal.disclosure.labels import (
    LISTING_STATUS,
    SELLER_KIND,
    SETTLEMENT_STATUS,
    TRADE_METHOD,
)
from portal.disclosure.models import Listing, Trade
from portal.enterprises.models import Enterprise
from portal.exports import (
    BY_VARIETY,
    DIVISIONS,
    REFERENCE,
    REGISTER,
    Column,
    Dataset,
    attr_column,
    category_columns,
    industry_columns,
    labelled_columns,
    page_column,
    reference_pair,
    unit_column,
    variety_columns,
)
from portal.i18n import lazy_gettext as _l

PLATFORM = _l("河南省公共资源交易平台（由省级节能主管部门同步或录入本平台）")
PER_UNIT = _l("元 / 计量单位")
YUAN = _l("元")
PROVINCIAL = _l("省级")


METHOD_COLUMNS = labelled_columns(
    "method", _l("交易方式"), _l("交易方式代码"), TRADE_METHOD, _l("挂牌、协议或竞价")
)


def _public_uscc(enterprise) -> str | None:
    """A unit's code, where its profile is public; nothing for the province, a city or a unit
    whose profile is not shown."""
    return enterprise.uscc if enterprise is not None and enterprise.is_public else None


LISTINGS = Dataset(
    name="listings",
    title=_l("挂牌信息"),
    description=_l(
        "在河南省公共资源交易平台挂牌的用能权指标：品种、类别、卖方、数量、价格和挂牌期。"
    ),
    source=PLATFORM,
    order=_l("与页面相同：默认按挂牌开始日期从新到旧"),
    keywords=("用能权", "挂牌", "能耗指标", "煤炭指标"),
    columns=(
        attr_column(
            "number", _l("挂牌编号"), kind="code", description=_l("交易平台给出的挂牌编号，唯一")
        ),
        *variety_columns(),
        *category_columns(),
        Column("seller", _l("卖方"), lambda r, n: r.seller_name, description=_l("卖方名称")),
        *labelled_columns(
            "seller_kind",
            _l("卖方类型"),
            _l("卖方类型代码"),
            SELLER_KIND,
            _l("企业、市级主管部门或省级主管部门"),
        ),
        Column(
            "seller_uscc",
            _l("卖方统一社会信用代码"),
            lambda r, n: _public_uscc(r.seller),
            kind="code",
            source=REGISTER,
            description=_l("卖方为已公开的参与单位时填写"),
        ),
        *reference_pair(
            "division",
            _l("地区"),
            _l("地区代码"),
            lambda r: r.division_code,
            "division",
            _l("卖方所在省辖市；省级指标为“省级”"),
            _l("六位行政区划代码；省级指标为空"),
            blank=PROVINCIAL,
        ),
        *industry_columns(lambda r: r.industry_code),
        attr_column("quantity", _l("挂牌数量"), kind="quantity", unit=BY_VARIETY),
        attr_column(
            "remaining_quantity",
            _l("剩余数量"),
            kind="quantity",
            unit=BY_VARIETY,
            description=_l("尚未成交的数量"),
        ),
        unit_column(),
        attr_column("listed_price", _l("挂牌价格（元/计量单位）"), kind="price", unit=PER_UNIT),
        attr_column("starts_on", _l("挂牌开始日期"), kind="date"),
        attr_column("ends_on", _l("挂牌截止日期"), kind="date"),
        *METHOD_COLUMNS,
        *labelled_columns(
            "status",
            _l("挂牌状态"),
            _l("挂牌状态代码"),
            LISTING_STATUS,
            _l("挂牌中、已成交、部分成交、已撤牌或已过期"),
        ),
        page_column("disclosure.listing_detail", "number"),
    ),
)


def _party(key, header, name, enterprise, division):
    return (
        Column(key, header, lambda r, n: name(r), description=_l("单位或主管部门名称")),
        Column(
            f"{key}_uscc",
            _l("%(party)s统一社会信用代码", party=header),
            lambda r, n: _public_uscc(enterprise(r)),
            kind="code",
            source=REGISTER,
            description=_l("为已公开的参与单位时填写"),
        ),
        *reference_pair(
            f"{key}_division",
            _l("%(party)s地区", party=header),
            _l("%(party)s地区代码", party=header),
            division,
            "division",
            _l("单位或主管部门所在省辖市"),
            _l("六位行政区划代码"),
        ),
    )


TRADES = Dataset(
    name="trades",
    title=_l("成交公示"),
    description=_l("用能权指标的成交结果：数量、单价、金额、买卖双方和成交日期。"),
    source=PLATFORM,
    order=_l("与页面相同：默认按成交日期从新到旧"),
    keywords=("用能权", "成交", "能耗指标", "煤炭指标"),
    columns=(
        attr_column(
            "number", _l("成交编号"), kind="code", description=_l("交易平台给出的成交编号，唯一")
        ),
        Column(
            "listing",
            _l("挂牌编号"),
            lambda r, n: r.listing.number if r.listing else None,
            kind="code",
            description=_l("对应挂牌的编号；协议转让可能没有挂牌"),
        ),
        *variety_columns(),
        *category_columns(),
        attr_column("quantity", _l("成交数量"), kind="quantity", unit=BY_VARIETY),
        unit_column(),
        attr_column("unit_price", _l("成交单价（元/计量单位）"), kind="price", unit=PER_UNIT),
        attr_column(
            "amount",
            _l("成交金额（元）"),
            kind="money",
            unit=YUAN,
            description=_l("成交数量 × 成交单价"),
        ),
        *_party(
            "buyer",
            _l("买方"),
            lambda r: r.buyer_name,
            lambda r: r.buyer,
            lambda r: r.buyer_division_code,
        ),
        *_party(
            "seller",
            _l("卖方"),
            lambda r: r.seller_name,
            lambda r: r.seller,
            lambda r: r.seller_division_code,
        ),
        *industry_columns(lambda r: r.industry_code),
        attr_column("trade_date", _l("成交日期"), kind="date"),
        *METHOD_COLUMNS,
        *labelled_columns(
            "settlement_status",
            _l("结算状态"),
            _l("结算状态代码"),
            SETTLEMENT_STATUS,
            _l("待结算、已结算或已交割"),
        ),
        page_column("disclosure.trade_detail", "number"),
    ),
)


ENTERPRISES = Dataset(
    name="enterprises",
    title=_l("参与单位"),
    description=_l("参与用能权交易并已公开信息的单位：统一社会信用代码、名称、地区和行业。"),
    source=REGISTER,
    order=_l("与页面相同：按单位名称"),
    keywords=("用能权", "参与单位", "统一社会信用代码"),
    columns=(
        attr_column("uscc", _l("统一社会信用代码"), kind="code"),
        attr_column("name", _l("单位名称")),
        *reference_pair(
            "division",
            _l("地区"),
            _l("地区代码"),
            lambda r: r.division_code,
            "division",
            _l("单位所在省辖市"),
            _l("六位行政区划代码"),
        ),
        *industry_columns(lambda r: r.industry_code),
        Column("address", _l("地址"), lambda r, n: r.address or None),
        page_column("disclosure.enterprise_detail", "uscc"),
    ),
)

DATASETS = (LISTINGS, TRADES, ENTERPRISES)


def _unit_code(relation):
    """Load a related unit for its code alone, not the division and industry rows it would join."""
    return joinedload(relation).options(
        load_only(Enterprise.uscc, Enterprise.is_public),
        lazyload(Enterprise.division),
        lazyload(Enterprise.industry),
    )


# What each download loads with its rows: only what its columns read. A trade with its listing,
# buyer and seller, each unit with its division and industry, is a twelve-table join; the columns
# read codes, which the rows already hold.
LOADS = {
    "listings": (_unit_code(Listing.seller),),
    "trades": (
        joinedload(Trade.listing).load_only(Listing.number),
        _unit_code(Trade.buyer),
        _unit_code(Trade.seller),
    ),
    "enterprises": (lazyload(Enterprise.division), lazyload(Enterprise.industry)),
}


# ---- The statistics page's tables: monthly per variety, and one day's report ----

SUMMARY_SOURCE = _l("本平台成交公示的每日汇总（market_daily_summary），由成交记录逐笔累加")
WHOLE_MARKET = _l("全省")
EVERY_CATEGORY = _l("全部类别")


def _scope_columns():
    return (
        Column(
            "category",
            _l("交易类别"),
            lambda r, n: (
                n.ref("category", r.category_code) if r.category_code else n.text(EVERY_CATEGORY)
            ),
            source=REFERENCE,
        ),
        attr_column(
            "category_code", _l("交易类别代码"), kind="code", description=_l("为空：全部类别合计")
        ),
        Column(
            "division",
            _l("地区（买方或卖方）"),
            lambda r, n: (
                n.ref("division", r.division_code) if r.division_code else n.text(WHOLE_MARKET)
            ),
            source=DIVISIONS,
            description=_l("一笔成交计入全省，并计入买方和卖方所在的每个地区各一次"),
        ),
        attr_column(
            "division_code",
            _l("地区代码"),
            kind="code",
            source=DIVISIONS,
            description=_l("为空：全省"),
        ),
    )


def _figure_columns(prefix: str = "", headers=None):
    def f(r):
        return r.cumulative if prefix else r.figures

    trades, volume, amount, average = headers or (
        _l("成交笔数"),
        _l("成交量"),
        _l("成交金额（元）"),
        _l("成交均价（元/计量单位）"),
    )
    return (
        Column(f"{prefix}trades", trades, lambda r, n: f(r).trades, kind="integer"),
        Column(
            f"{prefix}volume", volume, lambda r, n: f(r).volume, kind="quantity", unit=BY_VARIETY
        ),
        Column(f"{prefix}amount", amount, lambda r, n: f(r).amount, kind="money", unit=YUAN),
        Column(
            f"{prefix}average_price",
            average,
            lambda r, n: f(r).average_price,
            kind="price",
            unit=PER_UNIT,
            description=_l("成交金额 ÷ 成交量；没有成交时为空"),
        ),
    )


def _high_low():
    return (
        Column(
            "high",
            _l("最高成交单价"),
            lambda r, n: r.figures.high,
            kind="price",
            unit=PER_UNIT,
        ),
        Column(
            "low",
            _l("最低成交单价"),
            lambda r, n: r.figures.low,
            kind="price",
            unit=PER_UNIT,
        ),
    )


MONTHLY_STATISTICS = Dataset(
    name="statistics-monthly",
    title=_l("市场统计（月度）"),
    description=_l(
        "各品种逐月的成交笔数、成交量、成交金额、均价、最高价和最低价，及开市以来的累计值。"
    ),
    source=SUMMARY_SOURCE,
    order=_l("按品种，再按月份从早到晚"),
    keywords=("用能权", "成交", "月报", "统计"),
    columns=(
        Column("month", _l("月份"), lambda r, n: r.label, kind="code", description="YYYY-MM"),
        *variety_columns(),
        unit_column(),
        *_scope_columns(),
        *_figure_columns(),
        *_high_low(),
        *_figure_columns(
            "cumulative_",
            (
                _l("开市以来累计成交笔数"),
                _l("开市以来累计成交量"),
                _l("开市以来累计成交金额（元）"),
                _l("开市以来累计成交均价（元/计量单位）"),
            ),
        ),
    ),
)

DAILY_STATISTICS = Dataset(
    name="statistics-daily",
    title=_l("市场统计（日报）"),
    description=_l("某一交易日各品种按类别和按地区的成交汇总。"),
    source=SUMMARY_SOURCE,
    order=_l("按品种；先各类别及合计，再各地区"),
    keywords=("用能权", "成交", "日报", "统计"),
    columns=(
        attr_column("day", _l("日期"), kind="date"),
        *variety_columns(),
        unit_column(),
        *_scope_columns(),
        *_figure_columns(),
        *_high_low(),
    ),
)


def monthly_rows(series, scope):
    """The rows of MONTHLY_STATISTICS: each variety's months, as the statistics page shows them."""
    for one in series:
        for row in one.months:
            yield SimpleNamespace(
                label=row.label,
                variety_code=one.variety.code,
                category_code=scope.category,
                division_code=scope.division,
                figures=row.figures,
                cumulative=row.cumulative,
            )


def daily_rows(day, by_category, by_division):
    """The rows of DAILY_STATISTICS for one day: per variety and category, then per division."""
    for row in [*by_category, *by_division]:
        yield SimpleNamespace(
            day=day,
            variety_code=row.variety,
            category_code=row.category,
            division_code=row.division,
            figures=row.figures,
        )
