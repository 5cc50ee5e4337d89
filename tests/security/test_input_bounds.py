"""Input bounds: each kind of input the fuzzer found breaking the portal, pinned by a plain test.

Ids in paths stop at 2**31 - 1 (a 404 from the router), page numbers too (400), NUL is a 400
before any view runs, other control characters are refused beside the field, a choice of spaces is
an unknown choice, and decimals are finite and fit their column: in forms and in the services.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from werkzeug.datastructures import MultiDict

from portal.extensions import db
from tests.factories import PDF, checked_pdf, make_filing

HUGE = ["2147483648", "4294967296", "9223372036854775808", "99999999999999999999999", "9" * 5000]


# --- integers in paths and page numbers --------------------------------------------------------


def test_the_int_converter_is_bounded_for_the_whole_app(app):
    from portal.converters import MAX_ID, BoundedIntegerConverter

    assert app.url_map.converters["int"] is BoundedIntegerConverter
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == "news.detail")
    assert rule._converters["id"].max == MAX_ID == 2**31 - 1


@pytest.mark.parametrize("number", HUGE)
def test_ids_past_32_bits_are_a_404_without_a_query(client, number):
    for path in (f"/news/{number}", f"/news/{number}/embed", f"/compliance/{number}"):
        response = client.get(path)
        assert response.status_code == 404, path
    assert client.get(f"/api/v1/compliance/{number}").status_code == 404


def test_ids_past_32_bits_are_a_404_for_a_signed_in_user(client, auth):
    auth.login("enterprise")
    assert client.get("/filings/2147483648").status_code == 404
    assert client.get("/filings/2147483647").status_code == 404  # in range, but not there


@pytest.mark.parametrize("page", HUGE + ["-99999999999999999999"])
def test_page_numbers_past_the_bound_are_a_400_with_a_message(client, page):
    for path in ("/news/", "/listings", "/trades", "/search"):
        response = client.get(path, query_string={"page": page, "q": "郑州"})
        assert response.status_code == 400, path
        assert "页码" in response.get_data(as_text=True)
    api = client.get("/api/v1/listings", query_string={"page": page})
    assert api.status_code == 400 and api.get_json()["status"] == 400
    assert client.get("/api/v1/listings", query_string={"per_page": page}).status_code == 400


def test_in_range_page_numbers_keep_their_meaning(client):
    assert client.get("/listings?page=0").status_code == 404
    assert client.get("/listings?page=2147483647").status_code == 404  # past the end
    assert client.get("/listings?page=abc").status_code == 400


# --- NUL and control characters --------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/search?q=%00", "/listings?category=a%00", "/listings/%00", "/news/?%00=1"]
)
def test_nul_anywhere_in_a_get_is_a_400_page(client, path):
    response = client.get(path)
    assert response.status_code == 400
    assert "控制字符" in response.get_data(as_text=True)


def test_nul_in_a_post_is_a_400_page(client, csrf_token):
    token = csrf_token("/accounts/login")
    for path, data in (
        ("/accounts/login", {"email": "a\x00@example.com", "password": "x"}),
        ("/accounts/register", {"name": "甲\x00乙", "email": "a@example.com"}),
    ):
        response = client.post(path, data={"csrf_token": token, **data})
        assert response.status_code == 400
        assert "控制字符" in response.get_data(as_text=True)


def test_nul_in_an_objection_is_refused_and_nothing_is_stored(app, client, csrf_token):
    from portal.publicity import services
    from portal.publicity.models import Objection

    with app.app_context():
        notice = services.publish_publicity("other", "nul", "公示", "正文")
        db.session.commit()
        url = f"/publicity/objections/new/{notice.announcement_id}"
    token = csrf_token(url)
    data = {"csrf_token": token, "real_name": "李四", "contact": "lisi@example.com"}
    refused = client.post(url, data=data | {"reason": "公示数据\x00与实际情况不符，请核实。"})
    assert refused.status_code == 400
    with app.app_context():
        assert db.session.query(Objection).count() == 0
    # a line break in a multi-line field is text, not a control character
    accepted = client.post(url, data=data | {"reason": "公示数据与实际\n情况不符，请核实。"})
    assert accepted.status_code == 303


def test_control_characters_are_refused_beside_a_single_line_field(client, csrf_token):
    token = csrf_token("/accounts/register")
    response = client.post(
        "/accounts/register", data={"csrf_token": token, "name": "甲\x07乙\n", "email": "x"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422  # the registration form's answer to an invalid field
    assert "不能含有换行、制表符或其他控制字符" in html


def test_the_base_form_checks_every_text_field(ctx):
    from wtforms import StringField, TextAreaField

    from portal.forms import FlaskForm

    class Sample(FlaskForm):
        class Meta:
            csrf = False

        line = StringField()
        text = TextAreaField()

    ok = Sample(formdata=MultiDict({"line": "郑州 市", "text": "第一行\r\n第二行\t完"}))
    assert ok.validate()
    bad = Sample(formdata=MultiDict({"line": "a\tb", "text": "a\x1bb"}))
    assert not bad.validate()
    assert bad.line.errors and bad.text.errors
    # C1 controls and DEL count too; a zero-width or bidi mark is a format character, not a control
    assert not Sample(formdata=MultiDict({"line": "a\x85b"})).validate()
    assert not Sample(formdata=MultiDict({"line": "a\x7fb"})).validate()


# --- choices ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [" ", "%20%20", "\u3000", "nonexistent"])
def test_a_choice_of_spaces_or_unknown_is_the_normal_400(client, value):
    news = client.get(f"/news/?category={value}")
    assert news.status_code == 400 and "没有这个栏目" in news.get_data(as_text=True)
    listings = client.get(f"/listings?category={value}")
    assert listings.status_code == 400 and "不是可选的值" in listings.get_data(as_text=True)
    assert client.get(f"/api/v1/listings?division={value}").status_code == 400


# --- decimals ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Infinity", "Infinity"),
        ("-Infinity", "Infinity"),
        ("NaN", "Infinity"),
        ("sNaN", "Infinity"),
        ("1e400", "数值过大"),
        ("100000000000000", "数值过大"),
        ("-1", "不能为负数"),
        ("1.00001", "最多保留 4 位小数"),
        ("abc", "请填写数字"),
    ],
)
def test_decimal_field_refuses_what_the_column_cannot_hold(ctx, text, expected):
    from portal.forms import DecimalField, FlaskForm

    class Sample(FlaskForm):
        class Meta:
            csrf = False

        quantity = DecimalField()

    form = Sample(formdata=MultiDict({"quantity": text}))
    assert not form.validate()
    assert form.quantity.data is None
    assert expected in " ".join(map(str, form.quantity.errors))


@pytest.mark.parametrize(
    "text, value",
    [
        ("1234.5", "1234.5"),
        ("１２３", "123"),
        ("1,000.25", "1000.25"),
        ("99999999999999.9999", None),
    ],
)
def test_decimal_field_reads_what_people_type(ctx, text, value):
    from portal.forms import DecimalField, FlaskForm

    class Sample(FlaskForm):
        class Meta:
            csrf = False

        quantity = DecimalField()

    form = Sample(formdata=MultiDict({"quantity": text}))
    assert form.validate(), form.errors
    assert form.quantity.data == Decimal(value or text)


def _act(client, filing_id, data):
    html = client.get(f"/admin/filings/{filing_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"', html
    )
    version = re.search(r'name="version"[^>]*value="(\d+)"', html)
    body = {"csrf_token": token.group(1), "version": version.group(1) if version else ""}
    return client.post(
        f"/admin/filings/{filing_id}/act",
        data=body | data | {"report": (io.BytesIO(PDF), "report.pdf")},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize("bad", ["Infinity", "NaN", "sNaN", "1e20", "-5"])
def test_verified_savings_must_be_finite(app, client, users, sign_in, bad):  # noqa: F811
    from portal.accounts.models import User
    from portal.filings.models import Filing

    with app.app_context():
        firm_id = db.session.get(User, users["auditor"]).audit_firm_id
        filing_id = make_filing("retrofit", "city_filed", firm_id=firm_id).id
        db.session.commit()
    sign_in(users["auditor"])
    response = _act(
        client,
        filing_id,
        {"action": "audit_savings", "remark": "核定", "verified_energy": bad},
    )
    assert response.status_code == 400
    assert "∞" not in response.get_data(as_text=True)
    with app.app_context():
        filing = db.session.get(Filing, filing_id)
        assert filing.status == "city_filed" and filing.verified_energy_savings is None


def test_the_review_service_refuses_non_finite_savings(app, users):  # noqa: F811
    from portal.accounts.models import User
    from portal.review import services

    with app.test_request_context():
        auditor = db.session.get(User, users["auditor"])
        filing = make_filing("retrofit", "city_filed", firm_id=auditor.audit_firm_id)
        with pytest.raises(services.ReviewError) as refused:
            services.act_on_filing(
                filing,
                "audit_savings",
                auditor,
                "核定",
                None,
                verified_energy=Decimal("Infinity"),
                report=checked_pdf(),
            )
        assert refused.value.field == "verified_energy"
        assert filing.verified_energy_savings is None
        db.session.rollback()


@pytest.mark.parametrize("bad", ["1e14", "100000000000000", "Infinity", "sNaN"])
def test_the_ledger_refuses_quantities_its_column_cannot_hold(ctx, bad):
    from portal.registry import services
    from tests.factories import make_enterprise

    enterprise = make_enterprise()
    with pytest.raises(services.LedgerError) as refused:
        services.issue_indicators(enterprise.id, "energy", bad, "确权")
    assert refused.value.code == "quantity"
    db.session.rollback()


def test_filing_quantities_must_fit_their_column(client, auth, csrf_token):
    auth.login("enterprise")
    token = csrf_token("/filings/")
    created = client.post("/filings/new/retrofit", data={"csrf_token": token})
    filing_id = int(re.search(r"/filings/(\d+)/edit", created.headers["Location"]).group(1))
    for value, message in (("Infinity", "Infinity"), ("1e20", "数值过大"), ("sNaN", "Infinity")):
        response = client.post(
            f"/filings/{filing_id}/draft",
            data={"csrf_token": token, "baseline_energy": value},
            headers={"HX-Request": "true"},
        )
        assert response.status_code < 500
        assert message in response.get_data(as_text=True)


# --- integers in forms -------------------------------------------------------------------------------


@pytest.mark.parametrize("year", ["99999999999999999999", "1e5", "٢٠٢٥", "2015", "-2024"])
def test_integer_fields_are_bounded_with_a_chinese_message(client, users, sign_in, year):  # noqa: F811
    sign_in(users["province"])
    html = client.get("/admin/compliance").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    response = client.post(
        "/admin/compliance",
        data={"csrf_token": token, "year": year, "filing_deadline": "2025-05-31"},
    )
    assert response.status_code == 400
    assert "年度须在 2016 到 2100 之间" in response.get_data(as_text=True)


@pytest.mark.parametrize("version", ["①", "²", "𐩀", "9" * 5000, "-1", " 1 "])
def test_a_version_that_is_not_ascii_digits_is_no_500(app, client, users, sign_in, version):  # noqa: F811
    from portal.forms import whole_number

    assert whole_number(version) in (None, 1)
    with app.app_context():
        filing_id = make_filing("retrofit", "submitted").id
        db.session.commit()
    sign_in(users["city"])
    html = client.get(f"/admin/filings/{filing_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    for action, data in (
        ("auditor", {"audit_firm_id": "1", "remark": "指派"}),
        ("act", {"action": "return", "remark": "退回"}),
    ):
        response = client.post(
            f"/admin/filings/{filing_id}/{action}",
            data={"csrf_token": token, "version": version} | data,
        )
        assert response.status_code < 500, response.get_data(as_text=True)[:300]
