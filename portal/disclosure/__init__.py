"""Public disclosure: home snapshot, listings, trades, compliance lists, enterprise profiles."""

from flask import Blueprint

bp = Blueprint("disclosure", __name__)

from portal.disclosure import views  # noqa: E402,F401
