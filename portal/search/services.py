"""The search package's API: index_documents, remove_documents, search, reindex_all, sync_pending.

Changes travel through the `search_outbox` table. A flush that touches a searchable record writes
an outbox row in the same transaction, so a rolled-back change leaves no trace; after commit, this
server applies every outbox row it has not applied yet. Another app server on the same database
applies the same rows to its own index (on its next search, or with `flask search sync`).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import Flask, current_app, has_app_context
from sqlalchemy import delete, event, func, inspect, select
from sqlalchemy.orm import Session

from portal import caching
from portal.compliance.models import CompliancePeriod, ComplianceRecord
from portal.disclosure.models import Listing, Trade
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.news.models import Announcement, Attachment
from portal.reference.services import divisions
from portal.search import documents, engine
from portal.search.models import SearchOutbox
from portal.search.store import IndexStore, IndexUnavailable, LockBusy

log = logging.getLogger(__name__)

WATCHED = {
    Listing: "listing",
    Trade: "trade",
    ComplianceRecord: "compliance",
    CompliancePeriod: "compliance_period",
    Enterprise: "enterprise",
    Announcement: "announcement",
}
# How often a search looks for announcements whose publication time has come.
RECONCILE_SECONDS = 60


def get_store(app: Flask | None = None) -> IndexStore:
    app = app or current_app._get_current_object()
    store = app.extensions.get("search_store")
    if store is None:
        store = IndexStore(app.config["SEARCH_INDEX_DIR"], app.config["SEARCH_SEGMENTER"])
        app.extensions["search_store"] = store
    return store


# ---- collecting changes in the session ---------------------------------------------------------

_outbox_tables: dict[str, bool] = {}


def _has_outbox(connection) -> bool:
    url = str(connection.engine.url)
    if url not in _outbox_tables:
        _outbox_tables[url] = inspect(connection).has_table(SearchOutbox.__tablename__)
    return _outbox_tables[url]


def _record_changes(session: Session, _flush_context) -> None:
    rows = []
    for obj, op in (
        *((o, "upsert") for o in session.new),
        *((o, "upsert") for o in session.dirty if session.is_modified(o)),
        *((o, "delete") for o in session.deleted),
    ):
        if isinstance(obj, Attachment):
            if obj.announcement_id is not None:
                rows.append(("announcement", str(obj.announcement_id), "upsert"))
            continue
        model = WATCHED.get(type(obj))
        if model is None:
            continue
        ident = obj.year if model == "compliance_period" else obj.id
        if ident is not None:
            rows.append((model, str(ident), op))
    if not rows:
        return
    connection = session.connection()
    if not _has_outbox(connection):
        log.warning("search_outbox is missing; run `flask db upgrade` then `flask reindex`")
        return
    unique = list(dict.fromkeys(rows))
    connection.execute(
        SearchOutbox.__table__.insert(),
        [{"model": m, "record_id": r, "op": op} for m, r, op in unique],
    )
    session.info["search_changed"] = True


def _after_commit(session: Session) -> None:
    if not session.info.pop("search_changed", False) or not has_app_context():
        return
    app = current_app._get_current_object()
    try:
        apply_outbox(app, timeout=app.config["SEARCH_LOCK_TIMEOUT"])
    except LockBusy:
        log.info("index writer busy; the change is applied by the next search or sync")
    except Exception:  # noqa: BLE001 - the commit has happened; a stale index must not make it a 500
        log.exception("applying search changes failed; the next search or sync retries")


def _after_rollback(session: Session) -> None:
    # The outbox rows went with the transaction; nothing is left to apply.
    session.info.pop("search_changed", None)


_listening = False


def listen() -> None:
    global _listening
    if not _listening:
        event.listen(Session, "after_flush", _record_changes)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", lambda s, _t: _after_rollback(s))
        _listening = True


# ---- applying changes ---------------------------------------------------------------------------


def _latest_outbox_id(session: Session) -> int:
    return session.scalar(select(func.max(SearchOutbox.id))) or 0


def _apply_rows(store: IndexStore, ix, path, since: int) -> int:
    """Apply outbox rows after `since` to the index at `path`; return how many."""
    applied = 0
    with Session(db.engine) as session:
        while True:
            rows = session.execute(
                select(SearchOutbox.id, SearchOutbox.model, SearchOutbox.record_id)
                .where(SearchOutbox.id > since)
                .order_by(SearchOutbox.id)
                .limit(2000)
            ).all()
            if not rows:
                return applied
            names = documents.Names(session)
            deletes: list[str] = []
            docs: list[dict] = []
            for model, record_id in dict.fromkeys((r.model, r.record_id) for r in rows):
                keys, found = documents.documents_for(session, model, record_id, names)
                deletes.extend(keys)
                docs.extend(found)
            store.write(deletes, docs, ix=ix)
            since = rows[-1].id
            store.set_position(since, path)
            applied += len(rows)
            session.expunge_all()


def apply_outbox(app: Flask | None = None, timeout: float = 30.0) -> int:
    """Apply every outbox row this server's index has not seen; the writer lock keeps it single."""
    store = get_store(app)
    if store.generation() is None:
        return 0
    with store.lock(timeout=timeout):
        ix = store.open_index()
        path = store.root / store.generation()
        applied = _apply_rows(store, ix, path, store.position(path))
    if applied:
        # The commit that wrote these rows advanced the response cache's generation before the
        # index held them: a search page rendered in between must not outlive it.
        caching.bump_generation(app)
    return applied


