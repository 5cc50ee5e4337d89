"""The test suite keeps PostgreSQL connections between tests' apps (tests/conftest.py): a kept
connection must start like a new session, with nothing of the test that used it before."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import make_url


def _conninfo(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL connections only")
    url = make_url(database_url)
    return f"host={url.host} port={url.port or 5432} dbname={url.database} user={url.username}"


def test_a_kept_connection_starts_as_a_new_session(database_url):
    conninfo = _conninfo(database_url)
    first = psycopg.connect(conninfo)
    server = first.info.backend_pid
    first.execute("SET application_name = 'left-over'")
    first.execute("PREPARE left_over AS SELECT 1")
    first.execute("CREATE TEMP TABLE left_over (x int)")
    first.execute("SELECT pg_advisory_lock(4242)")
    first.commit()
    first.close()

    second = psycopg.connect(conninfo)
    try:
        assert second.info.backend_pid == server, "the connection was not kept"
        assert second.execute("SHOW application_name").fetchone()[0] != "left-over"
        assert second.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()[0] == 0
        assert second.execute("SELECT to_regclass('pg_temp.left_over')").fetchone()[0] is None
        held = (
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
        )
        assert second.execute(held).fetchone()[0] == 0
        assert not second.autocommit
    finally:
        second.close()


def test_statements_psycopg_prepared_still_run_after_the_connection_is_kept_again_and_again(
    database_url,
):
    """psycopg prepares a statement run five times; a reset that deallocated it behind psycopg's
    back made the next run fail ("prepared statement _pg3_0 does not exist")."""
    conninfo = _conninfo(database_url)
    for _round in range(3):
        connection = psycopg.connect(conninfo)
        try:
            for _ in range(6):
                assert connection.execute("SELECT count(*) FROM division").fetchone()[0] > 0
            connection.commit()  # as a pool returns it: no rollback to deallocate them
        finally:
            connection.close()


def test_a_connection_closed_in_its_pool_is_replaced_at_checkout(app, database_url):
    _conninfo(database_url)
    from portal.extensions import db

    with app.app_context():
        with db.engine.connect() as connection:
            pooled = connection.connection.dbapi_connection
            connection.exec_driver_sql("SELECT 1")
        pooled.pgconn.finish()  # closed under the pool, not through it
        assert pooled.closed
        with db.engine.connect() as connection:
            assert connection.connection.dbapi_connection is not pooled
            assert connection.exec_driver_sql("SELECT 1").scalar() == 1
