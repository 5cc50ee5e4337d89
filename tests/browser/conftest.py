"""A live server for browser tests: the app in a thread on 127.0.0.1, driven by Debian's Chromium."""

from __future__ import annotations

import os
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _serving(server) -> threading.Thread:
    """Serve in a thread. The loop looks for shutdown every 20 ms: at Werkzeug's 0.5 s, stopping
    the server waited up to half a second after every browser test."""
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    return thread


@pytest.fixture
def live_server(app):
    """Serve `app` on a free port; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = _serving(server)
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM} (make test installs it)")
    from playwright.sync_api import expect, sync_playwright

    # An assertion waits as long as a page action may (page.set_default_timeout in the tests):
    # with the browser tests on both cores, a submit answered after expect's default 5 s once.
    expect.set_options(timeout=15_000)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def page_without_js(browser):
    context = browser.new_context(locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def other_origin():
    """other_origin(html) serves one page from another origin (localhost on another port) and
    returns its URL: a stand-in for a city's website that embeds the portal's widgets."""
    servers = []

    def serve(html: str) -> str:
        def page(_environ, start_response):
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
            return [html.encode("utf-8")]

        server = make_server("127.0.0.1", 0, page, threaded=True)
        thread = _serving(server)
        servers.append((server, thread))
        return f"http://localhost:{server.server_port}/"

    yield serve
    for server, thread in servers:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def shared_site(app, live_server):
    """Records to share and to find, with links built for the live server's address."""
    from datetime import date

    from portal.extensions import db
    from tests import factories as f

    app.config["PUBLIC_BASE_URL"] = live_server
    app.config["SEARCH_REBUILD"] = "inline"
    with app.app_context():
        zz = f.enterprise("示例郑州豫能化工有限公司", "410100", "chemical")
        f.listing(zz, number="YNQ-GP-2025-000001", starts_on=date(2025, 1, 5))
        notice = f.announcement(title="关于示例郑州用能权交易的通知", summary="示例摘要。")
        db.session.commit()
        return {"announcement": notice.id, "base": live_server}
