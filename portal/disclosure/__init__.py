"""Disclosure: the public listing, trade, statistics and enterprise pages, and the back office's
listing and trade entry."""

from flask import Blueprint

bp = Blueprint("disclosure", __name__)
# Listing and trade entry in the back office (/admin/market).
admin_bp = Blueprint("disclosure_admin", __name__, url_prefix="/admin")

from portal.disclosure import admin, views  # noqa: E402,F401
