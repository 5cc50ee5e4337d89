"""Open data: the public lists as JSON, with the same filters as the pages (read-only, CORS open)."""

from flask import Blueprint

bp = Blueprint("opendata", __name__, url_prefix="/api/v1")

from portal.opendata import views  # noqa: E402,F401
