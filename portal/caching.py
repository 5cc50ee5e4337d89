"""Anonymous pages served fast: compression, HTTP caching headers and a shared response cache.

- Compression (Flask-Compress): brotli or gzip by Accept-Encoding for the text types, bodies of at
  least COMPRESS_MIN_SIZE bytes; streamed downloads are compressed as they stream (bounded
  memory); XLSX, PNG and PDF are sent as they are.
- Headers: every anonymous GET/HEAD 200 of a public page gets `Cache-Control: public,
  max-age=CACHE_MAX_AGE` (capped at the next scheduled change) and an ETag, and If-None-Match
  is answered with 304; anything shown to a signed-in user is `no-store`.
- The response cache: whole responses for anonymous visitors, in Redis (CACHE_REDIS_URL) or in
  this process (LRU, bounded in bytes). The key holds every input that changes a page (see
  `key_material`); requests that carry anything else that could (a session) are not served
  from it, and responses that could be personal are never stored. A stored page is sent by
  `FastPath`, a WSGI middleware, before Flask's request machinery runs.
- Invalidation: a generation counter, bumped after any commit that wrote a public table (a
  listener on the engine sees every INSERT/UPDATE/DELETE/TRUNCATE, from the ORM or not) and by
  `flask tick`. The generation is part of the key and of the ETag, so a change is seen at once by
  the next request on every server. Time-driven changes (a scheduled announcement, a 公示 that
  ends, a new day) cap each entry's life and max-age at the next such moment.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import redis
from flask import Flask, current_app, g, request, session
from flask_compress import Compress
from flask_compress.flask_compress import _choose_algorithm
from flask_login import current_user
from sqlalchemy import BigInteger, event, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Request, Response

from portal import i18n, logs, web
from portal.extensions import db

GENERATION_TABLE = "cache_generation"


class CacheGeneration(db.Model):
    """The one row that holds the generation when no Redis is configured (several servers read
    the same database, so they agree on it)."""

    __tablename__ = GENERATION_TABLE

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


_generation_table = CacheGeneration.__table__

# Tables no public page shows: a write to them alone leaves the cache as it is. Accounts, the
# audit log, the search outbox, mail subscriptions, and filings (drafts are autosaved often; what
# the public sees of a filing is written to the public tables — 公示, ledger, compliance records —
# in the same transaction as the decision). Every other table, including new ones, counts.
PRIVATE_TABLES = frozenset(
    {
        GENERATION_TABLE,
        "alembic_version",
        "user_account",
        "recovery_code",
        "access_request",
        "identity_application",
        "identity_document",
        "inbox_notice",
        "audit_event",
        "audit_chain_head",
        "search_outbox",
        "subscription",
        "digest_delivery",
        "filing",
        "filing_version",
        "filing_attachment",
        "filing_event",
        "voluntary_application",
        "retrofit_claim",
        "closure_claim",
        "compliance_filing",
        "project_purchase",
    }
)

# Columns whose moment makes a row public or changes how it shows, without any write: the
# entries made before such a moment live no longer than until it comes.
TIME_DRIVEN = (
    ("announcement", ("published_at", "publicity_starts_at", "publicity_ends_at")),
    ("compliance_period", ("published_at", "publicity_ends_at")),
)

# Response headers kept in a stored entry; the rest belong to one request (X-Request-ID, the rate
# limit's counters, Date) and are added again by the hooks when the entry is served.
_NOT_STORED = frozenset(
    {"set-cookie", "x-request-id", "date", "retry-after"}
    | {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"}
)
# Vary names the key covers; a response that varies on anything else is not stored.
_KEYED_VARY = frozenset({"accept-encoding", "hx-request", "cookie"})
# Cookies that change a public page (language, elderly mode). Every other cookie is ignored, except
# the session's: a request that carries one is neither served nor stored (flash messages, CSRF).
_DML = re.compile(
    r"\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?|MERGE\s+INTO"
    r"|REPLACE\s+INTO)\s+(?:ONLY\s+)?\"?(\w+)",
    re.IGNORECASE,
)
_CTE_WRITE = re.compile(r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\b", re.IGNORECASE)
_WRITE_WORDS = ("INSERT", "UPDATE", "DELETE", "TRUNCATE", "MERGE", "REPLACE")

COMPRESSED_TYPES = [
    "text/html",
    "text/css",
    "text/plain",
    "text/csv",
    "text/xml",
    "text/javascript",
    "application/javascript",
    "application/json",
    "application/problem+json",
    "application/manifest+json",
    "application/schema+json",
    "application/xml",
    "application/atom+xml",
    "application/rss+xml",
    "image/svg+xml",
    "image/x-icon",
]

compress = Compress()


# ---------------------------------------------------------------- stores


@dataclass
class Entry:
    headers: list[tuple[str, str]]
    body: bytes
    expires: float  # epoch seconds
    deadline: float | None  # the next scheduled change, when one caps max-age

    def dump(self) -> bytes:
        head = json.dumps({"h": self.headers, "e": self.expires, "d": self.deadline})
        return head.encode() + b"\n" + self.body

    @classmethod
    def load(cls, raw: bytes) -> Entry:
        head, _, body = raw.partition(b"\n")
        meta = json.loads(head)
        return cls([tuple(h) for h in meta["h"]], body, meta["e"], meta["d"])


class MemoryStore:
    """This process's entries, least recently used dropped first, bounded by their bytes."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.size = 0
        self.entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self.generation = f"m{time.time_ns()}"  # used when the database holds no generation yet
        self.lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self.lock:
            found = self.entries.get(key)
            if found is None:
                return None
            if found[0] <= time.time():
                self._drop(key)
                return None
            self.entries.move_to_end(key)
            return found[1]

    def set(self, key: str, value: bytes, ttl: float) -> None:
        if len(value) > self.max_bytes:
            return
        with self.lock:
            if key in self.entries:
                self._drop(key)
            self.entries[key] = (time.time() + ttl, value)
            self.size += len(value)
            while self.size > self.max_bytes:
                self._drop(next(iter(self.entries)))

    def _drop(self, key: str) -> None:
        _expires, value = self.entries.pop(key)
        self.size -= len(value)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.size = 0


