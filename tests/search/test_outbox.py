"""Two app servers on one database: out-of-order commits, retention, bounded catch-up, settings,
status and the index-against-database check.

Server A is the `app` fixture, server B a second app on the same database with its own
SEARCH_INDEX_DIR, as two gunicorn instances would be.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select, text, update

from portal import create_app
from portal.extensions import db
from portal.news.models import Announcement
from portal.search import documents, reindex_all, search
from portal.search import services as search_services
from portal.search.models import SearchOutbox, SearchPosition
from portal.search.services import apply_outbox, get_store, prune_outbox, status, verify

ON_POSTGRESQL = os.environ.get("PORTAL_TEST_DB") == "postgresql"
quiet = {"progress": lambda _m: None}


@pytest.fixture
def server_b(app_config, tmp_path):
    other = create_app(app_config | {"SEARCH_INDEX_DIR": str(tmp_path / "server-b")})
    yield other
    with other.app_context():
        search_services.wait_for_catch_up(other)
        db.session.remove()


def expected_keys(app) -> set[str]:
    """The documents the database says should be indexed."""
    with app.app_context():
        return {d["key"] for d in documents.all_documents(db.session)}


def index_keys(app) -> set[str]:
    ix = get_store(app).open_index()
    with ix.searcher() as searcher:
        return {d["key"] for d in searcher.all_stored_fields()}


def latest_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.max(SearchOutbox.id))) or 0


def build_both(app, other) -> None:
    with app.app_context():
        reindex_all(app=app, **quiet)
    with other.app_context():
        reindex_all(app=other, **quiet)


def both_equal_the_database(app, other) -> None:
    wanted = expected_keys(app)
    assert index_keys(app) == wanted
    assert index_keys(other) == wanted


# ---- out-of-order commits -------------------------------------------------------------------


@pytest.mark.skipif(
    not ON_POSTGRESQL, reason="PostgreSQL only: SQLite lets one transaction write at a time"
)
def test_transaction_committed_after_a_later_one_reaches_both_servers(app, server_b, make):
    """T1 withdraws X and flushes; T2 edits Y and commits; B searches (and moves past both);
    T1 commits. X must leave both indexes."""
    with app.app_context():
        x = make.announcement(title="关于乱序撤回测试的通知").id
        y = make.announcement(title="关于乱序编辑测试的通知").id
    build_both(app, server_b)
    flushed, release, errors = threading.Event(), threading.Event(), []
    taken: list[int] = []

    def t1() -> None:
        with app.app_context():
            try:
                db.session.get(Announcement, x).status = "withdrawn"
                db.session.flush()
                taken.append(db.session.scalar(select(func.max(SearchOutbox.id))))
                flushed.set()
                assert release.wait(30)
                db.session.commit()
            except Exception as error:  # noqa: BLE001 - reported by the main thread
                errors.append(error)
                flushed.set()
            finally:
                db.session.remove()

    thread = threading.Thread(target=t1)
    thread.start()
    try:
        assert flushed.wait(30) and not errors
        with app.app_context():
            db.session.get(Announcement, y).title = "关于乱序编辑测试的通知（修订）"
            db.session.commit()  # T2: a higher outbox id, committed first
            db.session.remove()
        with server_b.test_request_context():
            assert search("乱序编辑", app=server_b).total == 1  # B catches up past T1's id
            store = get_store(server_b)
            assert store.position() > taken[0]
            assert taken[0] in store.gaps()
            assert search("乱序撤回", app=server_b).total == 1
            db.session.remove()
    finally:
        release.set()
        thread.join(30)
    assert not errors
    with server_b.test_request_context():
        assert apply_outbox(server_b) == 1  # the row that committed late
        assert search("乱序撤回", app=server_b).total == 0
        assert get_store(server_b).gaps() == {}
        db.session.remove()
    with app.test_request_context():
        assert search("乱序撤回").total == 0
        assert ("announcement", str(x)) not in {(h.kind, h.record) for h in search("乱序").hits}
        db.session.remove()
    both_equal_the_database(app, server_b)
    assert f"announcement:{x}" not in index_keys(server_b)


@pytest.mark.skipif(not ON_POSTGRESQL, reason="PostgreSQL only: the gap is settled by xid")
def test_gap_of_a_rolled_back_transaction_is_settled_once_it_has_ended(app, server_b, make):
    with app.app_context():
        make.announcement(title="关于回滚空洞测试的通知")
    build_both(app, server_b)
    flushed, release = threading.Event(), threading.Event()

    def t1() -> None:
        with app.app_context():
            make.listing(seller_name="示例回滚空洞钢铁有限公司", commit=False)
            db.session.flush()
            flushed.set()
            release.wait(30)
            db.session.rollback()
            db.session.remove()

    thread = threading.Thread(target=t1)
    thread.start()
    try:
        assert flushed.wait(30)
        with app.app_context():
            make.listing(seller_name="示例空洞之后钢铁有限公司")
            db.session.remove()
        with server_b.app_context():
            apply_outbox(server_b)
            assert len(get_store(server_b).gaps()) == 1
            apply_outbox(server_b)  # the transaction is still open: the gap stays
            assert len(get_store(server_b).gaps()) == 1
    finally:
        release.set()
        thread.join(30)
    with server_b.app_context():
        # The rule waits for every transaction of the cluster that was running when the gap was
        # seen: other databases' too (other test workers), so it may take a moment.
        deadline = time.monotonic() + 20
        while get_store(server_b).gaps() and time.monotonic() < deadline:
            assert apply_outbox(server_b) == 0
            time.sleep(0.05)
        assert get_store(server_b).gaps() == {}
        row = db.session.get(SearchPosition, search_services.server_id(server_b))
        assert row.low == row.position == latest_id(server_b)
        db.session.remove()
    both_equal_the_database(app, server_b)


def _reserve(app) -> tuple[int, int]:
    """Two outbox ids nobody has used, the way two transactions would take them."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            seq = "pg_get_serial_sequence('search_outbox', 'id')"
            low = db.session.scalar(text(f"SELECT nextval({seq})"))
            high = db.session.scalar(text(f"SELECT nextval({seq})"))
        else:
            low = latest_id(app) + 1
            high = low + 1
        db.session.commit()
        return low, high


