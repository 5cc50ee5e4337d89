"""Demo accounts and filings (called by demo.data.run_feature_hooks inside its transaction).

Demo sign-ins (all passwords: Demo-Pass-2024):

    enterprise admin  qiye@demo.ynq.example       on the first demo enterprise in 郑州 (410100)
    province          province@demo.ynq.example   省级节能主管部门
    city              city@demo.ynq.example       郑州市 (410100)
    auditor           auditor@demo.ynq.example    the first approved audit firm
    editor            editor@demo.ynq.example     信息发布
    supervisor        supervisor@demo.ynq.example 监督

    applicant         shenqing@demo.ynq.example   claims another 郑州 unit; waits for the city

Back-office accounts enrol TOTP at their first sign-in (the portal shows the QR code and the
recovery codes). The enterprise gets one filing in each of several states: a retrofit draft, a
submitted closure claim, a closure claim the city refused (to copy into a new draft), a returned
voluntary application, a submitted compliance filing, a 两高 purchase in its 公示 with its payment
notice due, a second purchase paid (its receipt issued the indicators) and a closure that 郑州
bought back (收储); reference prices (the 十三五 averages, then an auction) come first. One identity
application waits for the 郑州 city account: a claim of a listed unit, made through the
registration service, whose typed name differs from the listed one. The enterprise admin's address
also follows new 郑州 listings by mail (a confirmed daily subscription: `flask digest` sends it).
"""

from __future__ import annotations

import hashlib
import io
from datetime import date, timedelta
from decimal import Decimal

from flask import current_app
from PIL import Image
from pypdf import PdfWriter
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from portal.accounts import identity
from portal.accounts.models import AuditFirm, User
from portal.accounts.services import hash_password, now
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.feeds import subscriptions
from portal.filings import services, workflow
from portal.prices import services as prices
from portal.publicity import services as publicity
from portal.registry.models import Holding
from portal.uploads import CheckedUpload
from portal.web import current_date

DEMO_PASSWORD = "Demo-Pass-2024"
DOMAIN = "demo.ynq.example"
# A minimal valid PDF, attached as evidence to the demo filings.
DEMO_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def load_demo(rng, echo) -> None:
    with current_app.test_request_context("/"):
        _load(rng, echo)


def _load(rng, echo) -> None:

    if db.session.scalar(select(User).where(User.email == f"qiye@{DOMAIN}")) is not None:
        echo("  demo accounts already present")
        return

    in_zhengzhou = select(Enterprise).where(
        Enterprise.division_code == "410100", Enterprise.in_carbon_trading.is_(False)
    )
    # Prefer a unit with an allocation last year, so that its compliance filing has an obligation.
    enterprise = db.session.scalar(
        in_zhengzhou.where(
            Enterprise.id.in_(
                select(Holding.enterprise_id).where(
                    Holding.period_year == current_date().year - 1, Holding.allocated > 0
                )
            )
        ).order_by(Enterprise.id)
    ) or db.session.scalar(in_zhengzhou.order_by(Enterprise.id))
    if enterprise is None:
        echo("  no demo enterprise in 410100; demo accounts skipped")
        return
    firm = db.session.scalar(
        select(AuditFirm).where(AuditFirm.is_approved.is_(True)).order_by(AuditFirm.id)
    )
    password = hash_password(DEMO_PASSWORD)

    def person(local: str, role: str, name: str, **extra) -> User:
        user = User(
            email=f"{local}@{DOMAIN}",
            name=name,
            phone=f"1380000{rng.randint(1000, 9999)}",
            password_hash=password,
            role=role,
            email_verified_at=now(),
            **extra,
        )
        db.session.add(user)
        return user

    admin = person(
        "qiye", "enterprise", "王经理", enterprise_id=enterprise.id, is_enterprise_admin=True
    )
    person("province", "province", "省级审核员")
    city = person("city", "city", "郑州市审核员", division_code="410100")
    person("auditor", "auditor", "审核机构专家", audit_firm_id=firm.id if firm else None)
    person("editor", "editor", "信息发布员")
    person("supervisor", "supervisor", "监督员")
    province = db.session.scalar(select(User).where(User.email == f"province@{DOMAIN}"))
    db.session.flush()
    _demo_filings(admin, city, province, firm)
    claimed = db.session.scalar(
        select(Enterprise)
        .where(Enterprise.division_code == "410100", Enterprise.id != enterprise.id)
        .order_by(Enterprise.id)
    )
    if claimed is not None:
        _demo_identity_application(claimed)
    _demo_subscription(admin.email)
    echo(f"  demo accounts: qiye/province/city/auditor/editor/supervisor/shenqing@{DOMAIN}")
    echo(f"  demo subscription: qiye@{DOMAIN} follows new listings of 郑州市 (daily)")


