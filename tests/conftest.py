"""Fixtures (after the Flask tutorial): app, client, runner, db_session.

The schema is built once per run by the real migrations, on SQLite or, with PORTAL_TEST_DB=postgresql,
on the server named by TEST_DATABASE_URL. Under pytest-xdist each worker has a database of its own:
SQLite in the worker's temporary folder, PostgreSQL `<name>_gw0`, `<name>_gw1`… on the same server. After each test every table except the reference data is
emptied, so tests share no state and may commit, as the app does.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import sqlite3
import sys
import traceback
from datetime import date
from pathlib import Path

import psycopg
import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from jinja2 import BytecodeCache
from psycopg import sql as pgsql
from sqlalchemy import create_engine, event, exc, make_url, text
from werkzeug.routing import Rule

from demo.reset import REFERENCE_TABLES, empty_tables
from portal import create_app
from portal.extensions import db
from tests import factories
from tests.demo_copy import put_demo
from tests.factories import (
    TEST_SECRET_KEY,
    AuthActions,
    make_uscc,  # noqa: F401  (a test module imports it from here)
)
from tests.shared_routing import SharedRuleMap


def _database_url(tmp_root: Path) -> str:
    if os.environ.get("PORTAL_TEST_DB") == "postgresql":
        url = os.environ.get("TEST_DATABASE_URL")
        if not url:
            pytest.exit("PORTAL_TEST_DB=postgresql needs TEST_DATABASE_URL", returncode=2)
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return _worker_database(url)
    return f"sqlite:///{tmp_root / 'test.db'}"


def _worker_database(url: str) -> str:
    """The URL of this xdist worker's own database, created on the server if missing; the URL
    itself when the run is not split between workers."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    given = make_url(url)
    name = f"{given.database}_{worker}"
    engine = create_engine(given, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        found = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name})
        if not found:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return given.set(database=name).render_as_string(hide_password=False)


# Each test builds its own app, and with it Werkzeug's two compiled URL builders per rule and every
# template's compiled code: together most of a short test's CPU time. Both depend only on their
# input, so the tests share them across apps. Production builds one app per process and is not
# affected.
_compile_builder = Rule._compile_builder
_builders: dict = {}


def _shared_builder(rule: Rule, append_unknown: bool = True):
    defaults = rule.defaults or {}
    key = (
        rule.rule,
        tuple(rule._trace),
        tuple(sorted((k, repr(v), type(rule._converters.get(k))) for k, v in defaults.items())),
        append_unknown,
    )
    if key not in _builders:
        _builders[key] = _compile_builder(rule, append_unknown)
    return _builders[key]


Rule._compile_builder = _shared_builder

# Parsing a rule (Werkzeug's Rule._parse_rule, a regular expression per part) is most of what
# is left of building an app. Its result depends on the rule and the map's converter classes;
# a later app gets the parts, the trace and copies of the converters, bound to its own map.
_parse_rule = Rule._parse_rule
_parsed: dict = {}


def _shared_parse(rule_object: Rule, rule: str):
    key = (rule, tuple(sorted(rule_object.map.converters.items())))
    found = _parsed.get(key)
    if found is None:
        trace_before = len(rule_object._trace)
        converters_before = set(rule_object._converters)
        parts = list(_parse_rule(rule_object, rule))
        converters = {
            name: converter
            for name, converter in rule_object._converters.items()
            if name not in converters_before
        }
        found = _parsed[key] = (parts, rule_object._trace[trace_before:], converters)
        return iter(parts)
    parts, trace, converters = found
    rule_object._trace.extend(trace)
    for name, converter in converters.items():
        bound = object.__new__(type(converter))  # a shallow copy (copy.copy: 60 µs a call)
        bound.__dict__.update(converter.__dict__, map=rule_object.map)
        rule_object._converters[name] = bound
        rule_object.arguments.add(name)
    return iter(parts)


Rule._parse_rule = _shared_parse

# And the bound rules and the matcher built from them: one set for every app (tests/shared_routing.py).
Flask.url_map_class = SharedRuleMap


class _SharedTemplateCode(BytecodeCache):
    """Compiled templates in memory, keyed by name and checked against the source's checksum."""

    def __init__(self):
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket):
        self.code[bucket.key] = bucket.bytecode_to_string()


