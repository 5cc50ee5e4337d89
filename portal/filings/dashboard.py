"""The enterprise's home (/accounts/): what to do next, open filings, recent decisions, notices and
holdings. It is about filings, so it lives here; accounts, a layer below, keeps the account pages."""

from __future__ import annotations

from flask_login import current_user

from portal.accounts.access import enterprise_required
from portal.accounts.services import notices_for
from portal.accounts.todo import todo_for
from portal.filings import construction, home_bp, services
from portal.i18n import gettext as _
from portal.web import render


@home_bp.get("/")
@enterprise_required
def dashboard():
    enterprise = current_user.enterprise
    return render(
        "filings/dashboard.html",
        enterprise=enterprise,
        todo=todo_for(enterprise.id),
        open_filings=services.open_filings(enterprise.id),
        decisions=services.recent_decisions(enterprise.id),
        notices=notices_for(current_user, limit=10),
        holdings=services.holdings_for(enterprise.id),
        construction=construction.obligations_of(enterprise.id),
        breadcrumbs=[(_("我的企业"), None)],
    )
