"""Password policy: common passwords refused, one maximum length, and no timing tell at sign-up."""

from __future__ import annotations

import statistics
import time

import pytest

from portal.accounts.passwords import MAX_PASSWORD_LENGTH, is_common_password, password_problems
from tests.factories import REGISTRATION, VALID_USCC, make_uscc

COMMON = "这个密码太常见"


@pytest.mark.parametrize(
    "password", ["Password1!", "Passw0rd", "P@ssw0rd2024!", "Qwerty123!", "!!Letmein99"]
)
def test_common_passwords_are_refused(ctx, password):
    assert is_common_password(password)
    assert any(COMMON in p for p in password_problems(password))


@pytest.mark.parametrize("password", ["Test-pass-2024", "Strong-pass-1", "Lantern#Ferry9Oak"])
def test_uncommon_passwords_pass(ctx, password):
    assert password_problems(password) == []


def _register(client, csrf_token, **changes):
    data = dict(REGISTRATION, uscc=VALID_USCC, csrf_token=csrf_token("/accounts/register"))
    data.update(changes)
    return client.post("/accounts/register", data=data)


@pytest.mark.parametrize("password", ["Password1!", "Passw0rd"])
def test_registration_refuses_weak_password_next_to_the_field(client, csrf_token, password):
    response = _register(client, csrf_token, password=password, confirm=password)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert COMMON in html
    # besides the summary at the top, the message sits by the password field, before the
    # confirmation field
    field_start = html.index('for="password"')
    assert field_start < html.rindex(COMMON) < html.index('name="confirm"')


def test_reset_refuses_weak_password(app, client, csrf_token, auth):
    from tests.factories import mail_link

    auth.make_user("enterprise", email="reset@example.com")
    token = csrf_token("/accounts/password/forgot")
    client.post(
        "/accounts/password/forgot", data={"csrf_token": token, "email": "reset@example.com"}
    )
    link = mail_link(app, "password/reset")
    token = csrf_token(link)
    response = client.post(
        link, data={"csrf_token": token, "password": "Passw0rd", "confirm": "Passw0rd"}
    )
    assert response.status_code == 422 and COMMON in response.get_data(as_text=True)


def test_one_maximum_length_at_registration_and_login(app, client, csrf_token):
    longest = "Aa1!" + "k" * (MAX_PASSWORD_LENGTH - 4)
    too_long = longest + "k"
    message = f"密码不能超过 {MAX_PASSWORD_LENGTH} 个字符"
    refused = _register(client, csrf_token, password=too_long, confirm=too_long)
    assert refused.status_code == 422 and message in refused.get_data(as_text=True)
    accepted = _register(client, csrf_token, password=longest, confirm=longest)
    assert accepted.status_code == 303
    with app.app_context():
        from sqlalchemy import select

        from portal.accounts.models import User
        from portal.accounts.services import now
        from portal.extensions import db

        db.session.scalar(
            select(User).where(User.email == REGISTRATION["email"])
        ).email_verified_at = now()
        db.session.commit()
    token = csrf_token("/accounts/login")
    login = client.post(
        "/accounts/login",
        data={"csrf_token": token, "email": REGISTRATION["email"], "password": longest},
    )
    assert login.status_code == 303
    client.post("/accounts/logout", data={"csrf_token": csrf_token("/")})
    token = csrf_token("/accounts/login")
    login = client.post(
        "/accounts/login",
        data={"csrf_token": token, "email": REGISTRATION["email"], "password": too_long},
    )
    assert login.status_code == 422 and message in login.get_data(as_text=True)


def _median_post_time(client, csrf_token, emails: list[str], first_serial: int) -> float:
    times = []
    for n, email in enumerate(emails):
        data = dict(REGISTRATION, uscc=make_uscc(first_serial + n), email=email)
        data["csrf_token"] = csrf_token("/accounts/register")
        started = time.perf_counter()
        response = client.post("/accounts/register", data=data)
        times.append(time.perf_counter() - started)
        assert response.status_code == 303
    return statistics.median(times)


@pytest.fixture
def production_cost(app_config):
    """Timing is measured with argon2 at its production cost, not the suite's cheap one."""
    app_config["PASSWORD_HASHER"] = "default"


def test_registration_takes_as_long_for_a_known_address(
    production_cost, app, client, csrf_token, auth
):
    """The normal argon2 cost; a new and a known address within a factor of two (median of 7)."""
    auth.make_user("enterprise", email="known@example.com")
    _median_post_time(client, csrf_token, ["warm@example.com"], 7000)  # warm-up
    unknown = _median_post_time(client, csrf_token, [f"new{n}@example.com" for n in range(7)], 7100)
    known = _median_post_time(client, csrf_token, ["known@example.com"] * 7, 7200)
    assert 0.5 <= unknown / known <= 2.0, (unknown, known)


def test_login_takes_as_long_for_an_unknown_address(production_cost, app, client, csrf_token, auth):
    auth.make_user("enterprise", email="someone@example.com")

    def median(email: str) -> float:
        times = []
        for _n in range(7):
            token = csrf_token("/accounts/login")
            started = time.perf_counter()
            client.post(
                "/accounts/login",
                data={"csrf_token": token, "email": email, "password": "Wrong-pass-1"},
            )
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    unknown, known = median("nobody@example.com"), median("someone@example.com")
    assert 0.5 <= unknown / known <= 2.0, (unknown, known)


def test_the_cheap_hasher_is_for_the_test_suite_only(app_config):
    from portal import create_app
    from portal.accounts.services import hash_password

    production = create_app(dict(app_config, TESTING=False, PASSWORD_HASHER="cheapest"))
    with production.app_context():
        assert "m=65536" in hash_password("Some-pass-2024")
    testing = create_app(app_config)
    with testing.app_context():
        assert "m=65536" not in hash_password("Some-pass-2024")
