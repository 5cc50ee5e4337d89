"""Small, explicit test data: the one module of plain functions that make rows.

Each maker adds rows and flushes; the test commits if it needs to. Call them inside an application
context. Fixtures live in the conftest files and call these; no test module imports another.

    make_uscc()                       a valid 统一社会信用代码, new each call (make_uscc(42): always the same)
    enterprise(...)                   the one enterprise maker; make_enterprise: back-office defaults
    user(role, ...)                   the one user maker; make_user: back-office defaults
    audit_firm(), listing(), trade(), period(), compliance(), make_filing(kind, status)
    reference_price(variety, category, price, effective_from)   through the prices service
    identity_application(applicant, unit, kind=, status=); pdf_document(), png_document(),
    evidence_files()                  valid identity evidence (files for a client POST)
    login(client, user)               a signed-in session without the login form
    AuthActions(app, client)          users made and signed in through the real login form
"""

from __future__ import annotations

import hashlib
import itertools
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from stdnum.cn import uscc as stdnum_uscc

from portal.compliance.models import CompliancePeriod, ComplianceRecord
from portal.disclosure.models import Listing, Trade
from portal.enterprises.models import Enterprise
from portal.extensions import db

TEST_PASSWORD = "Test-pass-2024"
# Long enough for create_app's minimum; known to everyone, so for tests only.
TEST_SECRET_KEY = "test-secret-key-for-the-test-suite-only-0123456789"
# The second-factor secret of back-office users made by make_user (pyotp.TOTP(it).now() signs in).
TEST_TOTP_SECRET = "JBSWY3DPEHPK3PXP"

_serial = itertools.count(1)
# Codes made without a serial start here, clear of the small serials tests pass on purpose.
_uscc_serial = itertools.count(50_000_000)


def make_uscc(n: int | None = None, division: str = "410100") -> str:
    """A valid 统一社会信用代码 (GB 32100-2015) with the given division code; serial `n` (below
    50,000,000) gives the same code each time, no `n` a new one."""
    n = next(_uscc_serial) if n is None else n
    # The organisation code (9th–17th) carries its own GB 11714 check digit.
    body = f"{n:08d}"
    weights = [3, 7, 9, 10, 5, 8, 4, 2]
    check = 11 - sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11
    org = body + {10: "X", 11: "0"}.get(check, str(check))
    first17 = "91" + division + org
    return first17 + stdnum_uscc.calc_check_digit(first17)


def enterprise(
    name="示例郑州豫能化工有限公司", division="410100", industry="chemical", **kw
) -> Enterprise:
    """The one enterprise maker: a public enterprise with a fresh valid USCC unless given one."""
    e = Enterprise(
        uscc=kw.pop("uscc", None) or make_uscc(division=division),
        name=name,
        division_code=division,
        industry_code=industry,
        is_public=kw.pop("is_public", True),
        **kw,
    )
    db.session.add(e)
    db.session.flush()
    return e


def make_enterprise(name: str = "测试企业", division: str = "410100", **kw) -> Enterprise:
    """An enterprise with the back-office tests' defaults (a steel works)."""
    return enterprise(name, division, industry=kw.pop("industry_code", "steel"), **kw)


def audit_firm(name: str | None = None, **kw):
    from portal.accounts.models import AuditFirm

    firm = AuditFirm(
        name=name or f"测试审核机构{next(_serial)}", uscc=kw.pop("uscc", None) or make_uscc(), **kw
    )
    db.session.add(firm)
    db.session.flush()
    return firm


def user(
    role: str = "enterprise",
    *,
    email: str | None = None,
    name: str | None = None,
    password: str | None = None,
    totp: bool | str = False,
    verified: bool = False,
    **kw,
):
    """The one user maker. `password` None leaves a hash no password matches; `totp` True enrols
    TEST_TOTP_SECRET, a string enrols that secret; `verified` marks the email address verified."""
    from portal.accounts.models import User
    from portal.accounts.services import hash_password, now

    n = next(_serial)
    secret = TEST_TOTP_SECRET if totp is True else (totp or None)
    person = User(
        email=email or f"{role}{n}@example.gov.cn",
        name=name or f"{role}{n}",
        password_hash=hash_password(password) if password is not None else "!",
        role=role,
        email_verified_at=now() if verified else None,
        totp_secret=secret,
        totp_enabled_at=datetime.now(UTC).replace(tzinfo=None) if secret else None,
        **kw,
    )
    db.session.add(person)
    db.session.flush()
    return person


