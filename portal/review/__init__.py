"""The back office's home and the review of filings: the queues, each filing, and its decision."""

from flask import Blueprint

from portal.access import back_office_menu

bp = Blueprint("review", __name__, url_prefix="/admin")
# The back-office menu (admin/_nav.html, included by every back-office page) is built from
# portal.access.BACK_OFFICE_MENU.
bp.add_app_template_global(back_office_menu)

# The publicity hooks (what happens when a filing's or a list's 公示 ends) register on import.
from portal.review import construction_views, services, views  # noqa: E402,F401


def init_app(app):
    """Nothing to set up: the views and the publicity hooks register when the package is imported."""
