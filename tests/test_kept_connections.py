"""The test suite keeps PostgreSQL connections between tests' apps (tests/conftest.py): a kept
connection must start like a new session, with nothing of the test that used it before."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import make_url


def test_a_kept_connection_starts_as_a_new_session(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL connections only")
    url = make_url(database_url)
    conninfo = f"host={url.host} port={url.port or 5432} dbname={url.database} user={url.username}"
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
