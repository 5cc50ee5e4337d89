"""The publicity part of the dashboard's 待办 (portal/accounts/todo.py): when the 公示 of each
subject another package registered ends, and where to read it."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import select, tuple_

from portal.accounts.todo import Todo, collect_todo
from portal.extensions import db
from portal.i18n import local_date
from portal.news.models import Announcement
from portal.publicity.models import PublicityNotice


def _publicity_todo(todo: Todo) -> None:
    if not todo.awaiting_publicity:
        return
    subjects = {(kind, subject_id): obj for kind, subject_id, obj in todo.awaiting_publicity}
    notices = db.session.scalars(
        select(PublicityNotice)
        .join(Announcement, PublicityNotice.announcement_id == Announcement.id)
        .where(
            tuple_(PublicityNotice.subject_type, PublicityNotice.subject_id).in_(list(subjects)),
            PublicityNotice.status == "open",
            Announcement.status == "published",
            Announcement.publicity_ends_at > todo.now,
        )
        .order_by(PublicityNotice.id)
    )
    for notice in notices:
        ends_at = notice.announcement.publicity_ends_at
        subject = subjects[(notice.subject_type, notice.subject_id)]
        todo.add(
            "publicity",
            local_date(ends_at),
            url_for("news.detail", id=notice.announcement_id),
            subject,
            ends_at=ends_at,
            filing=subject if notice.subject_type == "filing" else None,
        )


# After the packages that register their subjects (order 0).
collect_todo.connect(_publicity_todo, order=1)
