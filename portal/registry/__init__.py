"""The registry (注册登记): the indicator ledger and each holder's balances."""

from flask import Blueprint

bp = Blueprint("registry", __name__, url_prefix="/admin/registry")

from portal.registry import views  # noqa: E402,F401
