import io
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.news.models import Announcement

BASE = {
    "title": "关于开展 2025 年度用能权交易的通知",
    "category": "notice",
    "summary": "",
    "body_md": "## 一、总体要求\n\n各省辖市：请按要求开展工作。",
    "source": "省发展改革委",
    "division_code": "",
}


def _post(client, url, token, **fields):
    return client.post(
        url, data={"csrf_token": token} | BASE | fields, content_type="multipart/form-data"
    )


def test_publish_now_then_correct_keeps_permalink_and_history(
    app, client, users, sign_in, csrf_token
):
    sign_in(users["editor"])
    token = csrf_token("/admin/editorial/new")
    created = _post(client, "/admin/editorial/new", token, publish_mode="now", is_featured="y")
    assert created.status_code == 303
    with app.app_context():
        a = db.session.scalar(select(Announcement))
        a_id = a.id
        assert a.status == "published" and a.is_featured and "<h2>" in a.body_html
    public = client.get(f"/news/{a_id}")
    assert public.status_code == 200

    no_reason = _post(
        client, f"/admin/editorial/{a_id}", token, publish_mode="now", body_md="改正后的正文"
    )
    assert no_reason.status_code == 400 and "更正说明" in no_reason.get_data(as_text=True)
    fixed = _post(
        client,
        f"/admin/editorial/{a_id}",
        token,
        publish_mode="now",
        body_md="改正后的正文",
        reason="更正第一条的表述",
    )
    assert fixed.status_code == 303
    with app.app_context():
        a = db.session.get(Announcement, a_id)
        assert a.updated_at is not None and a.body_md == "改正后的正文"
        assert [r.reason for r in a.revisions] == ["更正第一条的表述"]
        assert "各省辖市" in a.revisions[0].body_md
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions == ["announcement.create", "announcement.correct"]
    page = client.get(f"/news/{a_id}").get_data(as_text=True)
    assert "更新于" in page and "改正后的正文" in page


def test_scheduled_is_not_public_until_its_time(app, client, users, sign_in, csrf_token):
    sign_in(users["editor"])
    token = csrf_token("/admin/editorial/new")
    past = _post(
        client,
        "/admin/editorial/new",
        token,
        publish_mode="scheduled",
        publish_at="2020-01-01T09:00",
    )
    assert past.status_code == 400 and "须晚于现在" in past.get_data(as_text=True)
    future = (datetime.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    assert (
        _post(
            client, "/admin/editorial/new", token, publish_mode="scheduled", publish_at=future
        ).status_code
        == 303
    )
    with app.app_context():
        a = db.session.scalar(select(Announcement))
        assert a.status == "scheduled" and a.published_at > datetime.now(UTC).replace(
            tzinfo=None
        ) + timedelta(days=2)
        a_id = a.id
    assert client.get(f"/news/{a_id}").status_code == 404


def test_live_preview_is_sanitised_and_has_a_full_page(app, client, users, sign_in, csrf_token):
    sign_in(users["editor"])
    token = csrf_token("/admin/editorial/new")
    body = {"csrf_token": token, "body_md": "**粗体** <script>alert(1)</script>"}
    fragment = client.post("/admin/editorial/preview", data=body, headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert "<strong>粗体</strong>" in html and "<script>" not in html and "<html" not in html
    full = client.post("/admin/editorial/preview", data=body).get_data(as_text=True)
    assert "<html" in full and "<strong>粗体</strong>" in full


def test_pdf_attachment_text_is_extracted(app, client, users, sign_in, csrf_token):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    sign_in(users["editor"])
    token = csrf_token("/admin/editorial/new")
    done = _post(
        client,
        "/admin/editorial/new",
        token,
        publish_mode="draft",
        attachment=(io.BytesIO(buffer.getvalue()), "附件.pdf"),
    )
    assert done.status_code == 303
    with app.app_context():
        a = db.session.scalar(select(Announcement))
        assert [f.filename for f in a.attachments] == ["附件.pdf"]
    refused = _post(
        client,
        "/admin/editorial/new",
        token,
        publish_mode="draft",
        attachment=(io.BytesIO(b"MZ not a pdf"), "virus.pdf"),
    )
    assert refused.status_code == 400 and "无法识别" in refused.get_data(as_text=True)


def test_only_editors_author(app, client, users, sign_in):
    sign_in(users["city"])
    assert client.get("/admin/editorial/").status_code == 403
    sign_in(users["editor"])
    assert client.get("/admin/editorial/").status_code == 200
    assert "<html" not in client.get(
        "/admin/editorial/?status=draft", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
