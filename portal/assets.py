"""Static files under content-addressed URLs: /static/<digest>/css/portal.css.

`url_for("static", filename=…)` adds the first 12 hex digits of the file's SHA-256 as a path
segment, so the address changes whenever the content does, and a browser or a shared cache may
keep the file for a year without asking again (`Cache-Control: public, max-age=31536000,
immutable`). The plain /static/<filename> address still answers, revalidated on every use, for
links made before a release; so does an outdated digest, which is served the current file without
the long lifetime. Digests are computed once, when the app starts, from the files on disk.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, abort, current_app, send_from_directory

DIGEST_LENGTH = 12
YEAR = 365 * 24 * 3600


def file_digests(folder: Path) -> dict[str, str]:
    """Every file's name below `folder` (with forward slashes) and its digest."""
    digests = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:DIGEST_LENGTH]
            digests[path.relative_to(folder).as_posix()] = digest
    return digests


def init_app(app: Flask) -> None:
    folder = Path(app.static_folder)
    digests = file_digests(folder)
    app.extensions["static_digests"] = digests
    # One view for both addresses: the plain one Flask registered, and the one with the digest
    # (exactly 12 characters, so /static/css/portal.css is not read as digest "css").
    app.view_functions["static"] = static
    app.add_url_rule(
        f"{app.static_url_path}/<string(length={DIGEST_LENGTH}):digest>/<path:filename>",
        endpoint="static",
        view_func=static,
    )

    @app.url_defaults
    def add_digest(endpoint, values):
        if endpoint == "static" and "digest" not in values:
            digest = digests.get(values.get("filename", ""))
            if digest:
                values["digest"] = digest


def static(filename: str, digest: str | None = None):
    """A static file: for a year under its current digest, revalidated under any other address."""
    current = current_app.extensions["static_digests"].get(filename)
    if current is None:
        abort(404)
    immutable = digest == current
    response = send_from_directory(
        current_app.static_folder, filename, max_age=YEAR if immutable else None
    )
    if immutable:
        response.cache_control.public = True
        response.cache_control.immutable = True
    return response
