"""The energy-efficiency benchmark table (能效标杆值) behind 两高 purchases: the rows and their
history (models, services), the public page (/benchmarks) and its upkeep by the province
(/admin/benchmarks)."""

from flask import Blueprint

from portal.benchmarks.forms import BASIS_LABELS, VALUE_UNIT_LABELS

bp = Blueprint("benchmarks", __name__)
admin_bp = Blueprint("benchmarks_admin", __name__, url_prefix="/admin")


def init_app(app):
    app.jinja_env.globals.update(
        basis_label=lambda code: BASIS_LABELS.get(code, code),
        value_unit_label=lambda code: VALUE_UNIT_LABELS.get(code, code),
    )


# The views attach to the blueprints.
from portal.benchmarks import admin, views  # noqa: E402,F401
