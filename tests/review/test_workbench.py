"""The reviewer's workbench: the whole submission, its files, computed values and versions, the
history, corrections (核减), a kept reassignment of the audit firm, queue filters and deadlines."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from portal.accounts.models import User
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.filings import services as filings
from portal.filings import workflow
from portal.filings.models import Filing, FilingCorrection
from portal.prices import services as prices
from portal.reference.models import Industry
from portal.registry import services as registry
from portal.review import deadlines
from portal.review import services as review
from tests import factories

FIELDS = {
    "closure": {
        "facility_name": "3 号立窑",
        "facility_description": "机立窑一座",
        "is_grid_coal_unit": "no",
        "closure_date": "2024-05-01",
        "prior_year_energy": "812.5",
        "prior_year_coal": "0",
    },
    "voluntary": {
        "in_carbon_trading": "no",
        "reasons": "盘活富余指标",
        "planned_measures": "电机变频改造",
        "commitments": "按期履约",
    },
    "compliance": {"period_year": "2024", "actual_energy": "50", "actual_coal": "0"},
    "retrofit": {
        "project_name": "余热发电改造",
        "description": "新建余热电站",
        "baseline_year": "2023",
        "baseline_energy": "86500",
        "baseline_coal": "0",
        "expected_energy_savings": "6200",
    },
    "purchase": {
        "project_name": "年产 20 万吨水泥熟料项目",
        "description": "豫发改工业〔2024〕12 号",
        "variety_code": "energy",
        "is_grid_coal_unit": "no",
        "product_code": "cement_clinker",
        "designed_output": "200000",
    },
}


def _version(client, path: str, prefix: str) -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(rf'id="{prefix}version" name="version" type="hidden" value="(\d+)"', html)
    return match.group(1)


def _submitted(kind: str, *, firm_id=None, data=None, enterprise=None) -> tuple[int, int]:
    """A filing of `kind`, filled, with a PDF, and submitted by its enterprise: (filing, owner)."""
    enterprise = enterprise or factories.make_enterprise("申报企业", "410100")
    owner = factories.make_user("enterprise", totp=False, enterprise_id=enterprise.id)
    filing = filings.create_filing(kind, owner)
    values = dict(data or FIELDS[kind])
    if kind == "retrofit":
        values["audit_firm_id"] = str(firm_id)
    if kind == "purchase":
        factories.seed_benchmarks()
    if kind == "compliance":  # a unit files for a period it owes: one it was allocated for
        year = int(values["period_year"])
        registry.allocate_indicators(enterprise.id, "energy", 100, year, "初始分配")
    assert filings.save_draft(filing, MultiDict(values), owner) == {}
    filings.add_attachment(filing, factories.checked_pdf(), filings.PURPOSES[kind][0], owner)
    filings.submit_filing(filing, owner)
    db.session.commit()
    return filing.id, owner.id


@pytest.fixture
def firms(app, users):
    with app.app_context():
        first = db.session.get(User, users["auditor"]).audit_firm_id
        second = factories.audit_firm("审核机构乙")
        other = factories.make_user("auditor", audit_firm_id=second.id)
        db.session.commit()
        return {"first": first, "second": second.id, "second_auditor": other.id}


# ---------------------------------------------------------------- 1. the whole submission


@pytest.mark.parametrize("kind", list(FIELDS))
def test_every_field_is_shown_with_the_enterprise_form_label(
    app, client, users, sign_in, firms, kind
):
    with app.app_context():
        filing_id, _owner = _submitted(kind, firm_id=firms["first"])
        labels = [
            str(field.label.text) for field in filings.build_form(db.session.get(Filing, filing_id))
        ]
    sign_in(users["province"])
    html = client.get(f"/admin/filings/{filing_id}").get_data(as_text=True)
    section = html.split('id="submission"')[1].split("</dl>")[0]
    assert section.count("<dt>") == len(labels)
    for label in labels:
        assert f"<dt>{label}</dt>" in section


def test_purchase_shows_product_benchmark_source_capacity_and_approval(app, client, users, sign_in):
    with app.app_context():
        filing_id, _owner = _submitted("purchase")
        industry = db.session.get(Industry, db.session.get(Filing, filing_id).industry_code)
    sign_in(users["city"])
    html = client.get(f"/admin/filings/{filing_id}").get_data(as_text=True)
    section = html.split('id="submission"')[1].split("</dl>")[0]
    assert "水泥熟料" in section
    assert "200,000" in section
    assert "豫发改工业〔2024〕12 号" in section
    computed = html.split('id="computed"')[1].split("</div>")[0]
    assert industry.name in computed and "标杆值" in computed
    assert "100 千克标准煤/吨熟料" in computed and "2021年版" in computed
    # The computed required quantity: 100 kgce/t × 200,000 t ÷ 1,000 = 20,000 tce.
    assert "20,000 吨标准煤" in computed


def test_closure_shows_its_date_and_grid_flag(app, client, users, sign_in):
    with app.app_context():
        filing_id, _owner = _submitted("closure")
    sign_in(users["city"])
    html = client.get(f"/admin/filings/{filing_id}").get_data(as_text=True)
    section = html.split('id="submission"')[1].split("</dl>")[0]
    assert "<dt>关停日期</dt>" in section and "2024" in section
    assert "<dt>是否为统调燃煤机组？</dt>" in section and "<dd>否</dd>" in section


# ---------------------------------------------------------------- 2. attachments


def test_attachment_is_linked_previewed_and_served_safely(app, client, users, sign_in):
    with app.app_context():
        filing_id, _owner = _submitted("closure")
        attachment = db.session.get(Filing, filing_id).attachments[0]
        attachment_id = attachment.id
    sign_in(users["city"])
    html = client.get(f"/admin/filings/{filing_id}").get_data(as_text=True)
    href = f"/admin/filings/{filing_id}/files/{attachment_id}"
    assert f'<a href="{href}">' in html
    assert f'<iframe src="{href}"' in html
    with client.get(href) as response:
        assert response.status_code == 200
        assert response.mimetype == "application/pdf"
        assert response.data.startswith(b"%PDF")
        assert response.headers["Content-Disposition"].startswith("inline")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
    with client.get(href + "?download=1") as download:
        assert download.headers["Content-Disposition"].startswith("attachment")


def test_a_non_pdf_file_is_never_inline(app, client, users, sign_in):
    with app.app_context():
        filing_id, _owner = _submitted("closure")
        attachment = db.session.get(Filing, filing_id).attachments[0]
        # The type stored when the upload was checked decides, not the name.
        attachment.content_type = (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        db.session.commit()
        attachment_id = attachment.id
    sign_in(users["city"])
    with client.get(f"/admin/filings/{filing_id}/files/{attachment_id}") as response:
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert "sandbox" in response.headers["Content-Security-Policy"]


def test_files_of_other_divisions_filings_and_later_uploads_are_refused(
    app, client, users, sign_in
):
    with app.app_context():
        filing_id, owner_id = _submitted("closure")
        other_id, _ = _submitted("closure")
        first = db.session.get(Filing, filing_id).attachments[0].id
        filing = db.session.get(Filing, filing_id)
        owner = db.session.get(User, owner_id)
        city = db.session.get(User, users["city"])
        workflow.transition(filing, "return", city, "请补充")
        later = filings.add_attachment(
            filing,
            factories.checked_pdf().__class__(
                data=factories.pdf_document(),
                sha256="f" * 64,
                size=10,
                content_type="application/pdf",
                original_name="新增.pdf",
            ),
            "evidence",
            owner,
        )
        db.session.commit()
        later_id = later.id
    sign_in(users["city_other"])
    assert client.get(f"/admin/filings/{filing_id}/files/{first}").status_code == 403
    sign_in(users["city"])
    with client.get(f"/admin/filings/{filing_id}/files/{first}") as response:
        assert response.status_code == 200
    # A file added after the last submission is the enterprise's until it resubmits.
    assert client.get(f"/admin/filings/{filing_id}/files/{later_id}").status_code == 404
    # The file must belong to the filing in the address.
    assert client.get(f"/admin/filings/{other_id}/files/{first}").status_code == 404


# ---------------------------------------------------------------- 3. versions and their changes


def test_resubmission_shows_field_by_field_changes(app, client, users, sign_in):
    with app.app_context():
        filing_id, owner_id = _submitted("closure")
        filing = db.session.get(Filing, filing_id)
        workflow.transition(filing, "return", db.session.get(User, users["city"]), "能耗有误")
        owner = db.session.get(User, owner_id)
        filings.save_draft(
            filing, MultiDict(FIELDS["closure"] | {"prior_year_energy": "700"}), owner
        )
        filings.submit_filing(filing, owner)
        db.session.commit()
        assert [v.number for v in filing.versions] == [1, 2]
    sign_in(users["city"])
    html = client.get(f"/admin/filings/{filing_id}").get_data(as_text=True)
    changes = html.split('id="h-versions"')[1].split("</section>")[0]
    assert "关停前一年综合能耗（吨标准煤，不含煤炭）" in changes
    assert "<del>812.5</del>" in changes and "<ins>700</ins>" in changes
    assert "关停设施名称" not in changes


# ---------------------------------------------------------------- 5. corrections (核减)


def _correct(client, filing_id, **data):
    token = re.search(
        r'id="correct-csrf_token" name="csrf_token" type="hidden" value="([^"]+)"',
        client.get(f"/admin/filings/{filing_id}").get_data(as_text=True),
    ).group(1)
    version = _version(client, f"/admin/filings/{filing_id}", "correct-")
    return client.post(
        f"/admin/filings/{filing_id}/correct",
        data={"csrf_token": token, "version": version} | data,
    )


def test_correction_is_shown_to_the_enterprise_used_at_issuance_and_audited(
    app, client, users, sign_in
):
    with app.app_context():
        filing_id, owner_id = _submitted("closure")
    sign_in(users["city"])
    response = _correct(
        client,
        filing_id,
        field="prior_year_energy",
        corrected="800",
        reason="统计年报为 800 吨标准煤",
    )
    assert response.status_code == 303
    with app.app_context():
        filing = db.session.get(Filing, filing_id)
        assert filing.prior_year_energy == Decimal("812.5")  # the filed value is kept
        assert filings.effective_quantity(filing, "prior_year_energy") == Decimal("800")
        assert (
            db.session.scalar(
                select(AuditEvent).where(AuditEvent.action == "filing.correct")
            ).remark
            == "统计年报为 800 吨标准煤"
        )
        assert filing.events[-1].action == "correct"
        # The later steps use the corrected value.
        province = db.session.get(User, users["province"])
        city = db.session.get(User, users["city"])
        workflow.transition(filing, "review_city", city, "同意")
        workflow.transition(filing, "review_province", province, "同意")
        review.finalize_filing(filing, province)
        # Offered to the city's reserve first (收储), at the corrected quantity; released, issued.
        (offer,) = prices.offers_of(filing)
        assert offer.quantity == Decimal("800")
        prices.decide_offer(offer, "release", actor=city)
        db.session.commit()
        assert registry.balances(filing.enterprise_id)["energy"] == Decimal("800")
    with app.app_context():
        factories.login(client, db.session.get(User, owner_id))
    page = client.get(f"/filings/{filing_id}").get_data(as_text=True)
    section = page.split('id="h-corrections"')[1].split("</section>")[0]
    assert "812.5" in section and "800" in section and "统计年报为 800 吨标准煤" in section


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"field": "prior_year_energy", "corrected": "900", "reason": "多了"}, "小于当前数量"),
        ({"field": "prior_year_energy", "corrected": "100", "reason": ""}, "请填写核减理由"),
        (
            {"field": "prior_year_energy", "corrected": "abc", "reason": "理由"},
            'id="correct-corrected-error"',
        ),
        ({"field": "closure_date", "corrected": "1", "reason": "理由"}, 'id="correct-field-error"'),
    ],
)
def test_a_bad_correction_is_refused_next_to_its_field(app, client, users, sign_in, data, message):
    with app.app_context():
        filing_id, _owner = _submitted("closure")
    sign_in(users["city"])
    response = _correct(client, filing_id, **data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(FilingCorrection)) is None


def test_only_the_reviewer_whose_step_it_is_may_correct(app, client, users, sign_in, csrf_token):
    with app.app_context():
        filing_id, _owner = _submitted("closure")
    for who in ("province", "supervisor", "city_other"):
        sign_in(users[who])
        page = client.get(f"/admin/filings/{filing_id}")
        assert 'id="correct-field"' not in page.get_data(as_text=True)
        response = client.post(
            f"/admin/filings/{filing_id}/correct",
            data={
                "csrf_token": csrf_token("/admin/"),
                "field": "prior_year_energy",
                "corrected": "1",
                "reason": "越权",
            },
        )
        assert response.status_code in (403, 409)
    with app.app_context():
        assert db.session.scalar(select(FilingCorrection)) is None


def test_correction_without_csrf_is_refused(app, client, users, sign_in):
    with app.app_context():
        filing_id, _owner = _submitted("closure")
    sign_in(users["city"])
    response = client.post(
        f"/admin/filings/{filing_id}/correct",
        data={"field": "prior_year_energy", "corrected": "1", "reason": "x"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(FilingCorrection)) is None


# ---------------------------------------------------------------- 4 and 6. reassignment, history


def test_reassignment_survives_return_and_resubmission(app, client, users, sign_in, firms):
    with app.app_context():
        filing_id, owner_id = _submitted("retrofit", firm_id=firms["first"])
    sign_in(users["city"])
    page = f"/admin/filings/{filing_id}"
    html = client.get(page).get_data(as_text=True)
    token = re.search(
        r'id="assign-csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', html
    ).group(1)
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    response = client.post(
        f"/admin/filings/{filing_id}/auditor",
        data={
            "csrf_token": token,
            "version": version,
            "audit_firm_id": str(firms["second"]),
            "remark": "原机构回避",
        },
    )
    assert response.status_code == 303

    with app.app_context():
        filing = db.session.get(Filing, filing_id)
        second_auditor = db.session.get(User, firms["second_auditor"])
        workflow.transition(filing, "return", second_auditor, "请补充基准年数据")
        owner = db.session.get(User, owner_id)
        assert "disabled" in filings.build_form(filing).audit_firm_id()
        # The enterprise's form still carries its first choice: the draft keeps the assignment.
        values = FIELDS["retrofit"] | {
            "audit_firm_id": str(firms["first"]),
            "baseline_energy": "86000",
        }
        filings.save_draft(filing, MultiDict(values), owner)
        filings.submit_filing(filing, owner)
        db.session.commit()
        assert filing.audit_firm_id == firms["second"]
        assert filing.versions[-1].data["audit_firm_id"] == str(firms["second"])
        first_auditor = db.session.get(User, users["auditor"])
        assert not workflow.owns(first_auditor, filing)
        assert any(
            e.action == "filing.assign_auditor" for e in db.session.scalars(select(AuditEvent))
        )

    sign_in(firms["second_auditor"])
    assert page in client.get("/admin/queue").get_data(as_text=True)
    history = client.get(page).get_data(as_text=True).split('id="h-history"')[1]
    assert "指定第三方审核机构" in history
    assert "审核机构乙" in history and "原机构回避" in history
    steps = re.findall(r'class="history-(\w+)"', history)
    versions = [n for n, kind in enumerate(steps) if kind == "version"]
    assert versions[0] < steps.index("assign_auditor") < versions[1]
    sign_in(users["auditor"])
    assert page not in client.get("/admin/queue").get_data(as_text=True)
    assert client.get(page).status_code == 403


def test_history_lists_steps_versions_and_actors_in_order(app, client, users, sign_in):
    with app.app_context():
        filing_id, _owner = _submitted("voluntary")
        filing = db.session.get(Filing, filing_id)
        workflow.transition(filing, "review_city", db.session.get(User, users["city"]), "同意上报")
        db.session.commit()
        city_name = db.session.get(User, users["city"]).name
    sign_in(users["province"])
    history = (
        client.get(f"/admin/filings/{filing_id}").get_data(as_text=True).split('id="h-history"')[1]
    )
    kinds = re.findall(r'class="history-(\w+)"', history)
    assert kinds[:4] == ["step", "step", "version", "step"]  # create, submit, v1, city
    assert "同意上报" in history and city_name in history


# ---------------------------------------------------------------- 7. queues and deadlines


def test_working_days_skip_weekends_and_chinese_holidays():
    # 2026-09-30 (Wednesday) + 1 working day: the National Day holiday runs to 7 October.
    assert deadlines.add_working_days(date(2026, 9, 30), 1) > date(2026, 10, 7)
    # A Friday + 1 working day is the Monday.
    assert deadlines.add_working_days(date(2026, 11, 27), 1) == date(2026, 11, 30)
    day = date(2026, 11, 30)
    cutoff = deadlines.last_start_within(day, 10)
    assert deadlines.add_working_days(cutoff, 10) >= day
    assert deadlines.add_working_days(cutoff - timedelta(days=1), 10) < day


def _age(app, filing_id: int, days_ago: int):
    """Move the filing's last step `days_ago` calendar days back."""
    with app.app_context():
        filing = db.session.get(Filing, filing_id)
        moment = datetime.now() - timedelta(days=days_ago)
        for event in filing.events:
            event.created_at = moment
        filing.submitted_at = moment
        db.session.commit()


