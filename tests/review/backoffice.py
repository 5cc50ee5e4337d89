"""Shared helpers for the back-office tests: enterprises, users of each role, and signing in."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from portal.extensions import db

# Valid 统一社会信用代码 (GB 32100-2015) for test enterprises, computed with python-stdnum.
_counter = itertools.count(1)


def valid_uscc(division: str = "410100") -> str:
    from stdnum.cn import uscc

    n = next(_counter)
    body = f"91{division}{n:08d}"
    # characters 9-17 carry an organisation-code check digit (mod 11)
    org = body[8:16]
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    total = sum(alphabet.index(c) * w for c, w in zip(org, weights, strict=True))
    check = 11 - total % 11
    org_check = {10: "X", 11: "0"}.get(check, str(check))
    partial = body + org_check
    return partial + uscc.calc_check_digit(partial)


def make_enterprise(name: str = "测试企业", division: str = "410100", **kw):
    from portal.enterprises.models import Enterprise

    enterprise = Enterprise(
        uscc=kw.pop("uscc", None) or valid_uscc(division),
        name=name,
        division_code=division,
        industry_code=kw.pop("industry_code", "steel"),
        is_public=kw.pop("is_public", True),
        **kw,
    )
    db.session.add(enterprise)
    db.session.flush()
    return enterprise


def make_user(role: str, *, division: str | None = None, totp: bool = True, **kw):
    from portal.accounts.models import User

    n = next(_counter)
    user = User(
        email=kw.pop("email", f"{role}{n}@example.gov.cn"),
        name=kw.pop("name", f"{role}{n}"),
        password_hash="!",
        role=role,
        division_code=division,
        totp_secret="JBSWY3DPEHPK3PXP" if totp else None,
        totp_enabled_at=datetime.now(UTC).replace(tzinfo=None) if totp else None,
        **kw,
    )
    db.session.add(user)
    db.session.flush()
    return user


def login(client, user) -> None:
    """Sign in as `user`, with the second factor passed, as the login flow leaves the session."""
    import time

    from portal.accounts import LOGIN_KEY, session_identifier

    app = client.application
    # The identifier "strong" session protection expects from the test client.
    with app.test_request_context(
        headers={"User-Agent": _client_agent()}, environ_base={"REMOTE_ADDR": "127.0.0.1"}
    ):
        identifier = session_identifier()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
        session["_id"] = identifier
        session[LOGIN_KEY] = time.time()  # the session's lifetime counts from its login
        session["totp_ok"] = True  # the accounts package's "second factor passed" flag


def _client_agent() -> str:
    from importlib.metadata import version

    return f"Werkzeug/{version('werkzeug')}"


@pytest.fixture
def users(app):
    """Back-office users of each role, committed: city 郑州 and 洛阳, province, auditor, editor, supervisor."""
    with app.app_context():
        from portal.accounts.models import AuditFirm

        firm = AuditFirm(name="审核机构甲", uscc=valid_uscc("410100"))
        db.session.add(firm)
        db.session.flush()
        made = {
            "city": make_user("city", division="410100"),
            "city_other": make_user("city", division="410300"),
            "province": make_user("province"),
            "auditor": make_user("auditor", audit_firm_id=firm.id),
            "editor": make_user("editor"),
            "supervisor": make_user("supervisor"),
            "no_totp": make_user("province", totp=False),
        }
        db.session.commit()
        ids = {key: user.id for key, user in made.items()}
    return ids


@pytest.fixture
def sign_in(app, client):
    """sign_in("province") signs the test client in as that user from the `users` fixture."""

    def do(user_id: int):
        from portal.accounts.models import User

        with app.app_context():
            user = db.session.get(User, user_id)
            login(client, user)

    return do
