"""The demo data set for tests that read it: loaded once per worker and database, copied after.

`flask demo` generates about 20,000 rows, builds the indexes again after the bulk insert and
analyses the database: 1.3 s on SQLite and 2.4 s on PostgreSQL, for each test that needed the
demo. The first such test in a worker loads it with `load_demo`, as the command does; its rows and
the files it wrote (uploads, outbox mails) are kept in memory and in a folder. A later test gets
the same rows inserted as they were, ids included, and the files copied back. tests/test_demo.py
tests the load itself, and loads it for real each time.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Integer, Table, inspect, select, text

from demo.data import load_demo
from demo.reset import REFERENCE_TABLES, tables_with_rows
from portal.caching import GENERATION_TABLE
from portal.extensions import db

# Not the demo's: the response cache's generation, which the copy's own writes move on.
NOT_COPIED = {*REFERENCE_TABLES, GENERATION_TABLE}

# The folders the load writes files to.
FOLDERS = ("UPLOAD_DIR", "MAIL_OUTBOX_DIR")


@dataclass
class DemoCopy:
    rows: list[tuple[Table, list[dict]]]
    files: Path


_COPIES: dict[tuple, DemoCopy] = {}


def put_demo(app, files_root: Path) -> None:
    """Put the demo data set in `app`'s database and folders: loaded the first time for this
    database and settings, a copy of that load after."""
    config = app.config
    key = (config["SQLALCHEMY_DATABASE_URI"], config["PUBLIC_BASE_URL"], config["AUDIT_HMAC_KEY"])
    with app.app_context():
        copy = _COPIES.get(key)
        if copy is None:
            load_demo(echo=lambda *_args, **_kw: None)
            with db.engine.connect() as connection:
                rows = table_rows(connection)
            for name in FOLDERS:
                if Path(config[name]).exists():
                    shutil.copytree(config[name], files_root / name, dirs_exist_ok=True)
            _COPIES[key] = DemoCopy(rows, files_root)
            return
        with db.engine.begin() as connection:
            insert_rows(connection, copy.rows)
        for name in FOLDERS:
            if (copy.files / name).exists():
                shutil.copytree(copy.files / name, config[name], dirs_exist_ok=True)


def table_rows(connection: Connection) -> list[tuple[Table, list[dict]]]:
    """Every row of every table but the reference data and the cache generation, tables in
    foreign-key order and rows in key order (a ledger entry may name an earlier one)."""
    present = set(inspect(connection).get_table_names())
    tables = [
        table
        for table in db.metadata.sorted_tables
        if table.name in present and table.name not in NOT_COPIED
    ]
    filled = tables_with_rows(connection, [table.name for table in tables])
    copied = []
    for table in tables:
        if table.name not in filled:
            continue
        keys = [column.key for column in table.columns]
        query = select(table).order_by(*table.primary_key.columns)
        rows = [dict(zip(keys, row, strict=True)) for row in connection.execute(query)]
        copied.append((table, rows))
    return copied


def insert_rows(connection: Connection, copied: list[tuple[Table, list[dict]]]) -> None:
    """Insert the rows as they were; on PostgreSQL, move each id sequence past the highest id."""
    for table, rows in copied:
        connection.execute(table.insert(), rows)
    if connection.dialect.name != "postgresql":
        return
    for table, rows in copied:
        key = list(table.primary_key.columns)
        if len(key) == 1 and isinstance(key[0].type, Integer):
            connection.execute(
                text("SELECT setval(pg_get_serial_sequence(:table, :column), :value)"),
                {
                    "table": table.name,
                    "column": key[0].name,
                    "value": max(row[key[0].key] for row in rows),
                },
            )
