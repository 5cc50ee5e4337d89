"""Atom and RSS 2.0 feeds of every public list (feedgen), with stable ids and conditional GETs.

A feed holds the first FEED_SIZE rows of its page, in the page's order, from the page's own query
(sources.py). Ids are tag URIs (RFC 4151) under FEED_TAG_AUTHORITY, so they survive a change of
host name or of URL scheme. The body is deterministic for the same rows, so its hash is the ETag.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

from feedgen.feed import FeedGenerator
from flask import current_app
from flask_babel import force_locale
from werkzeug.datastructures import MultiDict

from portal.feeds.sources import Entry, Located, Source
from portal.i18n import available_locales, formats
from portal.i18n import gettext as _
from portal.mail import absolute_url

FEED_SIZE = 50
FORMATS = {"atom": "application/atom+xml", "rss": "application/rss+xml"}
# `updated` of a feed with no entries: fixed, so that an empty feed keeps its ETag.
EMPTY_FEED_UPDATED = datetime(2000, 1, 1)


def tag_uri(specific: str) -> str:
    """A tag URI (RFC 4151) for a feed or an entry: tag:<authority>,<date>:<specific>."""
    authority = current_app.config["FEED_TAG_AUTHORITY"]
    return f"tag:{authority}:{quote(specific, safe='/?=&-._~,;:+')}"


def as_aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def feed_locale(source: Source, args: MultiDict) -> str:
    """The language of the feed: the rows' own (announcements are Chinese), else `?lang=`.

    A feed reader sends no cookie, so the feed's language never comes from one: the address says it.
    """
    if source.content_locale:
        return source.content_locale
    asked = args.get("lang", "")
    if asked and asked != current_app.config["BABEL_DEFAULT_LOCALE"]:
        for code in available_locales():
            if code == asked or code.split("_")[0] == asked:
                return code
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def language_tag(locale: str) -> str:
    """zh_Hans_CN → zh-CN (the tag feeds and xml:lang use), en → en."""
    return "zh-CN" if locale.startswith("zh") else locale.replace("_", "-")


def feed_url(located: Located, fmt: str, locale: str | None = None) -> str:
    """The feed's own address under PUBLIC_BASE_URL (its `self` link)."""
    query = located.query_string
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if locale and locale != default and not located.source.content_locale:
        query = "&".join(filter(None, [query, urlencode({"lang": locale.split("_")[0]})]))
    url = absolute_url(f"feeds.{located.source.name}", fmt=fmt, **located.view_args)
    return url + (f"?{query}" if query else "")


def feed_entries(located: Located, locale: str, limit: int = FEED_SIZE) -> list[Entry]:
    source = located.source
    with force_locale(locale):
        fmt = formats()
        return [source.entry(row, fmt) for row in source.rows(located, limit)]


def render_feed(located: Located, fmt: str, args: MultiDict) -> tuple[bytes, datetime]:
    """(body, last modified) of the feed in `fmt` ("atom" or "rss")."""
    locale = feed_locale(located.source, args)
    entries = feed_entries(located, locale)
    with force_locale(locale):
        english = locale.startswith("en")
        site = current_app.config["SITE_NAME_EN" if english else "SITE_NAME"]
        sponsor = current_app.config["SITE_SPONSOR_EN" if english else "SITE_SPONSOR"]
        filters = located.description()
        title = f"{site} · {located.title()}"
        if filters:
            title += f"（{'，'.join(filters)}）" if not english else f" ({', '.join(filters)})"
        feed = FeedGenerator()
        feed.id(tag_uri("feed" + located.page_path))
        feed.title(title)
        feed.subtitle(
            _(
                "%(site)s公开的%(list)s，与网页列表的筛选条件和顺序相同。",
                site=site,
                list=located.title(),
            )
        )
        # feedgen gives RSS the last link added as the channel's link: the page goes after self.
        feed.link(href=feed_url(located, fmt, locale), rel="self", type=FORMATS[fmt])
        feed.link(href=located.page_url(), rel="alternate", type="text/html")
        feed.language(language_tag(locale))
        feed.author({"name": sponsor})
        feed.generator(site)
        for item in entries:
            entry = feed.add_entry(order="append")
            entry.id(tag_uri(item.key))
            entry.guid(tag_uri(item.key), permalink=False)
            entry.title(item.title)
            entry.link(href=item.url, rel="alternate", type="text/html")
            entry.summary(item.summary or item.title)
            if item.content_html:
                entry.content(item.content_html, type="html")
            entry.updated(as_aware(item.updated))
            entry.published(as_aware(item.published or item.updated))
            if item.category:
                entry.category(term=item.category[0], label=item.category[1])
            if item.author:
                entry.author({"name": item.author})
        updated = max((item.updated for item in entries), default=EMPTY_FEED_UPDATED)
        feed.updated(as_aware(updated))
        feed.lastBuildDate(as_aware(updated))
        body = feed.atom_str(pretty=True) if fmt == "atom" else feed.rss_str(pretty=True)
    return body, updated


def etag_of(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:40]
