"""Feed readers nobody here wrote: feedparser, and lxml's RELAX NG with the RFC 4287 schema."""

from __future__ import annotations

import re
from email import policy
from email.parser import BytesParser
from pathlib import Path
from urllib.parse import quote

import feedparser
import pytest
import rnc2rng
from lxml import etree

from portal.extensions import db
from tests import factories
from tests.factories import csrf_token_in

ATOM_RNC = Path(__file__).parent / "data" / "atom.rnc"


@pytest.fixture
def app_config(app_config):
    app_config["SEARCH_REBUILD"] = "inline"
    app_config["DIGEST_SETTLE_SECONDS"] = 0
    return app_config


@pytest.fixture(scope="session")
def atom_schema() -> etree.RelaxNG:
    """RFC 4287 appendix B, converted from its compact syntax by rnc2rng. The converter declares
    the schema's empty `local` prefix, which XML namespaces forbid; the declaration is unused."""
    grammar = rnc2rng.dumps(rnc2rng.loads(ATOM_RNC.read_text("utf-8")))
    return etree.RelaxNG(etree.fromstring(grammar.replace('xmlns:local=""', "").encode("utf-8")))


@pytest.fixture
def read_feed(client, atom_schema):
    """Fetch a feed; it must parse in feedparser without bozo and, if Atom, fit RFC 4287."""

    def read(url: str, **kwargs):
        response = client.get(url, **kwargs)
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        parsed = feedparser.parse(
            response.data, response_headers={"content-type": response.content_type}
        )
        assert not parsed.bozo, parsed.get("bozo_exception")
        if parsed.version == "atom10":
            document = etree.fromstring(response.data)
            assert atom_schema.validate(document), atom_schema.error_log
        else:
            assert parsed.version == "rss20", parsed.version
        parsed["response"] = response
        return parsed

    return read


@pytest.fixture
def make_announcement(app):
    def make(**fields) -> int:
        with app.app_context():
            row = factories.announcement(**fields)
            db.session.commit()
            return row.id

    return make


@pytest.fixture
def mails(app):
    """The messages written to the outbox so far, oldest first, parsed (headers and plain body)."""

    def read() -> list:
        folder = Path(app.config["MAIL_OUTBOX_DIR"])
        parsed = []
        for path in sorted(folder.glob("*.eml")):
            message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
            message.text = message.get_body(preferencelist=("plain",)).get_content()
            parsed.append(message)
        return parsed

    return read


@pytest.fixture
def subscribe(client, csrf_token, mails):
    """Subscribe through the page, as a person would: the list's link, the form, the mailed link,
    the confirm button. Returns the path of the manage page."""

    def do(target: str, email: str = "reader@example.com", frequency: str = "immediate") -> str:
        page = client.get(f"/subscriptions/new?target={quote(target, safe='')}")
        assert page.status_code == 200, page.get_data(as_text=True)
        token = csrf_token_in(page.get_data(as_text=True))
        before = len(mails())
        sent = client.post(
            "/subscriptions/new",
            data={
                "csrf_token": token,
                "target": target,
                "email": email,
                "frequency": frequency,
            },
        )
        assert sent.status_code == 303 and sent.location.endswith("/subscriptions/sent")
        confirmation = mails()[before:]
        assert len(confirmation) == 1 and confirmation[0]["To"] == email
        link = re.search(r"http://localhost(/subscriptions/confirm/\S+)", confirmation[0].text)
        confirm_page = client.get(link.group(1))
        token = csrf_token_in(confirm_page.get_data(as_text=True))
        done = client.post(link.group(1), data={"csrf_token": token})
        assert done.status_code == 303 and "/subscriptions/manage/" in done.location
        return done.location.removeprefix("http://localhost")

    return do
