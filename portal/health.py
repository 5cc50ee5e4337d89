"""Health (/healthz) and readiness (/readyz) for the process manager and the load balancer.

- /healthz: the process answers. No database, so a slow database does not get workers restarted.
- /readyz: this server can serve: the database answers `SELECT 1` and the search index opens.
  503 with the failing part named otherwise, so the balancer takes the server out of rotation.
Neither sets a cookie or is rate limited; neither says more than "ok" or "unavailable".
"""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from sqlalchemy import text

from portal.extensions import db, limiter
from portal.search import services as search

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
@limiter.exempt
def healthz():
    return _no_store(jsonify(status="ok"))


@bp.get("/readyz")
@limiter.exempt
def readyz():
    parts = {}
    try:
        db.session.execute(text("SELECT 1"))
        parts["database"] = "ok"
    except Exception:  # noqa: BLE001 — any failure means not ready; the log has the reason
        log.exception("readiness: database")
        db.session.rollback()
        parts["database"] = "unavailable"
    try:
        search.status()
        parts["search"] = "ok"
    except Exception:  # noqa: BLE001
        log.exception("readiness: search index")
        parts["search"] = "unavailable"
    ready = all(value == "ok" for value in parts.values())
    response = jsonify(status="ok" if ready else "unavailable", **parts)
    response.status_code = 200 if ready else 503
    return _no_store(response)
