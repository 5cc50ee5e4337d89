"""Hostile query values, opened in Chromium by a logged-in province user, run nothing and send nothing.

Each public filter page is loaded with each payload in each of its query parameters, with the
Content-Security-Policy on and with it off (CONTENT_SECURITY_POLICY = ""): the CSP does not stop an
injected htmx attribute, which is not a script, so the pages must be safe without it. A control page
that echoes the same payloads raw shows that the probe does see an attack when there is one.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pyotp
import pytest
from flask import render_template_string, request
from sqlalchemy import func, select

from portal.extensions import db
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.browser


def _create_user_payload(email: str) -> str:
    """Markup that makes htmx create a province user, with the visitor's CSRF header, on load."""
    values = f'{{"email": "{email}", "name": "x", "role": "province", "division_code": ""}}'
    return f'<div hx-post="/admin/users" hx-trigger="load" hx-vals=\'{values}\'></div>'


ATTACKER_EMAIL = "attacker@example.com"
PAYLOADS = ('"><img src=x onerror=alert(1)>', _create_user_payload(ATTACKER_EMAIL))
# page → the query parameters it reads
PAGES = {
    "/listings": [
        "division",
        "variety",
        "category",
        "status",
        "industry",
        "sort",
        "date_from",
        "page",
    ],
    "/trades": ["division", "variety", "category", "method", "industry", "sort", "date_to"],
    "/enterprises": ["division", "industry", "page"],
    "/compliance/2024": ["division", "industry", "variety", "status", "sort"],
    "/news/": ["category", "division", "from", "page"],
    "/search": ["q", "type", "division", "sort", "page"],
}


@pytest.fixture(params=["csp", "no-csp"])
def app_config(app_config, request):
    config = dict(app_config)
    if request.param == "no-csp":
        config["CONTENT_SECURITY_POLICY"] = ""
    return config


@pytest.fixture
def raw_echo(app):
    """A deliberately unsafe page, for the control: it puts `html` into the layout unescaped."""

    @app.get("/_test/raw-echo")
    def raw_echo_page():
        return render_template_string(
            '{% extends "base.html" %}{% block content %}{{ html|safe }}{% endblock %}',
            html=request.args.get("html", ""),
        )

    return "/_test/raw-echo"


class Probe:
    """Watch a page for what an injection would do: a dialog, a POST, a call to /admin/users."""

    def __init__(self, page):
        self.page = page
        self.events: list[str] = []
        page.on("dialog", self._dialog)
        page.on("request", self._request)

    def _dialog(self, dialog):
        self.events.append(f"dialog {dialog.message!r}")
        dialog.dismiss()

    def _request(self, req):
        path = req.url.split("?", 1)[0]
        if req.method != "GET" or "/admin/users" in path or path.endswith("/x"):
            self.events.append(f"{req.method} {req.url}")

    def start(self, url: str) -> None:
        """Begin loading url: back once the response has arrived, before the page has loaded."""
        self.events.clear()
        response = self.page.goto(url, wait_until="commit")
        self.csp = response.headers.get("content-security-policy")

    def loaded(self) -> None:
        """Wait for the load event and for htmx, which processes the page as it starts."""
        self.page.wait_for_load_state("load")
        self.page.wait_for_function("() => window.htmx !== undefined")

    def open(self, url: str) -> list[str]:
        """Load url, let htmx process it (hx-trigger="load" fires then), and return what happened."""
        return open_all([self], [url])[0]


# htmx fires hx-trigger="load" and sends its request while it starts, at DOMContentLoaded, and an
# <img>'s onerror runs before the load event; the browser reports both before the load event, so
# a short wait after it is a margin, not the time the attack needs. The control page is caught
# with the same wait.
MARGIN_MS = 50
# Pages probed at once, each in its own tab: the server renders one while the browser lays out
# another.
TABS = 4


def open_all(probes: list[Probe], urls: list[str]) -> list[list[str]]:
    """Load each url in its own probe's tab at once; what happened in each."""
    for probe, url in zip(probes, urls, strict=False):
        probe.start(url)
    for probe in probes[: len(urls)]:
        probe.loaded()
    probes[0].page.wait_for_timeout(MARGIN_MS)
    return [list(probe.events) for probe in probes[: len(urls)]]


def _log_in(page, base: str, email: str, secret: str) -> None:
    page.goto(f"{base}/accounts/login")
    page.fill("#email", email)
    page.fill("#password", TEST_PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_url("**/accounts/login/second-factor")
    page.fill("#code", pyotp.TOTP(secret).now())
    page.press("#code", "Enter")
    page.wait_for_url(lambda url: "/accounts/login" not in url)


def _users(app) -> int:
    from portal.accounts.models import User

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def _user_exists(app, email: str) -> bool:
    from portal.accounts.models import User

    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == email)) is not None


def test_payloads_in_public_filter_pages_run_nothing_for_a_province_user(
    app, auth, live_server, page, public_records, raw_echo
):
    province = auth.make_user("province")
    from portal.accounts.models import User

    with app.app_context():
        email = db.session.get(User, province).email
    _log_in(page, live_server, email, auth.secrets[province])
    probe = Probe(page)

    # Control: the same payloads echoed raw are seen, so silence below means the pages are safe.
    control = _create_user_payload("control@example.com")
    seen = probe.open(f"{live_server}{raw_echo}?{urlencode({'html': control})}")
    assert any(event.startswith("POST") and "/admin/users" in event for event in seen), seen
    page.wait_for_load_state("networkidle")
    assert _user_exists(app, "control@example.com"), "the control's hx-post should create a user"
    seen = probe.open(f"{live_server}{raw_echo}?{urlencode({'html': PAYLOADS[0]})}")
    assert any(event.endswith("/x") for event in seen), seen
    if probe.csp:
        assert "script-src 'self'" in probe.csp
    else:
        assert any(event.startswith("dialog") for event in seen), seen
    users_before = _users(app)

    urls = [
        f"{live_server}{path}?{urlencode({name: payload})}"
        for path, names in PAGES.items()
        for name in names
        for payload in PAYLOADS
    ]
    probes = [probe] + [Probe(page.context.new_page()) for _ in range(TABS - 1)]
    failures = {}
    for start in range(0, len(urls), TABS):
        batch = urls[start : start + TABS]
        for url, events in zip(batch, open_all(probes, batch), strict=True):
            if events:
                failures[url] = events
    assert len(urls) == 64
    assert not failures
    assert _users(app) == users_before
    assert not _user_exists(app, ATTACKER_EMAIL)
