"""Display labels for stored codes. Lazy, so each request shows them in its own language."""

from portal.i18n import lazy_gettext as _l

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
# A ledger movement on a unit's public profile, by entry kind.
MOVEMENT_KIND = {
    "allocate": _l("初始分配"),
    "issue": _l("核定发放"),
    "transfer_in": _l("买入"),
    "transfer_out": _l("卖出"),
    "take_back": _l("无偿收回"),
    "surrender": _l("履约注销"),
    "cancel": _l("注销"),
    "correction": _l("更正"),
    "opening": _l("期初结转"),
}
