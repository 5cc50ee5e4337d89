"""Attachment downloads (the feeds are tested in tests/feeds)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from portal.news.services import utcnow

ATOM = "{http://www.w3.org/2005/Atom}"
PDF = b"%PDF-1.4\n% test\n"


def test_attachment_downloads_with_its_name_type_and_nosniff(
    client, make_announcement, stored_file
):
    fields = stored_file(PDF, "2024年度履约名单.pdf", "application/pdf")
    announcement_id = make_announcement(attachments=[fields])
    html = client.get(f"/news/{announcement_id}").get_data(as_text=True)
    assert "2024年度履约名单.pdf" in html and "PDF" in html and "16 B" in html
    with client.get(f"/news/{announcement_id}/attachments/1") as response:
        body = response.data
    assert response.status_code == 200
    assert body == PDF
    assert response.mimetype == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''" + quote("2024年度履约名单.pdf") in disposition


def test_attachment_size_is_shown_in_readable_units(client, make_announcement, stored_file):
    fields = stored_file(
        b"x" * 1_300_000,
        "数据.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    announcement_id = make_announcement(attachments=[fields])
    html = client.get(f"/news/{announcement_id}").get_data(as_text=True)
    assert "XLSX" in html and "1.2 MB" in html


def test_attachment_must_belong_to_the_announcement(client, make_announcement, stored_file):
    first = make_announcement(attachments=[stored_file(PDF, "a.pdf", "application/pdf")])
    second = make_announcement(attachments=[stored_file(PDF + b"2", "b.pdf", "application/pdf")])
    with client.get(f"/news/{first}/attachments/1") as response:
        assert response.status_code == 200
    assert client.get(f"/news/{second}/attachments/1").status_code == 404
    assert client.get(f"/news/{first}/attachments/99").status_code == 404


def test_attachment_of_unpublished_announcement_is_404(client, make_announcement, stored_file):
    draft = make_announcement(
        status="draft", attachments=[stored_file(PDF, "a.pdf", "application/pdf")]
    )
    future = make_announcement(
        published_at=utcnow() + timedelta(days=1),
        attachments=[stored_file(PDF, "b.pdf", "application/pdf")],
    )
    assert client.get(f"/news/{draft}/attachments/1").status_code == 404
    assert client.get(f"/news/{future}/attachments/2").status_code == 404


def test_attachment_with_missing_file_or_bad_digest_is_404(client, make_announcement):
    announcement_id = make_announcement(
        attachments=[
            {
                "filename": "丢失.pdf",
                "content_type": "application/pdf",
                "size": 3,
                "sha256": "a" * 64,
            },
            {
                "filename": "x",
                "content_type": "text/plain",
                "size": 3,
                "sha256": "../../../etc/passwd",
            },
        ]
    )
    missing = client.get(f"/news/{announcement_id}/attachments/1")
    assert missing.status_code == 404 and "附件文件暂时无法下载" in missing.get_data(as_text=True)
    assert client.get(f"/news/{announcement_id}/attachments/2").status_code == 404