class RedisStore:
    """Entries shared by every worker and server, each with its TTL (Redis evicts by its own
    maxmemory policy; give it one, e.g. allkeys-lru, when the instance is not the cache's alone).
    The pages this worker served lately are also kept in its memory, so that a hit costs one
    round trip (the generation), not two: the generation is in the key, so a copy is never stale."""

    def __init__(self, url: str, prefix: str, local_bytes: int):
        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.generation_key = f"{prefix}:generation"
        self.prefix = prefix
        self.local = MemoryStore(local_bytes)

    def get(self, key: str) -> bytes | None:
        found = self.local.get(key)
        if found is not None:
            return found
        found = self.client.get(key)
        if found is not None:
            expires = json.loads(found.partition(b"\n")[0])["e"]
            self.local.set(key, found, expires - time.time())
        return found

    def set(self, key: str, value: bytes, ttl: float) -> None:
        self.client.set(key, value, px=max(1, int(ttl * 1000)))
        self.local.set(key, value, ttl)

    def clear(self) -> None:
        """Delete every stored page of this prefix (the generation stays)."""
        self.local.clear()
        for key in self.client.scan_iter(match=f"{self.prefix}:page:*", count=1000):
            self.client.delete(key)

    def read_generation(self) -> str:
        return (self.client.get(self.generation_key) or b"0").decode()

    def bump(self) -> None:
        self.client.incr(self.generation_key)


