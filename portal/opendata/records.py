"""The records the API returns, field by field: name, type, unit, meaning and source.

Each record is declared once here; views dump rows with it and the OpenAPI document describes it.
"""

from __future__ import annotations

from flask import url_for

from portal.compliance.models import COMPLIANCE_STATUSES
from portal.compliance.services import period_status_counts
from portal.disclosure.ledger import MOVEMENT_KINDS, RECORD_TYPES
from portal.disclosure.models import (
    LISTING_STATUSES,
    SELLER_KINDS,
    SETTLEMENT_STATUSES,
    TRADE_METHODS,
)
from portal.i18n import lazy_gettext as _l
from portal.news.models import ANNOUNCEMENT_CATEGORIES
from portal.news.services import announcement_body_html
from portal.opendata.contract import (
    MONEY,
    QUANTITY,
    Boolean,
    Code,
    Counts,
    Day,
    Field,
    Instant,
    Integer,
    ListOf,
    Nested,
    Record,
    Text,
    attr,
)
from portal.publicity.models import NOTICE_STATUSES, OBJECTION_STATUSES, SUBJECT_TYPES
from portal.publicity.services import objection_outcomes
from portal.reference import services as reference

UNIT = _l("单位见本条记录的 unit")
YUAN = _l("元")
YUAN_PER_UNIT = _l("元/unit 所示单位")


def _codes(rows):
    return lambda: [row.code for row in rows()]


DIVISION = Code(_codes(reference.divisions))
INDUSTRY = Code(_codes(reference.industries))
VARIETY = Code(_codes(reference.varieties))
CATEGORY = Code(_codes(reference.categories))


def _unit_of(variety_code: str | None) -> str | None:
    variety = reference.by_code(reference.Variety, variety_code)
    return variety.unit_en if variety is not None else None


def _external(endpoint: str, **values) -> str:
    return url_for(endpoint, **values, _external=True)


def link_field(name: str, description, endpoint: str, **params: str) -> Field:
    """The absolute URL of a page or an API resource: each URL parameter from the attribute of the
    row it names."""
    return Field(
        name,
        Text("uri"),
        description,
        lambda row: _external(endpoint, **{key: getattr(row, a) for key, a in params.items()}),
    )


def price_field(name: str, description, *path: str) -> Field:
    """A price per unit of the variety, from the row's attribute at `path`; null where there was
    no trade."""
    return Field(name, MONEY, description, attr(*path), nullable=True, unit=YUAN_PER_UNIT)


VARIETY_CODE = attr("variety_code")


def unit_field(variety=VARIETY_CODE) -> Field:
    return Field(
        "unit",
        Code(lambda: [v.unit_en for v in reference.varieties()]),
        _l("数量的计量单位：tce（吨标准煤，能耗指标）或 t（吨，煤炭指标）"),
        lambda row: _unit_of(variety(row)),
        example="tce",
    )


LISTING = Record(
    "Listing",
    _l("挂牌：在省公共资源交易平台上挂出的用能权指标"),
    [
        Field("number", Text(), _l("挂牌编号"), attr("number"), example="YNQ-GP-2025-000001"),
        link_field("url", _l("本条挂牌的网页"), "disclosure.listing_detail", number="number"),
        Field(
            "variety",
            VARIETY,
            _l("交易品种代码：energy 能耗指标，coal 煤炭指标"),
            attr("variety_code"),
        ),
        unit_field(),
        Field(
            "category", CATEGORY, _l("交易类别代码（见 /api/v1/reference）"), attr("category_code")
        ),
        Field("seller", Text(), _l("卖方名称（单位、市或省）"), attr("seller_name")),
        Field("seller_kind", Code(SELLER_KINDS), _l("卖方类型"), attr("seller_kind")),
        Field(
            "seller_uscc",
            Text(),
            _l("卖方统一社会信用代码；null：卖方不是公开的参与单位"),
            lambda r: r.seller.uscc if r.seller is not None and r.seller.is_public else None,
            nullable=True,
        ),
        Field(
            "division",
            DIVISION,
            _l("卖方所在地区代码（GB/T 2260）；null：省级指标"),
            attr("division_code"),
            nullable=True,
        ),
        Field(
            "industry", INDUSTRY, _l("行业代码；null：未注明"), attr("industry_code"), nullable=True
        ),
        Field("quantity", QUANTITY, _l("挂牌数量"), attr("quantity"), unit=UNIT),
        Field(
            "remaining_quantity", QUANTITY, _l("剩余数量"), attr("remaining_quantity"), unit=UNIT
        ),
        Field("listed_price", MONEY, _l("挂牌单价"), attr("listed_price"), unit=YUAN_PER_UNIT),
        Field("starts_on", Day(), _l("挂牌开始日期"), attr("starts_on")),
        Field("ends_on", Day(), _l("挂牌截止日期"), attr("ends_on")),
        Field("method", Code(TRADE_METHODS), _l("交易方式"), attr("method")),
        Field("status", Code(LISTING_STATUSES), _l("挂牌状态"), attr("status")),
    ],
)