def make_user(role: str, *, division: str | None = None, totp: bool = True, **kw):
    """A user with the back-office tests' defaults: no usable password, TOTP enrolled."""
    return user(role, division_code=division, totp=totp, **kw)


def listing(seller: Enterprise | None = None, number: str | None = None, **kw) -> Listing:
    n = next(_serial)
    values = dict(
        number=number or f"YNQ-GP-2025-{n:06d}",
        variety_code="energy",
        category_code="voluntary",
        seller_kind="enterprise" if seller else "province",
        seller_enterprise_id=seller.id if seller else None,
        seller_name=seller.name if seller else "河南省发展和改革委员会",
        division_code=seller.division_code if seller else None,
        industry_code=seller.industry_code if seller else None,
        quantity=Decimal("1000"),
        remaining_quantity=Decimal("1000"),
        listed_price=Decimal("320.00"),
        starts_on=date(2025, 3, 1),
        ends_on=date(2025, 3, 31),
        method="listing",
        status="open",
        contact_name="王示例",
        contact_phone="0371-12345678",
    )
    values.update(kw)
    row = Listing(**values)
    db.session.add(row)
    db.session.flush()
    return row


def trade(
    buyer: Enterprise,
    seller: Enterprise | None = None,
    listing: Listing | None = None,
    number: str | None = None,
    **kw,
) -> Trade:
    n = next(_serial)
    quantity = kw.pop("quantity", Decimal("100"))
    unit_price = kw.pop("unit_price", Decimal("330.00"))
    values = dict(
        number=number or f"YNQ-CJ-2025-{n:06d}",
        listing_id=listing.id if listing else None,
        variety_code="energy",
        category_code="voluntary",
        quantity=quantity,
        unit_price=unit_price,
        amount=(quantity * unit_price).quantize(Decimal("0.01")),
        buyer_enterprise_id=buyer.id,
        buyer_name=buyer.name,
        buyer_division_code=buyer.division_code,
        seller_enterprise_id=seller.id if seller else None,
        seller_name=seller.name if seller else "河南省发展和改革委员会",
        seller_division_code=seller.division_code if seller else None,
        industry_code=buyer.industry_code,
        trade_date=date(2025, 3, 10),
        settlement_status="settled",
    )
    values.update(kw)
    row = Trade(**values)
    db.session.add(row)
    db.session.flush()
    return row


def period(year=2024, published=True) -> CompliancePeriod:
    row = CompliancePeriod(
        year=year,
        filing_deadline=date(year + 1, 3, 31),
        published_at=datetime(year + 1, 6, 1) if published else None,
        publicity_ends_at=datetime(year + 1, 6, 8) if published else None,
    )
    db.session.add(row)
    db.session.flush()
    return row


def compliance(unit: Enterprise, year=2024, status="on_time", **kw) -> ComplianceRecord:
    """A compliance record; its holdings (quota, bought, sold, taken_back) go into the ledger."""
    figures = {"quota": Decimal("5000"), "bought": 0, "sold": 0, "taken_back": 0}
    for name in figures:
        if name in kw:
            figures[name] = kw.pop(name)
    values = dict(
        enterprise_id=unit.id,
        period_year=year,
        variety_code="energy",
        actual=Decimal("4800"),
        status=status,
    )
    values.update(kw)
    holdings(unit, values["variety_code"], year, **figures)
    row = ComplianceRecord(**values)
    db.session.add(row)
    db.session.flush()
    return row


def holdings(unit: Enterprise, variety="energy", year=2024, **figures) -> None:
    """Ledger entries that give a unit these holdings in a period (opening entries, no counterparty)."""
    from portal.registry import services as registry

    planned = []
    for name, component in (
        ("quota", "allocated"),
        ("bought", "bought"),
        ("sold", "sold"),
        ("taken_back", "taken_back"),
    ):
        amount = Decimal(str(figures.get(name) or 0))
        if amount == 0:
            continue
        signed = -amount if component in ("sold", "taken_back") else amount
        planned.append(
            registry.PlannedEntry(
                kind="opening",
                holder=registry.Holder("enterprise", enterprise_id=unit.id),
                variety_code=variety,
                quantity=signed,
                reason="测试期初余额",
                period_year=year,
                created_at=datetime(year, 1, 1),
                source_type="opening",
                source_id=f"test:{unit.id}:{year}:{variety}:{name}",
                component=component,
                signed=True,
            )
        )
    registry.append_bulk(planned, check_balance=False)