@dataclass
class State:
    """The cache of one app: its store, settings and per-process memo of the next change."""

    store: MemoryStore | RedisStore
    release: str
    prefix: str
    ttl: int
    max_age: int
    max_entry: int
    timezone: ZoneInfo
    engine: Engine
    languages: tuple[str, ...]
    default_locale: str
    cookies: tuple[str, ...]  # the session's and "remember me": a request with one is not served
    log_requests: bool
    deadline_memo: tuple[str, float, float] | None = None  # (generation, computed at, deadline)


def state() -> State:
    return current_app.extensions["portal_cache"]


# ---------------------------------------------------------------- generation


def _redis_url(app: Flask) -> str:
    url = app.config.get("CACHE_REDIS_URL") or ""
    if not url and str(app.config.get("RATELIMIT_STORAGE_URI", "")).startswith(
        ("redis://", "rediss://")
    ):
        url = app.config["RATELIMIT_STORAGE_URI"]
    return url


GENERATION_ENVIRON = "portal.cache.generation"


def current_generation() -> str:
    """The generation this request renders at: read once per request (one Redis GET, or one
    primary-key SELECT), before the request reads anything else."""
    if "cache_generation" not in g:
        read = request.environ.get(GENERATION_ENVIRON)  # by the fast path, for this request
        g.cache_generation = read if read is not None else _read_generation(state())
    return g.cache_generation


def _read_generation(st: State) -> str:
    """Outside the request's session (a connection of its own, returned at once): the rows the
    request reads afterwards are at least as new as the generation."""
    if isinstance(st.store, RedisStore):
        return st.store.read_generation()
    connection = st.engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(f"SELECT value FROM {GENERATION_TABLE} WHERE id = 1")
        row = cursor.fetchone()
        cursor.close()
    finally:
        connection.close()
    return str(row[0]) if row is not None else st.store.generation


def bump_generation(app: Flask | None = None) -> None:
    """Make every stored entry unreachable: the next request of each page renders it anew."""
    app = app or current_app._get_current_object()
    st: State | None = app.extensions.get("portal_cache")
    if st is None:
        return
    if isinstance(st.store, RedisStore):
        st.store.bump()
        return
    table = _generation_table
    with app.app_context(), db.engine.begin() as connection:
        bumped = connection.execute(
            update(table).where(table.c.id == 1).values(value=table.c.value + 1)
        )
        if bumped.rowcount == 0:
            connection.execute(table.insert().values(id=1, value=time.time_ns()))
    st.store.clear()  # this process's own entries go at once; others' key moves on anyway


