"""Compliance (履约): the periods, each unit's record against its holdings, the published lists
(public pages) and their administration (/admin/compliance)."""

from flask import Blueprint

bp = Blueprint("compliance", __name__)
admin_bp = Blueprint("compliance_admin", __name__, url_prefix="/admin")

# The views attach to the blueprints; services subscribes to the filing and publicity signals,
# todo to the dashboard's.
from portal.compliance import admin, services, todo, views  # noqa: E402,F401
