"""The public page of the benchmark table: the values in force and every earlier one, and the
same rows as CSV and XLSX."""

from __future__ import annotations

from portal.benchmarks import bp, exports, services
from portal.exports import about_rows, csv_response, xlsx_response
from portal.extensions import db
from portal.i18n import gettext as _
from portal.urls import public_url
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


@bp.get("/benchmarks/export.<any(csv, xlsx):file_format>")
def export(file_format: str):
    """Every row of the table, in force or not (a few hundred at most, read at once)."""
    dataset = exports.BENCHMARKS
    rows = list(db.session.scalars(exports.rows_stmt()))
    filename = f"{dataset.name}.{file_format}"
    if file_format == "csv":
        return csv_response(dataset.columns, rows, filename)
    about = about_rows(dataset, [], public_url("benchmarks.index"))
    return xlsx_response(dataset.columns, rows, filename, about, str(dataset.title))