def test_queue_filters_sorts_marks_overdue_and_downloads(app, client, users, sign_in):
    with app.app_context():
        old_id, _ = _submitted("closure")
        new_id, _ = _submitted("purchase")
        far = factories.make_enterprise("洛阳企业", "410300")
        far_id, _ = _submitted("closure", enterprise=far)
    _age(app, old_id, 40)
    sign_in(users["province"])
    # The province has no step on a submitted closure: the city's queue it is.
    sign_in(users["city"])
    html = client.get("/admin/queue").get_data(as_text=True)
    assert f"/admin/filings/{old_id}" in html and f"/admin/filings/{new_id}" in html
    assert f"/admin/filings/{far_id}" not in html
    row = html.split(f"/admin/filings/{old_id}")[1].split("</tr>")[0]
    assert "已超期" in row  # the text says it, not only the colour
    overdue = client.get("/admin/queue?overdue=y").get_data(as_text=True)
    assert f"/admin/filings/{old_id}" in overdue and f"/admin/filings/{new_id}" not in overdue
    by_kind = client.get("/admin/queue?kind=purchase").get_data(as_text=True)
    assert f"/admin/filings/{new_id}" in by_kind and f"/admin/filings/{old_id}" not in by_kind
    recent = client.get("/admin/queue?sort=recent").get_data(as_text=True)
    assert recent.index(f"/admin/filings/{new_id}") < recent.index(f"/admin/filings/{old_id}")
    fragment = client.get("/admin/queue?kind=closure", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True)
    assert client.get("/admin/queue?kind=nonsense").status_code == 400
    assert client.get("/admin/queue?status=final").status_code == 400

    with client.get("/admin/queue/export.csv?overdue=y") as exported:
        csv_body = exported.get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(csv_body.lstrip("\ufeff"))))
    assert len(rows) == 2 and rows[1][0].endswith(f"{old_id:06d}") and rows[1][-1] == "超期"
    with client.get("/admin/queue/export.xlsx?kind=purchase") as xlsx:
        sheet = load_workbook(io.BytesIO(xlsx.data)).worksheets[0]
    assert [c.value for c in sheet[2]][0].endswith(f"{new_id:06d}")

    sign_in(users["province"])
    division = client.get("/admin/queue?division=410300").get_data(as_text=True)
    assert 'name="division"' in division


def test_supervisor_filters_by_division(app, client, users, sign_in):
    with app.app_context():
        near_id, _ = _submitted("closure")
        far = factories.make_enterprise("洛阳企业", "410300")
        far_id, _ = _submitted("closure", enterprise=far)
    sign_in(users["supervisor"])
    html = client.get("/admin/queue?division=410300").get_data(as_text=True)
    assert f"/admin/filings/{far_id}" in html and f"/admin/filings/{near_id}" not in html


def test_review_working_days_are_configurable(app, users):
    with app.app_context():
        filing_id, _ = _submitted("closure")
        filing = db.session.get(Filing, filing_id)
        app.config["REVIEW_WORKING_DAYS"] = {"city": 1}
        with app.test_request_context("/"):
            one = review.age_of(filing).deadline
            app.config["REVIEW_WORKING_DAYS"] = {"city": 30}
            thirty = review.age_of(filing).deadline
        assert one.role == "city" and one.working_days == 1 and thirty.working_days == 30
        assert thirty.due > one.due
