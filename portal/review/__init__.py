"""The back office: review queues, compliance administration, listings and trades, users."""

from flask import Blueprint

bp = Blueprint("review", __name__, url_prefix="/admin")

from portal.review import market_views, user_views, views  # noqa: E402,F401


def init_app(app):
    # The publicity hooks (what happens when a filing's or a list's 公示 ends) register on import.
    from portal.review import compliance, services  # noqa: F401