def _demo_identity_application(unit) -> None:
    """A person claims a listed 郑州 unit through the registration and application services,
    with both pieces of evidence; the name typed differs from the listed one, as the city will see."""

    typed = (
        unit.name.replace("有限公司", "有限责任公司")
        if "有限公司" in unit.name
        else unit.name + "（筹）"
    )
    user = identity.register_enterprise(
        identity.Registration(
            uscc=unit.uscc,
            name=typed,
            division_code=unit.division_code,
            industry_code=unit.industry_code,
            address=unit.address,
            contact_name="赵申请",
            mobile="13800001234",
            email=f"shenqing@{DOMAIN}",
            password=DEMO_PASSWORD,
        )
    )
    user.email_verified_at = now()  # as if the link in the mail had been opened
    pdf = io.BytesIO()
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.write(pdf)
    png = io.BytesIO()
    Image.new("RGB", (800, 560), "white").save(png, format="PNG")

    def checked(data: bytes, content_type: str, name: str) -> CheckedUpload:
        return CheckedUpload(
            data=data,
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            content_type=content_type,
            original_name=name,
        )

    application = identity.applications_of(user)[0]
    identity.save_draft(
        application,
        user,
        enterprise_name=typed,
        legal_representative="钱法人",
        files={
            "licence": checked(pdf.getvalue(), "application/pdf", "营业执照（示例）.pdf"),
            "authorisation": checked(png.getvalue(), "image/png", "授权委托书（示例）.png"),
        },
    )
    identity.submit_application(application, user)


def _demo_subscription(email: str) -> None:
    """The enterprise admin follows new 挂牌 in its city by mail, subscribed and confirmed through
    the services as a visitor would be (the confirmation mail goes to the outbox)."""

    located = subscriptions.locate_target("/listings?division=410100")
    subscription = subscriptions.subscribe(email, located, "daily", "zh_Hans_CN")
    if subscription is not None:
        subscriptions.confirm(subscription)


