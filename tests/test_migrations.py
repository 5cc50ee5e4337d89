"""The migrations build exactly the schema the models describe, on SQLite and on PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from portal.columns import schema_comparison_filter
from portal.extensions import db


def test_models_and_migrations_agree(app):
    with app.app_context(), db.engine.connect() as connection:
        include = schema_comparison_filter(connection.dialect.name)
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": include}
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == [], differences


def test_the_shortfall_order_indexes_are_in_that_order(app):
    """The indexes the comparison leaves out on PostgreSQL (schema_comparison_filter): each exists
    with its columns, and on PostgreSQL the shortfall column is DESC NULLS LAST."""
    from sqlalchemy import inspect

    ordered = [
        index
        for index in db.metadata.tables["compliance_record"].indexes
        if index.dialect_options["postgresql"].get("ops")
    ]
    assert len(ordered) == 4
    with app.app_context(), db.engine.connect() as connection:
        found = {i["name"]: i for i in inspect(connection).get_indexes("compliance_record")}
        for index in ordered:
            assert found[index.name]["column_names"] == [c.name for c in index.columns]
            if connection.dialect.name == "postgresql":
                definition = connection.exec_driver_sql(
                    "SELECT indexdef FROM pg_indexes WHERE indexname = %s", (index.name,)
                ).scalar()
                assert "shortfall DESC NULLS LAST, sort_name, id)" in definition, definition


def test_one_head(app):
    """The migrations have one head, so a plain `flask db upgrade` reaches it."""
    with app.app_context():
        migrate = app.extensions["migrate"]
        config = migrate.migrate.get_config(migrate.directory)
        assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def _revision_module(filename):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "migrations" / "versions" / filename
    spec = importlib.util.spec_from_file_location(f"revision_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_migrations_do_not_import_the_app():
    """A revision keeps its own copy of what it needs, so later edits of portal/ cannot change it."""
    from pathlib import Path

    versions = Path(__file__).resolve().parent.parent / "migrations" / "versions"
    for path in versions.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "from portal" not in text and "import portal" not in text, path.name


def test_first_revision_inserts_the_current_reference_rows(app):
    """0001 holds a copy of the reference rows; it still matches portal/reference/data.py."""
    from portal.reference import data

    revision = _revision_module("0001_foundation.py")
    for name in ("DIVISIONS", "INDUSTRIES", "VARIETIES", "CATEGORIES"):
        assert getattr(revision, name) == getattr(data, name), name


def test_totp_revision_uses_the_app_key(app):
    """0011 encrypts with a copy of the key derivation; the app must open what it wrote."""
    from cryptography.fernet import Fernet

    from portal.accounts.crypto import fernet_for

    revision = _revision_module("0011_identity_totp_claims.py")
    two_keys = f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}"
    with app.app_context():
        for configured in ("", two_keys):
            app.config["TOTP_ENCRYPTION_KEY"] = configured
            token = revision._fernet().encrypt(b"JBSWY3DPEHPK3PXP")
            assert fernet_for(app.config).decrypt(token) == b"JBSWY3DPEHPK3PXP"
