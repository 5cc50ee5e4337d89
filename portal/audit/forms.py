from __future__ import annotations

from wtforms import DateField, StringField
from wtforms.validators import Length, Optional, ValidationError

from portal.forms import FlaskForm
from portal.i18n import lazy_gettext as _l


class AuditSearchForm(FlaskForm):
    """Filters of the audit-log search; a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    actor = StringField(_l("操作人（邮箱）"), validators=[Optional(), Length(max=254)])
    action = StringField(
        _l("操作"),
        description=_l("如 filing、ledger.issue；按前缀匹配"),
        validators=[Optional(), Length(max=60)],
    )
    object_type = StringField(_l("对象类型"), validators=[Optional(), Length(max=40)])
    object_id = StringField(_l("对象编号"), validators=[Optional(), Length(max=64)])
    date_from = DateField(_l("起始日期"), validators=[Optional()], render_kw={"type": "date"})
    date_to = DateField(_l("截止日期"), validators=[Optional()], render_kw={"type": "date"})

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("截止日期不能早于起始日期。"))
