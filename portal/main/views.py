from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import redirect, request

from portal.disclosure.services import home_snapshot
from portal.i18n import LOCALE_COOKIE, LOCALE_COOKIE_MAX_AGE, available_locales
from portal.main import bp
from portal.news.services import latest_announcements
from portal.urls import safe_next
from portal.web import CARE_COOKIE, render

ONE_YEAR = LOCALE_COOKIE_MAX_AGE


def _safe_next(default: str = "/") -> str:
    """Only a path on this site: an open redirect would be a phishing aid (portal/urls.py)."""
    return safe_next(request.form.get("next") or request.args.get("next"), default)


@bp.get("/")
def home():
    snapshot = home_snapshot()
    return render(
        "main/home.html",
        snapshot=snapshot,
        announcements=latest_announcements(limit=8),
        publicity=latest_announcements(limit=5, category="publicity", open_only=True),
    )


# Language and elderly mode change only a cookie in the visitor's own browser, never data on the
# server, so a plain link (GET, no CSRF token) may set them: the header then needs no form, and an
# anonymous page needs no session cookie, so shared caches may keep it. POST still works, with
# its CSRF token, for forms made before.
@bp.route("/preferences/language", methods=["GET", "POST"])
def set_language():
    """Remember the visitor's language in a cookie (no account needed)."""
    # The page it came from may carry `?lang=`, which would override the choice just made.
    response = redirect(_without_language(_safe_next()), code=303)
    choice = request.values.get("lang")
    if choice in available_locales():
        response.set_cookie(LOCALE_COOKIE, choice, max_age=ONE_YEAR, samesite="Lax", httponly=True)
    return response


def _without_language(path: str) -> str:
    parts = urlsplit(path)
    query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True)]
    kept = [(key, value) for key, value in query if key != "lang"]
    if len(kept) == len(query):
        return path
    return urlunsplit(parts._replace(query=urlencode(kept)))


@bp.route("/preferences/care", methods=["GET", "POST"])
def toggle_care():
    """Switch the elderly-friendly mode (适老化) on (`on=1`) or off (`on=0`), or over without
    `on`, and remember it."""
    response = redirect(_safe_next(), code=303)
    wanted = request.values.get("on")
    on = wanted == "1" if wanted in ("0", "1") else request.cookies.get(CARE_COOKIE) != "1"
    response.set_cookie(
        CARE_COOKIE, "1" if on else "0", max_age=ONE_YEAR, samesite="Lax", httponly=True
    )
    return response


@bp.get("/sitemap")
def sitemap():
    return render("main/sitemap.html")


@bp.get("/about")
def about():
    return render("main/about.html")


@bp.get("/accessibility")
def accessibility():
    return render("main/accessibility.html")
