"""Open data: the public records as a read-only JSON API under /api/v1, with its OpenAPI document.

Same filters and query builders as the pages; CORS open for reading; one error shape (RFC 9457
problem documents) for everything under /api; one rate limit per client address for the whole API.
"""

from flask import Blueprint, Flask, current_app
from flask_cors import CORS

from portal import errors
from portal.extensions import csrf, limiter

bp = Blueprint("opendata", __name__, url_prefix="/api/v1")

# Headers a script on another origin may read (CORS hides all but a few by default).
EXPOSED_HEADERS = [
    "ETag",
    "Last-Modified",
    "Link",
    "X-Total-Count",
    "X-Total-Count-Capped",
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
]


def api_rate_limit() -> str:
    """The API's budget per client address, from API_RATE_LIMIT (read per request)."""
    return current_app.config["API_RATE_LIMIT"]


# One budget for the whole API per address (not one per endpoint): a client that walks every
# list spends from the same allowance. OPTIONS (CORS preflight) costs nothing.
limiter.shared_limit(api_rate_limit, scope="api", methods=["get", "head"])(bp)
# Nothing under /api changes state, and nothing there reads a session: no CSRF token to check.
csrf.exempt(bp)


def init_app(app: Flask) -> None:
    errors.answer_with_problems(app, "/api/")
    CORS(
        app,
        resources={r"/api/*": {"origins": "*"}},
        methods=["GET", "HEAD", "OPTIONS"],
        expose_headers=EXPOSED_HEADERS,
        supports_credentials=False,
        send_wildcard=True,  # "*", the same answer for every origin, so caches need no Vary
        max_age=86400,
    )


from portal.opendata import views  # noqa: E402,F401
