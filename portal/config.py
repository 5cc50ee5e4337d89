"""Settings: embedded defaults (SQLite, local folders), each one overridable from the environment."""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = Path(os.environ.get("PORTAL_INSTANCE_DIR", ROOT / "instance"))
# How long a SQLite connection waits for another's write lock before it gives up.
SQLITE_BUSY_TIMEOUT_MS = 5000


class Config:
    # Empty: create_app() uses the key generated once into INSTANCE/secret_key (see secret_key()).
    SECRET_KEY = ""
    # Every link in a mail starts here, never with the Host a request claims (mail.absolute_url).
    PUBLIC_BASE_URL = "http://127.0.0.1:5000"
    # Comma-separated host names the app answers to; empty accepts any Host (development).
    TRUSTED_HOSTS = ""
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted; 0 trusts none.
    PROXY_COUNT = 0
    # Strict-Transport-Security max-age; 0 sends no HSTS header (plain-HTTP development).
    HSTS_SECONDS = 0
    # Fernet key(s) for TOTP secrets at rest; empty: derived from SECRET_KEY (accounts/crypto.py).
    TOTP_ENCRYPTION_KEY = ""
    DATABASE_URL = f"sqlite:///{INSTANCE / 'portal.db'}"
    SEARCH_INDEX_DIR = str(INSTANCE / "search-index")
    UPLOAD_DIR = str(INSTANCE / "uploads")
    MAIL_OUTBOX_DIR = str(INSTANCE / "outbox")
    # `flask data archive` writes the daily zip of every public dataset here; /data/archives lists it.
    ARCHIVE_DIR = str(INSTANCE / "archives")
    ARCHIVE_KEEP = 30  # archives kept; older ones are deleted when a new one is written
    # Share images of announcements (sharing/images.py) are rendered once and kept here.
    SHARE_IMAGE_DIR = str(INSTANCE / "share-images")
    # A CJK font for them (a .ttc collection: SHARE_IMAGE_FONT_INDEX picks Simplified Chinese).
    # Missing fonts are not an error: the pages then point at the site's default share image.
    SHARE_IMAGE_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
    SHARE_IMAGE_FONT_BOLD = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"
    SHARE_IMAGE_FONT_INDEX = 2
    # A sitemap file holds at most this many URLs (the sitemaps.org limit); above it, an index.
    SITEMAP_MAX_URLS = 50_000

    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    BABEL_TRANSLATION_DIRECTORIES = str(ROOT / "translations")
    LANGUAGES = "zh_Hans_CN,en"

    PAGE_SIZE = 20
    # Feed and entry ids are tag URIs under this authority and date (RFC 4151): a domain the site
    # held on that date. Never change it once feeds are out: readers would see every entry again.
    FEED_TAG_AUTHORITY = "ynq.example.gov.cn,2026"
    # `flask digest` sends only rows that became public at least this long ago, so that a
    # transaction still open when it runs cannot commit a row behind the digest's high-water mark.
    DIGEST_SETTLE_SECONDS = 120
    # Subscribe form: requests per client address (Flask-Limiter syntax).
    SUBSCRIBE_RATE_LIMIT = "10 per hour"
    PUBLICITY_DAYS = 7
    # 有偿使用 (portal/prices): calendar days a 两高 payment notice is payable (its due day included);
    # where to pay (empty: the provincial public-resource trading platform, in the catalog's words);
    # calendar days the city has to buy back (收储) or release a closure's or retrofit's indicators.
    PAYMENT_DUE_DAYS = 30
    PAYMENT_PAY_TO = ""
    RESERVE_DECISION_DAYS = 30
    # The largest quantity one 两高 purchase may come to, in tce (energy-efficiency benchmark ×
    # designed output, before the feedstock-coal exclusion); above it the form asks the enterprise
    # to check its designed output.
    PURCHASE_MAX_TCE = 10_000_000
    # The audit chain's HMAC key (at least 32 characters); unset: instance/audit_key, made once.
    AUDIT_HMAC_KEY = ""
    # Earlier audit keys, comma-separated, so entries sealed before a rotation still verify.
    AUDIT_HMAC_OLD_KEYS = ""
    MAX_UPLOAD_MB = 20
    # Working days each back-office role has for its step on a filing, counted from the day the
    # filing reached that step (weekends and Chinese public holidays excluded, make-up working
    # days included). Environment: REVIEW_WORKING_DAYS='{"city": 10, "auditor": 15, "province": 10}'.
    REVIEW_WORKING_DAYS = {"auditor": 15, "city": 10, "province": 10}
    IMPORT_MAX_ROWS = 20_000  # rows in one listing/trade import file (review/market.py)
    SESSION_IDLE_MINUTES = 30
    # argon2 parameters for passwords: "default" (RFC 9106 low-memory), or "cheapest" for tests only.
    PASSWORD_HASHER = "default"
    # A session ends this long after its login, however active it has been.
    SESSION_ABSOLUTE_HOURS = 12
    RATELIMIT_STORAGE_URI = "memory://"
    # The response cache of anonymous pages (portal/caching.py). CACHE_REDIS_URL: a Redis all
    # servers share (empty: RATELIMIT_STORAGE_URI when that is a Redis, else each worker's memory).
    CACHE_ENABLED = True
    CACHE_REDIS_URL = ""
    CACHE_KEY_PREFIX = "portal"  # keys in Redis start with it: one per site sharing a Redis
    CACHE_TTL = 300  # seconds a stored page lives at most (a change replaces it at once anyway)
    CACHE_MAX_AGE = 60  # Cache-Control max-age of anonymous pages, API answers and downloads
    CACHE_MEMORY_MB = 32  # per worker, without Redis: least recently used pages go first
    CACHE_MAX_ENTRY_KB = 1024  # larger answers are not stored
    # Compression (Flask-Compress): answers smaller than this are sent as they are.
    COMPRESS_MIN_SIZE = 500
    COMPRESS_BR_LEVEL = 4  # brotli quality 0–11
    COMPRESS_LEVEL = 6  # gzip level 1–9
    RATELIMIT_ENABLED = True
    # The JSON API's budget per client address, shared by all its endpoints, in Flask-Limiter's
    # notation ("120 per minute", or several: "120 per minute;3000 per hour"). docs/api.md states it.
    API_RATE_LIMIT = "120 per minute"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    # Sent on every response; "" sends none (tests use that to prove the pages are safe without it).
    CONTENT_SECURITY_POLICY = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'self'; form-action 'self'; base-uri 'self'"
    )
    # Widgets (latest announcements, market snapshot, one announcement) may be framed by any
    # site; every other page only by this one (web.frameable, security_headers).
    WIDGET_CONTENT_SECURITY_POLICY = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; "
        "frame-ancestors *; form-action 'none'; base-uri 'self'"
    )
    PREFERRED_URL_SCHEME = "http"
    SERVER_NAME = ""

    MAIL_SERVER = ""
    MAIL_PORT = 25
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    MAIL_USE_TLS = False
    MAIL_SENDER = "noreply@ynq.example.gov.cn"
    # Show the outbox folder at /accounts/dev/outbox without debug mode (`make run` sets it); never
    # with MAIL_SERVER set or under gunicorn (mail.outbox_page_open).
    MAIL_OUTBOX_PAGE = False

    # Logs (portal/logs.py): "json" lines for a collector, or "text"; one access line per request.
    LOG_FORMAT = "text"
    LOG_LEVEL = "INFO"
    LOG_REQUESTS = True

    # Footer, after the conventions of Chinese government sites: sponsor (主办单位), 网站标识码, ICP and
    # public-security record numbers, contact details, a way to report errors.
    SITE_NAME = "河南省用能权交易信息公开平台"
    SITE_NAME_EN = "Henan Energy-Use Rights Trading Disclosure Portal"
    SITE_SPONSOR = "河南省发展和改革委员会（示例）"
    SITE_SPONSOR_EN = "Henan Provincial Development and Reform Commission (demo)"
    SITE_ID_CODE = "4100000000"
    SITE_ICP = "豫ICP备00000000号-1"
    SITE_PSB = "豫公网安备 41010000000000号"
    SITE_PSB_URL = ""
    SITE_CONTACT_PHONE = "0371-00000000"
    SITE_CONTACT_EMAIL = "ynq@example.gov.cn"
    SITE_ADDRESS = "河南省郑州市（示例地址）"
    SITE_ERROR_REPORT_URL = "https://zfwzzc.www.gov.cn/"


