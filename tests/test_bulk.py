"""portal.bulk: tuples inserted as SQLAlchemy would bind them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import Date, DateTime, Numeric, String
from sqlalchemy.dialects import postgresql, sqlite

from portal.bulk import bind_processor

DATETIMES = [
    datetime(2026, 11, 26, 9, 30),
    datetime(2026, 11, 26, 9, 30, 5, 123456),
    datetime(2021, 1, 4),
    datetime(999, 12, 31, 23, 59, 59, 1),
    datetime(1, 1, 1),
    datetime(9999, 12, 31, 23, 59, 59, 999999),
    datetime(2026, 3, 1, 12, tzinfo=UTC),
    datetime(2026, 3, 1, 12, tzinfo=timezone(timedelta(hours=8))),
    date(2026, 2, 28),
]
DATES = [date(2026, 2, 28), date(5, 1, 9), datetime(2026, 2, 28, 23, 59)]


@pytest.mark.parametrize(
    ("column_type", "values"),
    [(DateTime(), DATETIMES), (Date(), DATES), (Numeric(18, 4), []), (String(), [])],
)
def test_sqlite_fast_path_writes_what_sqlalchemy_writes(column_type, values):
    dialect = sqlite.dialect()
    general = column_type.dialect_impl(dialect).bind_processor(dialect)
    fast = bind_processor(column_type, dialect)
    if general is None:
        assert fast is None
        return
    for value in values:
        assert fast(value) == general(value), value


def test_other_dialects_keep_sqlalchemy_processors():
    dialect = postgresql.psycopg.dialect()
    for column_type in (DateTime(), Date(), Numeric(18, 4)):
        general = column_type.dialect_impl(dialect).bind_processor(dialect)
        fast = bind_processor(column_type, dialect)
        assert (fast is None) == (general is None)


def test_a_custom_storage_format_is_left_to_sqlalchemy():
    dialect = sqlite.dialect()
    custom = sqlite.DATETIME(storage_format="%(year)04d/%(month)02d/%(day)02d")
    value = datetime(2026, 11, 26, 9, 30)
    assert bind_processor(custom, dialect)(value) == "2026/11/26"
