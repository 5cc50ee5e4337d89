"""The search package's API: index_documents, remove_documents, search, reindex_all, sync_pending.

Changes travel through the `search_outbox` table. A flush that touches a searchable record writes
an outbox row in the same transaction, so a rolled-back change leaves no trace; after commit, this
server applies every outbox row it has not applied yet. Another app server on the same database
applies the same rows to its own index (on its next search, or with `flask search sync`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import Flask, current_app, has_app_context
from sqlalchemy import (
    DateTime,
    delete,
    event,
    func,
    insert,
    inspect,
    or_,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session

from portal import caching
from portal.compliance.models import CompliancePeriod, ComplianceRecord
from portal.disclosure.models import Listing, Trade
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.news.models import Announcement, Attachment
from portal.reference.services import divisions
from portal.search import analysis, documents, engine, nearby
from portal.search.models import SearchOutbox, SearchPosition
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
        apply_outbox(
            app, timeout=app.config["SEARCH_LOCK_TIMEOUT"], limit=app.config["SEARCH_CATCH_UP_ROWS"]
        )
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
#
# Outbox ids are taken when a transaction flushes, not when it commits: on PostgreSQL a transaction
# holding id 7 may commit after one holding id 8 has been applied. So an id below the position
# that is not visible yet is a *gap*, kept beside the position and looked up again on every
# apply until its row appears (applied then) or it is known never to commit: on PostgreSQL once
# every transaction that was running when the gap was first seen has ended (the snapshot's xmin
# has passed the xmax noted then); elsewhere after SEARCH_GAP_SECONDS. docs/search.md.

BATCH = 2000


def server_id(app: Flask) -> str:
    """This index's name in `search_position`: SEARCH_SERVER_ID, else host and index folder."""
    configured = app.config.get("SEARCH_SERVER_ID") or ""
    if configured:
        return configured[:255]
    folder = os.path.abspath(app.config["SEARCH_INDEX_DIR"])
    return f"{socket.gethostname()}:{folder}"[-255:]


def _latest_outbox_id(session: Session) -> int:
    return session.scalar(select(func.max(SearchOutbox.id))) or 0


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _snapshot(session: Session, end: str) -> int:
    """pg_snapshot_xmin (every transaction below it has ended) or _xmax (no transaction at or
    above it had started) of the current statement's snapshot."""
    return int(session.scalar(text(f"SELECT pg_snapshot_{end}(pg_current_snapshot())::text")))


def _pruned_horizon(session: Session) -> int | None:
    """The highest outbox id pruned, or None where it was never recorded."""
    return session.scalar(
        select(SearchPosition.position).where(SearchPosition.server == SearchPosition.PRUNED)
    )


_COLUMNS = (SearchOutbox.id, SearchOutbox.model, SearchOutbox.record_id)


def _write_rows(store: IndexStore, ix, session: Session, rows) -> None:
    """Bring the documents of these outbox rows' records to the database's present state."""
    names = documents.Names(session)
    deletes: list[str] = []
    docs: list[dict] = []
    for model, record_id in dict.fromkeys((r.model, r.record_id) for r in rows):
        keys, found = documents.documents_for(session, model, record_id, names)
        deletes.extend(keys)
        docs.extend(found)
    store.write(deletes, docs, ix=ix)
    # The next batch reads the records again, not the objects of this one.
    session.expunge_all()


