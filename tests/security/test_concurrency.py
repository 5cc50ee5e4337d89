"""Requests that race each other end in a clear answer (a success, a refusal or a 409), never a 500,
and lose nothing: two reviewers on one filing, trades against cancels, parallel wrong passwords."""

from __future__ import annotations

import itertools
import threading
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.extensions import db
from tests import factories
from tests.factories import (
    TEST_PASSWORD,
    csrf_token_in,
    login,
    make_enterprise,
    make_filing,
    make_user,
)

PAIRS = 10


def _run_together(*jobs, timeout: float = 60) -> None:
    threads = [threading.Thread(target=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a request never finished"


def _post_together(path: str, *posts) -> dict:
    """POST each (client, form) from its own thread at once; the answers by the form's action."""
    answers = {}

    def post(client, form):
        answers[form["action"]] = client.post(path, data=form)

    _run_together(*[lambda c=c, f=f: post(c, f) for c, f in posts])
    return answers


def _token(client, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    return csrf_token_in(html)


# ------------------------------------------------------------ two reviewers, one filing, one version


def test_two_reviewers_at_one_version_one_wins_the_other_gets_409(app, monkeypatch):
    from portal.filings.models import Filing, FilingEvent
    from portal.review import services

    with app.app_context():
        reviewers = [make_user("province"), make_user("province")]
        filings = [make_filing("closure", "city_review") for _ in range(PAIRS)]
        db.session.commit()
        reviewer_ids = [r.id for r in reviewers]
        work = [(f.id, f.version) for f in filings]
    clients = []
    for reviewer_id in reviewer_ids:
        client = app.test_client()
        with app.app_context():
            login(client, db.session.get(User, reviewer_id))
        clients.append(client)

    # Both requests have loaded the filing at the same version and passed every check before
    # either writes: the race the optimistic lock (version_id_col) is there for, every time.
    barrier = threading.Barrier(2, timeout=30)
    act_on_filing = services.act_on_filing

    def act_together(*args, **kw):
        barrier.wait()
        return act_on_filing(*args, **kw)

    monkeypatch.setattr(services, "act_on_filing", act_together)

    for filing_id, version in work:
        path = f"/admin/filings/{filing_id}"
        forms = [
            {"csrf_token": _token(c, path), "version": str(version), "remark": "同意"}
            for c in clients
        ]
        barrier.reset()
        answers = _post_together(
            f"{path}/act",
            (clients[0], forms[0] | {"action": "review_province"}),
            (clients[1], forms[1] | {"action": "return"}),
        )
        codes = sorted(r.status_code for r in answers.values())
        assert codes == [303, 409], codes
        loser = next(r for r in answers.values() if r.status_code == 409)
        assert "<!doctype html>" in loser.get_data(as_text=True).lower()
        winner = next(a for a, r in answers.items() if r.status_code == 303)
        with app.app_context():
            filing = db.session.get(Filing, filing_id)
            assert filing.version == version + 1
            assert (
                filing.status
                == {"review_province": "province_review", "return": "returned"}[winner]
            )
            actions = db.session.scalars(
                select(FilingEvent.action).where(FilingEvent.filing_id == filing_id)
            ).all()
            assert actions == [winner]


def test_a_write_conflict_answers_409_for_htmx_too(app):
    """Wherever it surfaces, a lost optimistic lock is the conflict page; htmx gets the fragment."""
    from sqlalchemy.orm.exc import StaleDataError

    @app.post("/_test/conflict")
    def conflict():
        raise StaleDataError("UPDATE statement on table 'filing' expected to update 1 row(s)")

    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    page = client.post("/_test/conflict")
    fragment = client.post("/_test/conflict", headers={"HX-Request": "true"})
    assert page.status_code == fragment.status_code == 409
    assert "<!doctype html>" in page.get_data(as_text=True).lower()
    body = fragment.get_data(as_text=True)
    assert "<!doctype html>" not in body.lower() and 'class="error-page"' in body
    assert "刷新页面" in body


@pytest.mark.parametrize(
    ("message", "sqlstate", "expected"),
    [
        ("could not serialize access due to concurrent update", "40001", True),
        ("deadlock detected", "40P01", True),
        ("database is locked", None, True),
        ("no such table: filing", None, False),
        ("connection refused", "08001", False),
    ],
)
def test_which_database_errors_are_write_conflicts(message, sqlstate, expected):
    from sqlalchemy.exc import OperationalError

    from portal.errors import is_write_conflict

    class DriverError(Exception):
        pass

    original = DriverError(message)
    original.sqlstate = sqlstate
    assert is_write_conflict(OperationalError("UPDATE …", {}, original)) is expected


# ------------------------------------------------------------ trades and cancels in parallel


def _postgresql(app) -> bool:
    with app.app_context():
        return db.engine.dialect.name == "postgresql"


def test_trades_and_cancels_in_parallel_never_deadlock(app):
    """Trades (audit head, then the seller's holder lock) against cancels (holder, then head)."""
    if not _postgresql(app):
        pytest.skip("SQLite has one database-wide write lock, so it cannot deadlock on two rows")
    from portal.audit.services import verify_chain
    from portal.disclosure import entry as market
    from portal.errors import is_write_conflict
    from portal.registry import services as registry

    with app.app_context():
        province = make_user("province")
        parties = [make_enterprise(f"企业{n}", "410100") for n in range(3)]
        for party in parties:
            registry.issue_indicators(party.id, "energy", 1000, "确权")
        db.session.commit()
        actor_id = province.id
        ids = [p.id for p in parties]
        usccs = {p.id: p.uscc for p in parties}

    jobs = []
    numbers = itertools.count(1)
    for n in range(48):
        seller, buyer = ids[n % 3], ids[(n + 1) % 3]
        if n % 2:
            jobs.append(("cancel", seller, None, None))
        else:
            jobs.append(("trade", seller, buyer, f"CJ-RACE-{next(numbers):04d}"))
    workers = 8  # within the connection pool (5 + 10 overflow)
    barrier = threading.Barrier(workers, timeout=60)
    outcomes: list[str] = []
    failures: list[BaseException] = []

    def run(kind, seller, buyer, number):
        """One request's worth of work: its own session and transaction."""
        with app.test_request_context():
            try:
                actor = db.session.get(User, actor_id)
                if kind == "trade":
                    values, errors = market.check_trade(
                        {
                            "number": number,
                            "variety": "energy",
                            "category": "voluntary",
                            "quantity": "3",
                            "unit_price": "320",
                            "buyer_uscc": usccs[buyer],
                            "seller_uscc": usccs[seller],
                            "trade_date": date(2025, 3, 10).isoformat(),
                        }
                    )
                    assert not errors, errors
                    market.upsert("trades", values, actor=actor)
                else:
                    registry.cancel_indicators(seller, "energy", 2, "处罚注销", actor=actor)
                db.session.commit()
                outcomes.append(kind)
            except BaseException as error:  # noqa: BLE001  (every failure is reported below)
                db.session.rollback()
                failures.append(error)
            finally:
                db.session.remove()

    def worker(mine):
        barrier.wait()
        for job in mine:
            run(*job)

    _run_together(*[lambda w=w: worker(jobs[w::workers]) for w in range(workers)], timeout=180)
    assert not failures, [
        f"{type(f).__name__}{' (write conflict)' if is_write_conflict(f) else ''}: {f}"
        for f in failures[:5]
    ]
    assert len(outcomes) == len(jobs)
    with app.app_context():
        total = sum(registry.balances(i).get("energy", Decimal(0)) for i in ids)
        cancels = sum(1 for job in jobs if job[0] == "cancel")
        assert total == Decimal(3000) - 2 * cancels
        assert verify_chain().ok


# ------------------------------------------------------------ parallel wrong passwords


def test_ten_parallel_wrong_passwords_lock_the_account(app):
    from portal.accounts.services import LOCK_MINUTES, now
    from portal.audit.models import AuditEvent

    with app.app_context():
        user = factories.user(
            "enterprise",
            email="race@example.com",
            name="并发",
            password=TEST_PASSWORD,
            verified=True,
        )
        db.session.commit()
        user_id = user.id
    clients = [app.test_client() for _ in range(10)]
    tokens = [_token(c, "/accounts/login") for c in clients]
    barrier = threading.Barrier(len(clients), timeout=30)
    codes: list[int] = []

    def wrong(client, token):
        barrier.wait()
        response = client.post(
            "/accounts/login",
            data={"csrf_token": token, "email": "race@example.com", "password": "Wrong-pass-1"},
        )
        codes.append(response.status_code)

    _run_together(
        *[lambda c=c, t=t: wrong(c, t) for c, t in zip(clients, tokens, strict=True)],
        timeout=120,
    )
    assert sorted(codes) == [422] * 10
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user.locked_until is not None, "ten failures at once must lock the account"
        remaining = (user.locked_until - now()).total_seconds()
        assert (LOCK_MINUTES - 1) * 60 < remaining <= LOCK_MINUTES * 60
        # Every failure that got past the lock check was counted: each fifth one locked.
        assert user.failed_logins < 5
        locks = db.session.scalar(select(func.count()).where(AuditEvent.action == "account.locked"))
        assert locks in (1, 2)
    # The right password does not help while locked.
    response = clients[0].post(
        "/accounts/login",
        data={"csrf_token": tokens[0], "email": "race@example.com", "password": TEST_PASSWORD},
    )
    assert response.status_code == 422