def index_documents(records) -> int:
    """Write these records' documents now (public ones), outside any transaction hook."""
    return _write_records(records)


def remove_documents(records) -> int:
    """Remove these records' documents now, whatever their state."""
    store = get_store()
    keys = [f"{WATCHED[type(r)]}:{r.id}" for r in records if type(r) in WATCHED]
    with store.lock():
        store.write(keys, [])
    return len(keys)


def _write_records(records) -> int:
    store = get_store()
    names = documents.Names(db.session)
    deletes: list[str] = []
    docs: list[dict] = []
    for record in records:
        model = WATCHED.get(type(record))
        if model is None:
            continue
        ident = record.year if model == "compliance_period" else record.id
        keys, found = documents.documents_for(db.session, model, str(ident), names)
        deletes.extend(keys)
        docs.extend(found)
    with store.lock():
        store.write(deletes, docs)
    return len(docs)


def sync_pending(app: Flask | None = None, timeout: float = 30.0) -> dict:
    """Apply the outbox and index announcements whose scheduled time has come.

    Call it from `flask search sync` (cron) or `flask tick`; searches also call it, at most once a
    minute per process, so scheduled announcements appear without a scheduler.
    """
    app = app or current_app._get_current_object()
    store = get_store(app)
    applied = apply_outbox(app, timeout=timeout)
    due = 0
    if store.generation() is not None:
        with store.lock(timeout=timeout):
            now = documents.utcnow()
            since = store.reconciled_at()
            with Session(db.engine) as session:
                stmt = select(Announcement.id).where(
                    Announcement.status == "published", Announcement.published_at <= now
                )
                if since:
                    stmt = stmt.where(Announcement.published_at > datetime.fromisoformat(since))
                ids = list(session.scalars(stmt))
                if ids:
                    names = documents.Names(session)
                    docs = []
                    keys = []
                    for ident in ids:
                        k, d = documents.documents_for(session, "announcement", str(ident), names)
                        keys += k
                        docs += d
                    store.write(keys, docs)
                    due = len(docs)
            store.set_reconciled_at(now.isoformat(sep=" "))
        if due:
            caching.bump_generation(app)
    return {"applied": applied, "scheduled": due}


def prune_outbox(days: int = 7) -> int:
    """Delete outbox rows older than `days` days: every server has applied them by then."""
    cutoff = documents.utcnow() - timedelta(days=days)
    with Session(db.engine) as session:
        result = session.execute(delete(SearchOutbox).where(SearchOutbox.created_at < cutoff))
        session.commit()
        return result.rowcount or 0


# ---- rebuilding ------------------------------------------------------------------------------


