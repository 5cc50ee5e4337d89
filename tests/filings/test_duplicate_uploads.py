"""One file content is attached to a filing once; the person is told next to the file it repeats."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal import create_app
from portal.accounts.models import User
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.filings import services
from portal.filings.models import Filing, FilingAttachment
from tests import factories
from tests.factories import TEST_SECRET_KEY
from tests.filings.conftest import PDF

OTHER_PDF = PDF + b"% another page\n"
MIGRATIONS = str(Path(__file__).resolve().parents[2] / "migrations")


def _current(app, filing_id):
    with app.app_context():
        return [
            (a.original_name, a.purpose)
            for a in db.session.get(Filing, filing_id).attachments
            if a.removed_at is None
        ]


def _attach_events(app) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "filing.attach")
        )


def test_the_same_file_twice_is_kept_once_and_the_page_says_so_beside_it(
    app, client, closure_pages, signed_in_enterprise
):
    filing_id = closure_pages.new()
    assert closure_pages.upload(filing_id, "证明.pdf", PDF).status_code == 303
    response = closure_pages.upload(filing_id, "证明（副本）.pdf", PDF)
    assert response.status_code == 303
    with app.app_context():
        first = db.session.get(Filing, filing_id).attachments[0].id
    location = response.headers["Location"]
    assert location.endswith(f"/filings/{filing_id}/edit?duplicate={first}#attachment-{first}")
    assert _current(app, filing_id) == [("证明.pdf", "evidence")]
    assert _attach_events(app) == 1

    html = client.get(location).get_data(as_text=True)
    item = re.search(rf'<li id="attachment-{first}">(.*?)</li>', html, re.S).group(1)
    assert "内容完全相同" in item and "没有重复保存" in item and "“证明.pdf”" in item
    assert "已上传：证明（副本）.pdf" not in html  # no success banner for what was not stored
    # Without the marker the page is the ordinary edit page.
    assert "没有重复保存" not in client.get(f"/filings/{filing_id}/edit").get_data(as_text=True)


def test_same_content_under_another_purpose_is_still_one_file(
    app, client, closure_pages, signed_in_enterprise
):
    filing_id = closure_pages.new("compliance")
    closure_pages.upload(filing_id, "核查报告.pdf", PDF, purpose="verification_report")
    response = closure_pages.upload(filing_id, "证明.pdf", PDF, purpose="evidence")
    assert "duplicate=" in response.headers["Location"]
    assert _current(app, filing_id) == [("核查报告.pdf", "verification_report")]


def test_different_files_are_both_kept(app, client, closure_pages, signed_in_enterprise):
    filing_id = closure_pages.new()
    closure_pages.upload(filing_id, "a.pdf", PDF)
    response = closure_pages.upload(filing_id, "b.pdf", OTHER_PDF)
    assert "duplicate" not in response.headers["Location"]
    assert [name for name, _ in _current(app, filing_id)] == ["a.pdf", "b.pdf"]


def test_a_removed_file_may_be_attached_again(app, client, closure_pages, signed_in_enterprise):
    filing_id = closure_pages.new()
    closure_pages.upload(filing_id, "a.pdf", PDF)
    with app.app_context():
        first = db.session.get(Filing, filing_id).attachments[0].id
    response = client.post(
        f"/filings/attachments/{first}/remove", data={"csrf_token": closure_pages.token()}
    )
    assert response.status_code == 303
    response = closure_pages.upload(filing_id, "a.pdf", PDF)
    assert "duplicate" not in response.headers["Location"]
    with app.app_context():
        rows = db.session.get(Filing, filing_id).attachments
        assert [(a.id == first, a.removed_at is None) for a in rows] == [
            (True, False),
            (False, True),
        ]


def test_the_same_file_on_two_filings_is_attached_to_each(
    app, client, closure_pages, signed_in_enterprise
):
    one, two = closure_pages.new(), closure_pages.new()
    closure_pages.upload(one, "a.pdf", PDF)
    response = closure_pages.upload(two, "a.pdf", PDF)
    assert "duplicate" not in response.headers["Location"]
    assert _current(app, one) == _current(app, two) == [("a.pdf", "evidence")]


def test_the_database_holds_one_current_row_per_content(ctx):
    filing = factories.make_filing("closure", "draft")
    digest = hashlib.sha256(PDF).hexdigest()

    def row(**kw):
        return FilingAttachment(
            filing_id=filing.id,
            sha256=digest,
            size=len(PDF),
            content_type="application/pdf",
            original_name="a.pdf",
            **kw,
        )

    db.session.add(row(removed_at=services.now()))
    db.session.add(row())
    db.session.flush()  # a removed row and a current one may share the content
    # The back office's files are its own: an audit report may repeat what the enterprise sent.
    db.session.add(row(purpose="audit_report"))
    db.session.flush()
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.add(row())
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.add(row(purpose="verification_report"))


def test_an_upload_that_loses_the_race_gets_the_winners_row(ctx, monkeypatch):
    """Two requests upload one file at once: both looked before either wrote. The unique index lets
    one row in; the other request answers with that row instead of a 500."""
    filing = factories.make_filing("closure", "draft")
    owner = db.session.get(User, filing.created_by_id)
    winner, added = services.attach_upload(filing, factories.checked_pdf(), "evidence", owner)
    assert added
    looks = []

    def looked_too_early(filing_, sha256):
        looks.append(sha256)
        if len(looks) == 1:
            return None  # the check ran before the other request's row existed
        return real(filing_, sha256)

    real = services.current_attachment_with
    monkeypatch.setattr(services, "current_attachment_with", looked_too_early)
    found, added = services.attach_upload(filing, factories.checked_pdf(), "evidence", owner)
    assert (found.id, added, len(looks)) == (winner.id, False, 2)
    assert len([a for a in filing.attachments if a.removed_at is None]) == 1


def _insert(conn, table: str, **values) -> None:
    """A row of the schema as it was then; columns that must be filled get a plain value."""
    reflected = sa.Table(table, sa.MetaData(), autoload_with=conn)
    plain = {sa.Boolean: False, sa.Integer: 0, sa.DateTime: datetime(2025, 1, 1), sa.JSON: {}}
    for column in reflected.columns:
        if column.name in values or column.nullable or column.server_default is not None:
            continue
        if column.primary_key:
            continue
        filler = next((v for t, v in plain.items() if isinstance(column.type, t)), "")
        values[column.name] = filler
    conn.execute(reflected.insert().values(**values))


def test_the_migration_keeps_the_first_of_each_repeated_file(tmp_path):
    """Files attached twice before the unique index existed: the later rows are marked removed."""
    url = f"sqlite:///{tmp_path / 'migrate.db'}"
    app = create_app(
        {"TESTING": True, "SECRET_KEY": TEST_SECRET_KEY, "SQLALCHEMY_DATABASE_URI": url}
    )
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision="0011")
        with db.engine.begin() as conn:
            _insert(
                conn,
                "enterprise",
                id=1,
                uscc=factories.make_uscc(7),
                name="迁移测试企业",
                division_code="410100",
                industry_code="steel",
            )
            _insert(
                conn,
                "user_account",
                id=1,
                email="m@example.com",
                role="enterprise",
                enterprise_id=1,
            )
            _insert(
                conn,
                "filing",
                id=1,
                kind="closure",
                status="draft",
                enterprise_id=1,
                division_code="410100",
                created_by_id=1,
            )
            for attachment_id, sha, purpose in (
                (1, "a" * 64, "evidence"),
                (2, "a" * 64, "evidence"),
                (3, "b" * 64, "evidence"),
                (4, "a" * 64, "verification_report"),
                (5, "a" * 64, "audit_report"),  # the back office's: not concerned
            ):
                _insert(
                    conn,
                    "filing_attachment",
                    id=attachment_id,
                    filing_id=1,
                    sha256=sha,
                    purpose=purpose,
                )
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as conn:
            current = conn.execute(
                sa.text("SELECT id FROM filing_attachment WHERE removed_at IS NULL ORDER BY id")
            ).scalars()
            assert list(current) == [1, 3, 5]
        db.engine.dispose()
