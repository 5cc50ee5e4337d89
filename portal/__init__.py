"""河南省用能权交易公开门户: the application factory."""

from __future__ import annotations

import importlib
import importlib.util
import logging

from flask import Flask

from portal.config import from_environment

# One package per feature (STYLE.md). Each exposes `bp`; its models module, if any, is imported
# here so that Alembic and the ORM see every table.
FEATURES = (
    "main",
    "reference",
    "enterprises",
    "disclosure",
    "opendata",
    "news",
    "search",
    "accounts",
    "filings",
    "review",
    "registry",
    "publicity",
    "editorial",
    "audit",
)


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(from_environment())
    if config:
        app.config.update(config)
        if "DATABASE_URL" in config and "SQLALCHEMY_DATABASE_URI" not in config:
            app.config["SQLALCHEMY_DATABASE_URI"] = config["DATABASE_URL"]
    app.config["MAX_CONTENT_LENGTH"] = (app.config["MAX_UPLOAD_MB"] + 2) * 1024 * 1024
    app.config["RATELIMIT_STORAGE_URI"] = app.config["RATELIMIT_STORAGE_URI"]
    if app.config["SECRET_KEY"] == "dev-only-change-me" and not (app.debug or app.testing):
        logging.getLogger(__name__).warning(
            "SECRET_KEY is the development default; set it in production."
        )

    _ensure_folders(app)
    _init_extensions(app)
    _register_features(app)

    from portal import cli, errors, web

    web.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    return app


def _init_extensions(app: Flask) -> None:
    from portal import i18n
    from portal.extensions import babel, csrf, db, htmx, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(_root() / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    babel.init_app(
        app,
        locale_selector=i18n.select_locale,
        timezone_selector=lambda: app.config["BABEL_DEFAULT_TIMEZONE"],
    )
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "strong"
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _tune_sqlite(app)


def _ensure_folders(app: Flask) -> None:
    """Create the local folders the embedded defaults use, so a fresh clone runs as it is."""
    from pathlib import Path

    from sqlalchemy.engine import make_url

    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    for key in ("UPLOAD_DIR", "MAIL_OUTBOX_DIR"):
        Path(app.config[key]).mkdir(parents=True, exist_ok=True)


def _tune_sqlite(app: Flask) -> None:
    """Turn on WAL and foreign keys, so readers never wait for the writer and references hold."""
    from sqlalchemy import event

    from portal.extensions import db

    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()


def _register_features(app: Flask) -> None:
    for name in FEATURES:
        if importlib.util.find_spec(f"portal.{name}.models"):
            importlib.import_module(f"portal.{name}.models")
        module = importlib.import_module(f"portal.{name}")
        bp = getattr(module, "bp", None)
        if bp is not None:
            app.register_blueprint(bp)
        init = getattr(module, "init_app", None)
        if init is not None:
            init(app)


def _root():
    from portal.config import ROOT

    return ROOT
