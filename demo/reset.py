"""Emptying the database, and the checks that keep `flask demo --reset` off a real one.

`empty_tables()` is the one way rows are deleted wholesale: the tests call it after every test and
`--reset` calls it before loading again. `--reset` empties the audit log too, so it runs only on a
development database (by its URL, or DEMO_RESET_ALLOWED) that the demo itself created: the first
demo load into an empty audit log writes a `demo.loaded` entry first, and a reset refuses unless
the log still starts with it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import click
from sqlalchemy import Connection, MetaData, inspect, make_url, select
from sqlalchemy import text as sql

from portal.audit.models import AuditEvent
from portal.audit.services import record_event
from portal.config import instance_dir

REFERENCE_TABLES = frozenset({"division", "industry", "variety", "category", "alembic_version"})
MARKER_ACTION = "demo.loaded"
# Database names that say "not production": portal_dev, portal_test, test, …
DEVELOPMENT_SUFFIXES = ("_dev", "-dev", "_test", "-test")
DEVELOPMENT_NAMES = {"dev", "test"}
TRUE_WORDS = {"1", "true", "yes", "on"}


def empty_tables(connection: Connection, metadata: MetaData, keep=REFERENCE_TABLES) -> None:
    """Delete every row of every table but `keep`, inside the connection's transaction.

    Only tables that the migrations have created: a feature may have models but no table yet.
    """
    tables = [t for t in reversed(metadata.sorted_tables) if t.name not in keep]  # dependants first
    if connection.dialect.name == "postgresql":
        _empty_postgresql(connection, [t.name for t in tables])
        return
    present = set(inspect(connection).get_table_names())
    tables = [t for t in tables if t.name in present]
    if not tables:
        return
    # One statement finds the tables with rows; a DELETE for each of the ~50 tables, most of
    # them empty after a test, cost 13 ms.
    filled = tables_with_rows(connection, [t.name for t in tables])
    for table in tables:
        if table.name in filled:
            connection.execute(table.delete())


# From this many rows a PostgreSQL table is truncated rather than deleted from.
TRUNCATE_FROM_ROWS = 5000


def _empty_postgresql(connection: Connection, names: list[str]) -> None:
    """TRUNCATE makes new files for a table and each of its indexes: about 6 ms a table even when
    it is empty, most of a short test's time. DELETE costs less while a table is small. A large
    table (the demo at --scale) is truncated, and so is one whose triggers refuse a DELETE (the
    append-only ledger: TRUNCATE fires no row trigger). Either way the used id sequences start at
    1 again.

    Two round trips: one statement finds the tables holding rows and the sequences used since
    their last restart (a rolled-back insert leaves no row but moves its sequence), and one
    empties them. The first keeps its text from call to call, so the driver prepares it and the
    server plans it once per connection. A server-side block with a query per table (planned
    each time) took 4.8 ms after a short test; this takes 1.4 ms (0.5 ms when nothing was
    written)."""
    schema = _schema(connection, tuple(names))
    if not schema.tables:
        return
    found = connection.exec_driver_sql(schema.probe).all()
    counts = {name: rows for kind, name, rows in found if kind == "t"}
    used = [name for kind, name, _ in found if kind == "s"]
    truncated = [
        name
        for name in schema.tables
        if name in counts and (counts[name] >= TRUNCATE_FROM_ROWS or name in schema.guarded)
    ]
    statements = []
    if truncated:
        listed = ", ".join(_identifier(name) for name in truncated)
        statements.append(f"TRUNCATE {listed} RESTART IDENTITY CASCADE")
    statements += [
        f"DELETE FROM {_identifier(name)}"
        for name in schema.tables
        if name in counts and name not in truncated
    ]
    statements += [
        f"SELECT setval({_literal(sequence)}, 1, false)"
        for sequence in used
        if schema.sequences[sequence] not in truncated
    ]
    if statements:
        connection.exec_driver_sql("; ".join(statements))


@dataclass(frozen=True)
class _Schema:
    tables: list[str]  # those of the names that exist, dependants first
    guarded: frozenset[str]  # tables with triggers of their own
    sequences: dict[str, str]  # sequence → the table owning it
    probe: str  # the statement finding the tables with rows and the used sequences


# The catalog read once per database, list of tables and row cap (the probe counts up to it): the
# schema does not change while the process runs (the migrations run before).
_SCHEMAS: dict[tuple, _Schema] = {}

_CATALOG = """
SELECT 'table', c.relname::text, NULL FROM pg_class c
  WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
    AND c.relname::text = ANY (%(names)s)
UNION ALL
SELECT DISTINCT 'guarded', c.relname::text, NULL FROM pg_trigger t
  JOIN pg_class c ON c.oid = t.tgrelid
  WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace
    AND c.relname::text = ANY (%(names)s)
