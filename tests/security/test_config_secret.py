"""No known SECRET_KEY: a generated one shared by the workers of a machine, short keys refused;
settings from the environment keep their types."""

import os
import stat
import threading

import pytest

from portal import create_app
from portal.config import SECRET_KEY_MIN_LENGTH, from_environment, secret_key
from portal.extensions import db
from tests.factories import TEST_SECRET_KEY


@pytest.fixture
def unkeyed(app, app_config, tmp_path, monkeypatch):
    """Settings without SECRET_KEY, and an empty instance folder (`app` empties the tables)."""
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("PORTAL_INSTANCE_DIR", str(tmp_path / "instance"))
    settings = dict(app_config)
    settings.pop("SECRET_KEY")
    made = []

    def build(**changes):
        made.append(create_app(settings | changes))
        return made[-1]

    yield build
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def test_without_a_key_two_apps_share_one_generated_key(unkeyed, tmp_path):
    first, second = unkeyed(), unkeyed()
    path = tmp_path / "instance" / "secret_key"
    key = first.config["SECRET_KEY"]
    assert key == second.config["SECRET_KEY"] == path.read_text().strip()
    assert len(key) >= SECRET_KEY_MIN_LENGTH and key != "dev-only-change-me"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert os.listdir(path.parent) == ["secret_key"]  # no temporary file left behind
    # A session signed by one worker is good at the other.
    one = first.test_client()
    one.get("/accounts/login")
    cookie = one.get_cookie(first.config["SESSION_COOKIE_NAME"]).value
    assert first.session_interface.get_signing_serializer(second).loads(cookie)


def test_the_generated_key_is_made_once_when_workers_start_together(tmp_path):
    keys = []
    barrier = threading.Barrier(8)

    def start():
        barrier.wait()
        keys.append(secret_key("", tmp_path))

    threads = [threading.Thread(target=start) for _n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 8 and len(set(keys)) == 1
    assert os.listdir(tmp_path) == ["secret_key"]


def test_a_damaged_key_file_is_refused(tmp_path):
    (tmp_path / "secret_key").write_text("short\n")
    with pytest.raises(RuntimeError, match="secret_key"):
        secret_key("", tmp_path)


@pytest.mark.parametrize("key", ["test-secret", "dev-only-change-me", "x" * 31])
def test_a_short_key_is_refused_at_startup(unkeyed, key):
    with pytest.raises(RuntimeError, match="SECRET_KEY is too short"):
        unkeyed(SECRET_KEY=key)


def test_a_short_key_from_the_environment_is_refused(unkeyed, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "changeme")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        unkeyed()


def test_a_long_key_is_used_as_given(unkeyed, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "k" * SECRET_KEY_MIN_LENGTH)
    assert unkeyed().config["SECRET_KEY"] == "k" * SECRET_KEY_MIN_LENGTH


def test_the_test_key_is_long_enough(app):
    assert app.testing and app.config["SECRET_KEY"] == TEST_SECRET_KEY
    assert len(TEST_SECRET_KEY) >= SECRET_KEY_MIN_LENGTH


def test_new_settings_parse_from_the_environment(monkeypatch, app, app_config):
    monkeypatch.setenv("HSTS_SECONDS", "63072000")
    monkeypatch.setenv("PROXY_COUNT", "1")
    monkeypatch.setenv("SESSION_ABSOLUTE_HOURS", "8")
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "true")
    monkeypatch.setenv("TRUSTED_HOSTS", "ynq.example.gov.cn,localhost")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://ynq.example.gov.cn")
    settings = from_environment()
    assert settings["HSTS_SECONDS"] == 63072000
    assert settings["PROXY_COUNT"] == 1
    assert settings["SESSION_ABSOLUTE_HOURS"] == 8
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["PUBLIC_BASE_URL"] == "https://ynq.example.gov.cn"
    keep = {"TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "MAIL_OUTBOX_DIR", "UPLOAD_DIR"}
    other = create_app({k: v for k, v in app_config.items() if k in keep})
    try:
        assert other.config["TRUSTED_HOSTS"] == ["ynq.example.gov.cn", "localhost"]
        assert other.config["PERMANENT_SESSION_LIFETIME"].total_seconds() == 8 * 3600
        assert other.config["REMEMBER_COOKIE_DURATION"].total_seconds() == 8 * 3600
        assert other.config["REMEMBER_COOKIE_SECURE"] is True
    finally:
        with other.app_context():
            db.engine.dispose()