def _commit_change(app, outbox_id: int, announcement_id: int, **values) -> None:
    """A change and its outbox row under a chosen id, committed (no ORM hooks involved)."""
    with app.app_context():
        db.session.execute(
            update(Announcement).where(Announcement.id == announcement_id).values(**values)
        )
        db.session.execute(
            insert(SearchOutbox).values(
                id=outbox_id, model="announcement", record_id=str(announcement_id), op="upsert"
            )
        )
        db.session.commit()


@pytest.mark.skipif(
    ON_POSTGRESQL, reason="on PostgreSQL the transaction holding the id must really be open"
)
def test_lower_id_committed_later_is_applied_then_old_gaps_expire(app, server_b, make):
    """SQLite: the same order of events, with the ids written explicitly."""
    with app.app_context():
        x = make.announcement(title="关于顺序撤回测试的通知").id
        y = make.announcement(title="关于顺序编辑测试的通知").id
    build_both(app, server_b)
    low, high = _reserve(app)
    _commit_change(app, high, y, title="关于顺序编辑测试的通知（修订）")
    with server_b.app_context():
        assert apply_outbox(server_b) == 1
        assert set(get_store(server_b).gaps()) == {low}
        assert get_store(server_b).position() == high
    _commit_change(app, low, x, status="withdrawn")
    with server_b.app_context():
        assert apply_outbox(server_b) == 1
        assert get_store(server_b).gaps() == {}
    with app.app_context():
        apply_outbox(app)
    both_equal_the_database(app, server_b)
    assert f"announcement:{x}" not in index_keys(server_b)

    # An id that never commits is forgotten after SEARCH_GAP_SECONDS.
    low, high = _reserve(app)
    _commit_change(app, high, y, title="关于顺序编辑测试的通知（再修订）")
    with server_b.app_context():
        apply_outbox(server_b)
        assert set(get_store(server_b).gaps()) == {low}
        server_b.config["SEARCH_GAP_SECONDS"] = 0
        apply_outbox(server_b)
        assert get_store(server_b).gaps() == {}
        assert get_store(server_b).low() == high