def _demo_filings(admin, city, province, firm) -> None:

    def evidence(filing, purpose="evidence", name="证明材料.pdf"):

        upload = CheckedUpload(
            data=DEMO_PDF,
            sha256=hashlib.sha256(DEMO_PDF).hexdigest(),
            size=len(DEMO_PDF),
            content_type="application/pdf",
            original_name=name,
        )
        services.add_attachment(filing, upload, purpose, admin)

    retrofit = services.create_filing("retrofit", admin)
    services.save_draft(
        retrofit,
        MultiDict(
            {
                "project_name": "余热余压发电改造",
                "description": "回收窑头窑尾余热，新建 9 MW 余热电站。",
                "baseline_year": "2023",
                "baseline_energy": "86500",
                "baseline_coal": "0",
                "expected_energy_savings": "6200",
                "audit_firm_id": str(firm.id) if firm else "",
            }
        ),
        admin,
    )

    closure = services.create_filing("closure", admin)
    services.save_draft(
        closure,
        MultiDict(
            {
                "facility_name": "2 号立窑",
                "facility_description": "Φ3.2 m 机立窑一座，年产熟料 8 万吨。",
                "is_grid_coal_unit": "no",
                "closure_date": (current_date() - timedelta(days=60)).isoformat(),
                "prior_year_energy": "9800.5",
                "prior_year_coal": "12500",
            }
        ),
        admin,
    )
    evidence(closure)
    services.submit_filing(closure, admin)

    refused = services.create_filing("closure", admin)
    services.save_draft(
        refused,
        MultiDict(
            {
                "facility_name": "1 号石灰窑",
                "facility_description": "双膛石灰窑一座，年产活性石灰 6 万吨。",
                "is_grid_coal_unit": "no",
                "closure_date": (current_date() - timedelta(days=120)).isoformat(),
                "prior_year_energy": "7300",
            }
        ),
        admin,
    )
    evidence(refused)
    services.submit_filing(refused, admin)
    workflow.transition(
        refused, "reject", city, "关停前一年能耗与统计年报不一致，请核实后重新申报。"
    )

    voluntary = services.create_filing("voluntary", admin)
    services.save_draft(
        voluntary,
        MultiDict(
            {
                "in_carbon_trading": "no",
                "reasons": "企业已完成多项节能改造，希望通过市场交易盘活富余指标。",
                "planned_measures": "电机系统变频改造；能源管理中心建设。",
                "commitments": "按期履约，如实报送能耗数据，接受核查。",
            }
        ),
        admin,
    )
    services.submit_filing(voluntary, admin)
    workflow.transition(voluntary, "return", city, "请补充近三年能源审计报告。")

    compliance = services.create_filing("compliance", admin)
    services.save_draft(
        compliance,
        MultiDict({"period_year": str(current_date().year - 1), "actual_energy": "81234.5"}),
        admin,
    )
    evidence(compliance, "verification_report")
    if services.compliance_obligation(compliance.enterprise_id, compliance.period_year):
        services.submit_filing(compliance, admin)  # else it stays a draft: no obligation

    # The 两高 purchases pick their product from the benchmark table (seeded by demo.benchmarks).
    purchase = services.create_filing("purchase", admin)
    services.save_draft(
        purchase,
        MultiDict(
            {
                "project_name": "年产 150 万吨水泥熟料生产线（产能置换）项目",
                "description": "产能置换项目，已取得核准文件（示例）。",
                "variety_code": "energy",
                "is_grid_coal_unit": "no",
                "product_code": "cement_clinker",
                "designed_output": "1500000",
            }
        ),
        admin,
    )
    evidence(purchase, "energy_review", "节能审查意见.pdf")
    services.submit_filing(purchase, admin)
    workflow.transition(purchase, "review_city", city, "材料齐全，同意上报。")
    # 有偿使用: reference prices first, so that the province's approval prices the purchase and
    # issues its payment notice (unpaid: the enterprise's dashboard lists it as due).
    _reference_prices(province)
    workflow.transition(purchase, "review_province", province, "符合能效标杆要求。")
    # Published as a real 公示 (the transition's signal opens it); `flask tick` makes it final once
    # the statutory period has passed without an objection, and the registry then issues.
    workflow.transition(purchase, "publish", province, "公示 7 天。")
    # 100 kgce per tonne of clinker × 1,500,000 t ÷ 1,000.
    assert purchase.required_quantity == Decimal("150000.0000")

    # A coal-replacement project's draft: its feedstock coal is left out of the coal indicator.
    coal = services.create_filing("purchase", admin)
    services.save_draft(
        coal,
        MultiDict(
            {
                "project_name": "年产 20 万吨合成氨煤炭等量替代项目",
                "description": "以新增煤炭消费等量替代淘汰装置（示例）。",
                "variety_code": "coal",
                "is_grid_coal_unit": "no",
                "product_code": "ammonia_anthracite",
                "designed_output": "200000",
                "feedstock_coal": "200000",
            }
        ),
        admin,
    )
    _paid_purchase(admin, city, province, evidence)
    _bought_back_closure(admin, city, province, evidence)


