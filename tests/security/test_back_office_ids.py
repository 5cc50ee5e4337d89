"""No element id repeats on a back-office page (the Nu Html Checker's "Duplicate ID" error).

Over the demo data, signed in as each back-office role: every page of the role's menu, then the
pages their links lead to inside the back office (records, filings, queues with filters), breadth
first, up to a bound per role.
"""

from __future__ import annotations

import re
from collections import deque
from datetime import UTC, datetime
from html import unescape
from urllib.parse import urlsplit

from flask import url_for
from sqlalchemy import select

from portal.access import back_office_menu
from portal.accounts.models import User
from portal.extensions import db
from portal.web import PRIVATE_PREFIXES
from tests import factories

IDS = re.compile(r'\sid="([^"]+)"')
LINKS = re.compile(r'\shref="(/[^"#]*)"')
ROLES = ("city", "province", "auditor", "editor", "supervisor")
PAGES_PER_ROLE = 40
# Files and downloads are not HTML pages; signing out would end the walk.
SKIP = re.compile(r"/logout|/export|\.csv|\.xlsx|\.json|/files?/|/attachments?/|/download")


def repeated_ids(html: str) -> list[str]:
    seen: set[str] = set()
    repeated = []
    for found in IDS.findall(html):
        if found in seen:
            repeated.append(found)
        seen.add(found)
    return repeated


def test_the_check_finds_a_repeated_id():
    assert repeated_ids('<p id="a"></p><input id="b"><span id="a">') == ["a"]
    assert repeated_ids('<p id="a"></p><p data-id="a"></p>') == []


def _walk(client, start: list[str]) -> dict[str, list[str]]:
    """Path → the ids it repeats, for every back-office HTML page reached."""
    queue, seen, found = deque(start), set(start), {}
    visited = 0
    while queue and visited < PAGES_PER_ROLE:
        path = queue.popleft()
        response = client.get(path)
        html = response.get_data(as_text=True) if response.mimetype == "text/html" else None
        response.close()  # a file answer holds its file open until closed
        if response.status_code != 200 or html is None:
            continue
        visited += 1
        found[path] = repeated_ids(html)
        for link in LINKS.findall(html):
            link = unescape(link)
            target = urlsplit(link)
            if not target.path.startswith(PRIVATE_PREFIXES) or SKIP.search(link):
                continue
            # One page of each path: its filtered and paged variants share its markup.
            if target.path not in seen:
                seen.add(target.path)
                queue.append(link)
    return found


def test_no_id_repeats_on_any_back_office_page(app, demo_data):
    with app.app_context():
        users = {
            role: db.session.scalar(select(User).where(User.role == role).order_by(User.id))
            for role in ROLES
        }
        for role, user in users.items():
            assert user is not None, role
            # The demo's people enrol their second factor at first sign-in; these have.
            user.totp_secret = factories.TEST_TOTP_SECRET
            user.totp_enabled_at = datetime.now(UTC).replace(tzinfo=None)
        db.session.commit()
        users = {role: user.id for role, user in users.items()}
    problems = {}
    walked = 0
    for role, user_id in users.items():
        client = app.test_client()  # a session of its own for each role
        with app.app_context():
            user = db.session.get(User, user_id)
            factories.login(client, user)
            with app.test_request_context():
                start = [url_for(endpoint) for endpoint, _label in back_office_menu(user)]
        assert start, role
        pages = _walk(client, start)
        walked += len(pages)
        problems.update({f"{role} {path}": ids for path, ids in pages.items() if ids})
    assert walked >= 3 * len(ROLES)
    assert problems == {}
