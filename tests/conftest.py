"""Fixtures (after the Flask tutorial): app, client, runner, db_session.

The schema is built once per run by the real migrations, on SQLite or, with PORTAL_TEST_DB=postgresql,
on the server named by TEST_DATABASE_URL. After each test every table except the reference data is
emptied, so tests share no state and may commit, as the app does.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from demo.reset import REFERENCE_TABLES, empty_tables
from portal import create_app
from portal.extensions import db

# Long enough for create_app's minimum; known to everyone, so for tests only.
TEST_SECRET_KEY = "test-secret-key-for-the-test-suite-only-0123456789"


def _database_url(tmp_root: Path) -> str:
    if os.environ.get("PORTAL_TEST_DB") == "postgresql":
        url = os.environ.get("TEST_DATABASE_URL")
        if not url:
            pytest.exit("PORTAL_TEST_DB=postgresql needs TEST_DATABASE_URL", returncode=2)
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return url
    return f"sqlite:///{tmp_root / 'test.db'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = _database_url(tmp_path_factory.mktemp("db"))
    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    app = create_app(
        {"TESTING": True, "SECRET_KEY": TEST_SECRET_KEY, "SQLALCHEMY_DATABASE_URI": url}
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
        db.engine.dispose()
    return url


@pytest.fixture
def app_config(database_url, tmp_path) -> dict:
    """Settings for one test; a test may change them before asking for `app`."""
    return {
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET_KEY,
        "PUBLIC_BASE_URL": "http://localhost",
        "AUDIT_HMAC_KEY": "test-audit-key-0123456789abcdef0123456789",
        # argon2 at production cost made fixture setup take seconds; the timing tests ask for it.
        "PASSWORD_HASHER": "cheapest",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SEARCH_INDEX_DIR": str(tmp_path / "index"),
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
        "RATELIMIT_ENABLED": False,
        "WTF_CSRF_ENABLED": True,
        "SERVER_NAME": "localhost",
    }


@pytest.fixture
def app(app_config):
    """The app, with no context pushed: each test-client request gets its own, as in production
    (a shared context would share `g`, and with it the logged-in user and the locale)."""
    app = create_app(app_config)
    yield app
    with app.app_context():
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


@pytest.fixture
def ctx(app):
    """An application context, for tests that call services directly. Do not mix with `client`
    requests inside the same `with`: use `with app.app_context():` blocks for that."""
    with app.test_request_context():
        yield app
        db.session.remove()


def _empty_tables() -> None:
    """Empty every table but the reference data: the same function as `flask demo --reset`."""
    with db.engine.begin() as conn:
        empty_tables(conn, db.metadata, keep=REFERENCE_TABLES)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def csrf_token(client):
    """Fetch a page and return the CSRF token it carries, as a browser would."""
    import re

    def get(path: str = "/") -> str:
        html = client.get(path).get_data(as_text=True)
        match = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    return get


# ---------------------------------------------------------------- auth

TEST_PASSWORD = "Test-pass-2024"


def make_uscc(n: int) -> str:
    """A valid 统一社会信用代码 for test data (Zhengzhou, serial n)."""
    from stdnum.cn import uscc

    body = f"91410100{n:09d}"
    return body + uscc.calc_check_digit(body)


class AuthActions:
    """Make users of any role and log in through the real form (CSRF on, TOTP when needed).

    user_id = auth.login("city")             # a new city user of 郑州 (410100), logged in
    auth.login("enterprise", enterprise_id=e) # an enterprise user of an existing enterprise
    auth.make_user("auditor")                 # just create; returns the user's id
    auth.logout()
    """

    def __init__(self, app, client):
        self.app = app
        self.client = client
        self.count = 0
        self.secrets: dict[int, str] = {}

    def make_enterprise(
        self, name: str = "测试化工有限公司", division_code: str = "410100", **kw
    ) -> int:
        from portal.enterprises.models import Enterprise

        with self.app.app_context():
            self.count += 1
            enterprise = Enterprise(
                uscc=kw.pop("uscc", None) or make_uscc(900000 + self.count + id(self) % 9999),
                name=name,
                division_code=division_code,
                industry_code=kw.pop("industry_code", "chemical"),
                **kw,
            )
            db.session.add(enterprise)
            db.session.commit()
            return enterprise.id

    def make_user(self, role: str = "enterprise", email: str | None = None, **kw) -> int:
        import pyotp

        from portal.accounts.models import AuditFirm, User
        from portal.accounts.services import hash_password, now

        if role == "enterprise" and "enterprise_id" not in kw:
            kw["enterprise_id"] = self.make_enterprise()
            kw.setdefault("is_enterprise_admin", True)
        with self.app.app_context():
            self.count += 1
            if role == "auditor" and "audit_firm_id" not in kw:
                firm = AuditFirm(
                    name=f"测试审核机构{self.count}", uscc=make_uscc(800000 + self.count)
                )
                db.session.add(firm)
                db.session.flush()
                kw["audit_firm_id"] = firm.id
            if role == "city":
                kw.setdefault("division_code", "410100")
            totp = kw.pop("totp", role != "enterprise")
            user = User(
                email=email or f"{role}{self.count}@example.com",
                name=kw.pop("name", f"{role} {self.count}"),
                password_hash=hash_password(kw.pop("password", TEST_PASSWORD)),
                role=role,
                email_verified_at=now(),
                **kw,
            )
            if totp:
                user.totp_secret = pyotp.random_base32()
                user.totp_enabled_at = now()
            db.session.add(user)
            db.session.commit()
            if totp:
                self.secrets[user.id] = user.totp_secret
            return user.id

    def login(self, role_or_user="enterprise", password: str = TEST_PASSWORD, **kw) -> int:
        """Log in (creating the user when given a role); returns the user's id."""
        import re

        import pyotp

        from portal.accounts.models import User

        user_id = (
            role_or_user if isinstance(role_or_user, int) else self.make_user(role_or_user, **kw)
        )
        with self.app.app_context():
            user = db.session.get(User, user_id)
            email, secret = user.email, user.totp_secret
        html = self.client.get("/accounts/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        response = self.client.post(
            "/accounts/login", data={"csrf_token": token, "email": email, "password": password}
        )
        if response.headers.get("Location", "").endswith("/accounts/login/second-factor"):
            response = self.client.post(
                "/accounts/login/second-factor",
                data={"csrf_token": token, "code": pyotp.TOTP(secret).now()},
            )
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        return user_id

    def logout(self) -> None:
        import re

        html = self.client.get("/").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        self.client.post("/accounts/logout", data={"csrf_token": token})


@pytest.fixture
def auth(app, client):
    return AuthActions(app, client)
