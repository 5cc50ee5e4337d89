from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.forms import FlaskForm, PrefixedIds
from portal.i18n import lazy_gettext as _l

PUBLISH_MODES = [
    SelectChoice("draft", _l("保存为草稿")),
    SelectChoice("now", _l("立即发布")),
    SelectChoice("scheduled", _l("定时发布")),
]


class AnnouncementForm(FlaskForm):
    title = StringField(
        _l("标题"), validators=[DataRequired(message=_l("请填写标题。")), Length(max=200)]
    )
    category = SelectField(_l("栏目"), validators=[DataRequired()])
    summary = TextAreaField(_l("摘要"), validators=[Optional(), Length(max=500)])
    body_md = TextAreaField(
        _l("正文（Markdown）"),
        description=_l("支持标题、列表、表格和链接；右侧（或下方）即时预览。"),
        validators=[DataRequired(message=_l("请填写正文。"))],
    )
    source = StringField(_l("来源"), validators=[Optional(), Length(max=120)])
    division_code = SelectField(_l("所属地区"), validators=[Optional()])
    is_featured = BooleanField(_l("在首页推荐"))
    publish_mode = RadioField(
        _l("发布方式"),
        choices=PUBLISH_MODES,
        default="draft",
        validators=[InputRequired(message=_l("请选择发布方式。"))],
    )
    publish_at = DateTimeLocalField(
        _l("发布时间（北京时间）"),
        format="%Y-%m-%dT%H:%M",
        description=_l("选择“定时发布”时必填，须晚于现在。"),
        validators=[Optional()],
    )
    attachment = FileField(_l("附件（PDF、图片或 XLSX）"))
    reason = TextAreaField(
        _l("更正说明"),
        description=_l("修改已发布的公告时必填，会与修改记录一起公开。"),
        validators=[Optional(), Length(max=500)],
    )


class WithdrawForm(PrefixedIds, FlaskForm):
    # Beside the announcement's own form, whose `reason` it would otherwise repeat.
    id_prefix = "withdraw-"

    reason = TextAreaField(
        _l("撤回原因"), validators=[DataRequired(message=_l("请填写撤回原因。")), Length(max=500)]
    )
