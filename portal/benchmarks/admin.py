"""The benchmark table in the back office (/admin/benchmarks): the table with its history and who
recorded each value; the province adds a value (a new row that supersedes the product's)."""

from __future__ import annotations

from decimal import Decimal

from flask import flash, request, url_for
from flask_login import current_user

from portal.access import BENCHMARK_KEEPERS, READERS, role_required
from portal.benchmarks import admin_bp as bp
from portal.benchmarks import services
from portal.benchmarks.forms import BenchmarkForm
from portal.extensions import db
from portal.i18n import gettext as _
from portal.i18n import localized
from portal.reference.services import industries
from portal.web import redirect_after_post, render


def _crumbs(*tail):
    crumbs = [(_("后台"), url_for("review.index")), (_("能效标杆值"), url_for(".index"))]
    crumbs.extend(tail)
    crumbs[-1] = (crumbs[-1][0], None)
    return crumbs


@bp.get("/benchmarks")
@role_required(READERS)
def index():
    return render(
        "benchmarks/admin_index.html",
        groups=services.grouped_by_industry(services.in_force()),
        history=services.history(),
        today=services.today(),
        breadcrumbs=_crumbs(),
    )


def _plain(value: Decimal) -> str:
    """A stored decimal as a person types it (100, not 100.0000)."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _form():
    return BenchmarkForm(
        industries=[(industry.code, localized(industry)) for industry in industries()]
    )


@bp.route("/benchmarks/new", methods=["GET", "POST"])
@role_required(BENCHMARK_KEEPERS)
def new():
    """Add a value: prefilled from the product's newest row when `?product=` names one."""
    if request.method == "POST":
        form = _form()
        if form.validate_on_submit():
            try:
                row = services.add_benchmark(form.values(), current_user, form.reason.data)
            except services.BenchmarkRefused as refused:
                db.session.rollback()
                form[refused.field].errors = [*form[refused.field].errors, refused.message]
            else:
                db.session.commit()
                flash(
                    _(
                        "已记录 %(product)s 的新值，自 %(day)s 起生效。",
                        product=row.product_name,
                        day=row.effective_on.isoformat(),
                    ),
                    "success",
                )
                return redirect_after_post(url_for(".index") + f"#product-{row.product_code}")
        status = 400
    else:
        form = _form()
        latest = services.latest_row(request.args.get("product", "")[:40])
        if latest is not None:
            for name, value in services.values_of(latest).items():
                form[name].data = _plain(value) if isinstance(value, Decimal) else value
        status = 200
    return render(
        "benchmarks/admin_new.html", form=form, breadcrumbs=_crumbs((_("添加新值"), None))
    ), status
