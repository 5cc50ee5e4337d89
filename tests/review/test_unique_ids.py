"""No element id repeats on a back-office page: every page reachable from /admin/ in the demo,
as each back-office role, is parsed and its ids counted."""

from __future__ import annotations

from collections import Counter, deque
from datetime import UTC, datetime
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from demo.accounts import DOMAIN
from portal.accounts.models import User
from portal.extensions import db
from portal.filings import services as filings
from tests import factories

BACK_OFFICE_ROLES = ("auditor", "city", "province", "editor", "supervisor")
PAGES_PER_ROLE = 80  # [design] enough to reach every back-office list and each kind of detail


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: Counter[str] = Counter()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if values.get("id"):
            self.ids[values["id"]] += 1
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])


def _crawl(client) -> tuple[set[str], dict[str, list[str]]]:
    """The back-office pages reached from /admin/ (GET, no files) that answered 200, and
    path → ids that repeat on it."""
    seen, pages, repeated = set(), set(), {}
    todo = deque(["/admin/"])
    while todo and len(seen) < PAGES_PER_ROLE:
        path = todo.popleft()
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        if response.status_code != 200 or response.mimetype != "text/html":
            response.close()
            continue
        pages.add(path)
        parser = _Ids()
        parser.feed(response.get_data(as_text=True))
        twice = sorted(name for name, count in parser.ids.items() if count > 1)
        if twice:
            repeated[path] = twice
        for href in parser.links:
            parts = urlsplit(href)
            if parts.netloc or not parts.path.startswith("/admin/"):
                continue
            if "/files/" in parts.path or parts.path.endswith((".csv", ".xlsx", ".json")):
                continue
            todo.append(parts.path)
    return pages, repeated


@pytest.fixture
def demo(app, demo_data):
    with app.app_context():
        # A retrofit claim waiting for its auditor: its page has the assignment form as well.
        owner = db.session.scalar(select(User).where(User.email == f"qiye@{DOMAIN}"))
        firm_id = db.session.scalar(
            select(User).where(User.email == f"auditor@{DOMAIN}")
        ).audit_firm_id
        claim = filings.create_filing("retrofit", owner)
        filings.save_draft(
            claim,
            MultiDict(
                {
                    "project_name": "电机变频改造",
                    "description": "风机水泵变频",
                    "baseline_year": "2023",
                    "baseline_energy": "1000",
                    "baseline_coal": "0",
                    "expected_energy_savings": "80",
                    "audit_firm_id": str(firm_id),
                }
            ),
            owner,
        )
        filings.add_attachment(claim, factories.checked_pdf(), "evidence", owner)
        filings.submit_filing(claim, owner)
        db.session.commit()
        return claim.id


@pytest.mark.parametrize("role", BACK_OFFICE_ROLES)
def test_no_id_repeats_on_any_back_office_page(app, client, demo, role):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == f"{role}@{DOMAIN}"))
        # The back office asks for a second factor: enrol the demo account as its owner would.
        user.totp_secret = factories.TEST_TOTP_SECRET
        user.totp_enabled_at = datetime.now(UTC).replace(tzinfo=None)
        db.session.commit()
        factories.login(client, user)
    seen, repeated = _crawl(client)
    assert "/admin/" in seen and len(seen) >= 3  # the crawl got past the start page
    if role != "editor":
        assert any(path.startswith("/admin/filings/") for path in seen)
    assert repeated == {}
    if role in ("auditor", "city", "province", "supervisor"):
        # The crawl reached the filing pages, forms and all.
        page = client.get(f"/admin/filings/{demo}").get_data(as_text=True)
        assert "csrf_token" in page
        parser = _Ids()
        parser.feed(page)
        assert [name for name, count in parser.ids.items() if count > 1] == []
