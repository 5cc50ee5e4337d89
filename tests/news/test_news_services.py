"""The rules behind the announcement pages, tested without HTTP."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from werkzeug.exceptions import NotFound

from portal.extensions import db
from portal.news.models import Announcement, AnnouncementRevision
from portal.news.services import (
    announcement_body_html,
    attachment_path,
    filter_announcements,
    get_public_announcement_or_404,
    publicity_period,
    revision_history,
    utcnow,
)

NOW = datetime(2024, 5, 1, 4, 0)  # 12:00 in Asia/Shanghai


def _period(starts, ends):
    return Announcement(
        title="公示", category="publicity", publicity_starts_at=starts, publicity_ends_at=ends
    )


def test_time_left_is_whole_days_and_hours_rounded_down():
    period = publicity_period(
        _period(NOW - timedelta(days=1), NOW + timedelta(days=2, hours=5, minutes=59)), now=NOW
    )
    assert period.state == "open" and period.is_open
    assert (period.days_left, period.hours_left) == (2, 5)
    assert not period.under_an_hour


def test_last_minutes_of_the_period_are_under_an_hour():
    period = publicity_period(_period(None, NOW + timedelta(minutes=20)), now=NOW)
    assert period.is_open and period.under_an_hour
    assert (period.days_left, period.hours_left) == (0, 0)


def test_period_ends_exactly_at_its_end_time():
    ends = NOW + timedelta(days=7)
    assert publicity_period(_period(NOW, ends), now=ends - timedelta(seconds=1)).is_open
    at_end = publicity_period(_period(NOW, ends), now=ends)
    assert at_end.state == "ended" and not at_end.is_open


def test_period_not_yet_started_is_upcoming_and_closed():
    period = publicity_period(_period(NOW + timedelta(hours=1), NOW + timedelta(days=7)), now=NOW)
    assert period.state == "upcoming" and not period.is_open


def test_announcement_without_period_has_none():
    assert publicity_period(Announcement(title="通知", category="notice"), now=NOW) is None


def test_public_filter_excludes_drafts_future_and_withdrawn(app, make_announcement):
    visible = make_announcement(title="已发布")
    make_announcement(title="草稿", status="draft")
    make_announcement(
        title="定时发布", status="scheduled", published_at=utcnow() + timedelta(days=1)
    )
    make_announcement(title="发布时间在未来", published_at=utcnow() + timedelta(hours=2))
    make_announcement(title="已撤回", status="withdrawn")
    with app.test_request_context():
        rows, count = filter_announcements()
        assert [a.id for a in db.session.scalars(rows)] == [visible]
        assert db.session.scalar(count) == 1
        assert get_public_announcement_or_404(visible).title == "已发布"
        for hidden in range(visible + 1, visible + 5):
            with pytest.raises(NotFound):
                get_public_announcement_or_404(hidden)


def test_filters_combine_and_list_is_newest_first_regardless_of_featured(app, make_announcement):
    now = utcnow()
    old = make_announcement(
        title="旧", category="publicity", published_at=now - timedelta(days=10), is_featured=True
    )
    new = make_announcement(
        title="新",
        category="publicity",
        published_at=now - timedelta(days=1),
        division_code="410100",
    )
    make_announcement(title="政策", category="policy", published_at=now - timedelta(days=2))
    with app.test_request_context():
        rows, count = filter_announcements(category="publicity")
        assert [a.id for a in db.session.scalars(rows)] == [new, old]
        rows, _ = filter_announcements(division_code="410100")
        assert [a.id for a in db.session.scalars(rows)] == [new]


def test_date_range_uses_local_days_inclusive(app, make_announcement):
    # 2024-03-01 23:30 in Shanghai is 15:30 UTC on the same date; 00:30 local is the previous UTC day.
    late = make_announcement(title="晚", published_at=datetime(2024, 3, 1, 15, 30))
    early = make_announcement(title="早", published_at=datetime(2024, 2, 29, 16, 30))
    make_announcement(title="次日", published_at=datetime(2024, 3, 1, 16, 30))
    with app.test_request_context():
        rows, _ = filter_announcements(date_from=date(2024, 3, 1), date_to=date(2024, 3, 1))
        assert {a.id for a in db.session.scalars(rows)} == {late, early}


def test_open_only_keeps_periods_that_have_begun_and_not_ended(app, make_announcement):
    now = utcnow()
    open_ = make_announcement(
        title="公示中",
        category="publicity",
        publicity_starts_at=now - timedelta(days=1),
        publicity_ends_at=now + timedelta(days=6),
    )
    make_announcement(
        title="已结束",
        category="publicity",
        publicity_starts_at=now - timedelta(days=9),
        publicity_ends_at=now - timedelta(days=2),
    )
    make_announcement(
        title="未开始",
        category="publicity",
        publicity_starts_at=now + timedelta(days=1),
        publicity_ends_at=now + timedelta(days=8),
    )
    make_announcement(title="无公示期")
    with app.test_request_context():
        rows, count = filter_announcements(open_only=True)
        assert [a.id for a in db.session.scalars(rows)] == [open_]
        assert db.session.scalar(count) == 1


def test_body_is_rendered_again_when_no_html_was_stored(app):
    announcement = Announcement(
        title="t", category="news", body_md="**加粗**<script>alert(1)</script>", body_html=""
    )
    html = announcement_body_html(announcement)
    assert "<strong>加粗</strong>" in html
    assert "<script" not in html


def test_revision_history_shows_what_changed_and_why(app, make_announcement):
    first = utcnow() - timedelta(days=3)
    announcement_id = make_announcement(
        title="关于2024年度履约名单的公示（更正）",
        published_at=first,
        body_md="第一段不变。\n\n郑州某公司：未履约",
        revisions=[
            {
                "title": "关于2024年度履约名单的公示",
                "body_md": "第一段不变。\n\n郑州某公司：按期履约",
                "reason": "核实数据后更正履约状态",
                "replaced_at": first + timedelta(days=1),
            },
            {
                "title": "关于2024年度履约名单的公示（更正）",
                "body_md": "第一段不变。\n\n郑州某公司：未履约",
                "reason": "仅重新发布",
                "replaced_at": first + timedelta(days=2),
            },
        ],
    )
    with app.app_context():
        history = revision_history(db.session.get(Announcement, announcement_id))
        assert [c.number for c in history] == [1, 2]
        correction = history[0]
        assert correction.reason == "核实数据后更正履约状态"
        assert correction.valid_from == first
        assert correction.title_changed
        assert correction.removed == ["郑州某公司：按期履约"]
        assert correction.added == ["郑州某公司：未履约"]
        assert history[1].valid_from == first + timedelta(days=1)
        assert not history[1].title_changed and history[1].removed == history[1].added == []


def test_attachment_path_follows_the_layout(tmp_path):
    sha = "ab" + "0" * 62
    assert attachment_path(tmp_path, sha) == (tmp_path / "ab" / sha).resolve()


@pytest.mark.parametrize(
    "bad",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "ab/../../x",
        "AB" + "0" * 62,
        "0" * 63,
        "0" * 64 + "/..",
        "",
        None,
    ],
)
def test_attachment_path_refuses_anything_but_a_digest(tmp_path, bad):
    with pytest.raises(ValueError):
        attachment_path(tmp_path, bad)


def test_attachment_path_refuses_a_symlink_out_of_the_upload_folder(tmp_path):
    uploads = tmp_path / "uploads"
    outside = tmp_path / "secret"
    outside.mkdir()
    (uploads).mkdir()
    (uploads / "cd").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ValueError):
        attachment_path(uploads, "cd" + "1" * 62)


def test_revision_rows_need_an_announcement(app, make_announcement):
    """Deleting an announcement removes its revisions with it (cascade), leaving no orphans."""
    announcement_id = make_announcement(
        revisions=[{"title": "旧", "body_md": "旧", "reason": "更正"}]
    )
    with app.app_context():
        db.session.delete(db.session.get(Announcement, announcement_id))
        db.session.commit()
        assert db.session.query(AnnouncementRevision).count() == 0
