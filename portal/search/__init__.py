"""Full-text search. Nothing outside this package imports whoosh, so the engine can be replaced here.

API: index_documents, remove_documents, search(query, filters, page), reindex_all(progress),
sync_pending(), verify(repair). docs/search.md describes the design and its measurements.
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
    # Whoosh's posting buffer for a rebuild, in its own size estimate (MB). A rebuild writes a
    # segment each time the buffer is nearly full, so nothing spills to disk. 1024 peaked at
    # 2.07 GB at 444,000 documents; 768 is below 2 GB (docs/search.md).
    "SEARCH_REBUILD_LIMITMB": 768,
    # Bytes of term bitsets, phrase matches and results one process keeps (a byte-counted LRU).
    "SEARCH_CACHE_BYTES": 64 * 2**20,
    # Outbox rows a search (or a commit) applies itself; the rest go on in a background thread.
    "SEARCH_CATCH_UP_ROWS": 100,
    # Not on PostgreSQL (which knows when a transaction has ended): how long an outbox id that
    # is not visible below the position is looked for, longer than any transaction may last.
    "SEARCH_GAP_SECONDS": 3600.0,
    # This index's name in search_position; empty: host name and SEARCH_INDEX_DIR.
    "SEARCH_SERVER_ID": "",
    # `flask tick` compares the index with the database (and repairs it) this often; 0: never.
    "SEARCH_VERIFY_MINUTES": 60,
}

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


def parse_setting(key: str, raw: str, default):
    """A setting's value from the environment, of its default's type (the same words for
    booleans as portal/config.py); an unknown boolean word is an error, not False."""
    if isinstance(default, bool):
        word = raw.strip().lower()
        if word in TRUE:
            return True
        if word in FALSE:
            return False
        raise ValueError(f"{key}={raw!r}: expected one of {sorted(TRUE | FALSE - {''})}")
    return type(default)(raw)


def init_app(app: Flask) -> None:
    for key, value in DEFAULTS.items():
        raw = os.environ.get(key)
        if key not in app.config:
            app.config[key] = value if raw is None else parse_setting(key, raw, value)
    engine.configure(app.config["SEARCH_CACHE_BYTES"])
    services.listen()

    @app.cli.group("search")
    def search_group() -> None:
        """The search index: sync with the outbox, status, verify."""

    @search_group.command("sync")
    def sync_command() -> None:
        """Apply outbox changes and publish scheduled announcements to this server's index;
        prune outbox rows every recent server has applied."""
        outcome = services.sync_pending(app, rebuild="inline")
        pruned = services.prune_outbox(app.config["SEARCH_OUTBOX_KEEP_DAYS"])
        click.echo(
            f"applied {outcome['applied']} outbox rows, {outcome['scheduled']} scheduled, pruned {pruned}"
        )

    @search_group.command("status")
    def status_command() -> None:
        """Show this index's lag behind the outbox, its gaps, and every server's position."""
        for line in status_lines(services.status(app)):
            click.echo(line)

    @search_group.command("verify")
    @click.option("--repair", is_flag=True, help="Write the differing documents from the database.")
    def verify_command(repair: bool) -> None:
        """Compare the index with what the database says should be indexed; exit 1 on a
        difference left unrepaired."""
        report = services.verify(app, repair=repair)
        for line in verify_lines(report):
            click.echo(line)
        if not repair and (report["missing"] or report["extra"] or report["stale"]):
            raise SystemExit(1)


def status_lines(report: dict) -> list[str]:
    gaps = report["gaps"]
    shown = ", ".join(map(str, gaps[:20])) + (" …" if len(gaps) > 20 else "")
    lines = [
        f"server {report['server']}",
        f"generation {report['generation'] or '(none)'}",
        f"position {report['position']} (latest outbox id {report['latest']}, "
        f"all applied up to {report['low']}, pruned up to {report['pruned_up_to']})",
        f"behind {report['rows_behind']} rows, {report['seconds_behind']:.0f} s",
        f"gaps {len(gaps)}" + (f": {shown}" if gaps else ""),
        "servers:",
    ]
    for server in report["servers"]:
        lines.append(
            f"  {server['server']}  position {server['position']}  low {server['low']}  "
            f"gaps {server['gaps']}  behind {server['rows_behind']} rows "
            f"{server['seconds_behind']:.0f} s  seen {server['seen_at']:%Y-%m-%d %H:%M:%S}"
        )
    return lines


def verify_lines(report: dict) -> list[str]:
    lines = [
        f"{report['documents']} documents in the database, {report['indexed']} in the index "
        f"({report['seconds']} s)"
    ]
    for name in ("missing", "extra", "stale"):
        keys = report[name]
        if keys:
            more = " …" if len(keys) > 20 else ""
            lines.append(f"{name} {len(keys)}: {', '.join(keys[:20])}{more}")
    if not (report["missing"] or report["extra"] or report["stale"]):
        lines.append("index matches the database")
    elif report["repaired"]:
        lines.append("repaired")
    return lines


def reindex_all(progress=print, app: Flask | None = None) -> int:
    return services.reindex_all(progress=progress, app=app)


def search(query: str, filters: dict | None = None, page: int = 1, **kwargs):
    return services.search(query, filters, page, **kwargs)


def index_documents(records) -> int:
    return services.index_documents(records)


def remove_documents(records) -> int:
    return services.remove_documents(records)


def sync_pending(app: Flask | None = None, **kwargs) -> dict:
    return services.sync_pending(app, **kwargs)


from portal.search import engine, services, views  # noqa: E402,F401  (views attach to bp)