def reindex_all(progress=print, app: Flask | None = None) -> int:
    """Build a new index beside the live one from the database, then swap it in atomically."""
    app = app or current_app._get_current_object()
    store = get_store(app)
    started = time.perf_counter()
    with store.lock("rebuild.lock", timeout=None):
        with Session(db.engine) as session:
            start_position = _latest_outbox_id(session)
            total = documents.count_public(session)
            path = store.new_generation()
            ix = store.create(path)
            progress(f"索引重建：{total} 条公开记录 → {path}")
            writer = _bulk_writer(ix, app)
            count = 0
            try:
                for document in documents.all_documents(session):
                    writer.add_document(**document)
                    count += 1
                    if count % 10000 == 0:
                        progress(f"  {count}/{total}  {time.perf_counter() - started:.1f}s")
            except BaseException:
                writer.cancel()
                raise
            progress(f"  写入磁盘 {count} 条…")
            writer.commit()
        store.set_position(start_position, path)
        store.set_reconciled_at(documents.utcnow().isoformat(sep=" "), path)
        with store.lock():
            # Changes committed while we were building.
            _apply_rows(store, ix, path, start_position)
            store.swap(path)
    caching.bump_generation(app)  # search pages stored before the swap answered from the old index
    progress(f"完成：{count} 条，用时 {time.perf_counter() - started:.1f}s，当前索引 {path.name}")
    return count