LISTING_DETAIL = LISTING.extend(
    "ListingDetail",
    _l("一条挂牌，含联系人、说明和由它成交的成交编号"),
    Field("contact_name", Text(), _l("联系人；空字符串：未提供"), attr("contact_name")),
    Field("contact_phone", Text(), _l("联系电话；空字符串：未提供"), attr("contact_phone")),
    Field("description", Text(), _l("挂牌说明；空字符串：无"), attr("description")),
    Field(
        "trades",
        ListOf(Text()),
        _l("由本挂牌成交的成交编号，按成交日期"),
        lambda r: [t.number for t in r.trades],
    ),
)

TRADE = Record(
    "Trade",
    _l("成交：一笔已完成并公示的交易"),
    [
        Field("number", Text(), _l("成交编号"), attr("number"), example="YNQ-CJ-2025-000001"),
        link_field("url", _l("本笔成交的网页"), "disclosure.trade_detail", number="number"),
        Field(
            "listing",
            Text(),
            _l("所属挂牌编号；null：协议转让等没有挂牌的成交"),
            attr("listing", "number"),
            nullable=True,
        ),
        Field("variety", VARIETY, _l("交易品种代码"), attr("variety_code")),
        unit_field(),
        Field("category", CATEGORY, _l("交易类别代码"), attr("category_code")),
        Field("quantity", QUANTITY, _l("成交数量"), attr("quantity"), unit=UNIT),
        Field("unit_price", MONEY, _l("成交单价"), attr("unit_price"), unit=YUAN_PER_UNIT),
        Field("amount", MONEY, _l("成交金额"), attr("amount"), unit=YUAN),
        Field("buyer", Text(), _l("买方名称"), attr("buyer_name")),
        Field(
            "buyer_division",
            DIVISION,
            _l("买方地区代码；null：省级"),
            attr("buyer_division_code"),
            nullable=True,
        ),
        Field("seller", Text(), _l("卖方名称"), attr("seller_name")),
        Field(
            "seller_division",
            DIVISION,
            _l("卖方地区代码；null：省级"),
            attr("seller_division_code"),
            nullable=True,
        ),
        Field(
            "industry", INDUSTRY, _l("行业代码；null：未注明"), attr("industry_code"), nullable=True
        ),
        Field("method", Code(TRADE_METHODS), _l("交易方式"), attr("method")),
        Field("trade_date", Day(), _l("成交日期"), attr("trade_date")),
        Field(
            "settlement_status",
            Code(SETTLEMENT_STATUSES),
            _l("结算状态"),
            attr("settlement_status"),
        ),
    ],
)

