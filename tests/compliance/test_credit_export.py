"""The export for 省信用信息共享平台: every unit's status for the period, kept, listed, downloaded
again byte for byte, audited, and the province's alone."""

from __future__ import annotations

import csv
import hashlib
import io
from decimal import Decimal

import openpyxl
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.compliance.credit import CreditExport
from portal.extensions import db
from tests import factories

STATUSES = ("on_time", "late", "non_compliant", "not_applicable", "not_reported")


def _period(app) -> dict[str, str]:
    with app.app_context():
        factories.period(2024)
        usccs = {}
        for i, status in enumerate(STATUSES):
            unit = factories.enterprise(f"信用单位{i}", "410100")
            factories.compliance(
                unit,
                2024,
                status,
                shortfall=Decimal("7") if status == "non_compliant" else None,
                actual=None if status == "not_reported" else Decimal("4800"),
            )
            usccs[status] = unit.uscc
        db.session.commit()
        return usccs


def _public_header(client) -> list[str]:
    body = client.get("/compliance/2024/export.csv").get_data(as_text=True).lstrip("\ufeff")
    return next(csv.reader(io.StringIO(body)))


def test_export_carries_every_status_and_is_kept(app, client, users, sign_in, csrf_token):
    usccs = _period(app)
    sign_in(users["province"])
    token = csrf_token("/admin/compliance/2024")
    client.set_cookie("lang", "en")  # the exporter reads English; the file stays in Chinese
    made = client.post(
        "/admin/compliance/2024/credit-exports",
        data={"credit-csrf_token": token, "credit-file_format": "csv"},
    )
    assert made.status_code == 303
    with app.app_context():
        export = db.session.scalar(select(CreditExport))
        assert export.row_count == 5 and export.file_format == "csv"
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "compliance.credit_export")
        )
        assert event is not None and export.sha256 in str(event.after)
        export_id, sha = export.id, export.sha256
    page = client.get("/admin/compliance/2024").get_data(as_text=True)
    assert sha in page and f"/credit-exports/{export_id}" in page

    got = client.get(f"/admin/compliance/2024/credit-exports/{export_id}")
    data = got.get_data()
    assert got.status_code == 200 and hashlib.sha256(data).hexdigest() == sha
    assert "attachment" in got.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(data.decode("utf-8").lstrip("\ufeff"))))
    # the public list's own columns, in Chinese whatever the exporter's language
    client.set_cookie("lang", "zh_Hans_CN")
    assert rows[0] == _public_header(client)
    status_code = rows[0].index("履约状态代码")
    uscc = rows[0].index("统一社会信用代码")
    assert {row[uscc]: row[status_code] for row in rows[1:]} == {
        value: key for key, value in usccs.items()
    }
    again = client.get(f"/admin/compliance/2024/credit-exports/{export_id}").get_data()
    assert again == data


def test_xlsx_export(app, client, users, sign_in, csrf_token):
    _period(app)
    sign_in(users["province"])
    token = csrf_token("/admin/compliance/2024")
    client.post(
        "/admin/compliance/2024/credit-exports",
        data={"credit-csrf_token": token, "credit-file_format": "xlsx"},
    )
    with app.app_context():
        export = db.session.scalar(select(CreditExport))
        export_id = export.id
    body = client.get(f"/admin/compliance/2024/credit-exports/{export_id}").get_data()
    sheet = openpyxl.load_workbook(io.BytesIO(body)).worksheets[0]
    assert sheet.max_row == 6 and sheet["A1"].value == "统一社会信用代码"


def test_bad_format_empty_period_and_other_roles(app, client, users, sign_in, csrf_token):
    with app.app_context():
        factories.period(2025, published=False)
        db.session.commit()
    sign_in(users["province"])
    token = csrf_token("/admin/compliance/2025")
    bad = client.post(
        "/admin/compliance/2025/credit-exports",
        data={"credit-csrf_token": token, "credit-file_format": "pdf"},
        follow_redirects=True,
    )
    assert "请选择文件格式" in bad.get_data(as_text=True)
    empty = client.post(
        "/admin/compliance/2025/credit-exports",
        data={"credit-csrf_token": token, "credit-file_format": "csv"},
        follow_redirects=True,
    )
    assert "没有可报送的内容" in empty.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(CreditExport)) is None
    _period(app)
    client.post(
        "/admin/compliance/2024/credit-exports",
        data={"credit-csrf_token": token, "credit-file_format": "csv"},
    )
    with app.app_context():
        export_id = db.session.scalar(select(CreditExport.id))
    assert client.get(f"/admin/compliance/2025/credit-exports/{export_id}").status_code == 404
    sign_in(users["supervisor"])
    token = csrf_token("/admin/compliance/2024")
    page = client.get("/admin/compliance/2024").get_data(as_text=True)
    assert "生成报送文件" not in page
    assert client.get(f"/admin/compliance/2024/credit-exports/{export_id}").status_code == 403
    refused = client.post(
        "/admin/compliance/2024/credit-exports",
        data={"credit-csrf_token": token, "credit-file_format": "csv"},
    )
    assert refused.status_code == 403
