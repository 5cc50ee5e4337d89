"""Test apps with one database URL share compiled SQL (tests/conftest.py): a statement compiled
for one test's engine is not compiled again for the next, and the SQL it runs is the same."""

from __future__ import annotations

from sqlalchemy import select

from portal import create_app
from portal.accounts.models import User
from portal.extensions import db


def _run_on_new_app(app_config) -> tuple[object, object]:
    app = create_app(app_config)
    with app.app_context():
        statement = select(User.id).where(User.email == "nobody@example.com")
        assert db.session.execute(statement).first() is None
        engine = db.engine
        cache = dict(engine._compiled_cache)
        db.session.remove()
        engine.dispose()
    return engine, cache


def test_a_second_apps_engine_reuses_the_first_ones_compiled_statements(app_config):
    first_engine, first_cache = _run_on_new_app(app_config)
    second_engine, second_cache = _run_on_new_app(app_config)
    assert first_engine is not second_engine
    assert second_engine.dialect is first_engine.dialect
    # Nothing new compiled: the second engine found the statement in the shared cache.
    assert set(second_cache) == set(first_cache)


def test_another_url_gets_a_dialect_and_cache_of_its_own(app_config, tmp_path):
    engine, _cache = _run_on_new_app(app_config)
    other = dict(app_config, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'other.db'}")
    app = create_app(other)
    with app.app_context():
        assert db.engine.dialect is not engine.dialect
        assert db.engine._compiled_cache is not engine._compiled_cache
        db.engine.dispose()
