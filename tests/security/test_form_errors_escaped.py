"""Input never becomes markup: lazy messages, every form's errors, every public filter page.

A translated message is text. Flask-Babel's lazy strings used to tell Jinja they were markup, so a
value quoted in an error message (`/listings?division=<img …>`) went into the page raw;
portal.i18n.init_app makes them escape themselves. These tests hold that for every path a message
takes to the page, for every form in the portal, and for every query parameter of the public lists.
"""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest
from flask import abort, flash, jsonify, redirect, render_template_string
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict
from wtforms import SelectFieldBase
from wtforms.fields.core import UnboundField

import portal
from portal.extensions import db

PAYLOADS = (
    '"><img src=x onerror=alert(1)>',
    '<div hx-post="/x" hx-trigger="load">',
    "{{7*7}}",
)
# What a browser would act on if a payload reached the HTML unescaped (the payload's own <img>:
# pages have images of their own, such as the share panel's QR code).
RAW_MARKUP = re.compile(r"<img\s+src=x\b|<div\s+hx-", re.IGNORECASE)
HX = {"HX-Request": "true"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _message(value: str):
    """A lazy message that quotes its input, as a future validator might (not in the catalogs)."""
    return lazy_gettext("“%(value)s”无效。", value=value)


def _assert_no_raw_markup(html: str, where: str) -> None:
    match = RAW_MARKUP.search(html)
    assert match is None, (
        f"raw markup from input in {where}: …{html[max(0, match.start() - 80) : match.end() + 80]}…"
    )


# ---------------------------------------------------------------- the root: lazy strings are text


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_lazy_message_is_escaped_on_every_path_into_a_template(ctx, payload):
    message = _message(payload)
    expected = str(escape(str(message)))
    templates = {
        "output": "{{ m }}",
        "|e": "{{ m|e }}",
        "|join": "{{ [m, m]|join(' ') }}",
        "~": "{{ m ~ '' }}",
        "macro argument": "{% macro show(x) %}{{ x }}{% endmacro %}{{ show(m) }}",
        "call block": "{% macro box() %}{{ caller() }}{% endmacro %}{% call box() %}{{ m }}{% endcall %}",
        "trans variable": "{% trans v=m %}说明：{{ v }}{% endtrans %}",
        "_() variable": "{{ _('说明：%(v)s', v=m) }}",
    }
    for name, source in templates.items():
        html = render_template_string(source, m=message)
        _assert_no_raw_markup(html, name)
        assert expected in html, name
    assert Markup("<p>%s</p>") % message == Markup(f"<p>{expected}</p>")
    assert Markup(message) == expected
    assert "{{7*7}}" not in payload or "“{{7*7}}”" in str(message)


def test_html_in_a_lazy_message_is_shown_as_text_not_dropped(ctx):
    html = render_template_string("{{ m }}", m=lazy_gettext("a < b & c"))
    assert html == "a &lt; b &amp; c"


def test_a_flashed_lazy_message_is_escaped_after_the_session_round_trip(app, client):
    @app.get("/_test/flash")
    def flash_it():
        flash(_message(PAYLOADS[0]), "error")
        return redirect("/")

    client.get("/_test/flash")
    html = client.get("/").get_data(as_text=True)
    _assert_no_raw_markup(html, "flashed message")
    assert str(escape(PAYLOADS[0])) in html


@pytest.mark.parametrize("payload", PAYLOADS)
def test_an_abort_description_is_escaped_on_the_error_page(app, client, payload):
    @app.get("/_test/abort")
    def abort_it():
        abort(400, description=_message(payload))

    for headers in ({}, HX):
        response = client.get("/_test/abort", headers=headers)
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        _assert_no_raw_markup(html, "error page")
        assert str(escape(f"“{payload}”")) in html


def test_json_gets_a_lazy_messages_text_not_html_entities(ctx):
    body = jsonify({"error": lazy_gettext("a<b>&'c")}).get_json()
    assert body == {"error": "a<b>&'c"}


# ---------------------------------------------------------------- every form, through the macros


def _portal_forms() -> list[type[FlaskForm]]:
    for module in pkgutil.walk_packages(portal.__path__, "portal."):
        importlib.import_module(module.name)
    found, todo = [], list(FlaskForm.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("portal."):
            found.append(cls)
    return sorted(set(found), key=lambda c: f"{c.__module__}.{c.__qualname__}")


def _field_names(form_class) -> list[str]:
    """The names a form reads from the request (a field may set its own with name=…)."""
    names = []
    for klass in reversed(form_class.__mro__):
        for attr, value in vars(klass).items():
            if isinstance(value, UnboundField) and not attr.startswith("_"):
                names.append(value.kwargs.get("name", attr))
    return list(dict.fromkeys(names))


MACROS = """{% from "_macros/forms.html" import field, field_live_errors, form_errors %}
{{ form_errors(form) }}
{% for f in form %}{{ field(f) }}{{ field(f, autosave=true) }}{{ field_live_errors(f, oob=true) }}{% endfor %}
"""


def test_the_form_walk_finds_the_portals_forms():
    names = {cls.__name__ for cls in _portal_forms()}
    assert {"ListingFilterForm", "TradeFilterForm", "AnnouncementFilterForm"} <= names
    assert len(names) >= 20


@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_forms_errors_render_escaped_through_the_field_macro(app, payload):
    forms = _portal_forms()
    for form_class in forms:
        with app.test_request_context("/", method="POST"):
            names = _field_names(form_class)
            form = form_class(formdata=MultiDict({name: payload for name in names}))
            for f in form:
                # A select whose choices the view fills in: give it one, so it can render.
                if isinstance(f, SelectFieldBase) and getattr(f, "choices", ()) is None:
                    f.choices = [("", "—")]
            form.validate()
            for f in form:
                f.errors = [*f.errors, _message(payload)]
            html = render_template_string(MACROS, form=form)
            db.session.rollback()
        where = f"{form_class.__module__}.{form_class.__qualname__}"
        _assert_no_raw_markup(html, where)
        if list(form):  # a base class without fields renders nothing
            assert str(escape(f"“{payload}”")) in html, where


# ---------------------------------------------------------------- every public filter page, over HTTP


def _filter_names(form_path: str) -> list[str]:
    module, name = form_path.rsplit(".", 1)
    return _field_names(getattr(importlib.import_module(module), name))


LISTING = "portal.disclosure.forms.ListingFilterForm"
TRADE = "portal.disclosure.forms.TradeFilterForm"
COMPLIANCE = "portal.compliance.forms.ComplianceFilterForm"
ENTERPRISE = "portal.disclosure.forms.EnterpriseFilterForm"
NEWS = "portal.news.forms.AnnouncementFilterForm"
STATISTICS = "portal.disclosure.forms.StatisticsFilterForm"
DAY_REPORT = "portal.disclosure.forms.DayReportForm"
API_FORMS = "portal.opendata.forms"
API_PAGING = ["page", "per_page", "after", "before"]

# page → (the filter form whose fields it reads, other query parameters it reads)
PAGES = {
    "/listings": (LISTING, ["page"]),
    "/listings/export.csv": (LISTING, []),
    "/listings/export.xlsx": (LISTING, []),
    "/trades": (TRADE, ["page"]),
    "/trades/export.csv": (TRADE, []),
    "/trades/export.xlsx": (TRADE, []),
    "/enterprises": (ENTERPRISE, ["page"]),
    "/enterprises/export.csv": (ENTERPRISE, []),
    "/enterprises/export.xlsx": (ENTERPRISE, []),
    "/compliance/2024": (COMPLIANCE, ["page"]),
    "/compliance/2024/export.csv": (COMPLIANCE, []),
    "/compliance/2024/export.xlsx": (COMPLIANCE, []),
    "/embed/announcements": (None, ["category", "limit"]),
    "/news/": (NEWS, ["page"]),
    "/search": (None, ["q", "type", "division", "variety", "year", "sort", "page"]),
    "/search/suggest": (None, ["q"]),
    "/statistics": (STATISTICS, []),
    "/statistics/monthly.csv": (STATISTICS, []),
    "/statistics/monthly.xlsx": (STATISTICS, []),
    "/statistics/daily": (DAY_REPORT, []),
    "/statistics/daily.csv": (DAY_REPORT, []),
    "/statistics/daily.xlsx": (DAY_REPORT, []),
    "/api/v1/listings": (LISTING, API_PAGING),
    "/api/v1/trades": (TRADE, API_PAGING),
    "/api/v1/compliance/2024": (COMPLIANCE, API_PAGING),
    "/api/v1/enterprises": (ENTERPRISE, API_PAGING),
    "/api/v1/announcements": (NEWS, API_PAGING),
    "/api/v1/publicity": (f"{API_FORMS}.PublicityNoticeFilterForm", API_PAGING),
    "/api/v1/statistics": (f"{API_FORMS}.StatisticsFilterForm", []),
    "/api/v1/search": (f"{API_FORMS}.SearchFilterForm", ["page"]),
}


def _check(response, url: str) -> None:
    assert response.status_code == 200 or 400 <= response.status_code < 500, (
        f"{url} answered {response.status_code}"
    )
    assert response.headers.get("X-Content-Type-Options") == "nosniff", url
    if response.mimetype == "text/html":
        _assert_no_raw_markup(response.get_data(as_text=True), url)
    else:
        # JSON, CSV and XLSX are not parsed as HTML (nosniff); an HTML error page must still be
        # escaped.
        assert response.mimetype in {
            "application/json",
            "application/problem+json",
            "text/csv",
            XLSX,
        }, (
            url,
            response.mimetype,
        )
    response.close()  # an XLSX download is a spooled file until its response is closed


@pytest.mark.parametrize("path", PAGES)
def test_each_query_parameter_of_each_public_page_echoes_input_escaped(
    client, public_records, path
):
    form_path, extra = PAGES[path]
    names = (_filter_names(form_path) if form_path else []) + extra
    assert names
    for name in names:
        for payload in PAYLOADS:
            for headers in ({}, HX):
                response = client.get(path, query_string={name: payload}, headers=headers)
                _check(response, f"{path}?{name}={payload} {headers}")


def test_an_invalid_filter_is_a_400_that_names_the_field_without_echoing_input(
    client, public_records
):
    response = client.get("/listings", query_string={"division": PAYLOADS[0]})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    error = re.search(r'id="division-error"[^>]*>(.*?)</p>', html).group(1)
    assert error == "不是可选的值，请从列表中选择。"
