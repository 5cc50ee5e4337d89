"""portal/access.py: the role groups, the decorator, and the back-office menu built from them."""

from __future__ import annotations

import pytest

from portal import access


def test_groups_hold_only_known_roles():
    groups = {
        name: value
        for name, value in vars(access).items()
        if name.isupper() and isinstance(value, frozenset)
    }
    assert {"BACK_OFFICE", "REVIEWERS", "QUEUE", "READERS", "LEDGER", "EDITORS"} <= set(groups)
    for name, group in groups.items():
        assert group and group <= set(access.ROLES), name
    assert access.BACK_OFFICE == set(access.ROLES) - {"enterprise"}
    assert access.REVIEWERS == {"auditor", "city", "province"}
    assert access.QUEUE == access.REVIEWERS | {"supervisor"}


def test_role_required_refuses_an_unknown_role():
    with pytest.raises(ValueError):
        access.role_required("admin")
    with pytest.raises(ValueError):
        access.role_required()


def test_each_menu_link_shows_to_exactly_the_roles_its_page_lets_in(app):
    for endpoint, _label, group in access.BACK_OFFICE_MENU:
        view = app.view_functions[endpoint]
        assert getattr(view, "allowed_roles", None) == group, endpoint


@pytest.mark.parametrize("role", sorted(access.BACK_OFFICE))
def test_the_menu_renders_the_links_of_the_role(app, client, auth, role):
    auth.login(role)
    html = client.get("/admin/").get_data(as_text=True)
    with app.test_request_context():
        from flask import url_for

        for endpoint, _label, group in access.BACK_OFFICE_MENU:
            link = f'<li><a href="{url_for(endpoint)}">'
            assert (link in html) is (role in group), (role, endpoint)
