"""Bulk inserts of plain tuples, in the session's transaction.

SQLAlchemy's executemany builds and processes a parameter dict per row, which costs more than the
database's own work when a load writes hundreds of thousands of rows. Here the INSERT is compiled
once, each value goes through its column type's bind processor (so the stored values are exactly
the ones SQLAlchemy would bind), and the driver's executemany gets the rows directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager
from datetime import date, datetime

from sqlalchemy import Table, insert
from sqlalchemy.dialects import sqlite

from portal.extensions import db

CHUNK = 5000


def insert_rows(
    table: Table, columns: Sequence[str], rows: Sequence[tuple], connection=None
) -> int:
    """INSERT `rows` (tuples of values in `columns` order) into `table`; return their number.

    No RETURNING and no ORM events: the caller supplies every value it needs to know (ids too,
    when it refers to them), and the rows join the current transaction: the given connection's,
    or the session's.
    """
    if not rows:
        return 0
    if connection is None:
        connection = db.session.connection()
    dialect = connection.dialect
    columns = list(columns)
    compiled = insert(table).compile(dialect=dialect, column_keys=columns)
    sql = str(compiled)
    processors = [
        (i, proc)
        for i, name in enumerate(columns)
        if (proc := bind_processor(table.c[name].type, dialect)) is not None
    ]
    if compiled.positional:
        order = [columns.index(name) for name in compiled.positiontup]
        natural = order == list(range(len(columns)))
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        if processors:
            processed = []
            for row in chunk:
                row = list(row)
                for i, proc in processors:
                    value = row[i]
                    if value is not None:
                        row[i] = proc(value)
                processed.append(row)
        else:
            processed = chunk
        if compiled.positional:
            params = (
                [tuple(row) for row in processed]
                if natural
                else [tuple(row[i] for i in order) for row in processed]
            )
        else:
            params = [dict(zip(columns, row, strict=True)) for row in processed]
        connection.exec_driver_sql(sql, params)
    return len(rows)


def bind_processor(column_type, dialect):
    """The column type's bind processor, with a faster path for SQLite's dates and datetimes.

    SQLAlchemy writes them through a %-format of a dict of their fields; a load binds millions.
    For a naive datetime (or a plain date) and the default storage format, `isoformat` writes
    the same text (tests/test_bulk.py compares the two); anything else takes SQLAlchemy's own.
    """
    impl = column_type.dialect_impl(dialect)
    general = impl.bind_processor(dialect)
    if general is None or dialect.name != "sqlite":
        return general
    if isinstance(impl, sqlite.DATETIME) and impl._storage_format == _SQLITE_DATETIME:

        def process_datetime(value):
            if type(value) is datetime and value.tzinfo is None:
                return value.isoformat(" ", "microseconds")
            return general(value)

        return process_datetime
    if isinstance(impl, sqlite.DATE) and impl._storage_format == _SQLITE_DATE:

        def process_date(value):
            if type(value) is date:
                return value.isoformat()
            return general(value)

        return process_date
    return general


_SQLITE_DATETIME = sqlite.DATETIME._storage_format
_SQLITE_DATE = sqlite.DATE._storage_format


@contextmanager
def indexes_deferred(tables: Sequence[Table]):
    """Drop the tables' secondary indexes for the duration of a load, then build them again.

    A load that writes hundreds of thousands of rows in random key order pays for every index
    entry as it goes (a page read and written per entry once the index outgrows the cache);
    building an index afterwards sorts its entries once. Unique indexes are built again too, so
    a duplicate still fails the load, at the end. Only for a load into tables nobody else
    is writing (the demo's, into a fresh database), in the caller's transaction.

    Yields a DeferredIndexes: `build(table)` builds a table's indexes as soon as its rows are in.
    """
    deferred = DeferredIndexes(db.session.connection(), tables)
    yield deferred
    deferred.build_all()


class DeferredIndexes:
    """The dropped indexes of a load's tables, by table, until each is built again."""

    def __init__(self, connection, tables: Sequence[Table]):
        self.connection = connection
        self.pending = {table.name: list(table.indexes) for table in tables}
        for indexes in self.pending.values():
            for index in indexes:
                index.drop(connection, checkfirst=True)

    def build(self, table: Table) -> None:
        for index in self.pending.pop(table.name, ()):
            index.create(self.connection)

    def build_all(self) -> None:
        for indexes in self.pending.values():
            for index in indexes:
                index.create(self.connection)
        self.pending.clear()
