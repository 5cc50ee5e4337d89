"""有偿使用: reference prices (public at /prices), the payment notices of 两高 purchases and their
receipts, and the city's reserve (收储) of indicators freed by closures and retrofits."""

from flask import Blueprint

bp = Blueprint("prices", __name__)
admin_bp = Blueprint("prices_admin", __name__, url_prefix="/admin")

from portal.prices import services, todo, views  # noqa: E402,F401


def init_app(app):
    """The template globals the filing page uses (settings: PAYMENT_DUE_DAYS, PAYMENT_PAY_TO and
    RESERVE_DECISION_DAYS in portal/config.py).

    The filing page (filings, a layer below) shows a purchase's payment notices and a claim's
    reserve offers through these globals: templates are not imports, so the layers hold.
    """
    app.add_template_global(services.notices_of, "payment_notices_of")
    app.add_template_global(services.offers_of, "reserve_offers_of")
    app.add_template_global(services.status_label, "payment_status_label")
    app.add_template_global(services.pay_to_of, "payment_pay_to")
    app.add_template_global(services.offer_status_label, "offer_status_label")