def _recheck_gaps(store, ix, path, session: Session, gaps: dict, gap_seconds: float) -> int:
    """Apply the gaps whose rows have appeared; forget those known never to commit."""
    if not gaps:
        return 0
    # Taken before the rows are read: a transaction that has ended by now is seen by the read.
    xmin = _snapshot(session, "xmin") if _is_postgresql(session) else None
    ids = sorted(gaps)
    found = []
    for i in range(0, len(ids), 1000):
        found += session.execute(
            select(*_COLUMNS)
            .where(SearchOutbox.id.in_(ids[i : i + 1000]))
            .order_by(SearchOutbox.id)
        ).all()
    for i in range(0, len(found), BATCH):
        _write_rows(store, ix, session, found[i : i + BATCH])
    before = len(gaps)
    for row in found:
        gaps.pop(row.id, None)
    now = time.time()
    for ident, seen in list(gaps.items()):
        if xmin is not None and seen.get("xmax") is not None:
            settled = seen["xmax"] <= xmin
        else:
            settled = now - seen["seen"] > gap_seconds
        if settled:
            del gaps[ident]
    if len(gaps) != before:
        store.set_gaps(gaps, path)
    return len(found)


def _apply_new(store, ix, path, session: Session, gaps: dict, limit: int | None):
    """Apply rows above the position, at most `limit`; (rows applied, whether more are waiting)."""
    position = store.position(path)
    postgresql = _is_postgresql(session)
    applied = 0
    while limit is None or applied < limit:
        size = BATCH if limit is None else min(BATCH, limit - applied)
        rows = session.execute(
            select(*_COLUMNS)
            .where(SearchOutbox.id > position)
            .order_by(SearchOutbox.id)
            .limit(size)
        ).all()
        if not rows:
            return applied, False
        # Taken after the read: the transaction holding a missing id had its xid before that.
        xmax = _snapshot(session, "xmax") if postgresql else None
        seen = {r.id for r in rows}
        now = time.time()
        for ident in range(position + 1, rows[-1].id):
            if ident not in seen:
                gaps[ident] = {"seen": now, "xmax": xmax}
        _write_rows(store, ix, session, rows)
        position = rows[-1].id
        store.set_gaps(gaps, path)
        store.set_position(position, path)
        applied += len(rows)
    more = session.scalar(select(SearchOutbox.id).where(SearchOutbox.id > position).limit(1))
    return applied, more is not None


_recorded: dict[str, tuple] = {}
# How often an unchanged position is written again, to say that the server is still there.
RECORD_SECONDS = 60


def _record_position(
    session: Session, app: Flask, store: IndexStore, path, force: bool = False
) -> None:
    """Write this server's position, low-water mark and the time to `search_position`; commit.
    Skipped when nothing changed since this process wrote it less than RECORD_SECONDS ago."""
    gaps = store.gaps(path)
    state = (store.position(path), store.low(path), len(gaps))
    name = server_id(app)
    last = _recorded.get(name)
    now = time.monotonic()
    if not force and last and last[0] == state and now - last[1] < RECORD_SECONDS:
        return
    values = {
        "position": state[0],
        "low": state[1],
        "gaps": state[2],
        "seen_at": documents.utcnow(),
    }
    table = SearchPosition.__table__
    if not session.execute(update(table).where(table.c.server == name).values(**values)).rowcount:
        session.execute(insert(table).values(server=name, **values))
    session.commit()
    _recorded[name] = (state, now)


@dataclass
class Applied:
    rows: int = 0
    more: bool = False  # rows were left for later (the limit was reached)
    behind: bool = False  # rows this index never applied were pruned: it must be rebuilt


def _apply(app: Flask, timeout: float, limit: int | None) -> Applied:
    store = get_store(app)
    outcome = Applied()
    if store.generation() is None:
        return outcome
    with store.lock(timeout=timeout):
        ix = store.open_index()
        path = store.root / store.generation()
        with Session(db.engine) as session:
            horizon = _pruned_horizon(session) or 0
            if store.low(path) < horizon:
                outcome.behind = True
            else:
                gaps = store.gaps(path)
                outcome.rows = _recheck_gaps(
                    store, ix, path, session, gaps, app.config["SEARCH_GAP_SECONDS"]
                )
                rows, outcome.more = _apply_new(store, ix, path, session, gaps, limit)
                outcome.rows += rows
            _record_position(session, app, store, path)
    if outcome.rows:
        # The commit that wrote these rows advanced the response cache's generation before the
        # index held them: a search page rendered in between must not outlive it.
        caching.bump_generation(app)
    return outcome