# --- 有偿使用: prices, a paid purchase, a 收储 decision -------------------------------------------------

THIRTEENTH_FYP_AVERAGE = "“十三五”时期用能权指标平均交易价格（示例数据）"


def _reference_prices(province) -> None:
    """The 十三五 averages from 2021 (the demo market's own starting prices), then an auction."""
    start = date(2021, 1, 1)
    for variety, category, price in (
        ("energy", "new_project", "232.00"),
        ("coal", "new_project", "110.00"),
        ("energy", "local", "232.00"),
        ("coal", "local", "110.00"),
    ):
        prices.add_reference_price(
            variety, category, Decimal(price), start, THIRTEENTH_FYP_AVERAGE, actor=province
        )
    prices.add_reference_price(
        "energy",
        "new_project",
        Decimal("318.50"),
        current_date() - timedelta(days=200),
        "省公共资源交易平台用能权指标竞价成交均价（示例数据）",
        actor=province,
    )


def _end_publicity(filing) -> None:
    """Let the filing's 公示 run its full period in the past, then finalize it as tick would."""
    notice = publicity.notice_for_subject("filing", filing.id)
    starts = now() - timedelta(days=int(current_app.config["PUBLICITY_DAYS"]) + 3)
    notice.announcement.published_at = starts
    publicity.set_publicity_period(notice.announcement, starts)
    publicity.finalize_notice(notice)


def _paid_purchase(admin, city, province, evidence) -> None:
    """A second 两高 purchase: approved, priced, final, paid; the receipt issued its indicators."""
    purchase = services.create_filing("purchase", admin)
    services.save_draft(
        purchase,
        MultiDict(
            {
                "project_name": "年产 9 万吨水泥熟料技改扩能项目",
                "description": "扩建项目，已取得核准文件（示例）。",
                "variety_code": "energy",
                "is_grid_coal_unit": "no",
                "product_code": "cement_clinker",
                "designed_output": "90000",
            }
        ),
        admin,
    )
    evidence(purchase, "energy_review", "节能审查意见.pdf")
    services.submit_filing(purchase, admin)
    workflow.transition(purchase, "review_city", city, "材料齐全，同意上报。")
    workflow.transition(purchase, "review_province", province, "符合能效先进值要求。")
    workflow.transition(purchase, "publish", province, "公示 7 天。")
    _end_publicity(purchase)
    notice = prices.open_notice(purchase)
    prices.record_receipt(
        notice, "GGZY-YNQ-DEMO-0001", notice.amount, current_date(), actor=province
    )
    assert purchase.status == "final" and notice.status == "paid"


def _bought_back_closure(admin, city, province, evidence) -> None:
    """A closure made final: its indicators offered to 郑州 first, which buys them back."""
    closure = services.create_filing("closure", admin)
    services.save_draft(
        closure,
        MultiDict(
            {
                "facility_name": "3 号回转窑",
                "facility_description": "Φ3.0×48 m 回转窑一座，已拆除（示例）。",
                "is_grid_coal_unit": "no",
                "closure_date": (current_date() - timedelta(days=200)).isoformat(),
                "prior_year_energy": "4200",
            }
        ),
        admin,
    )
    evidence(closure)
    services.submit_filing(closure, admin)
    workflow.transition(closure, "review_city", city, "现场核查已关停拆除。")
    workflow.transition(closure, "review_province", province, "同意确认关停指标。")
    workflow.transition(closure, "publish", province, "公示 7 天。")
    _end_publicity(closure)
    (offer,) = prices.offers_of(closure)
    prices.decide_offer(
        offer, "buy", actor=city, unit_price=Decimal("240.00"), remark="纳入市级收储（示例）。"
    )