def from_environment() -> dict:
    """Read every setting named in Config from the environment, keeping the default's type."""
    settings = {}
    for key in dir(Config):
        if not key.isupper():
            continue
        default = getattr(Config, key)
        raw = os.environ.get(key)
        if raw is None:
            settings[key] = default
        elif isinstance(default, bool):
            settings[key] = raw.strip().lower() in {"1", "true", "yes", "on"}
        elif isinstance(default, int):
            settings[key] = int(raw)
        elif isinstance(default, dict):
            # A JSON object over the default: only the keys it names change.
            settings[key] = default | {k: int(v) for k, v in json.loads(raw).items()}
        else:
            settings[key] = raw
    url = settings["DATABASE_URL"]
    # Heroku-style URLs name the old driver; we ship psycopg 3.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    settings["SQLALCHEMY_DATABASE_URI"] = url
    if not settings["SERVER_NAME"]:
        settings.pop("SERVER_NAME")
    return settings


SECRET_KEY_MIN_LENGTH = 32


def instance_dir() -> Path:
    """The instance folder, read when asked (PORTAL_INSTANCE_DIR, else ROOT/instance)."""
    return Path(os.environ.get("PORTAL_INSTANCE_DIR", ROOT / "instance"))


def secret_key(configured: str, folder: Path | None = None) -> str:
    """The key that signs sessions, CSRF tokens and mail links.

    A configured key must be long enough. Without one, a random key is generated once into
    `folder/secret_key` (mode 600) and reused, so a fresh clone runs with no setup and the
    workers of one machine share it. There is no known default key.
    """
    if configured:
        if len(configured) < SECRET_KEY_MIN_LENGTH:
            raise RuntimeError(
                f"SECRET_KEY is too short ({len(configured)} characters): use at least "
                f"{SECRET_KEY_MIN_LENGTH} random characters, e.g. "
                "python -c 'import secrets; print(secrets.token_hex(32))', "
                "or unset SECRET_KEY to use the key generated in the instance folder."
            )
        return configured
    path = (folder or instance_dir()) / "secret_key"
    if not path.exists():
        _write_new_key(path)
    key = path.read_text("ascii").strip()
    if len(key) < SECRET_KEY_MIN_LENGTH:
        raise RuntimeError(
            f"The generated SECRET_KEY file {path} is damaged (too short): delete it to make a new "
            "one (every session ends), or set SECRET_KEY."
        )
    return key


def _write_new_key(path: Path) -> None:
    """Create `path` atomically with a new random key; the first of several workers wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp creates the file with mode 600; link() publishes it whole or fails if one exists.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret_key-")
    try:
        with os.fdopen(handle, "w", encoding="ascii") as file:
            file.write(secrets.token_hex(32) + "\n")
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another worker made it first: use that one
    finally:
        os.unlink(temporary)


def under_gunicorn() -> bool:
    """Whether gunicorn serves this process (its arbiter sets SERVER_SOFTWARE in the environment)."""
    return "gunicorn" in os.environ.get("SERVER_SOFTWARE", "")
