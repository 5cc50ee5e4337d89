from datetime import date, datetime
from decimal import Decimal

import pytest
from flask import render_template_string
from flask_babel import force_locale

from portal import i18n


def test_request_formats_match_the_flask_babel_helpers(app):
    for path, cookie in (("/", None), ("/", "en")):
        with app.test_request_context(path, headers={"Cookie": f"lang={cookie}"} if cookie else {}):
            fast = i18n.RequestFormats()
            assert fast.qty(Decimal("1234.5"), "energy") == i18n.fmt_quantity(
                Decimal("1234.5"), "energy"
            )
            assert fast.price(Decimal("321.5"), "coal") == i18n.fmt_price(Decimal("321.5"), "coal")
            assert fast.money(Decimal("1000000")) == i18n.fmt_money(Decimal("1000000"))
            assert fast.num(12345) == i18n.fmt_number(12345)
            assert fast.fdate(date(2025, 3, 1)) == i18n.fmt_date(date(2025, 3, 1))
            moment = datetime(2025, 3, 1, 20, 30)  # naive UTC: 04:30 next day in Asia/Shanghai
            assert fast.fdatetime(moment) == i18n.fmt_datetime(moment) == "2025-03-02 04:30"
            assert fast.fdate(moment) == "2025-03-02"


def test_units_and_missing_values(app):
    with app.test_request_context("/"):
        fast = i18n.RequestFormats()
        assert fast.qty(Decimal("1234.5"), "energy") == "1,234.5 吨标准煤"
        assert fast.qty(None, "energy") == "—"
        assert fast.qty(Decimal("0"), "coal") == "0 吨"
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        assert i18n.RequestFormats().money(Decimal("12.5")) == "CN¥12.50"


def test_labels_are_followed_by_the_colon_of_the_page_language(client, public_records):
    chinese = client.get("/compliance").get_data(as_text=True)
    assert "公布时间：" in chinese
    client.set_cookie("lang", "en")
    english = client.get("/compliance").get_data(as_text=True)
    assert "公布时间：" not in english
    assert ": " in english.split("<main", 1)[1]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_fast_formats_write_what_babel_writes(app, lang):
    with app.test_request_context(f"/statistics?lang={lang}"):
        fast, babel = i18n.FastFormats(), i18n.RequestFormats()
        assert fast.fast
        for text in ("0", "0.5", "12.3456", "1000", "1234567.8900", "999999999999.99", "7.0001"):
            value = Decimal(text)
            assert fast.qty(value, "energy") == babel.qty(value, "energy")
            assert fast.qty(value) == babel.qty(value)
            assert fast.money(value.quantize(Decimal("0.01"))) == babel.money(value)
            assert fast.price(value.quantize(Decimal("0.01")), "coal") == babel.price(value, "coal")
        # Ledger debits are negative quantities.
        for text in ("-0.5", "-12.3456", "-1234567.8900", "-120"):
            assert fast.qty(Decimal(text), "coal") == babel.qty(Decimal(text), "coal")
        for n in (0, 7, 1234, 10_000_000):
            assert fast.num(n) == babel.num(n)
        assert fast.qty(None) == babel.qty(None) == "—"
        for moment in (date(2025, 1, 9), datetime(2025, 3, 1, 15, 59), datetime(2025, 3, 1, 16, 1)):
            assert fast.fdate(moment) == babel.fdate(moment)
        # Amounts with more places than the currency's are rounded as Babel rounds them.
        for text in ("12.345", "0.005", "2.675", "0.015", "99.99999"):
            assert fast.money(Decimal(text)) == babel.money(Decimal(text))
            assert fast.qty(Decimal(text) / 7) == babel.qty(Decimal(text) / 7)


def test_formats_are_made_once_per_request_and_language(app):
    with app.test_request_context("/"):
        page = i18n.formats()
        assert i18n.formats() is page
        assert not page.english
        with force_locale("en"):
            mail = i18n.formats()
            assert mail.english and mail is not page
            assert i18n.fmt_money(Decimal("12.5")) == "CN¥12.50"
            assert render_template_string("{{ _('成交公示') }}") == "Trades"
        assert not i18n.formats().english
        assert i18n.fmt_money(Decimal("12.5")) == "¥12.50"
        assert render_template_string("{{ _('成交公示') }}") == "成交公示"


def test_template_gettext_escapes_its_variables_and_keeps_percent(app):
    with app.test_request_context("/?lang=en"):
        text = render_template_string(
            "{% trans n=name %}共 {{ n }} 条{% endtrans %}|{{ _('%(a)s%%', a='<b>') }}",
            name="<i>",
        )
        assert "&lt;i&gt;" in text and "<i>" not in text
        assert text.endswith("&lt;b&gt;%")
