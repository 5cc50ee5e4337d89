"""A withdrawn or refused filing copied into a new draft: fields, files, provenance, audit, access."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.audit.models import AuditEvent
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.filings import services, workflow
from portal.filings.models import Filing, FilingAttachment
from tests import factories
from tests.filings.conftest import CLOSURE, PDF

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f"
    b"\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00"
    b"\x00IEND\xaeB`\x82"
)


def _filing_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Filing))


def _audit_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent))


def _copy(client, closure_pages, filing_id):
    return client.post(f"/filings/{filing_id}/copy", data={"csrf_token": closure_pages.token()})


def test_a_withdrawn_filing_becomes_a_new_draft_with_its_files(
    app, client, closure_pages, signed_in_enterprise
):
    source_id = closure_pages.withdrawn(files=(("证明.pdf", PDF), ("现场照片.png", PNG)))
    detail = client.get(f"/filings/{source_id}").get_data(as_text=True)
    assert "复制为新草稿" in detail

    response = _copy(client, closure_pages, source_id)
    assert response.status_code == 303
    copy_id = int(response.headers["Location"].rstrip("/").split("/")[-2])
    assert response.headers["Location"].endswith(f"/filings/{copy_id}/edit")
    assert copy_id != source_id

    with app.app_context():
        source = db.session.get(Filing, source_id)
        copy = db.session.get(Filing, copy_id)
        assert (source.status, copy.status) == ("withdrawn", "draft")
        assert copy.kind == "closure" and copy.enterprise_id == source.enterprise_id
        assert copy.copied_from_id == source.id and copy.submitted_count == 0
        assert copy.facility_name == CLOSURE["facility_name"]
        assert copy.closure_date == date(2024, 5, 1)
        assert copy.is_grid_coal_unit is False
        assert copy.prior_year_energy == Decimal("812.5")
        files = [(a.original_name, a.sha256, a.purpose) for a in copy.attachments]
        assert (
            files == [(a.original_name, a.sha256, a.purpose) for a in source.attachments]
            and len(files) == 2
        )
        assert {a.id for a in copy.attachments}.isdisjoint({a.id for a in source.attachments})
        assert [e.action for e in copy.events] == ["copy"]
        audit = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "filing.copy")
        ).all()
        assert [a.object_id for a in audit] == [str(copy_id)]
        assert json.loads(audit[0].before)["source"] == source_id
        assert len(json.loads(audit[0].after)["attachments"]) == 2
        source_number, copy_number = source.number, copy.number

    # The bytes were stored once: the copy points at the same content.
    digest = hashlib.sha256(PDF).hexdigest()
    stored = list(Path(app.config["UPLOAD_DIR"]).rglob("*"))
    assert [p.name for p in stored if p.is_file()].count(digest) == 1

    edit = client.get(f"/filings/{copy_id}/edit").get_data(as_text=True)
    assert f"此申报复制自 {source_number}" in edit and "数据有误" in edit
    assert 'value="2号石灰窑"' in edit and "证明.pdf" in edit and "现场照片.png" in edit
    assert "复制已结束的申报" in edit  # the timeline's first step
    source_page = client.get(f"/filings/{source_id}").get_data(as_text=True)
    assert "此申报已复制为" in source_page and copy_number in source_page


def test_a_refused_filing_can_be_copied_and_the_reason_stays_in_sight(
    app, client, closure_pages, signed_in_enterprise
):
    source_id = closure_pages.submitted()
    with app.app_context():
        city = factories.make_user("city", division="410100")
        filing = db.session.get(Filing, source_id)
        workflow.transition(filing, "reject", city, remark="关停日期与证明材料不符")
        db.session.commit()
    response = _copy(client, closure_pages, source_id)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "不予通过" in page and "关停日期与证明材料不符" in page
    assert "复制为新草稿" in page  # the flash names both filings


def test_a_reviewer_learns_of_a_copy_only_once_it_is_submitted(ctx):
    source = factories.make_filing("closure", "rejected")
    owner = db.session.get(User, source.created_by_id)
    city = factories.make_user("city", division="410100")
    copy = services.copy_filing(source, owner)
    assert services.provenance(source, owner)["copies"] == [copy]
    assert services.provenance(source, city)["copies"] == []
    assert services.provenance(copy, owner)["source"] == source
    copy.submitted_count = 1
    assert services.provenance(source, city)["copies"] == [copy]
    assert services.provenance(copy, city)["source"] == source


def test_the_copy_can_be_submitted_like_any_draft(app, client, closure_pages, signed_in_enterprise):
    source_id = closure_pages.withdrawn()
    response = _copy(client, closure_pages, source_id)
    copy_id = int(response.headers["Location"].split("/")[-2])
    response = client.post(f"/filings/{copy_id}/submit", data={"csrf_token": closure_pages.token()})
    assert response.status_code == 303 and response.headers["Location"].endswith("/confirm")


@pytest.mark.parametrize("status", ["draft", "submitted", "returned", "city_review", "final"])
def test_only_a_withdrawn_or_refused_filing_is_copied(ctx, status):
    filing = factories.make_filing("closure", status)
    owner = db.session.get(User, filing.created_by_id)
    assert not services.can_copy(owner, filing)
    with pytest.raises(workflow.TransitionError):
        services.copy_filing(filing, owner)
    assert services.provenance(filing, owner)["copies"] == []


def test_the_page_refuses_a_filing_still_in_progress(
    app, client, closure_pages, signed_in_enterprise
):
    filing_id = closure_pages.submitted()
    before = (_filing_count(app), _audit_count(app))
    response = _copy(client, closure_pages, filing_id)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/filings/{filing_id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "只有本企业已撤回或不予通过的申报可以复制为新草稿" in page
    assert (_filing_count(app), _audit_count(app)) == before


def test_another_enterprise_cannot_copy_the_filing(app, client, auth, closure_pages):
    auth.login("enterprise")
    source_id = closure_pages.withdrawn()
    auth.logout()
    auth.login("enterprise")  # a user of another enterprise of the same city
    before = (_filing_count(app), _audit_count(app))
    assert _copy(client, closure_pages, source_id).status_code == 404
    assert (_filing_count(app), _audit_count(app)) == before


def test_a_colleague_of_the_same_enterprise_may_copy(app, client, auth, closure_pages):
    admin_id = auth.login("enterprise")
    source_id = closure_pages.withdrawn()
    auth.logout()
    with app.app_context():
        enterprise_id = db.session.get(User, admin_id).enterprise_id
    auth.login("enterprise", enterprise_id=enterprise_id, is_enterprise_admin=False)
    assert _copy(client, closure_pages, source_id).status_code == 303


def test_a_visitor_is_sent_to_log_in_and_nothing_is_copied(
    app, client, auth, closure_pages, csrf_token
):
    auth.login("enterprise")
    source_id = closure_pages.withdrawn()
    auth.logout()
    before = _filing_count(app)
    response = client.post(
        f"/filings/{source_id}/copy", data={"csrf_token": csrf_token("/accounts/login")}
    )
    assert response.status_code == 302 and "/accounts/login" in response.headers["Location"]
    assert client.post(f"/filings/{source_id}/copy").status_code == 400  # no CSRF token
    assert _filing_count(app) == before


@pytest.mark.parametrize("role", ["city", "province", "auditor", "supervisor"])
def test_the_back_office_cannot_copy(app, client, auth, closure_pages, role):
    auth.login("enterprise")
    source_id = closure_pages.withdrawn()
    auth.logout()
    auth.login(role)
    before = _filing_count(app)
    response = client.post(f"/filings/{source_id}/copy", data={"csrf_token": closure_pages.token()})
    assert response.status_code == 403
    assert _filing_count(app) == before


def test_back_office_files_are_not_copied(ctx):
    firm = factories.audit_firm()
    auditor = factories.make_user("auditor", audit_firm_id=firm.id)
    filing = factories.make_filing("retrofit", "rejected", firm_id=firm.id)
    owner = db.session.get(User, filing.created_by_id)
    for purpose, uploader, name in (
        ("evidence", owner, "改造方案.pdf"),
        ("audit_report", auditor, "审核报告.pdf"),
    ):
        db.session.add(
            FilingAttachment(
                filing_id=filing.id,
                purpose=purpose,
                sha256=hashlib.sha256(name.encode()).hexdigest(),
                size=10,
                content_type="application/pdf",
                original_name=name,
                uploaded_by_id=uploader.id,
            )
        )
    db.session.flush()
    db.session.expire(filing)
    copy = services.copy_filing(filing, owner)
    assert [a.original_name for a in copy.attachments] == ["改造方案.pdf"]
    assert copy.audit_firm_id == firm.id and copy.project_name == "余热回收改造"


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("voluntary", {"reasons": "自愿", "planned_measures": "变频", "commitments": "履约"}),
        ("compliance", {"period_year": 2024, "actual_energy": Decimal("50.0000")}),
        (
            "purchase",
            {
                "product_code": "cement_clinker",
                "designed_output": Decimal("1000.0000"),
                "is_grid_coal_unit": False,
            },
        ),
    ],
)
def test_every_kind_copies_the_values_it_holds(ctx, kind, fields):
    if kind == "purchase":
        factories.seed_benchmarks()
    filing = factories.make_filing(kind, "withdrawn", **fields)
    owner = db.session.get(User, filing.created_by_id)
    copy = services.copy_filing(filing, owner)
    for name, value in fields.items():
        assert getattr(copy, name) == value, name
    if kind == "purchase":
        # Computed again from the table: 100 kgce/t of clinker × 1,000 t ÷ 1,000.
        assert copy.required_quantity == Decimal("100.0000")
        assert copy.benchmark_row.product_code == "cement_clinker"
        assert copy.granted_on is None  # what the back office set is not copied
    assert db.session.get(Enterprise, copy.enterprise_id).id == filing.enterprise_id
