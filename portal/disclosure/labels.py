"""Display labels for stored codes. Lazy, so each request shows them in its own language."""

from flask_babel import lazy_gettext as _l

LISTING_STATUS = {
    "open": _l("挂牌中"),
    "traded": _l("已成交"),
    "partial": _l("部分成交"),
    "withdrawn": _l("已撤牌"),
    "expired": _l("已过期"),
}
TRADE_METHOD = {"listing": _l("挂牌"), "agreement": _l("协议"), "auction": _l("竞价")}
SETTLEMENT_STATUS = {"pending": _l("待结算"), "settled": _l("已结算"), "delivered": _l("已交割")}
SELLER_KIND = {"enterprise": _l("企业"), "city": _l("市级主管部门"), "province": _l("省级主管部门")}