def announcement(
    title="关于开展用能权交易试点工作的通知",
    category="notice",
    status="published",
    published_at=None,
    body_md="各省辖市发展改革委：\n\n现将有关事项通知如下。",
    revisions=(),
    attachments=(),
    **fields,
):
    """An announcement, published an hour ago unless told otherwise."""
    from datetime import timedelta

    from portal.news.models import Announcement, AnnouncementRevision, Attachment
    from portal.news.services import render_markdown, utcnow

    row = Announcement(
        title=title,
        category=category,
        status=status,
        published_at=published_at or (utcnow() - timedelta(hours=1)),
        body_md=body_md,
        body_html=fields.pop("body_html", render_markdown(body_md)),
        **fields,
    )
    for revision in revisions:
        row.revisions.append(AnnouncementRevision(**revision))
    for attachment in attachments:
        row.attachments.append(Attachment(**attachment))
    db.session.add(row)
    db.session.flush()
    return row


def publicity_notice(announcement, subject_type="other", status="open", **kw):
    """The 公示 notice that links a publicity announcement to what it publishes."""
    from portal.news.services import utcnow
    from portal.publicity.models import PublicityNotice

    row = PublicityNotice(
        announcement_id=announcement.id,
        subject_type=subject_type,
        subject_id=kw.pop("subject_id", ""),
        status=status,
        created_at=kw.pop("created_at", utcnow()),
        **kw,
    )
    db.session.add(row)
    db.session.flush()
    return row


# ---------------------------------------------------------------- filings

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def make_filing(kind: str, status: str = "submitted", *, enterprise=None, firm_id=None, **fields):
    """A filing in the given status, as the enterprise would have left it."""
    from portal.filings.models import (
        ClosureClaim,
        ComplianceFiling,
        ProjectPurchase,
        RetrofitClaim,
        VoluntaryApplication,
    )
    from portal.filings.services import now

    model = {
        "retrofit": RetrofitClaim,
        "closure": ClosureClaim,
        "purchase": ProjectPurchase,
        "voluntary": VoluntaryApplication,
        "compliance": ComplianceFiling,
    }[kind]
    enterprise = enterprise or make_enterprise("申报企业", "410100")
    owner = make_user("enterprise", totp=False, enterprise_id=enterprise.id)
    defaults = {
        "retrofit": {
            "project_name": "余热回收改造",
            "baseline_year": 2023,
            "baseline_energy": Decimal("5000"),
            "expected_energy_savings": Decimal("150"),
            "audit_firm_id": firm_id,
        },
        "closure": {"facility_name": "1 号窑", "prior_year_energy": Decimal("800")},
        "purchase": {
            "project_name": "年产 20 万吨项目",
            "variety_code": "energy",
            "required_quantity": Decimal("300"),
        },
        "voluntary": {"in_carbon_trading": False},
        "compliance": {"period_year": 2024, "actual_energy": Decimal("50")},
    }[kind]
    filing = model(
        enterprise_id=enterprise.id,
        division_code=enterprise.division_code,
        created_by_id=owner.id,
        status=status,
        submitted_at=now(),
        **(defaults | fields),
    )
    db.session.add(filing)
    db.session.flush()
    return filing


def reference_price(
    variety="energy", category="new_project", price="232.00", effective_from=date(2021, 1, 1), **kw
):
    """A reference price through the service (the 十三五 average unless told otherwise)."""
    from portal.prices.services import add_reference_price

    return add_reference_price(
        variety,
        category,
        Decimal(price),
        effective_from,
        kw.pop("source", "“十三五”时期用能权指标平均交易价格"),
        actor=kw.pop("actor", None),
    )


def seed_benchmarks() -> dict:
    """The first benchmark table, through its service (idempotent): product code → row in force."""
    from portal.benchmarks import services as benchmarks

    benchmarks.seed_benchmarks()
    db.session.flush()
    return {row.product_code: row for row in benchmarks.in_force()}


