"""Building and checking the portal's URLs.

`PortalFlask.url_for` keeps the links it has built for this process: a page writes the same header,
menu and footer links on every request, and werkzeug's builder costs about 10 µs a link.

The one check for redirect targets taken from a request (`next=`): a path on this site, or the default.

An open redirect lends the portal's name to a phishing page, so every `next` goes through
`safe_next()`. Browsers read a backslash as a slash and drop tabs and newlines from URLs, so
`/\\evil.example`, `/%5Cevil.example` and `/\\t/evil.example` all leave the site; each is refused.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from flask import Flask, current_app
from flask.globals import _cv_request
from werkzeug.routing import MapAdapter

# Links kept per app; the store is emptied when it reaches this many (a page's rows each link to
# their own record, so most entries are met once).
URL_MEMO_SIZE = 4096


class PortalFlask(Flask):
    """Flask, with the relative links it builds during requests remembered.

    A link depends on its endpoint and values, the URL map (fixed once the app serves), the
    `url_defaults` functions (pure functions of the endpoint and values here: the static files'
    digests) and where the request's adapter is bound (its script root and host, part of the key).
    External links, anchors, methods, relative endpoints (".view") and unhashable values go
    through Flask's own url_for every time.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._url_memo: dict = {}

    def url_for(
        self,
        /,
        endpoint: str,
        *,
        _anchor: str | None = None,
        _method: str | None = None,
        _scheme: str | None = None,
        _external: bool | None = None,
        **values,
    ) -> str:
        ctx = _cv_request.get(None)
        if (
            ctx is None
            or _anchor is not None
            or _method is not None
            or _scheme is not None
            or _external
            or endpoint[:1] == "."
        ):
            return super().url_for(
                endpoint,
                _anchor=_anchor,
                _method=_method,
                _scheme=_scheme,
                _external=_external,
                **values,
            )
        adapter = ctx.url_adapter
        key = (
            "relative",
            endpoint,
            adapter.script_name,
            adapter.server_name,
            adapter.subdomain,
            # The type too: True and 1 are equal keys but different links.
            *((name, type(value), value) for name, value in values.items()),
        )
        return self.remembered(key, lambda: super(PortalFlask, self).url_for(endpoint, **values))

    def remembered(self, key: tuple, build) -> str:
        """The link kept under `key`, else `build()` (kept when the key can be hashed)."""
        try:
            return self._url_memo[key]
        except KeyError:
            pass
        except TypeError:  # a list or another unhashable value
            return build()
        url = build()
        if len(self._url_memo) >= URL_MEMO_SIZE:
            self._url_memo.clear()
        self._url_memo[key] = url
        return url


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
    """The full address of `endpoint` under PUBLIC_BASE_URL (remembered as url_for's links are,
    keyed by the base address too)."""
    app = current_app._get_current_object()
    key = (
        "public",
        app.config["PUBLIC_BASE_URL"],
        endpoint,
        *((name, type(value), value) for name, value in values.items()),
    )

    def build() -> str:
        app.inject_url_defaults(endpoint, values)
        return public_adapter().build(endpoint, values, force_external=True)

    return app.remembered(key, build) if isinstance(app, PortalFlask) else build()
