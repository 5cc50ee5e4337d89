"""Sharing and media: canonical and social metadata, JSON-LD, QR codes and the share panel, share
images of announcements, embeddable widgets, robots.txt, sitemaps, the favicon and the manifest."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("sharing", __name__)

from portal.sharing import images, services, views  # noqa: E402,F401  (views attach to bp)
from portal.urls import public_url  # noqa: E402


def init_app(app: Flask) -> None:
    """The helpers every page's <head> and share panel use (base.html, sharing/_panel.html)."""
    app.jinja_env.globals.update(
        public_url=public_url,
        canonical_url=services.canonical_url,
        language_alternates=services.language_alternates,
        share_qr=services.qr_image_url,
        site_json_ld=services.organization_json_ld,
        news_article_json_ld=services.news_article_json_ld,
        share_image_url=images.share_image_url,
        widget_snippet=services.widget_snippet,
    )
