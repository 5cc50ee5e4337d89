"""The benchmark table: its first rows, the arithmetic, the public page, and the province adding a
value that supersedes the old one while the history keeps both."""

from __future__ import annotations

import importlib.util
import io
import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.benchmarks import data
from portal.benchmarks import services as benchmarks
from portal.benchmarks.models import EfficiencyBenchmark
from portal.extensions import db
from tests import factories

NEW_VALUE = {
    "product_code": "cement_clinker",
    "industry_code": "building",
    "product_name": "水泥熟料",
    "product_name_en": "Cement clinker",
    "output_unit": "吨熟料",
    "output_unit_en": "t of clinker",
    "basis": "benchmark",
    "value": "95",
    "value_unit": "kgce",
    "baseline_value": "110",
    "max_output": "10000000",
    "source": "《工业重点领域能效标杆水平和基准水平（2023年版）》（示意）",
    "effective_on": "2024-01-01",
    "reason": "按 2023 年版清单更新",
}


def _revision(filename: str):
    path = Path(__file__).resolve().parents[2] / "migrations" / "versions" / filename
    spec = importlib.util.spec_from_file_location(f"revision_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_seed_fills_the_table_once_and_audits_each_row(ctx):
    db.session.execute(EfficiencyBenchmark.__table__.delete())
    assert benchmarks.seed_benchmarks() == len(data.BENCHMARKS)
    assert benchmarks.seed_benchmarks() == 0
    rows = {row.product_code: row for row in benchmarks.in_force()}
    assert len(rows) == len(data.BENCHMARKS) >= 15
    clinker = rows["cement_clinker"]
    assert (clinker.value, clinker.baseline_value, clinker.output_unit) == (100, 117, "吨熟料")
    assert "2021年版" in clinker.source and clinker.basis == "benchmark"
    # Every pilot industry has products.
    assert {"chemical", "nonferrous", "steel", "building"} <= {
        r.industry_code for r in rows.values()
    }
    audited = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "benchmark.add")
    ).all()
    assert len(audited) == len(data.BENCHMARKS)


def test_the_migration_inserts_the_current_first_table():
    revision = _revision("0020_benchmarks.py")
    assert revision.BENCHMARKS == data.BENCHMARKS
    assert (revision.EFFECTIVE_ON, revision.SEED_REASON) == (data.EFFECTIVE_ON, data.SEED_REASON)


def test_requirement_converts_to_tce_and_leaves_feedstock_coal_out(ctx):
    rows = factories.seed_benchmarks()
    # kgce: 100 kgce/t × 200,000 t = 20,000 tce.
    energy = benchmarks.requirement(rows["cement_clinker"], Decimal("200000"), "energy")
    assert energy.quantity == energy.gross_tce == Decimal("20000.0000")
    # kgoe: 590 kgoe/t × 1.4286 × 1,000,000 t ÷ 1,000 = 842,874 tce.
    ethylene = benchmarks.requirement(rows["ethylene"], Decimal("1000000"), "energy")
    assert ethylene.quantity == Decimal("842874.0000")
    # kWh at 0.1229 kgce: 13,000 × 0.1229 × 500,000 ÷ 1,000 = 798,850 tce.
    aluminium = benchmarks.requirement(rows["aluminium_electrolytic"], Decimal("500000"), "energy")
    assert aluminium.quantity == Decimal("798850.0000")
    # Coal: 1,400 kgce/t × 100,000 t = 140,000 tce = 195,996.0801 t of raw coal, less feedstock.
    coal = benchmarks.requirement(
        rows["methanol_coal"], Decimal("100000"), "coal", Decimal("150000")
    )
    assert coal.gross_tce == Decimal("140000.0000")
    assert coal.gross_coal == Decimal("195996.0801")
    assert coal.feedstock_coal == Decimal("150000")
    assert coal.quantity == Decimal("45996.0801")
    too_much = benchmarks.requirement(
        rows["methanol_coal"], Decimal("100000"), "coal", Decimal("200000")
    )
    assert too_much.quantity is None
    assert benchmarks.requirement(None, Decimal("1"), "energy") is None
    assert benchmarks.requirement(rows["ethylene"], None, "energy") is None


def test_public_page_lists_the_table_in_force_and_its_history(app, client):
    with app.app_context():
        factories.seed_benchmarks()
        db.session.commit()
    page = client.get("/benchmarks")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    row = html.split('id="in-force-cement_clinker"')[1].split("</tr>")[0]
    assert "水泥熟料" in row and "100 千克标准煤/吨熟料" in row and "117" in row
    assert "2021年版" in row and "2021-11-15" in row
    assert 'id="product-cement_clinker"' in html and "现行" in html
    # Linked from the site map, the about page and the purchase kind's explanation.
    assert "/benchmarks" in client.get("/sitemap").get_data(as_text=True)
    assert "/benchmarks" in client.get("/about").get_data(as_text=True)


