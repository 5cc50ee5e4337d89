"""Bulk inserts of plain tuples, in the session's transaction.

SQLAlchemy's executemany builds and processes a parameter dict per row, which costs more than the
database's own work when a load writes hundreds of thousands of rows. Here the INSERT is compiled
once, each value goes through its column type's bind processor (so the stored values are exactly
the ones SQLAlchemy would bind), and the driver's executemany gets the rows directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager

from sqlalchemy import Table, insert

from portal.extensions import db

CHUNK = 5000


def insert_rows(table: Table, columns: Sequence[str], rows: Sequence[tuple]) -> int:
    """INSERT `rows` (tuples of values in `columns` order) into `table`; return their number.

    No RETURNING and no ORM events: the caller supplies every value it needs to know (ids too,
    when it refers to them), and the rows join the session's current transaction.
    """
    if not rows:
        return 0
    connection = db.session.connection()
    dialect = connection.dialect
    columns = list(columns)
    compiled = insert(table).compile(dialect=dialect, column_keys=columns)
    sql = str(compiled)
    processors = [
        (i, proc)
        for i, name in enumerate(columns)
        if (proc := table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) is not None
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


@contextmanager
def indexes_deferred(tables: Sequence[Table]):
    """Drop the tables' secondary indexes for the duration of a load, then build them again.

    A load that writes hundreds of thousands of rows in random key order pays for every index
    entry as it goes (a page read and written per entry once the index outgrows the cache);
    building an index afterwards sorts its entries once. Unique indexes are built again too, so
    a duplicate still fails the load, at the end. Only for a load into tables nobody else
    is writing (the demo's, into a fresh database), in the caller's transaction.
    """
    connection = db.session.connection()
    dropped = [index for table in tables for index in table.indexes]
    for index in dropped:
        index.drop(connection, checkfirst=True)
    yield
    for index in dropped:
        index.create(connection)
