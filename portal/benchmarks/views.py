"""The public page of the benchmark table: the values in force and every earlier one."""

from __future__ import annotations

from flask_babel import gettext as _

from portal.benchmarks import bp, services
from portal.web import render


@bp.get("/benchmarks")
def index():
    rows = services.in_force()
    return render(
        "benchmarks/index.html",
        groups=services.grouped_by_industry(rows),
        history=services.history(),
        today=services.today(),
        max_total=services.max_total_tce(),
        breadcrumbs=[(_("能效标杆值"), None)],
    )
