"""The supervisor's read-only search of the audit log."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, request, url_for
from sqlalchemy import func, select

from portal.access import AUDIT_READERS, role_required
from portal.audit import bp
from portal.audit.forms import AuditSearchForm
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.i18n import gettext as _
from portal.web import paginate, parse_int, render


def _utc_start(day) -> datetime:
    """The stored (naive UTC) instant at which a local calendar day begins."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def search_query(filters: dict):
    stmt = select(AuditEvent)
    if filters.get("actor"):
        stmt = stmt.where(AuditEvent.actor_label.contains(filters["actor"].strip().lower()))
    if filters.get("action"):
        stmt = stmt.where(AuditEvent.action.startswith(filters["action"].strip()))
    if filters.get("object_type"):
        stmt = stmt.where(AuditEvent.object_type == filters["object_type"].strip())
    if filters.get("object_id"):
        stmt = stmt.where(AuditEvent.object_id == filters["object_id"].strip())
    if filters.get("date_from"):
        stmt = stmt.where(AuditEvent.created_at >= _utc_start(filters["date_from"]))
    if filters.get("date_to"):
        stmt = stmt.where(
            AuditEvent.created_at < _utc_start(filters["date_to"] + timedelta(days=1))
        )
    count = select(func.count()).select_from(stmt.subquery())
    return stmt.order_by(AuditEvent.id.desc()), count


@bp.get("/")
@role_required(AUDIT_READERS)
def search():
    form = AuditSearchForm(request.args)
    page = None
    status = 200
    if form.validate():
        stmt, count = search_query(form.data)
        page = paginate(db.session, stmt, count, parse_int(request.args.get("page")))
    else:
        status = 400
    return render(
        "audit/search.html",
        "audit/_results.html",
        form=form,
        page=page,
        breadcrumbs=[(_("审计日志"), None)],
        reset_url=url_for(".search"),
        status_code=status,
    )