_COMPLIANCE_FIGURES = [
    Field("period", Integer(), _l("履约期（年度）"), attr("period_year")),
    Field("variety", VARIETY, _l("交易品种代码"), attr("variety_code")),
    unit_field(),
    Field("quota", QUANTITY, _l("配额"), attr("quota"), unit=UNIT),
    Field("bought", QUANTITY, _l("买入"), attr("bought"), unit=UNIT),
    Field("sold", QUANTITY, _l("卖出"), attr("sold"), unit=UNIT),
    Field("taken_back", QUANTITY, _l("无偿收回"), attr("taken_back"), unit=UNIT),
    Field(
        "holdings",
        QUANTITY,
        _l('持有量 = 配额 + 买入 − 卖出 − 收回；"0.0000" 表示持有量为零'),
        attr("holdings"),
        unit=UNIT,
    ),
    Field(
        "actual",
        QUANTITY,
        _l("经核实的实际用能量；null：未报送（不是零）"),
        attr("actual"),
        nullable=True,
        unit=UNIT,
    ),
    Field("status", Code(COMPLIANCE_STATUSES), _l("履约状态"), attr("status")),
    Field(
        "shortfall",
        QUANTITY,
        _l("缺口量（未履约时）；null：没有认定缺口"),
        attr("shortfall"),
        nullable=True,
        unit=UNIT,
    ),
    Field("rectify_by", Day(), _l("整改期限；null：无须整改"), attr("rectify_by"), nullable=True),
]

COMPLIANCE = Record(
    "ComplianceRecord",
    _l("一个单位在一个履约期、一个品种上的履约情况"),
    [
        Field("uscc", Text(), _l("统一社会信用代码"), attr("enterprise", "uscc")),
        Field("enterprise", Text(), _l("单位名称"), attr("enterprise", "name")),
        Field("division", DIVISION, _l("单位所在地区代码"), attr("enterprise", "division_code")),
        Field("industry", INDUSTRY, _l("行业代码"), attr("enterprise", "industry_code")),
        *_COMPLIANCE_FIGURES,
    ],
)

HOLDINGS = Record(
    "PublishedHoldings",
    _l("单位在一个已公布履约期、一个品种上的持有量与履约情况（登记簿公布的数字）"),
    list(_COMPLIANCE_FIGURES),
)

COMPLIANCE_PERIOD = Record(
    "CompliancePeriod",
    _l("一个已公布的履约期"),
    [
        Field("year", Integer(), _l("履约期（年度）"), attr("year")),
        Field("filing_deadline", Day(), _l("报送截止日期"), attr("filing_deadline")),
        Field("published_at", Instant(), _l("公布时间"), attr("published_at")),
        Field(
            "publicity_ends_at",
            Instant(),
            _l("公示期结束时间；null：未经公示期"),
            attr("publicity_ends_at"),
            nullable=True,
        ),
        Field("note", Text(), _l("说明；空字符串：无"), attr("note")),
        Field(
            "status_counts",
            Counts(COMPLIANCE_STATUSES),
            _l("各履约状态的单位数"),
            lambda p: period_status_counts(p.year),
        ),
        link_field("records", _l("本期履约名单（API）"), "opendata.compliance", year="year"),
        link_field("url", _l("本期履约名单的网页"), "compliance.period", year="year"),
    ],
)

ANNOUNCEMENT = Record(
    "Announcement",
    _l("一条已发布的公告"),
    [
        Field("id", Integer(minimum=1), _l("公告编号"), attr("id")),
        link_field("url", _l("公告网页"), "news.detail", id="id"),
        Field("category", Code(ANNOUNCEMENT_CATEGORIES), _l("栏目"), attr("category")),
        Field("title", Text(), _l("标题"), attr("title")),
        Field("summary", Text(), _l("摘要；空字符串：无"), attr("summary")),
        Field("source", Text(), _l("来源；空字符串：未注明"), attr("source")),
        Field(
            "division",
            DIVISION,
            _l("地区代码；null：全省"),
            attr("division_code"),
            nullable=True,
        ),
        Field("is_featured", Boolean(), _l("是否置顶"), attr("is_featured")),
        Field("published_at", Instant(), _l("发布时间"), attr("published_at")),
        Field(
            "updated_at",
            Instant(),
            _l("最近更正时间；null：发布后未更正"),
            attr("updated_at"),
            nullable=True,
        ),
        Field(
            "publicity_starts_at",
            Instant(),
            _l("公示期开始；null：不是公示或自发布起"),
            attr("publicity_starts_at"),
            nullable=True,
        ),
        Field(
            "publicity_ends_at",
            Instant(),
            _l("公示期结束；null：不是公示"),
            attr("publicity_ends_at"),
            nullable=True,
        ),
    ],
)

