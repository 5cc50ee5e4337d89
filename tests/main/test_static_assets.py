"""Static files under content-addressed URLs, cached for a year; the plain address revalidates."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import brotli
from sqlalchemy import select

from portal import assets
from portal.disclosure.models import Trade
from portal.extensions import db

STATIC = Path(assets.__file__).resolve().parent / "static"


def test_pages_link_static_files_by_their_content_digest(client):
    page = client.get("/").get_data(as_text=True)
    digest = hashlib.sha256((STATIC / "css/portal.css").read_bytes()).hexdigest()[:12]
    assert f'href="/static/{digest}/css/portal.css"' in page
    scripts = re.findall(r'<script src="(/static/[^"]+)"', page)
    assert scripts and all(re.match(r"/static/[0-9a-f]{12}/", src) for src in scripts)


def test_the_current_digest_is_immutable_for_a_year(client):
    digest = hashlib.sha256((STATIC / "js/portal.js").read_bytes()).hexdigest()[:12]
    with client.get(f"/static/{digest}/js/portal.js") as response:
        assert response.status_code == 200
        cache = response.headers["Cache-Control"]
        assert "immutable" in cache and "max-age=31536000" in cache and "public" in cache
        assert response.get_data() == (STATIC / "js/portal.js").read_bytes()


def test_old_digests_and_plain_addresses_serve_the_file_without_the_long_lifetime(client):
    for path in ("/static/000000000000/js/portal.js", "/static/js/portal.js"):
        with client.get(path) as response:
            assert response.status_code == 200, path
            assert "immutable" not in response.headers.get("Cache-Control", ""), path
            assert response.get_data() == (STATIC / "js/portal.js").read_bytes()


def test_unknown_files_and_paths_outside_the_folder_are_404(client):
    for path in (
        "/static/000000000000/css/nothing.css",
        "/static/css/nothing.css",
        "/static/000000000000/../portal/__init__.py",
        "/static/%2e%2e/__init__.py",
    ):
        assert client.get(path).status_code == 404, path


PAGE_BUDGET = 60 * 1024


def test_every_full_page_with_its_css_and_javascript_fits_the_budget_compressed(
    client, public_records
):
    """A first visit on a phone: the HTML and every stylesheet and script it loads, as sent
    (brotli), at most 60 KB for the home page, a list, a detail page and search."""
    with client.application.app_context():
        number = db.session.scalar(select(Trade.number))
    for path in ("/", "/trades?variety=energy", f"/trades/{number}", "/search?q=郑州"):
        response = client.get(path, headers={"Accept-Encoding": "br"})
        assert response.status_code == 200, path
        assert response.headers["Content-Encoding"] == "br", path
        html = brotli.decompress(response.get_data()).decode()
        total = len(response.get_data())
        linked = re.findall(
            r'<(?:link[^>]+rel="stylesheet"|script)[^>]+(?:href|src)="([^"]+)"', html
        )
        assert any(url.endswith(".css") for url in linked) and any(
            url.endswith(".js") for url in linked
        ), path
        for url in linked:
            with client.get(url, headers={"Accept-Encoding": "br"}) as asset:
                assert asset.status_code == 200, url
                total += len(asset.get_data())
        assert total <= PAGE_BUDGET, f"{path}: {total} bytes"
