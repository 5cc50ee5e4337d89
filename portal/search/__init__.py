"""Full-text search. Nothing outside this package imports whoosh, so the engine can be replaced here.

API: index_documents, remove_documents, search(query, filters, page), reindex_all(progress),
sync_pending(). docs/search.md describes the design and its measurements.
"""

from __future__ import annotations

import os

import click
from flask import Blueprint, Flask

bp = Blueprint("search", __name__, url_prefix="/search")

DEFAULTS = {
    # rjieba segments ~10x faster than jieba with the same dictionary (docs/search.md).
    "SEARCH_SEGMENTER": "rjieba",
    # "background": a missing or corrupt index is rebuilt in a thread while the page says so;
    # "inline": rebuilt during the request (tests, tiny sites).
    "SEARCH_REBUILD": "background",
    # Apply other servers' outbox rows and due scheduled announcements when a search comes in.
    "SEARCH_CATCH_UP": True,
    "SEARCH_LOCK_TIMEOUT": 10.0,
    # Processes for a full rebuild. Whoosh's multiprocess writer was slower here (docs/search.md).
    "SEARCH_REBUILD_PROCS": 1,
    "SEARCH_OUTBOX_KEEP_DAYS": 7,
    # Whoosh's posting pool for a rebuild, in its own size estimate (MB); past it, sorted runs go
    # to temporary files and are merged at commit (docs/search.md).
    "SEARCH_REBUILD_LIMITMB": 2048,
}


def init_app(app: Flask) -> None:
    for key, value in DEFAULTS.items():
        raw = os.environ.get(key)
        if key not in app.config:
            app.config[key] = (
                type(value)(raw) if raw is not None and not isinstance(value, bool) else value
            )
    services.listen()

    @app.cli.group("search")
    def search_group() -> None:
        """The search index: sync with the outbox, status."""

    @search_group.command("sync")
    def sync_command() -> None:
        """Apply outbox changes and publish scheduled announcements to this server's index."""
        outcome = services.sync_pending(app)
        pruned = services.prune_outbox(app.config["SEARCH_OUTBOX_KEEP_DAYS"])
        click.echo(
            f"applied {outcome['applied']} outbox rows, {outcome['scheduled']} scheduled, pruned {pruned}"
        )

    @search_group.command("status")
    def status_command() -> None:
        """Show the live generation and the last outbox id applied."""
        click.echo(services.status(app))


def reindex_all(progress=print, app: Flask | None = None) -> int:
    return services.reindex_all(progress=progress, app=app)


def search(query: str, filters: dict | None = None, page: int = 1, **kwargs):
    return services.search(query, filters, page, **kwargs)


def index_documents(records) -> int:
    return services.index_documents(records)


def remove_documents(records) -> int:
    return services.remove_documents(records)


def sync_pending(app: Flask | None = None) -> dict:
    return services.sync_pending(app)


from portal.search import services, views  # noqa: E402,F401  (views attach to bp)