def checked_pdf():
    from portal.uploads import CheckedUpload

    return CheckedUpload(
        data=PDF,
        sha256=hashlib.sha256(PDF).hexdigest(),
        size=len(PDF),
        content_type="application/pdf",
        original_name="report.pdf",
    )


# ---------------------------------------------------------------- signing in


def login(client, user) -> None:
    """Sign in as `user`, with the second factor passed, as the login flow leaves the session."""
    import time

    from portal.accounts import LOGIN_KEY, session_identifier

    app = client.application
    # The identifier "strong" session protection expects from the test client.
    with app.test_request_context(
        headers={"User-Agent": _client_agent()}, environ_base={"REMOTE_ADDR": "127.0.0.1"}
    ):
        identifier = session_identifier()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
        session["_id"] = identifier
        session[LOGIN_KEY] = time.time()  # the session's lifetime counts from its login
        session["totp_ok"] = True  # the accounts package's "second factor passed" flag


def _client_agent() -> str:
    from importlib.metadata import version

    return f"Werkzeug/{version('werkzeug')}"


class AuthActions:
    """Make users of any role and log in through the real form (CSRF on, TOTP when needed).

    user_id = auth.login("city")             # a new city user of 郑州 (410100), logged in
    auth.login("enterprise", enterprise_id=e) # an enterprise user of an existing enterprise
    auth.make_user("auditor")                 # just create; returns the user's id
    auth.logout()
    """

    def __init__(self, app, client):
        self.app = app
        self.client = client
        self.count = 0
        self.secrets: dict[int, str] = {}

    def make_enterprise(
        self, name: str = "测试化工有限公司", division_code: str = "410100", **kw
    ) -> int:
        with self.app.app_context():
            made = enterprise(
                name, division_code, industry=kw.pop("industry_code", "chemical"), **kw
            )
            db.session.flush()
            made_id = made.id  # before the commit expires the row (a reload costs a SELECT)
            db.session.commit()
            return made_id

    def make_user(self, role: str = "enterprise", email: str | None = None, **kw) -> int:
        import pyotp

        if role == "enterprise" and "enterprise_id" not in kw:
            kw["enterprise_id"] = self.make_enterprise()
            kw.setdefault("is_enterprise_admin", True)
        with self.app.app_context():
            self.count += 1
            if role == "auditor" and "audit_firm_id" not in kw:
                kw["audit_firm_id"] = audit_firm().id
            if role == "city":
                kw.setdefault("division_code", "410100")
            totp = kw.pop("totp", role != "enterprise")
            person = user(
                role,
                email=email or f"{role}{self.count}@example.com",
                name=kw.pop("name", f"{role} {self.count}"),
                password=kw.pop("password", TEST_PASSWORD),
                totp=pyotp.random_base32() if totp else False,
                verified=True,
                **kw,
            )
            db.session.flush()
            person_id, secret = person.id, person.totp_secret  # before the commit expires them
            db.session.commit()
            if totp:
                self.secrets[person_id] = secret
            return person_id

    def login(self, role_or_user="enterprise", password: str = TEST_PASSWORD, **kw) -> int:
        """Log in (creating the user when given a role); returns the user's id."""
        import pyotp

        from portal.accounts.models import User

        user_id = (
            role_or_user if isinstance(role_or_user, int) else self.make_user(role_or_user, **kw)
        )
        with self.app.app_context():
            person = db.session.get(User, user_id)
            email, secret = person.email, person.totp_secret
        html = self.client.get("/accounts/login").get_data(as_text=True)
        token = csrf_token_in(html)
        response = self.client.post(
            "/accounts/login", data={"csrf_token": token, "email": email, "password": password}
        )
        if response.headers.get("Location", "").endswith("/accounts/login/second-factor"):
            response = self.client.post(
                "/accounts/login/second-factor",
                data={"csrf_token": token, "code": pyotp.TOTP(secret).now()},
            )
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        return user_id

    def logout(self) -> None:
        html = self.client.get("/").get_data(as_text=True)
        token = csrf_token_in(html)
        self.client.post("/accounts/logout", data={"csrf_token": token})


# ---------------------------------------------------------------- registration and mail

