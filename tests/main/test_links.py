"""Links: the app's remembered url_for (portal.urls.PortalFlask) and url_with (portal.web), which
writes a list's own address with some query arguments changed."""

from __future__ import annotations

import re

import pytest
from flask import request, url_for

from portal import urls
from portal.extensions import db
from portal.web import url_with
from tests import factories as f


def test_a_remembered_link_is_the_link_flask_builds(app):
    with app.test_request_context("/"):
        first = url_for("disclosure.trade_detail", number="YNQ-CJ-2025-000001")
        assert url_for("disclosure.trade_detail", number="YNQ-CJ-2025-000001") == first
        assert first == super(urls.PortalFlask, app).url_for(
            "disclosure.trade_detail", number="YNQ-CJ-2025-000001"
        )
        assert url_for("static", filename="css/portal.css").startswith("/static/")


def test_the_key_holds_the_value_type_and_the_script_root(app):
    with app.test_request_context("/"):
        assert url_for("news.index", page=True) == "/news/?page=True"
        assert url_for("news.index", page=1) == "/news/?page=1"
    with app.test_request_context("/", base_url="http://localhost/portal"):
        assert url_for("news.index", page=1) == "/portal/news/?page=1"


def test_unhashable_values_anchors_and_external_links_are_built_each_time(app):
    with app.test_request_context("/"):
        assert url_for("news.index", category=["notice", "policy"]) == (
            "/news/?category=notice&category=policy"
        )
        assert url_for("news.index", _anchor="results") == "/news/#results"
        assert url_for("news.index", _external=True) == "http://localhost/news/"
        assert url_for("news.index") == "/news/"


def test_the_store_is_bounded(app, monkeypatch):
    monkeypatch.setattr(urls, "URL_MEMO_SIZE", 5)
    with app.test_request_context("/"):
        for n in range(12):
            assert url_for("news.detail", id=n) == f"/news/{n}"
    assert len(app._url_memo) <= 5


def test_url_with_matches_werkzeug_and_keeps_the_view_arguments(app):
    query = "/compliance/2024?status=non_compliant&division=410100&q=%E9%83%91+a%26b&page=3"
    with app.test_request_context(query):  # matched as a request is: endpoint and view args
        assert (request.endpoint, request.view_args) == ("compliance.period", {"year": 2024})
        built = url_with(sort="-shortfall")
        args = {k: v for k, v in request.args.items() if k != "page"}
        assert built == super(urls.PortalFlask, app).url_for(
            "compliance.period", year=2024, **args, sort="-shortfall"
        )
        assert url_with(page=4, status=None).endswith("division=410100&q=%E9%83%91+a%26b&page=4")


@pytest.mark.parametrize(
    "path",
    [
        "/compliance/2024?year=2023&page=1",
        "/listings?_anchor=x",
        "/trades?_scheme=ftp",
        "/listings?_method=POST",
        "/trades?_external=1",
        "/news/?_anchor=x",
    ],
)
def test_a_query_argument_named_like_a_path_variable_or_an_option_of_url_for(client, path):
    """Such an argument once reached url_for as its own keyword: a TypeError or a bad scheme
    (500). It is an ordinary query argument: kept in the list's links, never read as an option."""
    with client.application.app_context():
        f.period(2024)
        db.session.commit()
    response = client.get(path)
    assert response.status_code == 200
    name = re.search(r"\?(\w+)=", path).group(1)
    assert f"{name}=" in response.get_data(as_text=True)


def test_a_remembered_public_link_follows_the_public_base_address(app):
    with app.test_request_context("/", base_url="http://forged.example"):
        app.config["PUBLIC_BASE_URL"] = "https://portal.example"
        assert urls.public_url("news.detail", id=3) == "https://portal.example/news/3"
        assert urls.public_url("news.detail", id=3) == "https://portal.example/news/3"
        app.config["PUBLIC_BASE_URL"] = "https://other.example/yn"
        assert urls.public_url("news.detail", id=3) == "https://other.example/yn/news/3"
        assert url_for("news.detail", id=3) == "/news/3"
