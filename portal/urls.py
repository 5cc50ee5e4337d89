"""The one check for redirect targets taken from a request (`next=`): a path on this site, or the default.

An open redirect lends the portal's name to a phishing page, so every `next` goes through
`safe_next()`. Browsers read a backslash as a slash and drop tabs and newlines from URLs, so
`/\\evil.example`, `/%5Cevil.example` and `/\\t/evil.example` all leave the site; each is refused.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from flask import current_app
from werkzeug.routing import MapAdapter


def is_safe_path(target: str | None) -> bool:
    """Whether `target` is a relative path on this site: one leading `/`, no scheme or host."""
    if not target or not isinstance(target, str):
        return False
    # Decode repeatedly so an encoded backslash or slash (%5C, %255C, %2F) is judged as the
    # browser will finally read it.
    decoded = target
    for _round in range(3):
        once = unquote(decoded)
        if once == decoded:
            break
        decoded = once
    for text in (target, decoded):
        if "\\" in text or any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
            return False
        if not text.startswith("/") or text.startswith("//"):
            return False
        parts = urlsplit(text)
        if parts.scheme or parts.netloc:
            return False
    return True


def safe_next(target: str | None, default: str) -> str:
    """`target` when it is a path on this site, else `default`."""
    return target if is_safe_path(target) else default


def public_adapter() -> MapAdapter:
    """A URL builder for addresses under PUBLIC_BASE_URL, never under the request's Host.

    Links that leave the site (mail, canonical and share links, QR codes, downloads, sitemaps)
    start here: a forged Host header must not put its own address into them.
    """
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    return current_app.url_map.bind(
        base.netloc, script_name=base.path.rstrip("/") or "/", url_scheme=base.scheme
    )


def public_url(endpoint: str, **values) -> str:
    """The full address of `endpoint` under PUBLIC_BASE_URL."""
    current_app.inject_url_defaults(endpoint, values)
    return public_adapter().build(endpoint, values, force_external=True)