ATTACHMENT = Record(
    "Attachment",
    _l("公告附件"),
    [
        Field("filename", Text(), _l("文件名"), attr("filename")),
        Field("content_type", Text(), _l("媒体类型"), attr("content_type")),
        Field("size", Integer(minimum=0), _l("大小"), attr("size"), unit=_l("字节")),
        link_field(
            "url", _l("下载地址"), "news.attachment", id="announcement_id", attachment_id="id"
        ),
    ],
)

ANNOUNCEMENT_DETAIL = ANNOUNCEMENT.extend(
    "AnnouncementDetail",
    _l("一条公告的全文与附件"),
    Field("body_html", Text(), _l("正文（已净化的 HTML）"), announcement_body_html),
    Field("attachments", ListOf(Nested(ATTACHMENT)), _l("附件"), attr("attachments")),
)

PUBLICITY_NOTICE = Record(
    "PublicityNotice",
    _l("一条公示：公示期、状态与结果"),
    [
        Field("id", Integer(minimum=1), _l("公示编号"), attr("id")),
        Field("announcement_id", Integer(minimum=1), _l("公示公告的编号"), attr("announcement_id")),
        Field("title", Text(), _l("标题"), attr("announcement", "title")),
        link_field(
            "url", _l("公示网页（可在公示期内提出异议）"), "news.detail", id="announcement_id"
        ),
        Field("subject_type", Code(SUBJECT_TYPES), _l("公示对象类型"), attr("subject_type")),
        Field(
            "status",
            Code(NOTICE_STATUSES),
            _l("open 公示中；final 期满生效；reopened 异议成立、重新办理；withdrawn 已撤回"),
            attr("status"),
        ),
        Field(
            "division",
            DIVISION,
            _l("地区代码；null：全省"),
            attr("announcement", "division_code"),
            nullable=True,
        ),
        Field("published_at", Instant(), _l("发布时间"), attr("announcement", "published_at")),
        Field(
            "publicity_starts_at",
            Instant(),
            _l("公示期开始；null：自发布起"),
            attr("announcement", "publicity_starts_at"),
            nullable=True,
        ),
        Field(
            "publicity_ends_at",
            Instant(),
            _l("公示期结束；null：未设公示期"),
            attr("announcement", "publicity_ends_at"),
            nullable=True,
        ),
        Field(
            "finalized_at",
            Instant(),
            _l("生效时间；null：尚未生效"),
            attr("finalized_at"),
            nullable=True,
        ),
        Field(
            "withdrawn_at",
            Instant(),
            _l("撤回时间；null：未撤回"),
            attr("withdrawn_at"),
            nullable=True,
        ),
        Field(
            "withdrawal_reason",
            Text(),
            _l("撤回理由；null：未撤回"),
            lambda n: n.withdrawal_reason or None if n.withdrawn_at else None,
            nullable=True,
        ),
    ],
)

PUBLICITY_NOTICE_DETAIL = PUBLICITY_NOTICE.extend(
    "PublicityNoticeDetail",
    _l("一条公示，含异议处理结果的统计（不含异议人信息）"),
    Field(
        "objections",
        Counts(OBJECTION_STATUSES),
        _l("异议数：pending 待答复，upheld 成立，dismissed 不成立"),
        lambda n: objection_outcomes(n.announcement_id),
    ),
)

ENTERPRISE = Record(
    "Enterprise",
    _l("公开的参与单位"),
    [
        Field("uscc", Text(), _l("统一社会信用代码"), attr("uscc"), example="91410100MA00000000"),
        Field("name", Text(), _l("单位名称"), attr("name")),
        Field("division", DIVISION, _l("地区代码"), attr("division_code")),
        Field("industry", INDUSTRY, _l("行业代码"), attr("industry_code")),
        link_field("url", _l("单位网页"), "disclosure.enterprise_detail", uscc="uscc"),
    ],
)

