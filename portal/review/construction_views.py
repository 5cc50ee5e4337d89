"""The city's side of the 2-year start rule: the start reports of its units, and its decision."""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_login import current_user

from portal.access import LEDGER, role_required
from portal.extensions import db
from portal.filings import construction
from portal.filings.construction_forms import StartDecisionForm
from portal.filings.construction_views import report_error_message
from portal.i18n import gettext as _
from portal.review import bp
from portal.uploads import send_stored
from portal.web import redirect_after_post, render


def _crumbs(last=None):
    crumbs = [(_("开工报告"), url_for("review.construction_reports") if last else None)]
    if last:
        crumbs.append((last, None))
    return crumbs


@bp.get("/construction-reports")
@role_required(LEDGER)
def construction_reports():
    """Start reports waiting for a decision: a city sees its own division's units."""
    return render(
        "review/construction_reports.html",
        reports=construction.pending_reports(current_user),
        breadcrumbs=_crumbs(),
    )


def _detail(report, form=None, status=200):
    decides = construction.can_decide(current_user, report) and report.status == "pending"
    if decides and form is None:
        form = StartDecisionForm(formdata=None)
    return render(
        "review/construction_report.html",
        report=report,
        obligation=report.obligation,
        form=form if decides else None,
        breadcrumbs=_crumbs(_("开工报告 %(id)s", id=report.id)),
    ), status


@bp.get("/construction-reports/<int:report_id>")
@role_required(LEDGER)
def construction_report(report_id: int):
    return _detail(construction.get_report_or_404(report_id, current_user))


@bp.post("/construction-reports/<int:report_id>/decide")
@role_required("city")
def decide_construction_report(report_id: int):
    """Confirm (the start is recorded) or refuse with a remark; only the unit's city."""
    report = construction.get_report_or_404(report_id, current_user)
    if not construction.can_decide(current_user, report):
        abort(403, description=_("只有该单位所在地市的节能主管部门可以审核开工报告。"))
    form = StartDecisionForm()
    if form.validate_on_submit():
        try:
            construction.decide_start_report(
                report,
                confirm=form.decision.data == "confirm",
                remark=form.remark.data or "",
                actor=current_user,
            )
        except construction.StartReportError as error:
            db.session.rollback()
            name, message = report_error_message(error)
            form[name if name in form else "decision"].errors = [message]
        else:
            db.session.commit()
            flash(
                _("已确认开工报告 %(id)s，开工日期已登记。", id=report.id)
                if report.status == "confirmed"
                else _("已退回开工报告 %(id)s（不予确认）。", id=report.id),
                "success",
            )
            return redirect_after_post(url_for("review.construction_reports"))
    if form.csrf_token.errors:
        abort(400)
    return _detail(report, form, 422)


@bp.get("/construction-reports/<int:report_id>/evidence")
@role_required(LEDGER)
def construction_report_evidence(report_id: int):
    report = construction.get_report_or_404(report_id, current_user)
    return send_stored(report, download=bool(request.args.get("download")), framed=True)
