"""The announcements as a public dataset (the bulk archive and the data dictionary)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app

from portal.exports import (
    Column,
    Dataset,
    attr_column,
    labelled_columns,
    page_column,
    reference_pair,
)
from portal.i18n import lazy_gettext as _l
from portal.news.forms import CATEGORY_LABELS

EDITORS = _l("本平台编辑发布（省级节能主管部门及宣传部门）")
BEIJING = _l("北京时间")


def local_time(value: datetime | None) -> datetime | None:
    """A stored (naive UTC) time as Asia/Shanghai wall-clock time, without a zone: spreadsheets
    hold no time zones, so the header names it."""
    if value is None:
        return None
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return value.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None, microsecond=0)


def _beijing_time(key, header, value, description=None):
    return Column(
        key,
        header,
        lambda r, n: local_time(value(r)),
        kind="datetime",
        unit=BEIJING,
        description=description,
    )


ANNOUNCEMENTS = Dataset(
    name="announcements",
    title=_l("通知公告"),
    description=_l(
        "已发布的通知公告、政策文件、新闻动态和公示公告：标题、栏目、地区、时间和链接。"
    ),
    source=EDITORS,
    order=_l("按发布时间从新到旧"),
    keywords=("用能权", "通知公告", "公示"),
    columns=(
        attr_column("id", _l("公告编号"), kind="integer"),
        attr_column("title", _l("标题")),
        *labelled_columns(
            "category",
            _l("栏目"),
            _l("栏目代码"),
            CATEGORY_LABELS,
            _l("通知公告、政策文件、新闻动态或公示公告"),
        ),
        *reference_pair(
            "division",
            _l("地区"),
            _l("地区代码"),
            lambda r: r.division_code,
            "division",
            _l("公告涉及的省辖市；全省性的公告为空"),
            _l("六位行政区划代码"),
        ),
        Column("source", _l("来源"), lambda r, n: r.source or None),
        Column("summary", _l("摘要"), lambda r, n: r.summary or None),
        _beijing_time("published_at", _l("发布时间（北京时间）"), lambda r: r.published_at),
        _beijing_time(
            "updated_at",
            _l("更正时间（北京时间）"),
            lambda r: r.updated_at if r.updated_at != r.published_at else None,
            _l("发布后更正的时间；未更正为空"),
        ),
        _beijing_time(
            "publicity_ends_at",
            _l("公示截止（北京时间）"),
            lambda r: r.publicity_ends_at,
            _l("公示公告的异议截止时间；其他栏目为空"),
        ),
        page_column("news.detail", "id"),
    ),
)
