"""Static files under content-addressed URLs, cached for a year; the plain address revalidates."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from portal import assets

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