def apply_outbox(
    app: Flask | None = None,
    timeout: float = 30.0,
    limit: int | None = None,
    rebuild: str | None = None,
) -> int:
    """Apply the outbox rows this server's index has not seen, and recheck its gaps; return how
    many rows were applied. With `limit`, at most that many new rows now and the rest in a
    background thread. An index behind the pruned horizon is rebuilt instead (`rebuild`:
    "inline" or "background", default SEARCH_REBUILD)."""
    app = app or current_app._get_current_object()
    outcome = _apply(app, timeout, limit)
    if outcome.behind:
        log.warning("search index is behind the pruned outbox; rebuilding it")
        start_rebuild(app, rebuild)
    elif outcome.more:
        start_catch_up(app)
    return outcome.rows


_catching_up: dict[str, threading.Thread] = {}


def start_catch_up(app: Flask) -> None:
    """Apply the rest of the outbox in a thread (one per index and process), a batch per lock."""
    key = str(get_store(app).root)
    thread = _catching_up.get(key)
    if thread is not None and thread.is_alive():
        return

    def run() -> None:
        with app.app_context():
            try:
                while True:
                    outcome = _apply(app, app.config["SEARCH_LOCK_TIMEOUT"], BATCH)
                    if outcome.behind:
                        start_rebuild(app)
                    if not outcome.more or outcome.behind:
                        return
            except LockBusy:
                log.info("index writer busy; the next search or sync goes on catching up")
            except Exception:  # noqa: BLE001 - a thread's failure is logged; the next search retries
                log.exception("catching up with the outbox in the background failed")

    thread = threading.Thread(target=run, name="search-catch-up", daemon=True)
    _catching_up[key] = thread
    thread.start()


def wait_for_catch_up(app: Flask, timeout: float = 60.0) -> None:
    thread = _catching_up.get(str(get_store(app).root))
    if thread is not None:
        thread.join(timeout)


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


def sync_pending(app: Flask | None = None, timeout: float = 30.0, **options) -> dict:
    """Apply the outbox (`options`: apply_outbox's limit and rebuild) and index announcements
    whose scheduled time has come.

    Call it from `flask search sync` (cron) or `flask tick`; searches also check for scheduled
    announcements, at most once a minute per process, so they appear without a scheduler.
    """
    app = app or current_app._get_current_object()
    applied = apply_outbox(app, timeout=timeout, **options)
    return {"applied": applied, "scheduled": _index_due_announcements(app, timeout)}


def _index_due_announcements(app: Flask, timeout: float) -> int:
    store = get_store(app)
    if store.generation() is None:
        return 0
    due = 0
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
    return due


