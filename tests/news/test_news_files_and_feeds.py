"""Attachment downloads and the Atom / RSS feeds."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
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


def _publish_three(make_announcement):
    now = utcnow()
    make_announcement(
        title="关于2024年度用能权交易的通知",
        summary="请各单位按期报送。",
        published_at=now - timedelta(days=2),
        source="省发展改革委",
    )
    corrected = make_announcement(
        title="履约名单公示",
        category="publicity",
        published_at=now - timedelta(days=1),
        updated_at=now - timedelta(hours=2),
    )
    make_announcement(title="草稿不出现", status="draft")
    return corrected


def test_atom_feed_parses_with_entries_newest_first(client, make_announcement):
    corrected = _publish_three(make_announcement)
    response = client.get("/news/feed.atom")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    assert root.tag == f"{ATOM}feed"
    assert "通知公告" in root.findtext(f"{ATOM}title")
    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [
        "履约名单公示",
        "关于2024年度用能权交易的通知",
    ]
    assert entries[0].findtext(f"{ATOM}id") == f"http://localhost/news/{corrected}"
    # updated is the correction time, published the first publication
    assert entries[0].findtext(f"{ATOM}updated") > entries[0].findtext(f"{ATOM}published")
    assert entries[1].findtext(f"{ATOM}summary") == "请各单位按期报送。"
    assert root.findtext(f"{ATOM}updated") == entries[0].findtext(f"{ATOM}updated")


def test_atom_feed_by_category(client, make_announcement):
    _publish_three(make_announcement)
    root = ET.fromstring(client.get("/news/feed.atom?category=publicity").data)
    assert [e.findtext(f"{ATOM}title") for e in root.findall(f"{ATOM}entry")] == ["履约名单公示"]
    assert "公示公告" in root.findtext(f"{ATOM}title")


def test_feed_with_unknown_category_is_400(client):
    response = client.get("/news/feed.atom?category=gossip")
    assert response.status_code == 400
    assert "没有这个栏目" in response.get_data(as_text=True)


def test_rss_feed_parses(client, make_announcement):
    _publish_three(make_announcement)
    response = client.get("/news/feed.rss")
    assert response.mimetype == "application/rss+xml"
    root = ET.fromstring(response.data)
    assert root.tag == "rss" and root.get("version") == "2.0"
    assert root.findtext("channel/link") == "http://localhost/news/"
    items = root.findall("channel/item")
    assert [i.findtext("title") for i in items] == ["履约名单公示", "关于2024年度用能权交易的通知"]
    assert items[0].findtext("link").startswith("http://localhost/news/")
    assert items[0].find("guid").get("isPermaLink") == "true"


def test_empty_feed_is_still_valid(client):
    root = ET.fromstring(client.get("/news/feed.atom").data)
    assert root.findall(f"{ATOM}entry") == []


def test_feed_dates_are_utc(client, make_announcement):
    make_announcement(title="时间", published_at=datetime(2024, 3, 1, 16, 30))
    root = ET.fromstring(client.get("/news/feed.atom").data)
    assert root.find(f"{ATOM}entry").findtext(f"{ATOM}published") == "2024-03-01T16:30:00+00:00"
