"""河南省用能权交易公开门户: the application factory."""

from __future__ import annotations

import logging
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import make_url
from werkzeug.exceptions import SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import (
    accounts,
    assets,
    audit,
    benchmarks,
    caching,
    cli,
    compliance,
    converters,
    disclosure,
    downloads,
    editorial,
    errors,
    feeds,
    filings,
    health,
    i18n,
    logs,
    main,
    news,
    opendata,
    prices,
    publicity,
    registry,
    review,
    search,
    sharing,
    web,
)
from portal.config import (
    ROOT,
    SQLITE_BUSY_TIMEOUT_MS,
    from_environment,
    secret_key,
    under_gunicorn,
)

# Every table, so that the ORM and Alembic see the whole schema (the feature packages above import
# most models through their views; reference data and enterprises have no views of their own).
from portal.enterprises import models as enterprise_models  # noqa: F401
from portal.extensions import babel, csrf, db, htmx, limiter, login_manager, migrate
from portal.reference import models as reference_models  # noqa: F401
from portal.search import models as search_models  # noqa: F401
from portal.urls import PortalFlask


def create_app(config: dict | None = None) -> Flask:
    app = PortalFlask(__name__, instance_relative_config=False)
    app.config.update(from_environment())
    if config:
        app.config.update(config)
        if "DATABASE_URL" in config and "SQLALCHEMY_DATABASE_URI" not in config:
            app.config["SQLALCHEMY_DATABASE_URI"] = config["DATABASE_URL"]
    app.config["MAX_CONTENT_LENGTH"] = (app.config["MAX_UPLOAD_MB"] + 2) * 1024 * 1024
    app.config["RATELIMIT_STORAGE_URI"] = app.config["RATELIMIT_STORAGE_URI"]
    _secure_settings(app)

    _ensure_folders(app)
    logs.init_app(app)
    _init_extensions(app)
    converters.init_app(app)  # before the blueprints add their <int:…> rules
    _register_features(app)

    assets.init_app(app)
    web.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    caching.init_app(app)  # last: its hooks wrap every other one
    return app


def _secure_settings(app: Flask) -> None:
    """Key, hosts, proxies and session lifetimes: refuse unsafe settings, warn about risky ones."""
    app.config["SECRET_KEY"] = secret_key(app.config.get("SECRET_KEY") or "")

    base = urlsplit(app.config["PUBLIC_BASE_URL"])
    if base.scheme not in ("http", "https") or not base.netloc or base.query or base.fragment:
        raise RuntimeError(
            f"PUBLIC_BASE_URL must be an http(s) address such as https://ynq.example.gov.cn, "
            f"not {app.config['PUBLIC_BASE_URL']!r}."
        )

    hosts = app.config.get("TRUSTED_HOSTS")
    if isinstance(hosts, str):
        hosts = [host.strip() for host in hosts.split(",") if host.strip()]
    # Flask 3.1 answers 400 to a request whose Host is not listed; None accepts any.
    app.config["TRUSTED_HOSTS"] = list(hosts) if hosts else None

    @app.errorhandler(SecurityError)
    def untrusted_host(_error):
        # No URL can be built for a Host that is not trusted, so the site's error page (which
        # links the site) cannot render; the refusal is plain text.
        return (
            "400 Bad Request: this host name is not served here.",
            400,
            {"Content-Type": "text/plain; charset=utf-8"},
        )

    proxies = int(app.config["PROXY_COUNT"])
    if proxies > 0:
        # Only the client address and the scheme are taken from the proxies. The proxy passes
        # the Host itself, and mail links come from PUBLIC_BASE_URL, so X-Forwarded-Host and
        # -Prefix (which a proxy that does not overwrite them lets a client choose) stay unused.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=0, x_prefix=0)

    lifetime = timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"])
    # The signed cookie itself dies with the absolute lifetime; the "remember me" cookie, which
    # the portal never sets, could live no longer either.
    app.config["PERMANENT_SESSION_LIFETIME"] = lifetime
    app.config["REMEMBER_COOKIE_DURATION"] = lifetime
    app.config["REMEMBER_COOKIE_HTTPONLY"] = True
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]

    if under_gunicorn():
        logger = logging.getLogger(__name__)
        if app.config["RATELIMIT_ENABLED"] and app.config["RATELIMIT_STORAGE_URI"].startswith(
            "memory://"
        ):
            _warn_loudly(
                logger,
                "RATELIMIT_STORAGE_URI is memory:// under gunicorn: every worker counts on its own, "
                "so each rate limit allows its budget once per worker. Set "
                "RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0 (any Redis all workers share).",
            )
        if base.hostname in ("127.0.0.1", "localhost", "::1"):
            _warn_loudly(
                logger,
                f"PUBLIC_BASE_URL is {app.config['PUBLIC_BASE_URL']}: links in mail will point "
                "at this machine. Set PUBLIC_BASE_URL to the portal's public address.",
            )


def _warn_loudly(logger: logging.Logger, message: str) -> None:
    """Log a warning and also print it, so it shows even where logging is not configured."""
    logger.warning(message)
    print(f"WARNING: {message}", file=sys.stderr, flush=True)


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
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
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    for key in ("UPLOAD_DIR", "MAIL_OUTBOX_DIR"):
        Path(app.config[key]).mkdir(parents=True, exist_ok=True)


def _tune_sqlite(app: Flask) -> None:
    """Turn on WAL and foreign keys, so readers never wait for the writer and references hold."""
    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            wait = int(app.config.get("SQLITE_BUSY_TIMEOUT_MS", SQLITE_BUSY_TIMEOUT_MS))
            cursor.execute(f"PRAGMA busy_timeout={wait}")
            cursor.close()


def _register_features(app: Flask) -> None:
    """Register each feature's blueprint, and its own setup where it has one (CLI, hooks)."""
    blueprints = (
        (main.bp, health.bp),
        (disclosure.bp, disclosure.admin_bp, compliance.bp, compliance.admin_bp),
        (opendata.bp, news.bp, downloads.bp, sharing.bp, search.bp, feeds.bp),
        (accounts.bp, accounts.admin_bp, filings.bp, filings.home_bp, review.bp, registry.bp),
        (prices.bp, prices.admin_bp),
        (publicity.bp, editorial.bp, audit.bp, benchmarks.bp, benchmarks.admin_bp),
    )
    for group in blueprints:
        for blueprint in group:
            app.register_blueprint(blueprint)
    # Then each feature's own setup: CLI commands, signal receivers, template globals, hooks.
    for group in (
        (disclosure, opendata, downloads, sharing, search, feeds),
        (accounts, filings, prices, review, publicity, audit, benchmarks),
    ):
        for feature in group:
            feature.init_app(app)