# ---- retention --------------------------------------------------------------------------------


def _age_outbox(app, days: int) -> None:
    with app.app_context():
        for row in db.session.scalars(select(SearchOutbox)):
            row.created_at = row.created_at - timedelta(days=days)
        db.session.commit()


def test_pruning_waits_for_recent_servers_and_a_server_behind_it_rebuilds(app, server_b, make):
    build_both(app, server_b)
    with app.test_request_context():
        first = make.listing(seller_name="示例保留期测试钢铁有限公司").number
        make.listing(seller_name="示例保留期之后钢铁有限公司")
        db.session.remove()
    _age_outbox(app, 30)
    with app.app_context():
        # B has applied nothing and was seen just now: nothing it still needs goes.
        assert prune_outbox(7) == 0
        name = search_services.server_id(server_b)
        db.session.execute(
            update(SearchPosition)
            .where(SearchPosition.server == name)
            .values(seen_at=documents.utcnow() - timedelta(days=30))
        )
        db.session.commit()
        # B is no longer counted; the newest row always stays.
        assert prune_outbox(7) == 1
        assert db.session.get(SearchPosition, SearchPosition.PRUNED).position == latest_id(app) - 1
        db.session.remove()
    before = get_store(server_b).generation()
    with server_b.test_request_context():
        # B finds the rows it missed pruned: it rebuilds (inline in tests) instead of applying.
        assert search("保留期测试", app=server_b).total == 1
        assert ("listing", first) in {
            (h.kind, h.record) for h in search("保留期", app=server_b).hits
        }
        db.session.remove()
    assert get_store(server_b).generation() != before
    both_equal_the_database(app, server_b)


# ---- bounded catch-up -------------------------------------------------------------------------


def test_a_search_applies_at_most_catch_up_rows_and_the_rest_runs_in_the_background(
    app, server_b, make, monkeypatch
):
    build_both(app, server_b)
    server_b.config["SEARCH_CATCH_UP_ROWS"] = 5
    with app.app_context():
        for n in range(12):
            make.listing(seller_name=f"示例追赶测试{n:02d}钢铁有限公司", commit=False)
        db.session.commit()
        ids = list(db.session.scalars(select(SearchOutbox.id).order_by(SearchOutbox.id)))
        db.session.remove()
    assert len(ids) == 12
    at_handover: list[int] = []
    real = search_services.start_catch_up

    def handover(app_):
        at_handover.append(get_store(app_).position())
        real(app_)

    monkeypatch.setattr(search_services, "start_catch_up", handover)
    with server_b.test_request_context():
        search("追赶测试", app=server_b)
        assert at_handover == [ids[4]]  # five rows in the request, then the thread
        search_services.wait_for_catch_up(server_b)
        assert get_store(server_b).position() == ids[-1]
        assert search("追赶测试", app=server_b).total == 12
        db.session.remove()
    both_equal_the_database(app, server_b)


# ---- settings from the environment ----------------------------------------------------------


def test_boolean_and_number_settings_are_parsed_from_the_environment(app_config, monkeypatch):
    monkeypatch.setenv("SEARCH_CATCH_UP", "false")
    monkeypatch.setenv("SEARCH_CATCH_UP_ROWS", "7")
    monkeypatch.setenv("SEARCH_GAP_SECONDS", "90")
    made = create_app(app_config)
    assert made.config["SEARCH_CATCH_UP"] is False
    assert made.config["SEARCH_CATCH_UP_ROWS"] == 7
    assert made.config["SEARCH_GAP_SECONDS"] == 90.0
    for word, value in (("0", False), ("off", False), ("No", False), ("1", True), ("ON", True)):
        monkeypatch.setenv("SEARCH_CATCH_UP", word)
        assert create_app(app_config).config["SEARCH_CATCH_UP"] is value, word
    monkeypatch.setenv("SEARCH_CATCH_UP", "maybe")
    with pytest.raises(ValueError, match="SEARCH_CATCH_UP"):
        create_app(app_config)


