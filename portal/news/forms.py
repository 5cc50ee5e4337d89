"""The announcement list's filters: a GET form, so a filtered list is a link that can be shared."""

from __future__ import annotations

from wtforms import BooleanField, DateField, SearchField
from wtforms.validators import Length, Optional, ValidationError

from portal.forms import FlaskForm, SelectField
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.i18n import localized
from portal.news.models import ANNOUNCEMENT_CATEGORIES
from portal.reference.services import divisions

# Display labels of the four categories; lazy, so each request shows its own language.
CATEGORY_LABELS = {
    "notice": _l("通知公告"),
    "policy": _l("政策文件"),
    "news": _l("新闻动态"),
    "publicity": _l("公示公告"),
}
assert set(CATEGORY_LABELS) == set(ANNOUNCEMENT_CATEGORIES)

DATE_FORMAT = _l("日期格式应为“年-月-日”，例如 2024-03-01。")


class AnnouncementFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = SearchField(
        _l("关键词"),
        validators=[Optional(), Length(max=100, message=_l("关键词最多 100 个字。"))],
        description=_l("标题、摘要或正文中含有这些词（用空格分开）的公告。"),
    )
    category = SelectField(
        _l("栏目"),
        default="",
        # a value of spaces is not “no filter”: it is an unknown choice (400), not a KeyError later
        validators=[Optional(strip_whitespace=False)],
        invalid_choice_message=_l("没有这个栏目，请选择通知公告、政策文件、新闻动态或公示公告。"),
    )
    division = SelectField(
        _l("地区"),
        default="",
        # a value of spaces is not “no filter”: it is an unknown choice (400), not a KeyError later
        validators=[Optional(strip_whitespace=False)],
        invalid_choice_message=_l("没有这个地区，请从列表中选择河南省的省辖市或济源示范区。"),
    )
    date_from = DateField(
        _l("发布日期自"), name="from", validators=[Optional()], invalid_value_message=DATE_FORMAT
    )
    date_to = DateField(
        _l("发布日期至"), name="to", validators=[Optional()], invalid_value_message=DATE_FORMAT
    )
    open_only = BooleanField(_l("只看公示中的公告"), name="open")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.category.choices = [("", _("全部栏目"))] + [
            (code, str(label)) for code, label in CATEGORY_LABELS.items()
        ]
        self.division.choices = [("", _("全部地区"))] + [
            (division.code, localized(division)) for division in divisions()
        ]

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_("结束日期不能早于开始日期，请调整日期范围。"))

    @property
    def is_filtered(self) -> bool:
        """True when any filter narrows the list (the empty state then offers to clear them)."""
        return any(
            [
                self.q.data and self.q.data.strip(),
                self.category.data,
                self.division.data,
                self.date_from.data,
                self.date_to.data,
                self.open_only.data,
            ]
        )
