"""The index follows the database: after commit only, privacy, scheduled publication, two servers."""

from __future__ import annotations

import time
from datetime import timedelta

from portal import create_app
from portal.extensions import db
from portal.search import reindex_all, search, sync_pending
from portal.search.documents import utcnow
from portal.search.services import apply_outbox, get_store


def test_committed_change_is_found_and_rolled_back_one_is_not(app, make):
    with app.test_request_context():
        reindex_all(progress=lambda _m: None)
        listing = make.listing(seller_name="示例鹤壁煤化有限公司")
        assert ("listing", listing.number) in keys(search("鹤壁煤化"))

        make.listing(seller_name="示例安阳回滚钢铁有限公司", number="GP-ROLLBACK-1", commit=False)
        db.session.flush()
        db.session.rollback()
        assert search("安阳回滚").total == 0


def test_deleted_record_is_removed(app, make):
    with app.test_request_context():
        reindex_all(progress=lambda _m: None)
        listing = make.listing(seller_name="示例焦作删除测试有限公司")
        assert search("焦作删除").total == 1
        db.session.delete(listing)
        db.session.commit()
        assert search("焦作删除").total == 0


def test_contact_details_and_drafts_are_never_found(app, make):
    with app.test_request_context():
        make.listing(contact_name="赵保密", contact_phone="13912345678")
        make.announcement(title="草稿：尚未发布的确权通知", status="draft")
        make.enterprise(name="示例私有企业有限公司", uscc="91410100MA9PRIV00X", is_public=False)
        reindex_all(progress=lambda _m: None)
        assert search("赵保密").total == 0
        assert search("13912345678").total == 0
        assert search("尚未发布").total == 0
        assert search("私有企业").total == 0
        assert search("示例郑州钢铁").total == 1


def test_scheduled_announcement_becomes_searchable_when_its_time_comes(app, make):
    with app.test_request_context():
        reindex_all(progress=lambda _m: None)
        make.announcement(
            title="定时发布的煤炭指标通知", published_at=utcnow() + timedelta(seconds=1)
        )
        assert search("定时发布").total == 0
        # Time passes; nothing touches the row, only the clock moves past published_at.
        time.sleep(1.2)
        outcome = sync_pending(app)
        assert outcome["scheduled"] >= 1
        assert search("定时发布").total == 1


def test_two_app_servers_share_changes_through_the_outbox(app, app_config, make, tmp_path):
    other = create_app(app_config | {"SEARCH_INDEX_DIR": str(tmp_path / "server-b")})
    with other.app_context():
        reindex_all(progress=lambda _m: None, app=other)
    with app.test_request_context():
        reindex_all(progress=lambda _m: None)
        number = make.listing(seller_name="示例濮阳双机测试有限公司").number
        assert search("濮阳双机").total == 1
    with other.test_request_context():
        # Server B has not applied the row yet: its index lags until it reads the outbox.
        store = get_store(other)
        assert store.position() < _latest(other)
        assert apply_outbox(other) >= 1
        assert ("listing", number) in keys(search("濮阳双机", app=other))
        assert store.position() == _latest(other)
        db.session.remove()
    with other.app_context():
        db.engine.dispose()


def _latest(app):
    from sqlalchemy import func, select

    from portal.search.models import SearchOutbox

    return db.session.scalar(select(func.max(SearchOutbox.id)))


def keys(results):
    return [(h.kind, h.record) for h in results.hits]