def _bulk_writer(ix, app: Flask):
    """One writer, one segment, postings sorted in memory (docs/search.md, "Full reindex").

    The codec skips per-block length statistics: they only serve Whoosh's BM25 block-max
    optimisation, which our engine does not use, and reading every posting's field length back
    from disk was the largest single cost of the final commit.
    """
    # lazy: the whoosh3 codec is needed only by a full rebuild's writer
    from whoosh.codec.whoosh3 import W3Codec

    codec = W3Codec()
    codec.length_stats = False
    procs = app.config["SEARCH_REBUILD_PROCS"] or (os.cpu_count() or 1)
    limitmb = app.config["SEARCH_REBUILD_LIMITMB"]
    if procs > 1:
        return ix.writer(procs=procs, limitmb=max(1, limitmb // procs), multisegment=True)
    return ix.writer(limitmb=limitmb, codec=codec)


_rebuilding: dict[str, threading.Thread] = {}


def ensure_index(app: Flask):
    """The live index, or None after starting a rebuild (background thread, one per process)."""
    store = get_store(app)
    try:
        return store.open_index()
    except IndexUnavailable as error:
        log.warning("search index unavailable (%s); rebuilding", str(error))
    store.forget()
    if app.config["SEARCH_REBUILD"] == "inline":
        try:
            reindex_all(progress=log.info, app=app)
            return store.open_index()
        except Exception:  # noqa: BLE001 - the page says search is unavailable instead of a 500
            log.exception("inline rebuild failed")
            return None
    key = str(store.root)
    thread = _rebuilding.get(key)
    if thread is None or not thread.is_alive():

        def run() -> None:
            with app.app_context():
                try:
                    reindex_all(progress=log.info, app=app)
                except Exception:  # noqa: BLE001
                    log.exception("background rebuild failed")

        thread = threading.Thread(target=run, name="search-rebuild", daemon=True)
        _rebuilding[key] = thread
        thread.start()
    return None


def wait_for_rebuild(app: Flask, timeout: float = 60.0) -> None:
    thread = _rebuilding.get(str(get_store(app).root))
    if thread is not None:
        thread.join(timeout)


# ---- searching ---------------------------------------------------------------------------------


@dataclass
class Hit:
    kind: str
    record: str
    link: str
    category: str
    title: object
    snippet: object
    date: str
    division: str
    variety: str
    # Stored values of a structured record; its snippet is built from them at render time
    # (snippets.fill), in the visitor's language. None for announcements (text snippet).
    facts: dict | None = None
    terms: list[str] = field(default_factory=list)
    excerpt: object = None

    @property
    def day(self) -> date | None:
        return date.fromisoformat(self.date) if self.date else None


@dataclass
class Results:
    query: str
    filters: dict
    sort: str
    page: int
    per_page: int
    total: int = 0
    hits: list[Hit] = field(default_factory=list)
    facets: dict = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    unavailable: bool = False
    redirect: Hit | None = None
    parsed_words: list[str] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


_last_check: dict[str, float] = {}


def _catch_up(app: Flask, store: IndexStore) -> None:
    """Apply outbox rows from other servers, and scheduled announcements, without waiting."""
    key = str(store.root)
    now = time.monotonic()
    try:
        with Session(db.engine) as session:
            latest = _latest_outbox_id(session)
        if latest > store.position():
            apply_outbox(app, timeout=0)
        if now - _last_check.get(key, 0) > RECONCILE_SECONDS:
            _last_check[key] = now
            sync_pending(app, timeout=0)
    except LockBusy:
        pass
    except IndexUnavailable:
        raise
    except Exception:  # noqa: BLE001 - a search must answer even when catching up fails
        log.exception("catching up with the outbox failed")


def divisions_by_code() -> dict[str, str]:
    return {d.code: d.name for d in divisions()}


def search(
    query: str,
    filters: dict | None = None,
    page: int = 1,
    sort: str = "relevance",
    per_page: int = 20,
    app: Flask | None = None,
) -> Results:
    """Search the public records; problems come back as notices, never as exceptions."""
    app = app or current_app._get_current_object()
    filters = {k: v for k, v in (filters or {}).items() if v and k in engine.FACETS}
    results = Results(query=query or "", filters=filters, sort=sort, page=page, per_page=per_page)
    ix = ensure_index(app)
    if ix is None:
        results.unavailable = True
        return results
    store = get_store(app)
    if app.config["SEARCH_CATCH_UP"]:
        _catch_up(app, store)
        ix = store.open_index()
    parsed = engine.parse(query, ix.schema, divisions_by_code())
    results.notices = list(parsed.notices)
    results.parsed_words = parsed.words + parsed.phrases
    merged = {**filters, **parsed.filters}
    results.filters = merged
    if parsed.query is None and not parsed.filters:
        return results
    view = engine.view_for(ix)
    if parsed.code and page == 1:
        exact = view.term("code", parsed.code)
        if exact:
            docnum = engine.bits_to_ids(exact)[0]
            results.redirect = _hit(view, docnum, [])
            return results
    outcome = engine.execute(view, parsed, merged, sort, page, per_page)
    results.total = outcome.total
    results.facets = outcome.facets
    results.notices += [n for n in outcome.notices if n not in results.notices]
    terms = parsed.words + parsed.phrases
    results.hits = [_hit(view, docnum, terms) for docnum in outcome.docnums]
    return results


def _hit(view, docnum: int, terms: list[str]) -> Hit:
    stored = view.stored(docnum)
    facts = stored.get("facts")
    return Hit(
        kind=stored.get("kind", ""),
        record=stored.get("record", ""),
        link=stored.get("link", ""),
        category=stored.get("category", ""),
        title=engine.highlight(stored.get("title", ""), terms),
        snippet=None if facts is not None else engine.highlight(stored.get("body", ""), terms, 120),
        date=stored.get("date", ""),
        division=stored.get("division", ""),
        variety=stored.get("variety", ""),
        facts=facts,
        terms=terms,
    )


# The search page's query arguments: URL name → filter name; and its orders.
FILTER_ARGS = {"type": "kind", "division": "division", "variety": "variety", "year": "year"}
SORTS = ("relevance", "date")


def search_arguments(args) -> tuple[str, dict, str]:
    """(query, filters, sort) from the search page's query arguments (a MultiDict)."""
    q = args.get("q", "")
    filters = {name: args.get(arg, "").strip() for arg, name in FILTER_ARGS.items()}
    sort = args.get("sort", "relevance")
    return q, filters, sort if sort in SORTS else "relevance"


def record_endpoint(hit: Hit) -> tuple[str, dict] | None:
    """(endpoint, values) of the public page of a hit's record (a compliance record's is its
    period's list)."""
    if hit.kind == "listing":
        return "disclosure.listing_detail", {"number": hit.record}
    if hit.kind == "trade":
        return "disclosure.trade_detail", {"number": hit.record}
    if hit.kind == "enterprise":
        return "disclosure.enterprise_detail", {"uscc": hit.record}
    if hit.kind == "announcement":
        return "news.detail", {"id": int(hit.record)}
    if hit.kind == "compliance" and hit.link:
        year, _uscc = hit.link.split("|", 1)
        return "compliance.period", {"year": int(year)}
    return None


def suggest(prefix: str, limit: int = 8, app: Flask | None = None) -> list[Hit]:
    """A few records whose words match what has been typed so far."""
    results = search(prefix, page=1, per_page=limit, app=app)
    if results.redirect is not None:
        return [results.redirect]
    return results.hits


def status(app: Flask | None = None) -> dict:
    store = get_store(app)
    return {"generation": store.generation(), "position": store.position()}
