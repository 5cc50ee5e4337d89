"""The public objection form, the public outcome page, and the back-office answers."""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.access import (
    NOTICE_WITHDRAWERS,
    OBJECTION_HANDLERS,
    OBJECTION_READERS,
    role_required,
)
from portal.extensions import db, limiter
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.news.models import Announcement
from portal.news.services import get_public_announcement_or_404
from portal.publicity import bp, services
from portal.publicity.forms import AnswerForm, ObjectionForm, WithdrawNoticeForm
from portal.publicity.models import Objection, PublicityNotice
from portal.web import page_of, redirect_after_post, render


def _announcement_crumbs(announcement):
    return [
        (_("公示公告"), url_for("news.index", category="publicity")),
        (announcement.title, url_for("news.detail", id=announcement.id)),
    ]


@bp.route("/publicity/objections/new/<int:announcement_id>", methods=["GET", "POST"])
@limiter.limit(
    "5 per hour", methods=["POST"], error_message=lambda: _("提交过于频繁，请一小时后再试。")
)
def new_objection(announcement_id: int):
    announcement = get_public_announcement_or_404(announcement_id)
    form = ObjectionForm()
    open_now = services.is_open(announcement)
    withdrawn = services.withdrawal_of(announcement)
    if request.method == "POST":
        if withdrawn is not None:
            form.form_errors.append(_("本公示已撤回，不能再提出异议。"))
        elif not open_now:
            form.form_errors.append(_("公示期已结束或尚未开始，不能再提出异议。"))
        elif form.validate_on_submit():
            services.file_objection(
                announcement, form.real_name.data, form.contact.data, form.reason.data
            )
            db.session.commit()
            return redirect_after_post(
                url_for(".objection_received", announcement_id=announcement.id)
            )
    return render(
        "publicity/new_objection.html",
        announcement=announcement,
        form=form,
        open_now=open_now,
        withdrawn=withdrawn,
        breadcrumbs=_announcement_crumbs(announcement) + [(_("提出异议"), None)],
        status_code=(400 if open_now else 409) if request.method == "POST" else 200,
    )


@bp.get("/publicity/objections/received/<int:announcement_id>")
def objection_received(announcement_id: int):
    announcement = get_public_announcement_or_404(announcement_id)
    crumbs = _announcement_crumbs(announcement) + [(_("异议已收到"), None)]
    return render("publicity/received.html", announcement=announcement, breadcrumbs=crumbs)


@bp.get("/publicity/objections/outcomes/<int:announcement_id>")
def outcomes(announcement_id: int):
    """What the public may know: how many objections, and the answers, without personal data."""
    announcement = get_public_announcement_or_404(announcement_id)
    return render(
        "publicity/outcomes.html",
        announcement=announcement,
        counts=services.objection_outcomes(announcement.id),
        answered=services.answered_objections(announcement.id),
        open_now=services.is_open(announcement),
        withdrawn=services.withdrawal_of(announcement),
        breadcrumbs=_announcement_crumbs(announcement) + [(_("异议处理情况"), None)],
    )


# --- back office ----------------------------------------------------------------------------------


def get_objection_or_404(objection_id: int, for_user) -> Objection:
    objection = db.get_or_404(Objection, objection_id)
    division = objection.announcement.division_code
    if for_user.role == "city" and division != for_user.division_code:
        abort(403, description=_("这条异议不在您的管辖范围内。"))
    return objection


@bp.get("/admin/objections")
@role_required(OBJECTION_READERS)
def objections():
    status = request.args.get("status") or "pending"
    if status not in ("pending", "upheld", "dismissed", "all"):
        abort(400, description=_("状态参数无效。"))
    stmt = select(Objection).join(Announcement)
    if status != "all":
        stmt = stmt.where(Objection.status == status)
    if current_user.role == "city":
        stmt = stmt.where(Announcement.division_code == current_user.division_code)
    page = page_of(stmt, Objection.created_at)
    return render(
        "publicity/objections.html",
        "publicity/_objection_rows.html",
        page=page,
        status=status,
        forms={o.id: AnswerForm(prefix=f"o{o.id}") for o in page.items},
        can_answer=current_user.role in OBJECTION_HANDLERS,
        shows_objector={o.id: services.can_see_objector(current_user, o) for o in page.items},
        breadcrumbs=[(_("公示异议"), None)],
    )


@bp.post("/admin/objections/<int:objection_id>/answer")
@role_required(OBJECTION_HANDLERS)
def answer(objection_id: int):
    objection = get_objection_or_404(objection_id, for_user=current_user)
    form = AnswerForm(prefix=f"o{objection.id}")
    if not form.validate_on_submit():
        flash(_("未能答复：请选择处理结果并填写答复意见。"), "error")
        return redirect_after_post(url_for(".objections"))
    if objection.status != "pending":
        flash(_("这条异议已经答复过了。"), "error")
        return redirect_after_post(url_for(".objections"))
    services.answer_objection(objection, form.outcome.data, form.answer.data, actor=current_user)
    db.session.commit()
    flash(_("已答复。"), "success")
    return redirect_after_post(url_for(".objections"))


# --- withdrawing a 公示: the province's decision --------------------------------------------------

WITHDRAW_ERRORS = {
    "status": _l("这条公示已经办结或已撤回，不能再撤回。"),
    "reason": _l("请填写撤回理由。"),
    "role": _l("只有省级节能主管部门可以撤回公示。"),
}


def get_notice_or_404(notice_id: int) -> PublicityNotice:
    return db.get_or_404(PublicityNotice, notice_id, description=_("这条公示不存在。"))


@bp.route("/admin/publicity/<int:notice_id>/withdraw", methods=["GET", "POST"])
@role_required(NOTICE_WITHDRAWERS)
def withdraw_notice(notice_id: int):
    """Withdraw a 公示 with a reason: the objection window closes and the decision goes back."""
    notice = get_notice_or_404(notice_id)
    form = WithdrawNoticeForm()
    status = 200
    if request.method == "POST":
        status = 400
        if notice.status not in services.WITHDRAWABLE:
            form.form_errors.append(str(WITHDRAW_ERRORS["status"]))
            status = 409
        elif form.validate_on_submit():
            services.withdraw_notice(notice, form.reason.data, actor=current_user)
            db.session.commit()
            flash(_("公示已撤回。"), "success")
            return redirect_after_post(url_for("news.detail", id=notice.announcement_id))
    return render(
        "publicity/withdraw.html",
        notice=notice,
        announcement=notice.announcement,
        form=form,
        withdrawable=notice.status in services.WITHDRAWABLE,
        breadcrumbs=[(_("公示异议"), url_for(".objections")), (_("撤回公示"), None)],
        status_code=status,
    )
