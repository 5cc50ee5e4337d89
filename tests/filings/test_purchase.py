"""两高 purchases computed from the benchmark table (实施方案 二(二)1): the product is picked, the
quantity computed and shown before submission, bounds refused beside the field, the 节能审查意见
required, feedstock coal left out, grid-dispatched coal units refused, and an old filing keeping
the value it was computed with after the table changes."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from werkzeug.datastructures import MultiDict

from portal.accounts.models import User
from portal.benchmarks import services as benchmarks
from portal.extensions import db
from portal.filings import services
from portal.filings.models import Filing, ProjectPurchase
from tests import factories

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PURCHASE = {
    "project_name": "年产 200 万吨水泥熟料项目",
    "description": "新建熟料生产线，豫发改工业〔2025〕8 号",
    "variety_code": "energy",
    "is_grid_coal_unit": "no",
    "product_code": "cement_clinker",
    "designed_output": "2000000",
}


@pytest.fixture
def table(app):
    with app.app_context():
        factories.seed_benchmarks()
        db.session.commit()


@pytest.fixture
def pages(client, csrf_token, auth, table):
    auth.login("enterprise")

    class Pages:
        def token(self) -> str:
            return csrf_token("/filings/")

        def new(self) -> int:
            response = client.post("/filings/new/purchase", data={"csrf_token": self.token()})
            return int(re.search(r"/filings/(\d+)/edit", response.headers["Location"]).group(1))

        def save(self, filing_id: int, data: dict, htmx=False):
            headers = {"HX-Request": "true"} if htmx else {}
            return client.post(
                f"/filings/{filing_id}/draft",
                data={"csrf_token": self.token()} | data,
                headers=headers,
            )

        def upload(self, filing_id: int, purpose: str = "energy_review"):
            return client.post(
                f"/filings/{filing_id}/attachments",
                data={
                    "csrf_token": self.token(),
                    "purpose": purpose,
                    "file": (io.BytesIO(PDF + purpose.encode()), f"{purpose}.pdf"),
                },
                content_type="multipart/form-data",
            )

        def submit(self, filing_id: int):
            return client.post(
                f"/filings/{filing_id}/submit", data={"csrf_token": self.token()} | PURCHASE
            )

        def confirm(self, filing_id: int):
            summary = client.get(f"/filings/{filing_id}/confirm").get_data(as_text=True)
            version = re.search(r'name="version" value="(\d+)"', summary).group(1)
            return client.post(
                f"/filings/{filing_id}/confirm",
                data={"csrf_token": self.token(), "version": version},
            )

    return Pages()


def _error(html: str, field: str) -> str:
    match = re.search(rf'id="{field}-error"[^>]*>([^<]*)<', html)
    return match.group(1) if match else ""


def test_the_form_offers_products_grouped_by_industry(client, pages):
    filing_id = pages.new()
    html = client.get(f"/filings/{filing_id}/edit").get_data(as_text=True)
    select = html.split('name="product_code"')[1].split("</select>")[0]
    assert '<optgroup label="建材">' in select and '<optgroup label="钢铁">' in select
    assert 'value="cement_clinker"' in select and "水泥熟料（吨熟料）" in select
    # Nothing typed any more: the benchmark and the unit come from the table.
    assert 'name="benchmark"' not in html and 'name="output_unit"' not in html
    assert "/benchmarks" in html


def test_quantity_is_computed_shown_before_submission_and_stored_with_its_row(app, client, pages):
    filing_id = pages.new()
    fragment = pages.save(filing_id, PURCHASE, htmx=True).get_data(as_text=True)
    # 100 kgce/t of clinker × 2,000,000 t ÷ 1,000 = 200,000 tce, in the autosave's answer.
    assert "200,000 吨标准煤" in fragment and "2021年版" in fragment
    # The designed output's unit follows the product, in place.
    assert 'id="designed_output-help" hx-swap-oob="true">单位：吨熟料/年' in fragment
    edit = client.get(f"/filings/{filing_id}/edit").get_data(as_text=True)
    assert "单位：吨熟料/年" in edit and "200,000 吨标准煤" in edit
    assert pages.upload(filing_id).status_code == 303
    summary = client.get(f"/filings/{filing_id}/confirm").get_data(as_text=True)
    assert "200,000 吨标准煤" in summary and "水泥熟料" in summary
    assert pages.confirm(filing_id).status_code == 303
    with app.app_context():
        filing = db.session.get(ProjectPurchase, filing_id)
        assert filing.status == "submitted"
        assert filing.required_quantity == Decimal("200000.0000")
        assert filing.benchmark_row.product_code == "cement_clinker"
        assert filing.industry_code == "building" and filing.output_unit == "吨熟料"
        snapshot = filing.versions[-1].data
        assert snapshot["benchmark"]["value"] == "100.0000"
        assert snapshot["required_quantity"] == "200000.0000"


def test_an_output_out_of_range_is_refused_next_to_the_field(app, client, pages):
    filing_id = pages.new()
    # The purchase that once reached the confirmation screen: 99,999 × 99,999,999.
    html = pages.save(filing_id, PURCHASE | {"designed_output": "99999999"}, htmx=True).get_data(
        as_text=True
    )
    assert "超出合理范围，请核对设计产能" in _error(html, "designed_output")
    with app.app_context():
        assert db.session.get(ProjectPurchase, filing_id).required_quantity is None
    pages.upload(filing_id)
    response = client.post(
        f"/filings/{filing_id}/submit",
        data={"csrf_token": pages.token()} | PURCHASE | {"designed_output": "99999999"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "超出合理范围，请核对设计产能" in _error(html, "designed_output")
    assert "1,000,000 吨熟料" in html or "10,000,000 吨熟料" in html
    # Within the product's bound but above the province-wide cap on one project.
    with app.app_context():
        app.config["PURCHASE_MAX_TCE"] = 100_000
    html = pages.save(filing_id, PURCHASE, htmx=True).get_data(as_text=True)
    message = _error(html, "designed_output")
    assert "超出合理范围" in message and "200,000" in message and "100,000" in message
    # The draft itself is kept, whatever was typed.
    with app.app_context():
        assert db.session.get(Filing, filing_id).draft_data["designed_output"] == "2000000"


def test_the_energy_review_opinion_is_required(app, client, pages):
    filing_id = pages.new()
    pages.upload(filing_id, "evidence")
    response = pages.submit(filing_id)
    assert response.status_code == 422
    assert "请上传节能审查意见" in response.get_data(as_text=True)
    assert pages.upload(filing_id, "energy_review").status_code == 303
    response = pages.submit(filing_id)
    assert response.status_code == 303 and "/confirm" in response.headers["Location"]


def test_feedstock_coal_is_left_out_of_a_coal_purchase(app, client, pages, users, sign_in):
    coal = PURCHASE | {
        "variety_code": "coal",
        "product_code": "methanol_coal",
        "designed_output": "100000",
    }
    filing_id = pages.new()
    pages.upload(filing_id)
    # A coal purchase must say how much of its coal is feedstock.
    response = client.post(
        f"/filings/{filing_id}/submit", data={"csrf_token": pages.token()} | coal
    )
    assert response.status_code == 422
    assert "原料煤用量" in _error(response.get_data(as_text=True), "feedstock_coal")
    # More feedstock than the project's coal is refused.
    html = pages.save(filing_id, coal | {"feedstock_coal": "200000"}, htmx=True).get_data(
        as_text=True
    )
    assert "不能超过按标杆值折算的煤炭消费量" in _error(html, "feedstock_coal")
    html = pages.save(filing_id, coal | {"feedstock_coal": "150000"}, htmx=True).get_data(
        as_text=True
    )
    # 1,400 kgce/t × 100,000 t = 140,000 tce → ÷ 0.7143 = 195,996.0801 t; less 150,000 t.
    assert "195,996.0801 吨" in html and "150,000 吨" in html and "45,996.0801 吨" in html
    with app.app_context():
        filing = db.session.get(ProjectPurchase, filing_id)
        assert filing.feedstock_coal == Decimal("150000")
        assert filing.required_quantity == Decimal("45996.0801")
    # The same project buying energy indicators counts its whole consumption.
    pages.save(filing_id, coal | {"variety_code": "energy", "feedstock_coal": "150000"})
    with app.app_context():
        assert db.session.get(ProjectPurchase, filing_id).required_quantity == Decimal(
            "140000.0000"
        )
    # Submitted as a coal purchase, the workbench shows the exclusion.
    pages.save(filing_id, coal | {"feedstock_coal": "150000"})
    pages.upload(filing_id)
    assert pages.confirm(filing_id).status_code == 303
    sign_in(users["city"])
    html = client.get(f"/admin/filings/{filing_id}").get_data(as_text=True)
    computed = html.split('id="computed"')[1].split("</div>")[0]
    assert "扣除原料煤" in computed and "150,000 吨" in computed
    assert "45,996.0801 吨" in computed and "煤制甲醇" in computed


def test_a_grid_dispatched_coal_unit_is_refused_with_the_reason(app, client, pages):
    filing_id = pages.new()
    pages.upload(filing_id)
    response = client.post(
        f"/filings/{filing_id}/submit",
        data={"csrf_token": pages.token()} | PURCHASE | {"is_grid_coal_unit": "yes"},
    )
    assert response.status_code == 422
    message = _error(response.get_data(as_text=True), "is_grid_coal_unit")
    assert "统调燃煤机组不参与用能权交易" in message and "二（一）3" in message
    with app.app_context():
        assert db.session.get(Filing, filing_id).status == "draft"


def test_an_old_filing_keeps_its_benchmark_after_the_table_changes(
    app, client, pages, users, sign_in
):
    filing_id = pages.new()
    pages.save(filing_id, PURCHASE)
    pages.upload(filing_id)
    assert pages.confirm(filing_id).status_code == 303
    with app.app_context():
        first = db.session.get(ProjectPurchase, filing_id).benchmark_id
        province = db.session.get(User, users["province"])
        old = benchmarks.current_for("cement_clinker")
        benchmarks.add_benchmark(
            benchmarks.values_of(old) | {"value": Decimal("90"), "effective_on": old.effective_on},
            province,
            "更严的标杆值",
        )
        db.session.commit()
        filing = db.session.get(ProjectPurchase, filing_id)
        assert filing.benchmark_id == first
        assert filing.required_quantity == Decimal("200000.0000")
        assert services.computed_for(filing)["benchmark"].value == 100
    sign_in(users["province"])
    html = client.get(f"/admin/filings/{filing_id}").get_data(as_text=True)
    computed = html.split('id="computed"')[1].split("</div>")[0]
    assert "100 千克标准煤/吨熟料" in computed and "200,000 吨标准煤" in computed
    # A purchase computed now takes the new value.
    with app.app_context():
        owner = db.session.get(User, db.session.get(Filing, filing_id).created_by_id)
        draft = services.create_filing("purchase", owner)
        services.save_draft(draft, MultiDict(PURCHASE), owner)
        assert draft.required_quantity == Decimal("180000.0000")
        db.session.rollback()


def test_a_purchase_filed_before_the_table_stays_readable(app, client, users, sign_in):
    with app.app_context():
        old = factories.make_filing(
            "purchase",
            "submitted",
            industry_code="chemical",
            benchmark_basis="benchmark",
            benchmark=Decimal("0.352"),
            designed_output=Decimal("300000"),
            output_unit="吨",
            required_quantity=Decimal("105600"),
        )
        db.session.commit()
        filing_id = old.id
    sign_in(users["province"])
    page = client.get(f"/admin/filings/{filing_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "0.352" in html and "105,600 吨标准煤" in html


def test_a_value_recorded_while_confirming_stops_the_submission(app, client, pages, users):
    filing_id = pages.new()
    pages.save(filing_id, PURCHASE)
    pages.upload(filing_id)
    summary = client.get(f"/filings/{filing_id}/confirm").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', summary).group(1)
    shown = re.search(r'name="benchmark_id" value="(\d+)"', summary).group(1)
    with app.app_context():
        old = benchmarks.current_for("cement_clinker")
        values = {
            column.key: getattr(old, column.key)
            for column in old.__table__.columns
            if column.key not in ("id", "reason", "recorded_by_id", "recorded_at")
        }
        benchmarks.add_benchmark(
            values | {"value": Decimal("90")}, db.session.get(User, users["province"]), "调整"
        )
        db.session.commit()
    response = client.post(
        f"/filings/{filing_id}/confirm",
        data={"csrf_token": pages.token(), "version": version, "benchmark_id": shown},
    )
    assert response.status_code == 303 and "/edit" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "能效标杆值在您确认期间已调整" in page
    with app.app_context():
        assert db.session.get(Filing, filing_id).status == "draft"
    # Confirmed again, it goes through with the new value.
    assert pages.confirm(filing_id).status_code == 303
    with app.app_context():
        filing = db.session.get(ProjectPurchase, filing_id)
        assert filing.status == "submitted"
        assert filing.required_quantity == Decimal("180000.0000")