# A registration form that passes every check but the USCC (tests put a valid code in).
REGISTRATION = {
    "uscc": "91410100MA44XYZ12X",  # replaced by a valid code
    "name": "郑州测试化工有限公司",
    "division": "410100",
    "industry": "chemical",
    "address": "郑州市金水区",
    "contact_name": "张三",
    "mobile": "13812345678",
    "email": "zhang@example.com",
    "password": "Strong-pass-1",
    "confirm": "Strong-pass-1",
}
# A real, valid 统一社会信用代码 (Beijing).
VALID_USCC = "91110000600037341L"


def outbox(app) -> list[str]:
    """The mails the app wrote to MAIL_OUTBOX_DIR, oldest first."""
    folder = Path(app.config["MAIL_OUTBOX_DIR"])
    return [p.read_text("utf-8", errors="replace") for p in sorted(folder.glob("*.eml"))]


def mail_link(app, path_part: str) -> str:
    """The path of the newest mailed link under /accounts/<path_part>/."""
    import base64
    import quopri

    for text in reversed(outbox(app)):
        decoded = text
        if "Content-Transfer-Encoding: base64" in text:
            body = text.split("\n\n", 1)[1]
            decoded = base64.b64decode(body).decode("utf-8")
        elif "quoted-printable" in text:
            decoded = quopri.decodestring(text.encode()).decode("utf-8", errors="replace")
        match = re.search(r"http://localhost(/accounts/" + path_part + r"/\S+)", decoded)
        if match:
            return match.group(1)
    raise AssertionError("no link in the outbox")


# ---------------------------------------------------------------- identity applications


def pdf_document() -> bytes:
    """A valid one-page PDF, as a scanner or a word processor writes it."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def png_document(size=(120, 80)) -> bytes:
    """A valid PNG image (a photo of a signed letter, say)."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, "white").save(buffer, format="PNG")
    return buffer.getvalue()


def evidence_files() -> dict:
    """The two files of an identity application, fresh for one test-client POST."""
    import io

    return {
        "licence": (io.BytesIO(pdf_document()), "营业执照.pdf"),
        "authorisation": (io.BytesIO(png_document()), "授权委托书.png"),
    }


def identity_application(
    applicant,
    unit: Enterprise | None = None,
    *,
    kind: str = "claim",
    status: str = "submitted",
    name: str | None = None,
    division: str | None = None,
    uscc: str | None = None,
    documents: bool = True,
):
    """An identity application as the applicant would have left it (with both files, stored)."""
    from portal.accounts.models import IdentityApplication, IdentityDocument
    from portal.accounts.services import now
    from portal.uploads import CheckedUpload, store_upload

    row = IdentityApplication(
        user_id=applicant.id,
        kind=kind,
        status=status,
        enterprise_id=unit.id if unit else None,
        division_code=division or (unit.division_code if unit else "410100"),
        uscc=uscc or (unit.uscc if unit else make_uscc()),
        enterprise_name=name or (unit.name if unit else "新建示例化工有限公司"),
        industry_code=unit.industry_code if unit else "chemical",
        address="",
        legal_representative="王法人",
        remark="",
        submitted_at=now() if status != "draft" else None,
    )
    db.session.add(row)
    db.session.flush()
    if documents:
        for purpose, data, content_type in (
            ("licence", pdf_document(), "application/pdf"),
            ("authorisation", png_document(), "image/png"),
        ):
            upload = CheckedUpload(
                data=data,
                sha256=hashlib.sha256(data).hexdigest(),
                size=len(data),
                content_type=content_type,
                original_name=f"{purpose}.{content_type.rsplit('/', 1)[1]}",
            )
            store_upload(upload)
            db.session.add(
                IdentityDocument(
                    application_id=row.id,
                    purpose=purpose,
                    original_name=upload.original_name,
                    content_type=content_type,
                    size=upload.size,
                    sha256=upload.sha256,
                )
            )
        db.session.flush()
    return row


def csrf_token_in(html: str) -> str | None:
    """The CSRF token of the first form on a page, whatever the order of its input's attributes."""
    tag = re.search(r'<input[^>]*name="csrf_token"[^>]*>', html)
    value = tag and re.search(r'value="([^"]+)"', tag.group(0))
    return value.group(1) if value else None