def _bump_in_database(dbapi_connection) -> None:
    """Advance the generation in a transaction of its own, on a connection just returned to the
    pool (its own transaction committed, then reset)."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"UPDATE {GENERATION_TABLE} SET value = value + 1 WHERE id = 1")
        if cursor.rowcount == 0:
            # The row is gone (every table emptied): start from a value never used before.
            cursor.execute(
                f"INSERT INTO {GENERATION_TABLE} (id, value) VALUES (1, {time.time_ns()})"
            )
        dbapi_connection.commit()
    except Exception:
        dbapi_connection.rollback()
        raise
    finally:
        cursor.close()


def writes_public_data(statement: str) -> bool:
    """Whether an SQL statement may change what a public page shows."""
    head = statement.lstrip()[:8].upper()
    if head.startswith("WITH"):
        # A statement behind a CTE: a write if it holds one (its target is not parsed).
        return bool(_CTE_WRITE.search(statement))
    if not head.startswith(_WRITE_WORDS):
        return False
    if head.startswith("TRUNCATE"):
        return True  # it names several tables: it always counts
    found = _DML.match(statement)
    return (found.group(1).lower() if found else "") not in PRIVATE_TABLES


def _watch_writes(app: Flask, st: State) -> None:
    """Bump the generation after a committed transaction that wrote a public table.

    Each statement is looked at on its way to the database (ORM flushes, bulk statements, Core
    and text SQL alike); the connection is marked, the mark cleared by a rollback, and the bump
    made when the connection goes back to the pool (after its commit).
    """
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _seen(conn, _cursor, statement, _parameters, _context, _executemany):
        if writes_public_data(statement):
            conn.info["cache_dirty"] = True

    @event.listens_for(engine, "rollback")
    def _rolled_back(conn):
        conn.info.pop("cache_dirty", None)

    @event.listens_for(engine, "commit")
    def _committing(conn):
        if conn.info.pop("cache_dirty", None):
            conn.info["cache_committed"] = True

    @event.listens_for(engine, "checkin")
    def _returned(dbapi_connection, record):
        record.info.pop("cache_dirty", None)  # never committed: the pool rolled it back
        if not record.info.pop("cache_committed", None):
            return
        try:
            if isinstance(st.store, RedisStore):
                st.store.bump()
            elif dbapi_connection is not None:
                _bump_in_database(dbapi_connection)
                st.store.clear()
        except Exception:  # noqa: BLE001 — the write has committed; entries expire with CACHE_TTL
            app.logger.exception("could not advance the response cache's generation")


# ---------------------------------------------------------------- time-driven changes


def next_change() -> float:
    """The next moment a public page changes without a write: a scheduled announcement, a 公示
    that starts or ends, the next day in the portal's time zone. Once per generation and process."""
    st = state()
    generation = current_generation()
    now = time.time()
    memo = st.deadline_memo
    if memo and memo[0] == generation and now < memo[2]:
        return memo[2]
    now_dt = datetime.now(st.timezone)
    midnight = (now_dt + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    moments = [midnight.timestamp()]
    naive_utc = datetime.now(UTC).replace(tzinfo=None)
    tables = db.metadata.tables
    firsts = [
        select(func.min(column)).where(column > naive_utc).scalar_subquery()
        for table_name, names in TIME_DRIVEN
        if (table := tables.get(table_name)) is not None
        for column in (table.c[name] for name in names)
    ]
    if firsts:
        found = db.session.execute(select(*firsts)).one()
        moments += [moment.replace(tzinfo=UTC).timestamp() for moment in found if moment]
    deadline = min(moments)
    st.deadline_memo = (generation, now, deadline)
    return deadline


# ---------------------------------------------------------------- the request's side


def locale_of(st: State, web_request: Request) -> str:
    """The language a page is rendered in, as i18n.select_locale() chooses it: `?lang=`, else
    the saved choice, else Chinese. A function of the request alone, so that the WSGI fast path
    keys a request exactly as the app does."""
    requested = i18n.LANGUAGE_ARGUMENTS.get(web_request.args.get("lang", "").strip().lower())
    if requested in st.languages:
        return requested
    saved = web_request.cookies.get(i18n.LOCALE_COOKIE)
    return saved if saved in st.languages else st.default_locale


def _servable(st: State, web_request: Request) -> bool:
    """What the request itself says about eligibility (the endpoint aside)."""
    if web_request.method not in ("GET", "HEAD"):
        return False
    if web_request.path.startswith(web.PRIVATE_PREFIXES) or "Authorization" in web_request.headers:
        return False
    cookies = web_request.cookies
    if any(name in cookies for name in st.cookies):
        return False
    # A `?lang=` link that changes the saved language: its answer sets a cookie.
    requested = i18n.LANGUAGE_ARGUMENTS.get(web_request.args.get("lang", "").strip().lower())
    return not (requested in st.languages and cookies.get(i18n.LOCALE_COOKIE) != requested)


def eligible() -> bool:
    """Whether this request may be answered from the cache and its answer stored."""
    if "cache_eligible" in g:
        return g.cache_eligible
    endpoint = request.endpoint or ""
    g.cache_eligible = (
        bool(endpoint)
        and endpoint != "static"
        and not endpoint.startswith("health.")
        and _servable(state(), request)
    )
    return g.cache_eligible


def _encoding_class(web_request: Request) -> str:
    return (
        _choose_algorithm(
            compress.enabled_algorithms, web_request.headers.get("Accept-Encoding", "")
        )
        or "identity"
    )


def key_material(st: State, web_request: Request) -> str:
    """Everything that changes the answer to an eligible request. Headers and cookies not named
    here are not read by any public page, so they cannot poison an entry."""
    query = urlencode(sorted(web_request.args.items(multi=True)))
    headers = web_request.headers
    return "\x1f".join(
        (
            st.release,
            web_request.scheme,
            web_request.host.lower(),
            web_request.path,
            query,
            locale_of(st, web_request),
            "care" if web_request.cookies.get(web.CARE_COOKIE) == "1" else "",
            headers.get("HX-Request", ""),
            headers.get("HX-Boosted", ""),
            headers.get("HX-History-Restore-Request", ""),
            headers.get("HX-Target", ""),
            _encoding_class(web_request),
            datetime.now(st.timezone).date().isoformat(),
        )
    )


def _entry_key(st: State, web_request: Request, generation: str) -> tuple[str, str]:
    digest = hashlib.sha256(key_material(st, web_request).encode()).hexdigest()
    return f"{st.prefix}:page:{generation}:{digest}", digest


def _key(st: State) -> tuple[str, str]:
    """The entry's key and the weak validator of this page at this generation."""
    generation = current_generation()
    key, digest = _entry_key(st, request, generation)
    deadline = next_change()
    tag = hashlib.sha256(f"{digest}:{generation}:{deadline}".encode()).hexdigest()[:32]
    return key, tag


def _max_age(st: State, deadline: float | None) -> int:
    if deadline is None:
        return st.max_age
    return max(0, min(st.max_age, int(deadline - time.time())))


def _hit(entry: Entry, response_class=Response) -> Response:
    """A stored entry as a response, its max-age capped at the next scheduled change."""
    response = response_class(entry.body, status=200)
    response.headers.clear()
    for name, value in entry.headers:
        response.headers.add(name, value)
    stored = response.cache_control.max_age
    if entry.deadline is not None and stored is not None:
        response.cache_control.max_age = max(0, min(stored, int(entry.deadline - time.time())))
    response.headers["X-Cache"] = "hit"
    return response


def serve_from_cache():
    """before_request: answer an eligible request from the cache, or with 304 when the
    visitor's copy is this generation's."""
    if not eligible():
        return None
    st = state()
    try:
        key, tag = _key(st)
        raw = st.store.get(key)
    except Exception:  # noqa: BLE001 — Redis or the database: render as if uncached
        current_app.logger.warning("response cache unavailable", exc_info=True)
        g.cache_eligible = False
        return None
    g.cache_key, g.cache_tag = key, tag
    if raw is None:
        if request.if_none_match.contains_weak(tag):
            response = current_app.response_class(status=304)
            response.set_etag(tag, weak=True)
            response.vary.update(("Accept-Encoding", "Cookie"))
            response.headers["Cache-Control"] = f"public, max-age={_max_age(st, next_change())}"
            g.cache_hit = True
            return response
        return None
    g.cache_hit = True
    return _hit(Entry.load(raw), current_app.response_class).make_conditional(request)


class FastPath:
    """WSGI middleware in front of Flask: a stored page is sent without the app's request
    machinery (context, session, sign-in, hooks), which costs more than the lookup itself.

    Only what is already stored is served here: an entry exists only for a request the app found
    eligible, keyed by the same function, so the same request is served the same answer. The
    request's own conditions (method, session cookie, Authorization, private areas, a language
    switch) are checked again; the API is left to the app, whose rate limit counts every call.
    A miss goes on to the app, with the generation already read.
    """

    def __init__(self, wsgi_app, st: State):
        self.wsgi_app = wsgi_app
        self.st = st

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD") or environ.get(
            "PATH_INFO", ""
        ).startswith(("/api/", "/static/", "/healthz", "/readyz")):
            return self.wsgi_app(environ, start_response)
        st = self.st
        web_request = Request(environ)
        try:
            if not _servable(st, web_request):
                return self.wsgi_app(environ, start_response)
            generation = _read_generation(st)
            environ[GENERATION_ENVIRON] = generation
            raw = st.store.get(_entry_key(st, web_request, generation)[0])
        except Exception:  # noqa: BLE001 — the app decides, and logs, when the cache fails
            environ.pop(GENERATION_ENVIRON, None)
            return self.wsgi_app(environ, start_response)
        if raw is None:
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        response = _hit(Entry.load(raw))
        offered = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = offered if logs.REQUEST_ID.match(offered) else uuid.uuid4().hex
        response.headers["X-Request-ID"] = request_id
        response.make_conditional(web_request)
        if st.log_requests:
            logs.ACCESS.info(
                "%s %s %s",
                web_request.method,
                web_request.path,
                response.status_code,
                extra={
                    "method": web_request.method,
                    "path": web_request.path,
                    "status": response.status_code,
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                    "endpoint": "cache",
                    "request_id": request_id,
                },
            )
        return response(environ, start_response)


