"""Filters of the API's own lists (公示 notices, statistics, search): GET forms like the pages'."""

from __future__ import annotations

from wtforms import BooleanField, StringField
from wtforms.validators import Length, Optional

from portal.disclosure.forms import ListingFilterForm, TradeFilterForm
from portal.forms import IntegerField
from portal.i18n import lazy_gettext as _l
from portal.lists import (
    ChoiceFilterForm,
    label_choices,
    optional_choice,
)
from portal.news.forms import AnnouncementFilterForm

NOTICE_STATUS = {
    "open": _l("公示中"),
    "final": _l("期满生效"),
    "reopened": _l("异议成立，重新办理"),
    "withdrawn": _l("已撤回"),
}
NOTICE_SUBJECT = {
    "filing": _l("申报事项（确权、关停、自愿参与等）"),
    "compliance_period": _l("履约名单"),
    "punishment": _l("处罚"),
    "construction_take_back": _l("逾期未开工指标收回"),
    "other": _l("其他"),
}
SEARCH_KINDS = {
    "listing": _l("挂牌"),
    "trade": _l("成交"),
    "compliance": _l("履约"),
    "enterprise": _l("参与单位"),
    "announcement": _l("公告"),
}

MAX_MONTHS = 120


def whole(text: str) -> str:
    """ "12.0" as "12": JSON counts a number with no fraction as an integer, and so does the API."""
    head, dot, tail = text.strip().partition(".")
    return head if dot and head and tail and set(tail) == {"0"} else text


class WholeNumberField(IntegerField):
    def process_formdata(self, valuelist):
        super().process_formdata([whole(v) for v in valuelist])


class PublicityNoticeFilterForm(ChoiceFilterForm):
    status = optional_choice(_l("公示状态"))
    subject = optional_choice(_l("公示对象类型"))
    division = optional_choice(_l("地区"))

    CHOICES = {
        "status": label_choices(NOTICE_STATUS),
        "subject": label_choices(NOTICE_SUBJECT),
    }


class StatisticsFilterForm(ChoiceFilterForm):
    variety = optional_choice(_l("交易品种"))
    months = WholeNumberField(
        _l("统计月数（含本月，1–120，默认 24）"),
        validators=[Optional()],
        minimum=1,
        maximum=MAX_MONTHS,
    )

    category = optional_choice(_l("交易类别"))
    division = optional_choice(_l("地区（买方或卖方；一笔成交计入双方所在的每个地区各一次）"))


class SearchFilterForm(ChoiceFilterForm):
    q = StringField(_l("搜索词（与全站搜索的写法相同）"), validators=[Length(max=200)])
    type = optional_choice(_l("记录类型"))
    division = optional_choice(_l("地区"))
    variety = optional_choice(_l("交易品种"))
    year = WholeNumberField(_l("年份"), validators=[Optional()], minimum=2000, maximum=2100)
    sort = optional_choice(_l("排序：relevance 相关度（默认），date 日期，新的在前"))

    CHOICES = {
        "type": label_choices(SEARCH_KINDS),
        "sort": lambda: [("", _l("相关度")), ("relevance", _l("相关度")), ("date", _l("日期"))],
    }


class EmptyWhenRangeInverted:
    """In the API a date range that ends before it starts selects nothing: 200 and no rows. The
    page says so beside the field (400); a program gets the answer its schema promised, since no
    schema can say that one parameter must not be earlier than another."""

    def validate_date_to(self, field):
        return None


class ApiListingFilterForm(EmptyWhenRangeInverted, ListingFilterForm):
    pass


class ApiTradeFilterForm(EmptyWhenRangeInverted, TradeFilterForm):
    pass


class StrictBooleanField(BooleanField):
    """true or false (and the page's checkbox value y); anything else is a 400, not a guess."""

    TRUE, FALSE = ("true", "y"), ("false", "")

    def process_formdata(self, valuelist):
        if not valuelist:
            self.data = False
            return
        value = valuelist[0].strip().lower()
        if value not in self.TRUE + self.FALSE:
            self.data = False
            raise ValueError(_l("应为 true 或 false。"))
        self.data = value in self.TRUE


class ApiAnnouncementFilterForm(EmptyWhenRangeInverted, AnnouncementFilterForm):
    open_only = StrictBooleanField(_l("只看公示中的公告"), name="open")