def prune_outbox(days: int = 7) -> int:
    """Delete outbox rows older than `days` days that every server seen in that time has applied.

    The rows deleted are always those up to one id (the pruned horizon, recorded), so a server
    knows from its own low-water mark whether it missed any: then it rebuilds. The newest row is
    kept, so SQLite never hands out an id again.
    """
    cutoff = documents.utcnow() - timedelta(days=days)
    with Session(db.engine) as session:
        horizon = _pruned_horizon(session)
        latest = _latest_outbox_id(session)
        bounds = [latest - 1]
        newer = session.scalar(
            select(func.min(SearchOutbox.id)).where(SearchOutbox.created_at >= cutoff)
        )
        if newer is not None:
            bounds.append(newer - 1)
        lowest = session.scalar(
            select(func.min(SearchPosition.low)).where(
                SearchPosition.server != SearchPosition.PRUNED, SearchPosition.seen_at >= cutoff
            )
        )
        if lowest is not None:
            bounds.append(lowest)
        # A server gone for twice the keeping time is forgotten; if it comes back, the pruned
        # horizon tells it to rebuild.
        session.execute(
            delete(SearchPosition).where(
                SearchPosition.server != SearchPosition.PRUNED,
                SearchPosition.seen_at < cutoff - timedelta(days=days),
            )
        )
        bound = min(bounds)
        if bound <= (horizon or 0):
            session.commit()
            return 0
        result = session.execute(delete(SearchOutbox).where(SearchOutbox.id <= bound))
        table = SearchPosition.__table__
        if horizon is None:
            session.execute(
                insert(table).values(
                    server=SearchPosition.PRUNED, position=bound, low=0, gaps=0, seen_at=cutoff
                )
            )
        else:
            session.execute(
                update(table)
                .where(table.c.server == SearchPosition.PRUNED, table.c.position < bound)
                .values(position=bound, seen_at=documents.utcnow())
            )
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
            gaps = _holes(session, start_position)
            total = documents.count_public(session)
            path = store.new_generation()
            ix = store.create(path)
            progress(f"索引重建：{total} 条公开记录 → {path}")
            writer = _bulk_writer(ix, app)
            count = segments = 0
            try:
                for document in documents.all_documents(session):
                    writer.add_document(**document)
                    count += 1
                    if count % 10000 == 0:
                        progress(f"  {count}/{total}  {time.perf_counter() - started:.1f}s")
                    if _buffer_full(writer):
                        # Write this segment before the posting buffer would spill to disk.
                        writer.commit(merge=False)
                        segments += 1
                        writer = _bulk_writer(ix, app)
            except BaseException:
                writer.cancel()
                raise
            progress(f"  写入磁盘 {count} 条…")
            writer.commit(merge=False)
            segments += 1
        store.set_position(start_position, path)
        store.set_gaps(gaps, path)
        store.set_reconciled_at(documents.utcnow().isoformat(sep=" "), path)
        with store.lock(), Session(db.engine) as session:
            # Changes committed while we were building, and those of transactions still open
            # when it started (the gaps).
            _recheck_gaps(store, ix, path, session, gaps, app.config["SEARCH_GAP_SECONDS"])
            _apply_new(store, ix, path, session, gaps, None)
            store.swap(path)
            _record_position(session, app, store, path, force=True)
    caching.bump_generation(app)  # search pages stored before the swap answered from the old index
    progress(
        f"完成：{count} 条，{segments} 段，用时 {time.perf_counter() - started:.1f}s，"
        f"当前索引 {path.name}"
    )
    return count


def _holes(session: Session, upper: int) -> dict[int, dict]:
    """The outbox ids up to `upper` above the pruned horizon that the session cannot see: rows of
    transactions still open, or of rolled-back ones. A new index starts with them as its gaps."""
    horizon = _pruned_horizon(session)
    if horizon is None:
        horizon = (session.scalar(select(func.min(SearchOutbox.id))) or 1) - 1
    ids = session.scalars(
        select(SearchOutbox.id)
        .where(SearchOutbox.id > horizon, SearchOutbox.id <= upper)
        .order_by(SearchOutbox.id)
    )
    xmax = _snapshot(session, "xmax") if _is_postgresql(session) else None
    now = time.time()
    holes: dict[int, dict] = {}
    expected = horizon + 1
    for ident in ids:
        for missing in range(expected, ident):
            holes[missing] = {"seen": now, "xmax": xmax}
        expected = ident + 1
    return holes