TRADE_TOTAL = Record(
    "TradeTotal",
    _l("单位在一个品种上的累计成交"),
    [
        Field("variety", VARIETY, _l("交易品种代码"), lambda t: t["variety"].code),
        unit_field(lambda t: t["variety"].code),
        Field("bought", QUANTITY, _l('累计买入；"0.0000"：没有买入'), attr("bought"), unit=UNIT),
        Field("sold", QUANTITY, _l('累计卖出；"0.0000"：没有卖出'), attr("sold"), unit=UNIT),
    ],
)

PERIOD_HOLDING = Record(
    "PeriodHolding",
    _l("单位在一个履约期、一个品种上的持有量（注册登记簿，截至该期 12 月 31 日）"),
    [
        Field("period", Integer(), _l("履约期（年度）"), attr("period_year")),
        Field(
            "closed",
            Boolean(),
            _l("该期是否已过截止日（12 月 31 日）；false：进行中，数字截至今日"),
            attr("closed"),
        ),
        Field("variety", VARIETY, _l("交易品种代码"), attr("variety_code")),
        unit_field(),
        Field(
            "allocated",
            QUANTITY,
            _l("配额（初始分配与核定发放，含更正）"),
            attr("allocated"),
            unit=UNIT,
        ),
        Field("bought", QUANTITY, _l("买入"), attr("bought"), unit=UNIT),
        Field("sold", QUANTITY, _l("卖出"), attr("sold"), unit=UNIT),
        Field("taken_back", QUANTITY, _l("无偿收回与其他注销"), attr("taken_back"), unit=UNIT),
        Field(
            "holdings",
            QUANTITY,
            _l("持有量 = 配额 + 买入 − 卖出 − 收回"),
            attr("holdings"),
            unit=UNIT,
        ),
        Field("surrendered", QUANTITY, _l("履约注销（单独列出）"), attr("surrendered"), unit=UNIT),
    ],
)


def _record_url(movement) -> str | None:
    if movement.record_type == "trade":
        return _external("disclosure.trade_detail", number=movement.record_key)
    if movement.record_type == "publicity":
        return _external("news.detail", id=movement.record_key)
    if movement.record_type == "compliance":
        return _external("compliance.period", year=movement.record_key)
    return None


MOVEMENT = Record(
    "LedgerMovement",
    _l("注册登记簿中单位的一笔指标变动"),
    [
        Field("id", Integer(minimum=1), _l("登记簿分录编号"), attr("id")),
        Field("recorded_at", Instant(), _l("登记时间"), attr("created_at")),
        Field(
            "kind",
            Code(MOVEMENT_KINDS),
            _l(
                "变动类型：allocate 初始分配，issue 核定发放，transfer_in 买入，transfer_out 卖出，"
                "take_back 无偿收回，surrender 履约注销，cancel 注销，correction 更正，opening 期初结转"
            ),
            attr("kind"),
        ),
        Field("variety", VARIETY, _l("交易品种代码"), attr("variety_code")),
        unit_field(),
        Field(
            "quantity",
            QUANTITY,
            _l("变动数量，带符号：增加为正，减少为负"),
            attr("quantity"),
            unit=UNIT,
        ),
        Field("period", Integer(), _l("计入的履约期（年度）"), attr("period_year")),
        Field("reason", Text(), _l("登记事由"), attr("reason")),
        Field(
            "corrects",
            Integer(minimum=1),
            _l("更正的分录编号；null：不是更正"),
            attr("corrects_entry_id"),
            nullable=True,
        ),
        Field(
            "record_type",
            Code(RECORD_TYPES),
            _l(
                "引起变动的公开记录：trade 成交，publicity 公示，compliance 履约名单；null：没有公开记录"
            ),
            attr("record_type"),
            nullable=True,
        ),
        Field(
            "record_url",
            Text("uri"),
            _l("该公开记录的网页；null：没有公开记录，只有登记事由"),
            _record_url,
            nullable=True,
        ),
    ],
)