def _personal() -> bool:
    """Whether the answer may hold something of one person's."""
    return (
        current_user.is_authenticated
        or bool(session.modified)
        or "csrf_token" in g
        or request.path.startswith(web.PRIVATE_PREFIXES)
    )


def prepare(response):
    """after_request, first of the app's: validators and Cache-Control, then compression, then
    If-None-Match."""
    if g.get("cache_hit"):
        return response
    # Static files hold nothing personal: they keep the headers assets.py gives them.
    public_file = request.endpoint == "static"
    if request.method in ("GET", "HEAD") and response.status_code == 200 and not public_file:
        if _personal():
            # No cache of any kind keeps it (web.security_headers says the same for pages behind
            # login; this also covers an anonymous page that wrote the session, e.g. a form).
            if not response.cache_control.no_store:
                response.headers["Cache-Control"] = "no-store"
        elif eligible() and "cache_tag" in g:
            control = response.cache_control
            if not (control.private or control.no_store or control.no_cache):
                if response.headers.get("ETag") is None:
                    response.set_etag(g.cache_tag, weak=True)
                if not control.max_age:
                    st = state()
                    control.public = True
                    control.max_age = _max_age(st, next_change())
                response.vary.update(("Accept-Encoding", "Cookie"))
    original = response.response
    response = compress.after_request(response)
    if response.response is not original and hasattr(original, "close"):
        # A compressed stream replaces the body: the file or generator it wrapped still closes.
        response.call_on_close(original.close)
    if (
        request.method in ("GET", "HEAD")
        and response.status_code == 200
        and not response.is_streamed
        and response.headers.get("ETag")
    ):
        response.make_conditional(request)
    return response


