"""Settings: embedded defaults (SQLite, local folders), each one overridable from the environment."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = Path(os.environ.get("PORTAL_INSTANCE_DIR", ROOT / "instance"))


class Config:
    SECRET_KEY = "dev-only-change-me"
    DATABASE_URL = f"sqlite:///{INSTANCE / 'portal.db'}"
    SEARCH_INDEX_DIR = str(INSTANCE / "search-index")
    UPLOAD_DIR = str(INSTANCE / "uploads")
    MAIL_OUTBOX_DIR = str(INSTANCE / "outbox")

    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    BABEL_TRANSLATION_DIRECTORIES = str(ROOT / "translations")
    LANGUAGES = "zh_Hans_CN,en"

    PAGE_SIZE = 20
    PUBLICITY_DAYS = 7
    # The audit chain's HMAC key (at least 32 characters); unset: instance/audit_key, made once.
    AUDIT_HMAC_KEY = ""
    # Earlier audit keys, comma-separated, so entries sealed before a rotation still verify.
    AUDIT_HMAC_OLD_KEYS = ""
    MAX_UPLOAD_MB = 20
    SESSION_IDLE_MINUTES = 30
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_ENABLED = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    PREFERRED_URL_SCHEME = "http"
    SERVER_NAME = ""

    MAIL_SERVER = ""
    MAIL_PORT = 25
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    MAIL_USE_TLS = False
    MAIL_SENDER = "noreply@ynq.example.gov.cn"

    # Footer, after the conventions of Chinese government sites (DOMAIN.md).
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