UNION ALL
SELECT 'sequence', t.relname::text, format('%%I.%%I', n.nspname, q.relname)
  FROM pg_class q
  JOIN pg_namespace n ON n.oid = q.relnamespace
  JOIN pg_depend d ON d.objid = q.oid AND d.deptype IN ('a', 'i')
  JOIN pg_class t ON t.oid = d.refobjid
  WHERE q.relkind = 'S' AND q.relnamespace = current_schema()::regnamespace
    AND t.relname::text = ANY (%(names)s)
"""


def _schema(connection: Connection, names: tuple[str, ...]) -> _Schema:
    cap = int(TRUNCATE_FROM_ROWS)
    key = (connection.engine.url.render_as_string(hide_password=False), names, cap)
    if key in _SCHEMAS:
        return _SCHEMAS[key]
    present, guarded, sequences = set(), set(), {}
    for kind, table, sequence in connection.exec_driver_sql(_CATALOG, {"names": list(names)}):
        if kind == "table":
            present.add(table)
        elif kind == "guarded":
            guarded.add(table)
        else:
            sequences[sequence] = table
    tables = [name for name in names if name in present]
    probe = [
        f"SELECT 't', {_literal(name)}, (SELECT count(*) FROM (SELECT 1 FROM {_identifier(name)}"
        f" LIMIT {cap}) s) WHERE EXISTS (SELECT 1 FROM {_identifier(name)})"
        for name in tables
    ] + [
        f"SELECT 's', {_literal(sequence)}, 0"
        f" WHERE pg_sequence_last_value({_literal(sequence)}::regclass) IS NOT NULL"
        for sequence in sequences
    ]
    schema = _Schema(tables, frozenset(guarded), sequences, " UNION ALL ".join(probe))
    _SCHEMAS[key] = schema
    return schema


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def tables_with_rows(connection: Connection, names: list[str]) -> set[str]:
    """The tables of `names` that hold a row, in one statement (on PostgreSQL a fifth of the time
    of counting them, which plans a subquery per table)."""
    found = " UNION ALL ".join(
        f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM \"{name}\")" for name in names
    )
    return set(connection.scalars(sql(found)))


def is_development_url(url: str, instance_dirs: list[Path]) -> bool:
    """A SQLite file under the instance folder, or a database whose name ends in _dev or _test."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            return True
        path = Path(parsed.database).resolve()
        if any(path.is_relative_to(folder.resolve()) for folder in instance_dirs):
            return True
        name = path.stem
    else:
        name = parsed.database or ""
    name = name.lower()
    return name in DEVELOPMENT_NAMES or name.endswith(DEVELOPMENT_SUFFIXES)


def reset_allowed_by_setting(app) -> bool:
    """DEMO_RESET_ALLOWED, in the app's config or the environment."""
    if app.config.get("DEMO_RESET_ALLOWED") is True:
        return True
    return os.environ.get("DEMO_RESET_ALLOWED", "").strip().lower() in TRUE_WORDS


def check_development_database(app) -> None:
    """Refuse (a ClickException, exit status 1) unless the configured database is a development one."""

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    folders = [Path(app.instance_path), instance_dir()]
    if is_development_url(url, folders) or reset_allowed_by_setting(app):
        return
    shown = make_url(url).render_as_string(hide_password=True)
    raise click.ClickException(
        f"Refusing to reset {shown}: it does not look like a development database. --reset deletes "
        "every row, the audit log included, so it runs only on a SQLite file under the instance "
        "folder or a database whose name ends in _dev or _test. To reset another database you are "
        "sure is disposable, set DEMO_RESET_ALLOWED=1."
    )


def demo_created_database(session) -> bool:
    """True when the audit log starts with the demo's marker (written by its first load)."""

    first = session.scalar(select(AuditEvent.action).order_by(AuditEvent.id).limit(1))
    return first == MARKER_ACTION


def check_demo_database(session) -> None:
    """Refuse unless the demo created this database, so a reset never erases a real audit log."""
    if demo_created_database(session):
        return
    raise click.ClickException(
        "Refusing to reset: this database was not created by `flask demo` (its audit log does not "
        f"start with the {MARKER_ACTION!r} entry), so emptying it would destroy a real audit log. "
        "Load the demo into a new, empty database instead (flask db upgrade, then flask demo)."
    )


def write_marker(session, seed: int, scale: int | None) -> bool:
    """Mark the database as the demo's: only when its audit log is empty. Returns whether it did."""

    if session.scalar(select(AuditEvent.id).limit(1)) is not None:
        return False
    record_event(
        MARKER_ACTION,
        "database",
        "demo",
        after={"seed": seed, "scale": scale},
        remark="演示数据库：由 flask demo 创建，可用 flask demo --reset 清空重建",
    )
    return True