ENTERPRISE_PROFILE = ENTERPRISE.extend(
    "EnterpriseProfile",
    _l("参与单位的公开档案：交易汇总，已公布履约期中的履约情况，注册登记簿中的持有量和指标变动"),
    Field("address", Text(), _l("地址；空字符串：未公开"), attr("address")),
    Field("profile", Text(), _l("简介；空字符串：无"), attr("profile")),
    Field("listings_count", Integer(minimum=0), _l("挂牌条数"), attr("listings_count")),
    Field("trades_count", Integer(minimum=0), _l("成交笔数"), attr("trades_count")),
    Field("trade_totals", ListOf(Nested(TRADE_TOTAL)), _l("各品种累计成交"), attr("trade_totals")),
    Field(
        "holdings",
        ListOf(Nested(HOLDINGS)),
        _l("已公布履约期中的持有量与履约情况，新的在前"),
        attr("holdings"),
    ),
    Field(
        "participates",
        Boolean(),
        _l("是否为注册登记簿的持有人（有登记记录、履约义务或项目开工义务）"),
        attr("participates"),
    ),
    Field(
        "period_holdings",
        ListOf(Nested(PERIOD_HOLDING)),
        _l("注册登记簿中各履约期、各品种的持有量，新的在前；不参与的单位为空列表"),
        attr("period_holdings"),
    ),
    link_field(
        "movements_url",
        _l("该单位指标变动列表的接口地址"),
        "opendata.enterprise_movements",
        uscc="uscc",
    ),
)

SNAPSHOT = Record(
    "MarketSnapshot",
    _l("一个品种最近若干天的成交汇总"),
    [
        Field("days", Integer(minimum=1), _l("天数"), attr("days")),
        Field("trade_count", Integer(minimum=0), _l("成交笔数"), attr("trade_count")),
        Field("quantity", QUANTITY, _l('成交量；"0.0000"：没有成交'), attr("quantity"), unit=UNIT),
        Field("amount", MONEY, _l("成交金额"), attr("amount"), unit=YUAN),
        price_field("average_price", _l("成交量加权平均价；null：期间没有成交"), "average_price"),
    ],
)

MONTH = Record(
    "MonthlyStatistics",
    _l("一个品种一个自然月的成交汇总"),
    [
        Field("month", Text(), _l("月份，YYYY-MM"), attr("label")),
        Field("trade_count", Integer(minimum=0), _l("成交笔数"), attr("trade_count")),
        Field(
            "quantity", QUANTITY, _l('成交量；"0.0000"：当月没有成交'), attr("quantity"), unit=UNIT
        ),
        Field("amount", MONEY, _l("成交金额"), attr("amount"), unit=YUAN),
        price_field("average_price", _l("成交量加权平均价；null：当月没有成交"), "average_price"),
        price_field("high_price", _l("当月最高成交单价；null：当月没有成交"), "high_price"),
        price_field("low_price", _l("当月最低成交单价；null：当月没有成交"), "low_price"),
        Field(
            "cumulative_trade_count",
            Integer(minimum=0),
            _l("开市以来至当月月底的累计成交笔数"),
            attr("cumulative", "trades"),
        ),
        Field(
            "cumulative_quantity",
            QUANTITY,
            _l("开市以来至当月月底的累计成交量"),
            attr("cumulative", "volume"),
            unit=UNIT,
        ),
        Field(
            "cumulative_amount",
            MONEY,
            _l("开市以来至当月月底的累计成交金额"),
            attr("cumulative", "amount"),
            unit=YUAN,
        ),
    ],
)

CUMULATIVE = Record(
    "CumulativeStatistics",
    _l("一个品种开市以来至统计截止日期的累计成交"),
    [
        Field("trade_count", Integer(minimum=0), _l("成交笔数"), attr("trades")),
        Field("quantity", QUANTITY, _l('成交量；"0.0000"：没有成交'), attr("volume"), unit=UNIT),
        Field("amount", MONEY, _l("成交金额"), attr("amount"), unit=YUAN),
        price_field("average_price", _l("成交量加权平均价；null：没有成交"), "average_price"),
        price_field("high_price", _l("最高成交单价；null：没有成交"), "high"),
        price_field("low_price", _l("最低成交单价；null：没有成交"), "low"),
    ],
)