def _bulk_writer(ix, app: Flask):
    """A writer for one segment of a rebuild, postings sorted in memory (docs/search.md, "Full
    reindex").

    A rebuild writes several segments: `reindex_all` commits one whenever the posting buffer is
    nearly full (`_buffer_full`), so the buffer never spills sorted runs to temporary files to be
    merged at the end (at 444,000 documents that spill was 3.6 GB and most of the time). The
    codec skips per-block length statistics: they only serve Whoosh's BM25 block-max
    optimisation, which our engine does not use, and reading every posting's field length back
    from disk was the largest single cost of a commit.
    """
    # lazy: the whoosh3 codec is needed only by a full rebuild's writer
    from whoosh.codec.whoosh3 import W3Codec

    codec = W3Codec()
    codec.length_stats = False
    procs = app.config["SEARCH_REBUILD_PROCS"] or (os.cpu_count() or 1)
    limitmb = app.config["SEARCH_REBUILD_LIMITMB"]
    if procs > 1:
        return ix.writer(procs=procs, limitmb=max(1, limitmb // procs), multisegment=True)
    # Not one compound file: Whoosh reads a compound segment through a memory map and copies
    # each part it opens into a BytesIO, so every worker held a private copy of the postings and
    # stored fields (about 220 MB at 444,000 documents). Separate files are read in place.
    return ix.writer(limitmb=limitmb, codec=codec, compound=False)


# A segment is written when Whoosh's estimate of its posting buffer passes this share of limitmb;
# one document adds well under 1 MB to it, so the buffer never reaches the limit.
BUFFER_SHARE = 0.9


def _buffer_full(writer) -> bool:
    pool = getattr(writer, "pool", None)  # the multiprocess writer has none: it spills as before
    return pool is not None and pool.currentsize > pool.limit * BUFFER_SHARE


_rebuilding: dict[str, threading.Thread] = {}


def ensure_index(app: Flask):
    """The live index, or None after starting a rebuild (background thread, one per process)."""
    store = get_store(app)
    try:
        return store.open_index()
    except IndexUnavailable as error:
        log.warning("search index unavailable (%s); rebuilding", str(error))
    store.forget()
    if start_rebuild(app):
        try:
            return store.open_index()
        except IndexUnavailable:
            return None
    return None


def start_rebuild(app: Flask, mode: str | None = None) -> bool:
    """Rebuild this server's index: during the call with mode "inline", else in a background
    thread (one per index and process). True when an inline rebuild finished."""
    store = get_store(app)
    if (mode or app.config["SEARCH_REBUILD"]) == "inline":
        try:
            reindex_all(progress=log.info, app=app)
            return True
        except Exception:  # noqa: BLE001 - the page says search is unavailable instead of a 500
            log.exception("inline rebuild failed")
            return False
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
    return False


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
    # A query that found nothing, searched again as what it probably meant (search.nearby).
    corrected: str | None = None
    # Records whose number contains the fragment typed, when no number equals it.
    numbers: bool = False

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


_last_check: dict[str, float] = {}


def _catch_up(app: Flask, store: IndexStore) -> None:
    """Apply outbox rows from other servers, and scheduled announcements, without waiting: at most
    SEARCH_CATCH_UP_ROWS new rows during the search, the rest in a background thread."""
    key = str(store.root)
    now = time.monotonic()
    try:
        with Session(db.engine) as session:
            latest = _latest_outbox_id(session)
        if latest > store.position() or store.gaps():
            apply_outbox(app, timeout=0, limit=app.config["SEARCH_CATCH_UP_ROWS"])
        if now - _last_check.get(key, 0) > RECONCILE_SECONDS:
            _last_check[key] = now
            _index_due_announcements(app, timeout=0)
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
    with engine.read_lock:  # one reading thread at a time (threaded workers)
        return _read(ix, parsed, merged, query, sort, page, per_page, results)


def _read(ix, parsed, merged: dict, query: str, sort: str, page: int, per_page: int, results):
    view = engine.view_for(ix)
    if parsed.code and page == 1:
        exact = view.term("code", parsed.code)
        if exact:
            docnum = engine.bits_to_ids(exact)[0]
            results.redirect = _hit(view, docnum, [])
            return results
    outcome = engine.execute(view, parsed, merged, sort, page, per_page)
    if outcome.total == 0 and _near_miss(view, str(ix.storage.folder), query, merged, results):
        return results
    results.total = outcome.total
    results.facets = outcome.facets
    results.notices += [n for n in outcome.notices if n not in results.notices]
    terms = parsed.words + parsed.phrases
    results.hits = [_hit(view, docnum, terms) for docnum in outcome.docnums]
    return results


def _near_miss(view, folder: str, query: str, filters: dict, results: Results) -> bool:
    """Fill `results` with what a query that found nothing probably meant: the records whose
    number contains the fragment typed, or the query with sound-alike characters put right."""
    fragment = analysis.normalize_code(query or "")
    numbers = nearby.numbers_containing(fragment) if results.page == 1 else []
    hits = [
        _hit(view, engine.bits_to_ids(bits)[0], [])
        for _kind, number in numbers
        if (bits := view.term("code", number))
    ]
    if len(hits) == 1:
        results.redirect = hits[0]
        return True
    if hits:
        results.hits, results.total, results.numbers = hits, len(hits), True
        return True
    corrected = nearby.sound_alike_query(view, folder, query or "")
    if corrected is None:
        return False
    again = engine.parse(corrected, view.searcher.schema, divisions_by_code())
    if again.query is None:
        return False
    outcome = engine.execute(view, again, filters, results.sort, results.page, results.per_page)
    if not outcome.total:
        return False
    terms = again.words + again.phrases
    results.corrected = corrected
    results.total, results.facets = outcome.total, outcome.facets
    results.parsed_words = terms
    results.hits = [_hit(view, docnum, terms) for docnum in outcome.docnums]
    return True


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


def _database_now(session: Session) -> datetime:
    """The database's clock on the basis of `created_at` (its server default)."""
    if _is_postgresql(session):
        return session.scalar(select(func.localtimestamp()))
    return session.scalar(select(type_coerce(func.current_timestamp(), DateTime)))


def status(app: Flask | None = None) -> dict:
    """How far this server's index is behind the outbox, and every server's recorded position."""
    app = app or current_app._get_current_object()
    store = get_store(app)
    position = store.position()
    gaps = store.gaps()
    with Session(db.engine) as session:
        now = _database_now(session)
        pending = SearchOutbox.id > position
        if gaps:
            pending = or_(pending, SearchOutbox.id.in_(sorted(gaps)[:1000]))
        rows, oldest = session.execute(
            select(func.count(), func.min(SearchOutbox.created_at)).where(pending)
        ).one()
        servers = []
        for row in session.scalars(
            select(SearchPosition)
            .where(SearchPosition.server != SearchPosition.PRUNED)
            .order_by(SearchPosition.server)
        ):
            behind, since = session.execute(
                select(func.count(), func.min(SearchOutbox.created_at)).where(
                    SearchOutbox.id > row.position
                )
            ).one()
            servers.append(
                {
                    "server": row.server,
                    "position": row.position,
                    "low": row.low,
                    "gaps": row.gaps,
                    "seen_at": row.seen_at,
                    "rows_behind": behind,
                    "seconds_behind": _seconds(now, since),
                }
            )
        return {
            "server": server_id(app),
            "generation": store.generation(),
            "position": position,
            "low": store.low(),
            "gaps": sorted(gaps),
            "latest": _latest_outbox_id(session),
            "rows_behind": rows,
            "seconds_behind": _seconds(now, oldest),
            "pruned_up_to": _pruned_horizon(session) or 0,
            "servers": servers,
        }


def _seconds(now: datetime, since: datetime | None) -> float:
    return max(0.0, (now - since).total_seconds()) if since is not None else 0.0


# ---- checking the index against the database -------------------------------------------------


def _stamp(document: dict, stored: tuple[str, ...]) -> str:
    """A digest of a document's stored fields: equal when the index holds what the database says."""
    values = {k: document[k] for k in stored if document.get(k) not in (None, "")}
    return hashlib.sha1(
        json.dumps(values, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()


def verify(app: Flask | None = None, repair: bool = False, timeout: float = 60.0) -> dict:
    """Compare every document in this server's index with the one the database gives today.

    The outbox is applied first and the write lock is held throughout, so a difference is one
    that the outbox did not carry. `missing`: public records not in the index; `extra`: documents
    of records that are gone or no longer public; `stale`: documents whose stored fields differ.
    With `repair`, those records' documents are written again from the database.
    """
    app = app or current_app._get_current_object()
    store = get_store(app)
    apply_outbox(app, timeout=timeout)
    started = time.perf_counter()
    with store.lock(timeout=timeout):
        ix = store.open_index()
        stored = tuple(name for name, f in ix.schema.items() if f.stored)
        with ix.searcher() as searcher:
            indexed = {d["key"]: _stamp(d, stored) for d in searcher.all_stored_fields()}
        with Session(db.engine) as session:
            wanted = {d["key"]: _stamp(d, stored) for d in documents.all_documents(session)}
            missing = sorted(wanted.keys() - indexed.keys())
            extra = sorted(indexed.keys() - wanted.keys())
            stale = sorted(k for k in wanted.keys() & indexed.keys() if wanted[k] != indexed[k])
            if repair and (missing or extra or stale):
                names = documents.Names(session)
                deletes: list[str] = []
                docs: list[dict] = []
                for key in (*missing, *extra, *stale):
                    model, record_id = key.split(":", 1)
                    keys, found = documents.documents_for(session, model, record_id, names)
                    deletes += [key, *keys]
                    docs += found
                store.write(list(dict.fromkeys(deletes)), docs, ix=ix)
        store.set_verified_at(documents.utcnow().isoformat(sep=" "))
    if repair and (missing or extra or stale):
        caching.bump_generation(app)
    return {
        "documents": len(wanted),
        "indexed": len(indexed),
        "missing": missing,
        "extra": extra,
        "stale": stale,
        "repaired": repair,
        "seconds": round(time.perf_counter() - started, 2),
    }


def verify_when_due(app: Flask) -> dict | None:
    """verify(repair=True) if SEARCH_VERIFY_MINUTES have passed since the last check (for tick)."""
    minutes = app.config["SEARCH_VERIFY_MINUTES"]
    store = get_store(app)
    if not minutes or store.generation() is None:
        return None
    last = store.verified_at()
    if last and documents.utcnow() - datetime.fromisoformat(last) < timedelta(minutes=minutes):
        return None
    return verify(app, repair=True)


def warm(app: Flask) -> dict:
    """Prepare this process for its first search: open the index, build the view's facet and date
    tables, read the common words' postings, then render one search page.
    deploy/gunicorn.conf.py calls it in each new worker, before the worker takes requests.
    Returns what it did, with milliseconds, for the log."""
    started = time.perf_counter()
    done: dict = {}
    with app.test_request_context("/search"):
        store = get_store(app)
        try:
            ix = store.open_index()
        except IndexUnavailable:
            return {"index": "unavailable"}
        with engine.read_lock:
            view = engine.view_for(ix)
            done["view_ms"] = round((time.perf_counter() - started) * 1000)
            done["words"] = view.preload(_common_words())
        done["words_ms"] = round((time.perf_counter() - started) * 1000) - done["view_ms"]
    # One whole search page, as a visitor would ask for it: the segmenter's dictionary, the query
    # parser, and every template the page includes are loaded and compiled here, not by the first
    # visitor (base.html and its macros alone took ≈ 90 ms to compile).
    # Asked of the public host name, which TRUSTED_HOSTS lets through.
    page = app.test_client().get("/search?q=用能权+郑州", base_url=app.config["PUBLIC_BASE_URL"])
    done["page_status"] = page.status_code
    done["total_ms"] = round((time.perf_counter() - started) * 1000)
    return done


def _common_words() -> list[str]:
    """The domain dictionary's words and the division names, as a query would look them up."""
    words: list[str] = []
    lines = analysis.USER_DICT.read_text(encoding="utf-8").splitlines()
    names = [line.split()[0] for line in lines if line.strip()] + list(divisions_by_code().values())
    for name in names:
        words.extend(w for w in analysis.query_words(name) if w not in words)
    return words