def _sign_in_province(app, client, users, sign_in):
    sign_in(users["province"])
    return factories.csrf_token_in(client.get("/admin/benchmarks/new").get_data(as_text=True))


def test_province_adds_a_value_and_the_history_shows_both(app, client, users, sign_in):
    with app.app_context():
        factories.seed_benchmarks()
        db.session.commit()
    token = _sign_in_province(app, client, users, sign_in)
    prefilled = client.get("/admin/benchmarks/new?product=cement_clinker").get_data(as_text=True)
    assert 'value="100"' in prefilled and 'value="吨熟料"' in prefilled
    response = client.post("/admin/benchmarks/new", data=NEW_VALUE | {"csrf_token": token})
    assert response.status_code == 303
    admin = client.get("/admin/benchmarks").get_data(as_text=True)
    history = admin.split('id="product-cement_clinker"')[1].split("</section>")[0]
    assert history.count("<tr>") == 3  # the header row and two values
    assert "95 千克标准煤/吨熟料" in history and "100 千克标准煤/吨熟料" in history
    assert "已被取代" in history and "按 2023 年版清单更新" in history
    public = client.get("/benchmarks").get_data(as_text=True)
    assert (
        "95 千克标准煤/吨熟料" in public.split('id="in-force-cement_clinker"')[1].split("</tr>")[0]
    )
    with app.app_context():
        rows = db.session.scalars(
            select(EfficiencyBenchmark)
            .where(EfficiencyBenchmark.product_code == "cement_clinker")
            .order_by(EfficiencyBenchmark.id)
        ).all()
        assert [r.value for r in rows] == [100, 95]  # the old row is as it was
        assert rows[1].recorded_by_id == users["province"]
        event = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "benchmark.add")
            .order_by(AuditEvent.id.desc())
        ).first()
        before, after = json.loads(event.before), json.loads(event.after)
        assert Decimal(before["value"]) == 100 and Decimal(after["value"]) == 95
        assert benchmarks.current_for("cement_clinker", date(2023, 12, 31)).value == 100
        assert benchmarks.current_for("cement_clinker", date(2024, 1, 1)).value == 95


def test_a_new_value_refused_says_why_next_to_each_field(app, client, users, sign_in):
    with app.app_context():
        factories.seed_benchmarks()
        db.session.commit()
    token = _sign_in_province(app, client, users, sign_in)
    empty = client.post("/admin/benchmarks/new", data={"csrf_token": token})
    assert empty.status_code == 400
    html = empty.get_data(as_text=True)
    assert re.search(r'id="reason-error"[^>]*>此项必填', html)
    assert re.search(r'id="value-error"[^>]*>此项必填', html)
    bad = NEW_VALUE | {
        "csrf_token": token,
        "value": "0",
        "product_code": "Bad Code",
        "industry_code": "forged",
        "effective_on": "2024-13-45",
    }
    html = client.post("/admin/benchmarks/new", data=bad).get_data(as_text=True)
    assert re.search(r'id="value-error"[^>]*>必须大于零', html)
    assert re.search(r'id="product_code-error"[^>]*>产品代码只能由小写字母', html)
    assert re.search(r'id="effective_on-error"[^>]*>请按“年-月-日”填写日期', html)
    assert re.search(r'id="industry_code-error"[^>]*>[^<]*[\u4e00-\u9fff]', html)
    # A value cannot be put before the product's latest one: it would rewrite the past.
    back = NEW_VALUE | {"csrf_token": token, "effective_on": "2020-01-01"}
    response = client.post("/admin/benchmarks/new", data=back)
    assert response.status_code == 400
    assert re.search(
        r'id="effective_on-error"[^>]*>生效日期不能早于', response.get_data(as_text=True)
    )
    with app.app_context():
        assert len(benchmarks.history()[0][1]) == 1


def test_the_table_downloads_as_csv_and_xlsx_and_is_in_the_dictionary(app, client):
    import pandas as pd

    with app.app_context():
        factories.seed_benchmarks()
        db.session.commit()
    csv = client.get("/benchmarks/export.csv")
    assert csv.status_code == 200
    frame = pd.read_csv(io.BytesIO(csv.data), encoding="utf-8-sig", dtype=str)
    assert len(frame) == len(data.BENCHMARKS)
    clinker = frame[frame["产品代码"] == "cement_clinker"].iloc[0]
    assert clinker["产品（工序）"] == "水泥熟料" and clinker["数值单位代码"] == "kgce"
    assert float(clinker["数值"]) == 100 and clinker["生效日期"] == "2021-11-15"
    with client.get("/benchmarks/export.xlsx") as xlsx:
        assert xlsx.status_code == 200
        sheet = pd.read_excel(io.BytesIO(xlsx.data), sheet_name=0)
    assert len(sheet) == len(data.BENCHMARKS)
    assert "benchmarks" in client.get("/data/dictionary").get_data(as_text=True)