def store(response):
    """after_request, last of the app's: keep the finished answer of an eligible request."""
    if g.get("cache_hit") or "cache_key" not in g or not eligible():
        return response
    if not _storable(response):
        return response
    st = state()
    body = response.get_data()
    if len(body) > st.max_entry:
        return response
    deadline = next_change()
    ttl = min(st.ttl, deadline - time.time())
    if ttl <= 0:
        return response
    headers = [(k, v) for k, v in response.headers.items() if k.lower() not in _NOT_STORED]
    entry = Entry(headers, body, time.time() + ttl, deadline)
    try:
        st.store.set(g.cache_key, entry.dump(), ttl)
    except redis.RedisError:
        current_app.logger.warning("response cache unavailable", exc_info=True)
    response.headers["X-Cache"] = "miss"
    return response


def _storable(response) -> bool:
    if response.status_code != 200 or response.is_streamed or response.direct_passthrough:
        return False
    if "Set-Cookie" in response.headers or _personal():
        return False
    control = response.cache_control
    if control.private or control.no_store or control.no_cache or not control.public:
        return False
    return all(name.lower() in _KEYED_VARY for name in response.vary)


# ---------------------------------------------------------------- setup


def release_of(app: Flask) -> str:
    """A digest of the code, templates, catalogs, static files and settings: a new release never
    serves a page another release rendered (a shared Redis outlives deployments)."""
    digest = hashlib.sha256(
        _files_digest(app.root_path, app.config["BABEL_TRANSLATION_DIRECTORIES"]).encode()
    )
    # And the settings (a restart with another SITE_NAME or page size renders other pages).
    for key in sorted(app.config):
        value = app.config[key]
        if isinstance(value, str | int | float | bool | list | tuple | dict | None):
            digest.update(f"{key}={value!r}".encode())
    return digest.hexdigest()[:16]


