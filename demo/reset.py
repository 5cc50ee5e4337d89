"""Emptying the database, and the checks that keep `flask demo --reset` off a real one.

`empty_tables()` is the one way rows are deleted wholesale: the tests call it after every test and
`--reset` calls it before loading again. `--reset` empties the audit log too, so it runs only on a
development database (by its URL, or DEMO_RESET_ALLOWED) that the demo itself created: the first
demo load into an empty audit log writes a `demo.loaded` entry first, and a reset refuses unless
the log still starts with it.
"""

from __future__ import annotations

import os
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
    1 again. It all runs on the server, in one block: a statement a step, each a round trip, took
    16 ms after a short test."""
    if not names:
        return
    listed = ", ".join(_literal(name) for name in names)  # dependants first
    block = _EMPTY_BLOCK.replace("{names}", listed).replace("{cap}", str(int(TRUNCATE_FROM_ROWS)))
    connection.exec_driver_sql(block.replace("%", "%%"))  # the driver reads % as a placeholder


def _literal(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


# Tables the migrations have not created (a model without a table yet) are skipped.
_EMPTY_BLOCK = """
DO $empty$
DECLARE
  name text;
  found bigint;
  guarded text[];
  emptied text[] := '{}';
  truncated text[] := '{}';
  deleted text[] := '{}';
  sequence text;
BEGIN
  FOREACH name IN ARRAY ARRAY[{names}]::text[] LOOP
    CONTINUE WHEN to_regclass(quote_ident(name)) IS NULL;
    emptied := emptied || name;
    EXECUTE format('SELECT count(*) FROM (SELECT 1 FROM %I LIMIT {cap}) s', name) INTO found;
    CONTINUE WHEN found = 0;
    IF guarded IS NULL THEN
      SELECT coalesce(array_agg(c.relname::text), '{}') INTO guarded
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE NOT t.tgisinternal AND n.nspname = current_schema();
    END IF;
    IF found >= {cap} OR name = ANY (guarded) THEN
      truncated := truncated || name;
    ELSE
      deleted := deleted || name;
    END IF;
  END LOOP;
  IF cardinality(truncated) > 0 THEN
    EXECUTE 'TRUNCATE ' || (SELECT string_agg(quote_ident(t), ', ') FROM unnest(truncated) t)
      || ' RESTART IDENTITY CASCADE';
  END IF;
  FOREACH name IN ARRAY deleted LOOP
    EXECUTE format('DELETE FROM %I', name);
  END LOOP;
  -- Each sequence a remaining table owns that was used since its last restart (a rolled-back
  -- insert leaves no row but moves the sequence).
  FOR sequence IN
    SELECT format('%I.%I', s.schemaname, s.sequencename) FROM pg_sequences s
    JOIN pg_class q ON q.relname = s.sequencename AND q.relkind = 'S'
    JOIN pg_namespace n ON n.oid = q.relnamespace AND n.nspname = s.schemaname
    JOIN pg_depend d ON d.objid = q.oid AND d.deptype IN ('a', 'i')
    JOIN pg_class t ON t.oid = d.refobjid
    WHERE s.schemaname = current_schema() AND s.last_value IS NOT NULL
      AND t.relname::text = ANY (emptied) AND NOT t.relname::text = ANY (truncated)
  LOOP
    PERFORM setval(sequence, 1, false);
  END LOOP;
END
$empty$
"""


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
