"""A new enterprise user's journey in Debian's Chromium: register → verify → identity evidence →
the city approves → file → withdraw."""

from __future__ import annotations

import os
import re
import socket
import threading
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pyotp
import pytest

from portal import create_app
from tests.factories import pdf_document, png_document

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f"
    b"\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00"
    b"\x00IEND\xaeB`\x82"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def live_server(app_config, tmp_path):
    from werkzeug.serving import make_server

    from portal.extensions import db

    config = dict(app_config)
    config.pop("SERVER_NAME", None)
    app = create_app(config)
    with app.app_context():
        from portal.accounts.models import AuditFirm

        db.session.add(AuditFirm(name="河南示例节能审核中心", uscc="91310110666007217T"))
        db.session.commit()
    server = make_server("127.0.0.1", _free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)
    with app.app_context():
        db.session.remove()
        from tests.conftest import _empty_tables

        _empty_tables()
        db.engine.dispose()


def _verification_link(outbox: Path) -> str:
    for path in sorted(outbox.glob("*.eml"), reverse=True):
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        body = message.get_body(preferencelist=("plain",)).get_content()
        match = re.search(r"https?://\S+/accounts/verify/\S+", body)
        if match:
            return match.group(0)
    raise AssertionError("no verification mail in the outbox")


def test_enterprise_journey(live_server, tmp_path):
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import expect, sync_playwright

    app, base = live_server
    secret = pyotp.random_base32()
    with app.app_context():
        from portal.extensions import db
        from tests.factories import user

        user(
            "city",
            email="city-journey@example.gov.cn",
            password="Journey-pass-1",
            totp=secret,
            verified=True,
            division_code="410100",
        )
        db.session.commit()
    licence = tmp_path / "licence.pdf"
    licence.write_bytes(pdf_document())
    letter = tmp_path / "letter.png"
    letter.write_bytes(png_document())
    disguised = tmp_path / "report.pdf"
    disguised.write_bytes(b"MZ\x90\x00" + b"\x00" * 256)
    photo = tmp_path / "meter.png"
    photo.write_bytes(PNG)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page()
        page.set_default_timeout(15000)
        try:
            page.goto(f"{base}/accounts/register")
            page.fill("#uscc", "91110000600037341L")
            page.fill("#name", "郑州浏览器测试有限公司")
            page.select_option("#division", "410100")
            page.select_option("#industry", "chemical")
            page.fill("#address", "郑州市金水区")
            page.fill("#contact_name", "赵六")
            page.fill("#mobile", "13812345678")
            page.fill("#email", "journey@example.com")
            page.fill("#password", "Journey-pass-1")
            page.fill("#confirm", "Journey-pass-1")
            page.click("button:has-text('注册')")
            expect(page.locator("h1")).to_have_text("请查收验证邮件")

            link = _verification_link(Path(app.config["MAIL_OUTBOX_DIR"]))
            page.goto(link.replace("http://localhost", base))
            expect(page.locator(".flash-success")).to_contain_text("邮箱验证成功")

            page.fill("#email", "journey@example.com")
            page.fill("#password", "Journey-pass-1")
            page.click("main button:has-text('登录')")
            # No unit yet: only the identity application, which asks for the evidence.
            expect(page.locator("h1")).to_have_text("身份核验申请")
            page.fill("#legal_representative", "钱法人")
            page.set_input_files("#licence", str(disguised))
            page.set_input_files("#authorisation", str(letter))
            page.click("main button:has-text('提交审核')")
            expect(page.locator("#licence-field .error")).to_contain_text("无法识别")
            expect(page.locator("main")).to_contain_text("已上传：letter.png")
            page.set_input_files("#licence", str(licence))
            page.click("main button:has-text('提交审核')")
            expect(page.locator("#application-status")).to_contain_text("待市级审核")
            page.goto(f"{base}/filings/")
            expect(page.locator("h1")).to_have_text("身份核验尚未通过")

            # The city of 郑州 approves, with a remark.
            city = browser.new_page()
            city.set_default_timeout(15000)
            city.goto(f"{base}/accounts/login")
            city.fill("#email", "city-journey@example.gov.cn")
            city.fill("#password", "Journey-pass-1")
            city.click("main button:has-text('登录')")
            city.fill("#code", pyotp.TOTP(secret).now())
            city.click("main button[type=submit]")
            city.goto(f"{base}/admin/identity/")
            city.click("table a")
            expect(city.locator("main")).to_contain_text("本平台尚未收录该单位")
            city.check("#decision-0")
            city.fill("#remark", "营业执照与授权委托书核对无误。")
            city.click("main button:has-text('提交审核结论')")
            expect(city.locator(".flash-success")).to_contain_text("已通过申请")
            city.close()

            page.goto(f"{base}/accounts/")
            expect(page.locator("h1")).to_have_text("郑州浏览器测试有限公司")

            page.goto(f"{base}/filings/")
            page.click("button:has-text('新建节能改造节能量申报')")
            expect(page.locator("#project_name")).to_be_visible()
            page.fill("#project_name", "窑炉余热回收")
            with page.expect_response(
                lambda r: r.url.endswith("/draft") and "1200.5" in (r.request.post_data or "")
            ):
                page.fill("#baseline_energy", "1200.5")
            expect(page.locator("#autosave-status")).to_contain_text("已自动保存")
            page.reload()
            expect(page.locator("#project_name")).to_have_value("窑炉余热回收")
            expect(page.locator("#baseline_energy")).to_have_value("1200.5")

            page.set_input_files("#file", str(disguised))
            page.click("button:has-text('上传附件')")
            expect(page.locator("#file-field .error")).to_contain_text("无法识别")
            expect(page.locator("#project_name")).to_have_value("窑炉余热回收")

            page.set_input_files("#file", str(photo))
            page.click("button:has-text('上传附件')")
            expect(page.locator("#attachments")).to_contain_text("meter.png")

            page.fill("#description", "回收窑头余热发电")
            page.fill("#baseline_year", "2023")
            page.fill("#baseline_coal", "0")
            page.fill("#expected_energy_savings", "300")
            page.select_option("#audit_firm_id", index=1)
            page.click("button:has-text('检查并提交')")
            expect(page.locator("h1")).to_contain_text("确认提交")
            page.click("main form button:has-text('确认提交')")
            expect(page.locator("main")).to_contain_text("已提交，待审核")
            expect(page.locator("main")).to_contain_text("办理时间线")

            page.click("#h-withdraw ~ form button:has-text('撤回')")
            expect(page.locator(".flash-success")).to_contain_text("申报已撤回")
            expect(page.locator("main")).to_contain_text("已撤回")

            page.click("header button:has-text('退出登录')")
            expect(page.locator(".flash-success")).to_contain_text("您已安全退出")
        finally:
            browser.close()