@functools.cache
def _files_digest(root_path: str, catalogs: str) -> str:
    """The files' part of the release, read once per process: the process runs the code it
    loaded, so a later edit is a new release only after a restart anyway (and an app made again
    in the same process, as the tests do, need not walk the tree again)."""
    root = Path(root_path)
    digest = hashlib.sha256()
    for folder, pattern in ((root, "**/*.py"), (root, "**/*.html"), (root, "static/**/*")):
        for path in sorted(folder.glob(pattern)):
            stat = path.stat()
            digest.update(f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    for path in sorted(Path(catalogs).glob("*/*/*.mo")):
        stat = path.stat()
        digest.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def init_app(app: Flask) -> None:
    """Wire compression and caching. Call last in create_app: the hooks must wrap all others."""
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ["br", "gzip"])
    app.config["COMPRESS_REGISTER"] = False  # prepare() calls it, between headers and 304
    app.config.setdefault("COMPRESS_STREAMS", True)
    compress.init_app(app)

    if not app.config["CACHE_ENABLED"]:
        app.after_request(compress.after_request)
        return
    url = _redis_url(app)
    prefix = app.config["CACHE_KEY_PREFIX"]
    with app.app_context():
        engine = db.engine
    st = State(
        store=(
            RedisStore(url, prefix, app.config["CACHE_MEMORY_MB"] << 20)
            if url
            else MemoryStore(app.config["CACHE_MEMORY_MB"] << 20)
        ),
        release=release_of(app),
        prefix=prefix,
        ttl=app.config["CACHE_TTL"],
        max_age=app.config["CACHE_MAX_AGE"],
        max_entry=app.config["CACHE_MAX_ENTRY_KB"] << 10,
        timezone=ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"]),
        engine=engine,
        languages=tuple(
            code.strip() for code in app.config["LANGUAGES"].split(",") if code.strip()
        ),
        default_locale=app.config["BABEL_DEFAULT_LOCALE"],
        cookies=(
            app.config["SESSION_COOKIE_NAME"],
            app.config.get("REMEMBER_COOKIE_NAME", "remember_token"),
        ),
        log_requests=app.config["LOG_REQUESTS"],
    )
    app.extensions["portal_cache"] = st
    _watch_writes(app, st)

    @app.cli.command("cache-bump")
    def cache_bump_command() -> None:
        """Drop every cached page (after a change made outside the app, e.g. by hand in psql)."""
        bump_generation(app)
        print(f"response cache: generation now {_read_generation(st)}")

    app.before_request(serve_from_cache)
    # Flask runs after_request hooks last-registered first: prepare() before every other hook,
    # store() after them all, so that it keeps the answer as it is sent.
    app.after_request(prepare)
    app.after_request_funcs.setdefault(None, []).insert(0, store)
    # The fast path sits inside ProxyFix, so that it sees the scheme the app sees.
    if isinstance(app.wsgi_app, ProxyFix):
        app.wsgi_app.app = FastPath(app.wsgi_app.app, st)
    else:
        app.wsgi_app = FastPath(app.wsgi_app, st)
