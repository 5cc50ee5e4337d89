"""The enterprise's side of the 2-year start rule: report that a project started, with evidence."""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from portal.accounts.access import enterprise_required
from portal.extensions import db
from portal.filings import bp, construction
from portal.filings.construction_forms import StartReportForm
from portal.i18n import gettext as _
from portal.uploads import UploadRefused, check_document, send_stored
from portal.web import current_date, enterprise_crumbs, redirect_after_post, render


def report_error_message(error: construction.StartReportError) -> tuple[str, str]:
    """(field, message) for a refused report or decision: the message sits next to its field."""
    messages = {
        "taken_back": ("started_on", _("指标已被无偿收回，不能再报告开工。")),
        "started": ("started_on", _("开工日期已经登记，无须再报告。")),
        "pending": ("started_on", _("已有一份开工报告在等待审核，请等待市级节能主管部门的结论。")),
        "future": ("started_on", _("开工日期不能晚于今天。")),
        "after_deadline": (
            "started_on",
            _("开工日期晚于开工期限：逾期未开工的指标由政府无偿收回。"),
        ),
        "before_issue": ("started_on", _("开工日期不能早于取得指标的日期。")),
        "role": ("decision", _("只有该单位所在地市的节能主管部门可以审核开工报告。")),
        "decided": ("decision", _("这份开工报告已经审核过了。")),
        "remark": ("remark", _("不予确认时请写明理由。")),
    }
    return messages.get(error.code, ("started_on", _("操作被拒绝。")))


def _page(obligation, form, status=200):
    views = construction.obligations_of(obligation.enterprise_id)
    view = next(v for v in views if v.obligation.id == obligation.id)
    return render(
        "filings/construction_report.html",
        view=view,
        form=form,
        today=current_date(),
        breadcrumbs=enterprise_crumbs((_("报告开工"), None)),
    ), status


@bp.route("/construction/<int:obligation_id>/report", methods=["GET", "POST"])
@enterprise_required
def construction_report(obligation_id: int):
    """Report the project's start with evidence; the city of the unit's division decides."""
    obligation = construction.get_own_obligation_or_404(obligation_id, current_user.enterprise_id)
    form = StartReportForm()
    if request.method == "GET":
        return _page(obligation, form)
    valid = form.validate_on_submit()
    if form.csrf_token.errors:
        abort(400)
    # The file is checked even when another field is wrong, so every error shows at once.
    evidence = None
    try:
        evidence = check_document(request.files.get("evidence"))
    except UploadRefused as refused:
        form.evidence.errors = [refused.message]
    except RequestEntityTooLarge:
        form.evidence.errors = [_("文件太大，未能上传。请压缩或拆分后重试。")]
    if not valid or evidence is None:
        return _page(obligation, form, 422)
    try:
        construction.submit_start_report(
            obligation,
            form.started_on.data,
            evidence,
            form.note.data or "",
            actor=current_user,
            today=current_date(),
        )
    except construction.StartReportError as error:
        db.session.rollback()
        name, message = report_error_message(error)
        form[name].errors = [message]
        return _page(obligation, form, 422)
    db.session.commit()
    flash(_("开工报告已提交，等待所在地市节能主管部门审核。"), "success")
    return redirect_after_post(url_for("enterprise.dashboard") + "#h-construction")


@bp.get("/construction/reports/<int:report_id>/evidence")
@enterprise_required
def construction_evidence(report_id: int):
    """The enterprise's own evidence file."""
    report = construction.get_own_report_or_404(report_id, current_user.enterprise_id)
    return send_stored(report, download=bool(request.args.get("download")))
