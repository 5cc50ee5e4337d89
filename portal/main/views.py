from __future__ import annotations

from flask import redirect, request

from portal.disclosure.services import home_snapshot
from portal.i18n import LOCALE_COOKIE, available_locales
from portal.main import bp
from portal.news.services import latest_announcements
from portal.urls import safe_next
from portal.web import CARE_COOKIE, render

ONE_YEAR = 365 * 24 * 3600


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


@bp.post("/preferences/language")
def set_language():
    """Remember the visitor's language in a cookie (no account needed)."""
    response = redirect(_safe_next(), code=303)
    choice = request.form.get("lang")
    if choice in available_locales():
        response.set_cookie(LOCALE_COOKIE, choice, max_age=ONE_YEAR, samesite="Lax", httponly=True)
    return response


@bp.post("/preferences/care")
def toggle_care():
    """Switch the elderly-friendly mode (适老化) on or off, and remember it."""
    response = redirect(_safe_next(), code=303)
    on = request.cookies.get(CARE_COOKIE) != "1"
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
