"""Back-office user administration pages (province only)."""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from portal.access import BACK_OFFICE, ROLE_LABELS, USER_ADMINS, role_required
from portal.accounts import admin_bp as bp
from portal.accounts import staff as users
from portal.accounts.forms import BackOfficeUserForm
from portal.accounts.models import AuditFirm, User
from portal.extensions import db
from portal.forms import ConfirmForm
from portal.i18n import gettext as _
from portal.i18n import localized
from portal.reference.services import divisions
from portal.web import redirect_after_post, render


def _form():
    form = BackOfficeUserForm()
    form.role.choices = [
        SelectChoice(role, ROLE_LABELS.get(role, role)) for role in sorted(BACK_OFFICE)
    ]
    form.division_code.choices = [SelectChoice("", _("（不适用）"))] + [
        SelectChoice(d.code, localized(d)) for d in divisions()
    ]
    firms = db.session.scalars(
        select(AuditFirm).where(AuditFirm.is_approved.is_(True)).order_by(AuditFirm.name)
    )
    form.audit_firm_id.choices = [SelectChoice("", _("（不适用）"))] + [
        SelectChoice(str(f.id), f.name) for f in firms
    ]
    return form


def get_back_office_user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or not user.is_back_office:
        abort(404)
    return user


@bp.route("/users", methods=["GET", "POST"], endpoint="users")
@role_required(USER_ADMINS)
def users_page():
    form = _form()
    if form.validate_on_submit():
        try:
            created = users.create_back_office_user(
                form.email.data,
                form.name.data,
                form.role.data,
                division_code=form.division_code.data or None,
                audit_firm_id=int(form.audit_firm_id.data) if form.audit_firm_id.data else None,
                actor=current_user,
            )
        except users.UserAdminError as error:
            messages = {
                "taken": _("这个电子邮箱已经有账号。"),
                "division_required": _("市级审核人员必须选择所属省辖市。"),
                "firm_required": _("第三方审核人员必须选择已批准的审核机构。"),
                "role": _("角色无效。"),
            }
            getattr(form, error.field).errors = [messages.get(error.code, _("无法创建。"))]
        else:
            db.session.commit()
            flash(
                _(
                    "已创建 %(email)s，设置密码的链接已发到该邮箱；首次登录须绑定动态口令。",
                    email=created.email,
                ),
                "success",
            )
            return redirect_after_post(url_for(".users"))
    people = list(
        db.session.scalars(
            select(User).where(User.role.in_(sorted(BACK_OFFICE))).order_by(User.role, User.email)
        )
    )
    return render(
        "accounts/admin_users.html",
        form=form,
        people=people,
        confirm=ConfirmForm(),
        role_labels=ROLE_LABELS,
        breadcrumbs=[(_("后台"), url_for("review.index")), (_("后台用户"), None)],
        status_code=400 if request.method == "POST" else 200,
    )


@bp.post("/users/<int:user_id>/<any(activate, deactivate, reset_totp):operation>")
@role_required(USER_ADMINS)
def user_operation(user_id: int, operation: str):
    person = get_back_office_user_or_404(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        if operation == "reset_totp":
            users.reset_totp(person, actor=current_user)
        else:
            users.set_active(person, operation == "activate", actor=current_user)
    except users.UserAdminError:
        flash(_("不能停用自己的账号。"), "error")
        return redirect_after_post(url_for(".users"))
    db.session.commit()
    flash(_("已更新 %(email)s。", email=person.email), "success")
    return redirect_after_post(url_for(".users"))
