"""One rule decides who sees a filing and its files (filings.workflow.can_see_filing): the
enterprise from its first draft, reviewers only once it has been submitted, and never a draft's
new, unsubmitted upload."""

# The back-office fixtures (users, sign_in) are imported, then named as test arguments.
# ruff: noqa: F811

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from portal.accounts.models import User
from portal.extensions import db
from portal.filings import services as filings
from portal.filings import workflow
from portal.filings.models import Filing, FilingAttachment, FilingVersion
from portal.review import services as review
from tests.factories import checked_pdf, login, make_enterprise, make_filing, make_user

REVIEWERS = ("city", "province", "auditor", "supervisor")


def _status(client, url) -> int:
    """The status of a download, closing the streamed file."""
    response = client.get(url)
    response.close()
    return response.status_code


def _upload(filing, actor, name="evidence.pdf"):
    """A file of its own content (one content is attached to a filing once)."""
    upload = checked_pdf()
    upload.original_name = name
    upload.data += name.encode()
    upload.sha256 = hashlib.sha256(upload.data).hexdigest()
    upload.size = len(upload.data)
    return filings.add_attachment(filing, upload, "evidence", actor)


def _setup(app, users):
    """A never-submitted draft with a file, and a returned filing with a submitted and a new file."""
    with app.app_context():
        firm_id = db.session.get(User, users["auditor"]).audit_firm_id
        unit = make_enterprise("可见性企业", "410100")
        owner = make_user("enterprise", totp=False, enterprise_id=unit.id)
        draft = filings.create_filing("retrofit", owner)
        draft.audit_firm_id = firm_id
        draft_file = _upload(draft, owner, "draft.pdf")

        # Submitted once (with sent.pdf), then returned; the enterprise has added a file since.
        returned = make_filing("retrofit", "returned", enterprise=unit, firm_id=firm_id)
        returned.submitted_count = 1
        sent = _upload_as_submitted(returned, owner)
        new_file = _upload(returned, owner, "not-yet-sent.pdf")
        auditor = db.session.get(User, users["auditor"])
        report = FilingAttachment(
            filing_id=returned.id,
            purpose="audit_report",
            sha256=sent.sha256,
            size=sent.size,
            content_type=sent.content_type,
            original_name="audit-report.pdf",
            uploaded_by_id=auditor.id,
            created_at=datetime.now(UTC).replace(tzinfo=None),
        )
        db.session.add(report)
        db.session.commit()
        return {
            "owner": owner.id,
            "draft": draft.id,
            "draft_file": draft_file.id,
            "returned": returned.id,
            "sent": sent.id,
            "new_file": new_file.id,
            "report": report.id,
        }


def _upload_as_submitted(filing, owner):
    attachment = _upload(filing, owner, "sent.pdf")
    db.session.add(
        FilingVersion(
            filing_id=filing.id,
            number=1,
            data={"attachments": [{"id": attachment.id, "name": "sent.pdf"}]},
            submitted_by_id=owner.id,
        )
    )
    db.session.flush()
    return attachment


@pytest.mark.parametrize("role", REVIEWERS)
def test_reviewers_never_see_a_draft_that_was_never_submitted(app, client, users, sign_in, role):
    made = _setup(app, users)
    sign_in(users[role])
    assert client.get(f"/filings/{made['draft']}").status_code == 404
    assert _status(client, f"/filings/attachments/{made['draft_file']}") == 404
    assert client.get(f"/admin/filings/{made['draft']}").status_code == 403


@pytest.mark.parametrize("role", REVIEWERS)
def test_reviewers_see_what_was_submitted_not_the_new_upload(app, client, users, sign_in, role):
    made = _setup(app, users)
    sign_in(users[role])
    assert _status(client, f"/filings/attachments/{made['sent']}") == 200
    assert _status(client, f"/filings/attachments/{made['report']}") == 200
    assert _status(client, f"/filings/attachments/{made['new_file']}") == 404
    page = client.get(f"/admin/filings/{made['returned']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "sent.pdf" in html and "audit-report.pdf" in html and "not-yet-sent.pdf" not in html


@pytest.mark.parametrize("role", ("city", "province"))
def test_a_reviewer_reads_a_returned_filing_and_is_not_sent_to_the_edit_page(
    app, client, users, sign_in, role
):
    made = _setup(app, users)
    sign_in(users[role])
    page = client.get(f"/filings/{made['returned']}")
    assert page.status_code == 200
    assert client.get(f"/filings/{made['returned']}/edit").status_code == 403


def test_the_enterprise_sees_its_drafts_and_every_file(app, client, users):
    made = _setup(app, users)
    with app.app_context():
        login(client, db.session.get(User, made["owner"]))
    assert client.get(f"/filings/{made['draft']}/edit").status_code == 200
    for key in ("draft_file", "sent", "new_file"):
        assert _status(client, f"/filings/attachments/{made[key]}") == 200


def test_others_see_nothing(app, client, users, sign_in):
    made = _setup(app, users)
    sign_in(users["editor"])
    assert client.get(f"/filings/{made['returned']}").status_code == 404
    assert _status(client, f"/filings/attachments/{made['sent']}") == 404
    sign_in(users["city_other"])  # 洛阳: not this filing's division
    assert client.get(f"/filings/{made['returned']}").status_code == 404
    assert client.get(f"/admin/filings/{made['returned']}").status_code == 403
    with app.app_context():
        stranger = make_user("enterprise", totp=False, enterprise_id=make_enterprise("别家").id)
        db.session.commit()
        login(client, stranger)
    assert _status(client, f"/filings/attachments/{made['draft_file']}") == 404


def test_one_rule_for_filings_and_review(app, users):
    made = _setup(app, users)
    with app.app_context():
        people = [db.session.get(User, uid) for uid in users.values()]
        people.append(db.session.get(User, made["owner"]))
        for filing_id in (made["draft"], made["returned"]):
            filing = db.session.get(Filing, filing_id)
            for person in people:
                expected = workflow.can_see_filing(person, filing)
                assert review.can_see_filing(person, filing) is expected
                assert filings.can_view(person, filing) is expected
