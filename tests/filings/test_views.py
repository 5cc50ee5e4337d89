"""Filing pages through the client, CSRF on: drafts, autosave, uploads, submit, withdraw, access."""

import io
import re
import zipfile

import pytest

from portal.extensions import db
from portal.filings.models import Filing
from tests import factories

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f"
    b"\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00"
    b"\x00IEND\xaeB`\x82"
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _new(client, csrf_token, kind):
    token = csrf_token("/filings/")
    response = client.post(f"/filings/new/{kind}", data={"csrf_token": token})
    assert response.status_code == 303
    filing_id = int(re.search(r"/filings/(\d+)/edit", response.headers["Location"]).group(1))
    return filing_id, token


@pytest.fixture
def logged_in(auth):
    return auth.login("enterprise")


def test_autosave_keeps_text_across_reload_and_new_login(app, client, csrf_token, auth, logged_in):
    filing_id, token = _new(client, csrf_token, "retrofit")
    response = client.post(
        f"/filings/{filing_id}/draft",
        data={"csrf_token": token, "project_name": "余热发电改造", "baseline_energy": "abc"},
        headers={"HX-Request": "true"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "草稿已自动保存" in html and 'hx-swap-oob="true"' in html
    assert "请填写数字" in html  # the error comes back for its field, in place
    assert "<html" not in html
    auth.logout()
    auth.login(logged_in)
    page = client.get(f"/filings/{filing_id}/edit").get_data(as_text=True)
    assert 'value="余热发电改造"' in page and 'value="abc"' in page
    assert "请填写数字" in page


def test_plain_save_without_javascript(client, csrf_token, logged_in):
    filing_id, token = _new(client, csrf_token, "closure")
    response = client.post(
        f"/filings/{filing_id}/draft", data={"csrf_token": token, "facility_name": "2号高炉"}
    )
    assert response.status_code == 303
    assert "2号高炉" in client.get(f"/filings/{filing_id}/edit").get_data(as_text=True)


def test_autosave_without_csrf_is_refused(client, csrf_token, logged_in):
    filing_id, _token = _new(client, csrf_token, "closure")
    response = client.post(f"/filings/{filing_id}/draft", data={"facility_name": "x"})
    assert response.status_code == 400


def _upload(client, filing_id, token, name, data, **fields):
    return client.post(
        f"/filings/{filing_id}/attachments",
        data={
            "csrf_token": token,
            "purpose": "evidence",
            "file": (io.BytesIO(data), name),
            **fields,
        },
        content_type="multipart/form-data",
    )


def test_disguised_upload_is_refused_and_typed_text_is_kept(app, client, csrf_token, logged_in):
    filing_id, token = _new(client, csrf_token, "closure")
    exe = b"MZ\x90\x00\x03" + b"\x00" * 200
    response = _upload(client, filing_id, token, "evidence.pdf", exe, facility_name="3号窑")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "无法识别为 PDF、JPEG、PNG 或 XLSX" in html
    assert 'value="3号窑"' in html
    html_as_png = b"<!doctype html><script>alert(1)</script>"
    response = _upload(client, filing_id, token, "photo.png", html_as_png)
    assert response.status_code == 422
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    response = _upload(client, filing_id, token, "sheet.xlsx", zipped.getvalue())
    assert response.status_code == 422
    with app.app_context():
        assert db.session.get(Filing, filing_id).attachments == []
        assert db.session.get(Filing, filing_id).facility_name == "3号窑"


def test_good_uploads_are_stored_by_hash_outside_static(app, client, csrf_token, logged_in):
    import hashlib
    from pathlib import Path

    import openpyxl

    filing_id, token = _new(client, csrf_token, "closure")
    workbook = io.BytesIO()
    openpyxl.Workbook().save(workbook)
    for name, data in (("a.png", PNG), ("b.bin", PDF), ("c.xlsx", workbook.getvalue())):
        response = _upload(client, filing_id, token, name, data)
        assert response.status_code == 303, response.get_data(as_text=True)[-500:]
    digest = hashlib.sha256(PNG).hexdigest()
    stored = Path(app.config["UPLOAD_DIR"]) / digest[:2] / digest
    assert stored.read_bytes() == PNG
    with app.app_context():
        kinds = [a.content_type for a in db.session.get(Filing, filing_id).attachments]
        attachment_id = db.session.get(Filing, filing_id).attachments[0].id
    assert kinds == [
        "image/png",
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ]
    response = client.get(f"/filings/attachments/{attachment_id}")
    assert response.status_code == 200 and response.data == PNG
    assert response.headers["Cache-Control"].startswith("private")
    response.close()


def _raw_upload(client, filing_id, token, name, data, **fields):
    """A multipart body built by hand (bytes in memory: the test client would spool big ones)."""
    parts = [
        f'--B\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    ]
    head = f'--B\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
    body = b"".join(parts) + head.encode() + b"Content-Type: application/pdf\r\n\r\n"
    body += data + b"\r\n--B--\r\n"
    return client.post(
        f"/filings/{filing_id}/attachments",
        data=body,
        content_type="multipart/form-data; boundary=B",
        headers={"X-CSRFToken": token},
    )


def test_oversized_upload_is_refused_with_a_message(app, client, csrf_token, logged_in):
    app.config["MAX_UPLOAD_MB"] = 1
    filing_id, token = _new(client, csrf_token, "closure")
    big = PDF + b"0" * (1024 * 1024 + 10)
    response = _raw_upload(client, filing_id, token, "big.pdf", big, facility_name="保留")
    assert response.status_code == 422
    assert "文件超过 1 MB" in response.get_data(as_text=True)
    # Beyond MAX_CONTENT_LENGTH the body is not even read: a clear message, no 500.
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    response = _raw_upload(client, filing_id, token, "huge.pdf", big + b"0" * (2 * 1024 * 1024))
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "文件超过 1 MB" in page
    assert 'value="保留"' in page


def test_other_enterprise_cannot_see_filing_or_attachment(app, client, csrf_token, auth, logged_in):
    filing_id, token = _new(client, csrf_token, "closure")
    _upload(client, filing_id, token, "a.png", PNG)
    with app.app_context():
        attachment_id = db.session.get(Filing, filing_id).attachments[0].id
    auth.logout()
    auth.login("enterprise")
    for url in (
        f"/filings/{filing_id}",
        f"/filings/{filing_id}/edit",
        f"/filings/attachments/{attachment_id}",
    ):
        assert client.get(url).status_code == 404
    token = csrf_token("/filings/")
    for url in (f"/filings/{filing_id}/draft", f"/filings/{filing_id}/withdraw"):
        assert client.post(url, data={"csrf_token": token}).status_code == 404
    auth.logout()
    assert client.get(f"/filings/attachments/{attachment_id}").status_code == 302


def test_submit_confirm_lock_and_withdraw(app, client, csrf_token, logged_in):
    filing_id, token = _new(client, csrf_token, "voluntary")
    incomplete = client.post(
        f"/filings/{filing_id}/submit", data={"csrf_token": token, "reasons": "自愿"}
    )
    html = incomplete.get_data(as_text=True)
    assert incomplete.status_code == 422 and "此项必填" in html and "请回答此问题" in html
    data = {
        "csrf_token": token,
        "in_carbon_trading": "no",
        "reasons": "自愿参与",
        "planned_measures": "电机变频",
        "commitments": "按期履约",
    }
    response = client.post(f"/filings/{filing_id}/submit", data=data)
    assert response.status_code == 303 and response.headers["Location"].endswith("/confirm")
    summary = client.get(f"/filings/{filing_id}/confirm").get_data(as_text=True)
    assert "电机变频" in summary and "确认提交" in summary
    version = re.search(r'name="version" value="(\d+)"', summary).group(1)
    response = client.post(
        f"/filings/{filing_id}/confirm", data={"csrf_token": token, "version": version}
    )
    assert response.status_code == 303
    detail = client.get(f"/filings/{filing_id}").get_data(as_text=True)
    assert "已提交，待审核" in detail and "办理时间线" in detail and "撤回" in detail
    # Locked: edits bounce to the detail page.
    assert client.post(f"/filings/{filing_id}/draft", data=data).status_code == 303
    with app.app_context():
        assert db.session.get(Filing, filing_id).reasons == "自愿参与"
        version = db.session.get(Filing, filing_id).version
    response = client.post(
        f"/filings/{filing_id}/withdraw",
        data={"csrf_token": token, "version": version, "remark": "信息有误"},
    )
    assert response.status_code == 303
    with app.app_context():
        filing = db.session.get(Filing, filing_id)
        assert filing.status == "withdrawn"
        assert [e.action for e in filing.events] == ["create", "submit", "withdraw"]


def test_stale_confirm_is_a_conflict(app, client, csrf_token, logged_in):
    filing_id, token = _new(client, csrf_token, "voluntary")
    client.post(
        f"/filings/{filing_id}/draft",
        data={
            "csrf_token": token,
            "in_carbon_trading": "no",
            "reasons": "a",
            "planned_measures": "b",
            "commitments": "c",
        },
    )
    response = client.post(
        f"/filings/{filing_id}/confirm", data={"csrf_token": token, "version": "1"}
    )
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已被他人更新" in page
    with app.app_context():
        assert db.session.get(Filing, filing_id).status == "draft"


TEXT_FIELDS = {
    "voluntary": ("reasons", "planned_measures", "commitments"),
    "retrofit": ("project_name", "description"),
    "closure": ("facility_name", "facility_description"),
    "purchase": ("project_name", "description"),
}


@pytest.mark.parametrize("kind", sorted(TEXT_FIELDS))
def test_script_in_every_text_field_comes_back_escaped(client, csrf_token, logged_in, kind):
    evil = '<script>alert("x")</script>'
    filing_id, token = _new(client, csrf_token, kind)
    data = {"csrf_token": token} | {name: evil for name in TEXT_FIELDS[kind]}
    for hx in ({}, {"HX-Request": "true"}):
        html = client.post(f"/filings/{filing_id}/draft", data=data, headers=hx).get_data(
            as_text=True
        )
        assert evil not in html
    page = client.get(f"/filings/{filing_id}/edit").get_data(as_text=True)
    assert evil not in page and "&lt;script&gt;" in page


def test_compliance_shows_shortfall_before_submission(client, csrf_token, logged_in):
    filing_id, token = _new(client, csrf_token, "compliance")
    html = client.post(
        f"/filings/{filing_id}/draft",
        data={"csrf_token": token, "period_year": "2024", "actual_energy": "120.5"},
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    assert 'id="computed"' in html and "缺口" in html


def test_purchase_shows_required_indicators_and_deadline(app, client, csrf_token, logged_in):
    with app.app_context():
        factories.seed_benchmarks()
        db.session.commit()
    filing_id, token = _new(client, csrf_token, "purchase")
    client.post(
        f"/filings/{filing_id}/draft",
        data={
            "csrf_token": token,
            "product_code": "calcium_carbide",
            "designed_output": "1000",
            "variety_code": "energy",
        },
    )
    page = client.get(f"/filings/{filing_id}/edit").get_data(as_text=True)
    # 805 kgce/t × 1,000 t ÷ 1,000 = 805 tce.
    assert "805 吨标准煤" in page and "2 年内须开工" in page


def test_dashboard_lists_open_filings_and_says_where_holdings_come_from(
    client, csrf_token, logged_in
):
    _new(client, csrf_token, "closure")
    page = client.get("/accounts/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "办理中的申报" in html and "GT0000" in html
    assert "台账" in html
    assert "暂无消息" in html


def test_index_and_new_filing_need_an_enterprise_user(client, auth):
    assert client.get("/filings/").status_code == 302
    auth.login("province")
    assert client.get("/filings/").status_code == 403


def test_autosave_after_the_session_ended_redirects_htmx_to_login(client, csrf_token, logged_in):
    import time

    filing_id, token = _new(client, csrf_token, "closure")
    with client.session_transaction() as session:
        session["seen"] = time.time() - 31 * 60
    response = client.post(
        f"/filings/{filing_id}/draft",
        data={"csrf_token": token, "facility_name": "x"},
        headers={
            "HX-Request": "true",
            "HX-Current-URL": f"http://localhost/filings/{filing_id}/edit",
        },
    )
    assert response.status_code == 204
    assert "/accounts/login?next=/filings/" in response.headers["HX-Redirect"]
