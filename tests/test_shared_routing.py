"""The tests' apps share one router (tests/shared_routing.py) and still route on their own."""

from __future__ import annotations

from flask import Flask, url_for

from portal import create_app
from tests.shared_routing import SharedRuleMap


def _routes(app) -> set[tuple[str, str]]:
    return {(rule.rule, rule.endpoint) for rule in app.url_map.iter_rules()}


def test_apps_of_the_same_rules_share_the_matcher(app_config):
    first, second = create_app(app_config), create_app(app_config)
    assert isinstance(first.url_map, SharedRuleMap)
    assert _routes(first) == _routes(second)
    assert first.url_map._matcher is second.url_map._matcher
    with second.test_request_context("/"):
        assert url_for("main.home") == "/"
    assert second.test_client().get("/trades").status_code == 200


def test_a_route_added_to_one_app_stays_in_that_app(app_config):
    first, second = create_app(app_config), create_app(app_config)
    before = _routes(first)
    with second.test_request_context("/"):
        url_for("main.home")  # used: it takes the shared matcher
    assert second.url_map._matcher is first.url_map._matcher

    @second.get("/only-here")
    def only_here():
        return "here"

    third = create_app(app_config)
    assert second.test_client().get("/only-here").get_data(as_text=True) == "here"
    for other in (first, third):
        assert other.test_client().get("/only-here").status_code == 404
        assert _routes(other) == before
    assert second.url_map._matcher is not third.url_map._matcher
    with second.test_request_context("/"):
        assert url_for("only_here") == "/only-here" and url_for("main.home") == "/"


def test_different_rules_make_different_routers():
    plain, other = Flask("plain"), Flask("other")

    @other.get("/x/<int:n>")
    def x(n):
        return str(n)

    assert other.test_client().get("/x/7").get_data(as_text=True) == "7"
    assert plain.test_client().get("/x/7").status_code == 404
    assert plain.url_map._matcher is not other.url_map._matcher