def test_catch_up_switched_off_from_the_environment_leaves_the_outbox_alone(
    app, app_config, make, tmp_path, monkeypatch
):
    monkeypatch.setenv("SEARCH_CATCH_UP", "false")
    quiet_b = create_app(app_config | {"SEARCH_INDEX_DIR": str(tmp_path / "quiet-b")})
    build_both(app, quiet_b)
    with app.app_context():
        make.listing(seller_name="示例开关测试钢铁有限公司")
        db.session.remove()
    with quiet_b.test_request_context():
        position = get_store(quiet_b).position()
        assert search("开关测试", app=quiet_b).total == 0
        assert get_store(quiet_b).position() == position
        db.session.remove()


# ---- status -----------------------------------------------------------------------------------


def test_status_reports_rows_and_seconds_behind_and_every_server(app, server_b, make):
    build_both(app, server_b)
    with app.app_context():
        for n in range(3):
            make.listing(seller_name=f"示例状态测试{n}钢铁有限公司")
        for row in db.session.scalars(select(SearchOutbox)):
            row.created_at = row.created_at - timedelta(seconds=600)
        db.session.commit()
        db.session.remove()
    with server_b.app_context():
        report = status(server_b)
        assert report["rows_behind"] == 3
        assert 590 <= report["seconds_behind"] < 4000
        assert report["latest"] == latest_id(server_b)
        by_name = {s["server"]: s for s in report["servers"]}
        b = by_name[search_services.server_id(server_b)]
        a = by_name[search_services.server_id(app)]
        assert (b["rows_behind"], a["rows_behind"]) == (3, 0)
        output = server_b.test_cli_runner().invoke(args=["search", "status"]).output
        assert "behind 3 rows" in output
        assert search_services.server_id(app) in output
        apply_outbox(server_b)
        report = status(server_b)
        assert (report["rows_behind"], report["seconds_behind"], report["gaps"]) == (0, 0.0, [])
        db.session.remove()


# ---- the index against the database ---------------------------------------------------------


def test_verify_finds_and_repairs_what_the_outbox_did_not_carry(app, make):
    with app.app_context():
        kept = make.listing(seller_name="示例核对保留钢铁有限公司")
        lost = make.listing(seller_name="示例核对丢失钢铁有限公司")
        changed = make.announcement(title="关于核对测试的通知")
        reindex_all(**quiet)
        assert verify(app)["missing"] == []
        store = get_store(app)
        with store.lock():
            store.write([f"listing:{lost.id}"], [])
            store.write([], [{**_document(kept), "key": "listing:999999", "record": "GP-GONE"}])
        # Changed behind the outbox's back (no ORM hook).
        db.session.execute(
            update(Announcement).where(Announcement.id == changed.id).values(title="已改标题")
        )
        db.session.commit()
        runner = app.test_cli_runner()
        result = runner.invoke(args=["search", "verify"])
        assert result.exit_code == 1, result.output
        assert f"missing 1: listing:{lost.id}" in result.output
        assert "extra 1: listing:999999" in result.output
        assert f"stale 1: announcement:{changed.id}" in result.output
        result = runner.invoke(args=["search", "verify", "--repair"])
        assert result.exit_code == 0 and "repaired" in result.output
        report = verify(app)
        assert (report["missing"], report["extra"], report["stale"]) == ([], [], [])
        assert index_keys(app) == expected_keys(app)
        db.session.remove()


def test_tick_runs_the_check_when_it_is_due(app, make):
    with app.app_context():
        lost = make.listing(seller_name="示例定时核对钢铁有限公司")
        reindex_all(**quiet)
        store = get_store(app)
        with store.lock():
            store.write([f"listing:{lost.id}"], [])
        db.session.remove()
    result = app.test_cli_runner().invoke(args=["tick"])
    assert "search index repaired: 1 missing" in result.output
    assert f"listing:{lost.id}" in index_keys(app)
    # Not due again for SEARCH_VERIFY_MINUTES.
    with app.app_context():
        assert search_services.verify_when_due(app) is None


def _document(listing) -> dict:
    return {
        d["key"]: d
        for d in documents.all_documents(db.session)
        if d["key"] == f"listing:{listing.id}"
    }[f"listing:{listing.id}"]