VARIETY_STATISTICS = Record(
    "VarietyStatistics",
    _l("一个品种的市场统计"),
    [
        Field("variety", VARIETY, _l("交易品种代码"), lambda s: s["variety"].code),
        unit_field(lambda s: s["variety"].code),
        Field("recent", Nested(SNAPSHOT), _l("最近 30 天"), attr("recent")),
        Field("monthly", ListOf(Nested(MONTH)), _l("逐月汇总，早的在前"), attr("monthly")),
        Field(
            "cumulative",
            Nested(CUMULATIVE),
            _l("开市以来至统计截止日期的累计"),
            attr("cumulative"),
        ),
    ],
)

STATISTICS = Record(
    "MarketStatistics",
    _l("各品种逐月成交统计"),
    [
        Field("since", Day(), _l("统计起始日期"), attr("since")),
        Field("until", Day(), _l("统计截止日期"), attr("until")),
        Field(
            "category",
            CATEGORY,
            _l("所统计的交易类别；null：全部类别"),
            attr("category"),
            nullable=True,
        ),
        Field(
            "division",
            DIVISION,
            _l("所统计的地区（买方或卖方所在地）；null：全省"),
            attr("division"),
            nullable=True,
        ),
        Field(
            "varieties", ListOf(Nested(VARIETY_STATISTICS)), _l("各品种的统计"), attr("varieties")
        ),
    ],
)

SEARCH_HIT = Record(
    "SearchHit",
    _l("一条搜索结果"),
    [
        Field(
            "kind",
            Code(("listing", "trade", "compliance", "enterprise", "announcement")),
            _l("记录类型"),
            attr("kind"),
        ),
        Field(
            "record",
            Text(),
            _l("记录编号（挂牌编号、成交编号、信用代码或公告编号）"),
            attr("record"),
        ),
        Field("title", Text(), _l("标题（纯文本）"), attr("plain_title")),
        Field("date", Day(), _l("日期；null：没有日期"), attr("day"), nullable=True),
        Field(
            "division",
            DIVISION,
            _l("地区代码；null：未注明"),
            lambda h: h.division or None,
            nullable=True,
        ),
        Field(
            "variety",
            VARIETY,
            _l("品种代码；null：未注明"),
            lambda h: h.variety or None,
            nullable=True,
        ),
        Field("url", Text("uri"), _l("记录的网页；null：无"), attr("url"), nullable=True),
    ],
)


REFERENCE_ITEM = Record(
    "ReferenceItem",
    _l("一个代码及其中英文名称"),
    [
        Field("code", Text(), _l("代码"), attr("code")),
        Field("name", Text(), _l("中文名称"), attr("name")),
        Field("name_en", Text(), _l("英文名称"), attr("name_en")),
    ],
)
VARIETY_ITEM = REFERENCE_ITEM.extend(
    "Variety",
    _l("交易品种及其计量单位"),
    Field("unit", Text(), _l("单位（中文）"), attr("unit")),
    Field("unit_en", Text(), _l("单位代码：tce 或 t"), attr("unit_en")),
)
REFERENCE = Record(
    "Reference",
    _l("代码表：地区（GB/T 2260）、行业、交易品种、交易类别"),
    [
        Field("divisions", ListOf(Nested(REFERENCE_ITEM)), _l("地区"), attr("divisions")),
        Field("industries", ListOf(Nested(REFERENCE_ITEM)), _l("行业"), attr("industries")),
        Field("varieties", ListOf(Nested(VARIETY_ITEM)), _l("交易品种"), attr("varieties")),
        Field("categories", ListOf(Nested(REFERENCE_ITEM)), _l("交易类别"), attr("categories")),
    ],
)