_TEMPLATE_CODE = _SharedTemplateCode()
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = _database_url(tmp_path_factory.mktemp("db"))
    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
            # A test database need not survive a crash: commits stop waiting for the disk
            # (about 60 ms each on this machine). It applies to the connections opened after.
            name = make_url(url).database
            conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
        engine.dispose()
    app = create_app(
        {"TESTING": True, "SECRET_KEY": TEST_SECRET_KEY, "SQLALCHEMY_DATABASE_URI": url}
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(directory=str(ROOT / "migrations"))
        db.engine.dispose()
    if url.startswith("sqlite"):
        _keep_sqlite_open(make_url(url).database)
    return url


# In WAL mode the last connection to close checkpoints the log into the database and deletes it:
# 3.6 ms when each test's app closed its connection, a twentieth of a short test. One connection
# kept open for the whole run (idle, no transaction) makes every other close a plain close; the
# log is still checkpointed, by the commit that fills it past 1,000 pages.
_SQLITE_KEEPERS: list = []


def _keep_sqlite_open(path: str) -> None:
    keeper = sqlite3.connect(path)
    keeper.execute("SELECT count(*) FROM sqlite_master").fetchall()
    _SQLITE_KEEPERS.append(keeper)


@pytest.fixture
def app_config(database_url, tmp_path) -> dict:
    """Settings for one test; a test may change them before asking for `app`."""
    return {
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET_KEY,
        "PUBLIC_BASE_URL": "http://localhost",
        "AUDIT_HMAC_KEY": "test-audit-key-0123456789abcdef0123456789",
        # argon2 at production cost made fixture setup take seconds; the timing tests ask for it.
        "PASSWORD_HASHER": "cheapest",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SEARCH_INDEX_DIR": str(tmp_path / "index"),
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
        "ARCHIVE_DIR": str(tmp_path / "archives"),
        "SHARE_IMAGE_DIR": str(tmp_path / "share-images"),
        "RATELIMIT_ENABLED": False,
        "LOG_REQUESTS": False,
        "WTF_CSRF_ENABLED": True,
        "SERVER_NAME": "localhost",
    }


# Every engine an app makes during a test, held until the test ends and then disposed. A test
# that makes an app besides `app` would otherwise leave the engine's pooled connections to the
# garbage collector, whose ResourceWarning (an error here) then fails whichever test is running.
_MADE_ENGINES: list = []
_make_engine = db._make_engine


# A statement compiles to the same SQL for every engine with one URL and the same options, but
# SQLAlchemy keys its compiled-statement cache by the dialect object, and each engine has its own
# cache. A test's new engine would compile every statement again (about a fifth of a short test's
# time). The tests' engines for one URL and options therefore share the first one's dialect and
# cache, as one production process shares its one engine across all its requests. Only a dialect
# that has met the database (its first connection sets it up: server version, schema) is shared.
_SHARED_DIALECTS: dict[str, tuple] = {}  # options → (dialect, compiled-statement cache)


def _make_tracked_engine(bind_key, options, app):
    engine = _make_engine(bind_key, options, app)
    _MADE_ENGINES.append(engine)
    key = repr(sorted((name, repr(value)) for name, value in options.items()))
    shared = _SHARED_DIALECTS.get(key)
    if shared is not None and "server_version_info" in vars(shared[0]):
        engine.dialect, engine._compiled_cache = shared
    else:
        _SHARED_DIALECTS[key] = (engine.dialect, engine._compiled_cache)
    event.listen(engine, "checkout", _refuse_closed_connection)
    return engine


def _refuse_closed_connection(dbapi_connection, _record, _proxy) -> None:
    """A pooled PostgreSQL connection found closed is replaced, and named in the leak file.

    Once in about ten PostgreSQL passes a request met a pooled connection that had been closed.
    The likely path: a test leaks a connection; when it is collected, the pool's finalizer keeps
    it for reuse, then the connection's own finalizer (above) closes it, while it sits among the
    kept ones. A closed one is no longer handed on, and DisconnectionError here makes the pool
    open another for any other path."""
    if getattr(dbapi_connection, "closed", False):
        leaks = os.environ.get("TEST_CONNECTION_LEAKS")
        if leaks:
            with open(leaks, "a", encoding="utf-8") as out:
                test = os.environ.get("PYTEST_CURRENT_TEST", "(no test)")
                out.write(f"== closed in its pool, at checkout: {test}\n")
        raise exc.DisconnectionError("a pooled connection was found closed")


db._make_engine = _make_tracked_engine


# A psycopg connection that reaches the garbage collector still open makes psycopg warn, and the
# warning (an error here) fails whichever test happens to run at that moment. Each connection
# notes the test that opened it; one collected open is closed quietly and named in
# TEST_CONNECTION_LEAKS (a file), so the leak is found where it happens, not by chance.
_connect = psycopg.Connection.connect.__func__
_connection_del = psycopg.Connection.__del__


def _connect_noting_test(cls, *args, **kwargs):
    # `context` is each engine's copy of the same adapters (the dialect's); the rest says where.
    key = repr((args, sorted((k, v) for k, v in kwargs.items() if k != "context")))
    idle = _IDLE_CONNECTIONS.get(key, [])
    connection = None
    while connection is None:
        try:
            connection = idle.pop()
        except IndexError:  # none idle (or another thread took the last)
            connection = _connect(cls, *args, **kwargs)
            break
        connection._idle = False
        if connection.closed or connection.broken:
            connection = None
    connection._reuse_key = key
    stack = "".join(traceback.format_stack(limit=16)[:-1])
    connection._opened_by = (os.environ.get("PYTEST_CURRENT_TEST", "(no test)"), stack)
    return connection


# Each test's app has an engine of its own, disposed at the end of the test. A new PostgreSQL
# connection starts a server process whose catalogue caches are cold: its first statements on
# each of the ~50 tables cost 20–30 ms a test. A connection its pool closes is therefore kept,
# reset to a new session's state (settings, temporary tables, locks, prepared statements but
# psycopg's own), and handed to the next connect with the same arguments.
_IDLE_CONNECTIONS: dict[str, list[psycopg.Connection]] = {}
_KEEP_IDLE = 8
# What DISCARD ALL does but DISCARD PLANS and DEALLOCATE ALL. The plans of the foreign-key checks
# stay (replanning them made emptying user_account 10 ms). psycopg's own prepared statements stay
# too, in step with its record of them (it deallocates them itself on a rollback; a DEALLOCATE ALL
# it has seen before it does not notice, and then asks for statements that are gone); any other
# prepared statement is deallocated.
_SESSION_RESETS = (
    "CLOSE ALL",
    "SET SESSION AUTHORIZATION DEFAULT",
    "RESET ALL",
    "UNLISTEN *",
    "SELECT pg_advisory_unlock_all()",
    "DISCARD TEMP",
    "DISCARD SEQUENCES",
)
_FOREIGN_STATEMENTS = "SELECT name FROM pg_prepared_statements WHERE name NOT LIKE '\\_pg3\\_%'"
_close = psycopg.Connection.close


def _close_to_idle(self) -> None:
    if getattr(self, "_idle", False):
        return  # closed again while kept: kept once, or two engines would share it
    key = getattr(self, "_reuse_key", None)  # None: opened before the conftest's patch
    idle = _IDLE_CONNECTIONS.setdefault(key, []) if key else []
    if key is None or self.closed or self.broken or len(idle) >= _KEEP_IDLE:
        _close(self)
        return
    try:
        self.rollback()
        self.autocommit = True
        self.execute("; ".join(_SESSION_RESETS))  # one round trip (no parameters: allowed)
        for (name,) in self.execute(_FOREIGN_STATEMENTS).fetchall():
            self.execute(pgsql.SQL("DEALLOCATE {}").format(pgsql.Identifier(name)))
        self.autocommit = False
        self.isolation_level = self.read_only = self.deferrable = None
    except psycopg.Error:
        _close(self)
        return
    self._idle = True
    idle.append(self)


def _collect_connection(self, *args) -> None:
    if hasattr(self, "pgconn") and not self.closed and not hasattr(self, "_pool"):
        test, stack = getattr(self, "_opened_by", ("?", ""))
        leaks = os.environ.get("TEST_CONNECTION_LEAKS")
        if leaks:
            with open(leaks, "a", encoding="utf-8") as out:
                out.write(f"== {test}\n{stack}\n")
        with contextlib.suppress(Exception):
            _close(self)
    _connection_del(self, *args)


psycopg.Connection.connect = classmethod(_connect_noting_test)
psycopg.connect = psycopg.Connection.connect  # the module's alias, which SQLAlchemy calls
psycopg.Connection.__del__ = _collect_connection
psycopg.Connection.close = _close_to_idle


def pytest_sessionfinish(session, exitstatus):
    while _SQLITE_KEEPERS:
        _SQLITE_KEEPERS.pop().close()
    for idle in _IDLE_CONNECTIONS.values():
        while idle:
            _close(idle.pop())


@pytest.fixture(autouse=True)
def _dispose_engines():
    yield
    while _MADE_ENGINES:
        _MADE_ENGINES.pop().dispose()


@pytest.fixture
def app(app_config):
    """The app, with no context pushed: each test-client request gets its own, as in production
    (a shared context would share `g`, and with it the logged-in user and the locale)."""
    app = create_app(app_config)
    app.jinja_env.bytecode_cache = _TEMPLATE_CODE
    yield app
    with app.app_context():
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


@pytest.fixture
def ctx(app):
    """An application context, for tests that call services directly. Do not mix with `client`
    requests inside the same `with`: use `with app.app_context():` blocks for that."""
    with app.test_request_context():
        yield app
        db.session.remove()


def _empty_tables() -> None:
    """Empty every table but the reference data: the same function as `flask demo --reset`."""
    with db.engine.begin() as conn:
        empty_tables(conn, db.metadata, keep=REFERENCE_TABLES)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def csrf_token(client):
    """Fetch a page and return the CSRF token it carries, as a browser would."""

    def get(path: str = "/accounts/login") -> str:
        html = client.get(path).get_data(as_text=True)
        token = factories.csrf_token_in(html)
        assert token, f"no CSRF token on {path}"
        return token

    return get


# ---------------------------------------------------------------- signing in


@pytest.fixture
def auth(app, client):
    return AuthActions(app, client)


@pytest.fixture
def users(app):
    """Back-office users of each role, committed: city 郑州 and 洛阳, province, auditor, editor, supervisor."""
    with app.app_context():
        firm = factories.audit_firm("审核机构甲")
        made = {
            "city": factories.make_user("city", division="410100"),
            "city_other": factories.make_user("city", division="410300"),
            "province": factories.make_user("province"),
            "auditor": factories.make_user("auditor", audit_firm_id=firm.id),
            "editor": factories.make_user("editor"),
            "supervisor": factories.make_user("supervisor"),
            "no_totp": factories.make_user("province", totp=False),
        }
        db.session.commit()
        ids = {key: user.id for key, user in made.items()}
    return ids


@pytest.fixture
def sign_in(app, client):
    """sign_in(user_id) signs the test client in as that user (say, one from `users`)."""

    def do(user_id: int):
        from portal.accounts.models import User

        with app.app_context():
            factories.login(client, db.session.get(User, user_id))

    return do


@pytest.fixture
def count_queries(app):
    """count_queries(fn) runs fn and returns the SQL statements it sent through the app's engine."""
    from sqlalchemy import event

    def count(fn) -> list[str]:
        with app.app_context():
            engine = db.engine
        statements: list[str] = []

        def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", before_cursor_execute)
        try:
            fn()
        finally:
            event.remove(engine, "before_cursor_execute", before_cursor_execute)
        return statements

    return count


@pytest.fixture
def public_records(app):
    """One of each public record (listing, trade, compliance year), so every public page renders."""
    with app.app_context():
        zz = factories.enterprise("示例郑州豫能化工有限公司", "410100", "chemical")
        hb = factories.enterprise("示例鹤壁新材建材有限公司", "410600", "building")
        listing = factories.listing(zz, starts_on=date(2025, 1, 5), ends_on=date(2025, 2, 5))
        factories.trade(hb, zz, listing, trade_date=date(2025, 1, 20))
        factories.period(2024)
        factories.compliance(zz, 2024, "on_time")
        db.session.commit()


@pytest.fixture
def compiled_catalogs():
    """Compile the catalogs when a .mo is missing or older than its .po, as `make` would."""
    for po in sorted((ROOT / "translations").glob("*/LC_MESSAGES/messages.po")):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as source:
                catalog = read_po(source, abort_invalid=True)
            # Written beside and renamed into place: another xdist worker may be reading it.
            partial = mo.with_name(f"{mo.name}.{os.getpid()}")
            with partial.open("wb") as out:
                write_mo(out, catalog)
            os.replace(partial, mo)


@pytest.fixture
def demo_data(app, tmp_path_factory):
    """The demo data set (`flask demo`) in the test's database and folders: loaded by the first
    test of a worker, a copy of those rows and files after (tests/demo_copy.py)."""
    put_demo(app, tmp_path_factory.mktemp("demo-files"))


# The modules with the longest tests (the fuzzer's form walk, 10–14 s; each demo load, 1–2 s) run
# first: run last, as their place in the tree had them, one xdist worker finished up to 6 s
# before the other and waited.
LONGEST_FIRST = ("tests/security/test_fuzz.py", "tests/test_demo.py")


def pytest_collection_modifyitems(config, items):
    """The longest modules first; and `make test` collects the browser tests from tests/browser
    only, so one marked elsewhere would never run there."""
    browser = ROOT / "tests" / "browser"
    misplaced = [
        item.nodeid
        for item in items
        if item.get_closest_marker("browser") and not item.path.is_relative_to(browser)
    ]
    if misplaced:
        raise pytest.UsageError(f"browser tests outside tests/browser: {misplaced}")
    first = [ROOT / name for name in LONGEST_FIRST]
    items.sort(key=lambda item: 0 if item.path in first else 1)  # stable: the rest keep order


# An xdist worker whose tests are done and reported ends at once: tearing down its interpreter
# (every module and object of thousands of test apps) kept the run waiting about 3 s. By then
# pytest has cleaned up (its last collection for unraisable exceptions included) and the exit
# handlers registered after this module ran; those registered before it (the standard library's,
# such as logging's flush, whose handlers here write each record as it comes) are skipped.
def _end_worker_at_once() -> None:
    if os.environ.get("PYTEST_XDIST_WORKER"):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


atexit.register(_end_worker_at_once)


def pytest_collection_finish(session):
    """Python's collector walked every object of the imported portal and its libraries again and
    again (a test allocates in the hundreds of thousands): a fifth of the suite's time. What exists
    once the tests are collected is kept out of its walks, and it runs less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
