"""The development outbox: files a developer can read, and a page that production never shows."""

from pathlib import Path

from portal.extensions import db
from portal.mail import queue_mail, read_outbox


def _send(app, subject, body):
    with app.app_context():
        queue_mail("zhang@example.com", subject, body)
        db.session.commit()


def test_outbox_files_show_the_chinese_text(app):
    _send(app, "请验证您的邮箱", "您好：\n请打开下面的链接完成验证。\n")
    (path,) = Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml")
    text = path.read_text("utf-8")
    assert "Subject: 请验证您的邮箱" in text
    assert "请打开下面的链接完成验证。" in text
    with app.app_context():
        (message,) = read_outbox()
    assert message["subject"] == "请验证您的邮箱"
    assert message["body"] == "您好：\n请打开下面的链接完成验证。\n"


def test_a_body_line_too_long_for_8bit_is_still_readable_through_the_page(app):
    long_line = "用能权" * 400  # 3,600 bytes: longer than a mail line may be
    _send(app, "长邮件", long_line + "\n")
    (path,) = Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml")
    assert "Content-Transfer-Encoding: 8bit" not in path.read_text("utf-8")
    with app.app_context():
        (message,) = read_outbox()
    assert message["body"] == long_line + "\n"


def test_outbox_page_under_make_run_without_debug(app, client, monkeypatch):
    app.testing = False
    try:
        assert client.get("/accounts/dev/outbox").status_code == 404
        app.config["MAIL_OUTBOX_PAGE"] = True
        assert client.get("/accounts/dev/outbox").status_code == 200
        # Never with SMTP configured, never under gunicorn, whatever the setting says.
        app.config["MAIL_SERVER"] = "smtp.example.com"
        assert client.get("/accounts/dev/outbox").status_code == 404
        app.config["MAIL_SERVER"] = ""
        monkeypatch.setenv("SERVER_SOFTWARE", "gunicorn/23.0.0")
        assert client.get("/accounts/dev/outbox").status_code == 404
    finally:
        app.testing = True
