from datetime import date, datetime
from decimal import Decimal

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
