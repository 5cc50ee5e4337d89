"""Fixtures of the filing tests: an enterprise user signed in, and closure filings made the way the
enterprise makes them (the pages, CSRF on)."""

from __future__ import annotations

import io
import re

import pytest

from portal.accounts.models import User
from portal.extensions import db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
CLOSURE = {
    "facility_name": "2号石灰窑",
    "facility_description": "年产 10 万吨石灰窑一座",
    "is_grid_coal_unit": "no",
    "closure_date": "2024-05-01",
    "prior_year_energy": "812.5",
}


@pytest.fixture
def signed_in_enterprise(auth, app):
    """An enterprise administrator, signed in through the login form: (user id, enterprise id)."""
    user_id = auth.login("enterprise")
    with app.app_context():
        return user_id, db.session.get(User, user_id).enterprise_id


@pytest.fixture
def closure_pages(client, csrf_token):
    """Drive the filing pages: new draft, fill, upload, submit, withdraw."""

    class Pages:
        def token(self) -> str:
            return csrf_token("/filings/")

        def new(self, kind: str = "closure") -> int:
            response = client.post(f"/filings/new/{kind}", data={"csrf_token": self.token()})
            assert response.status_code == 303
            return int(re.search(r"/filings/(\d+)/edit", response.headers["Location"]).group(1))

        def upload(self, filing_id: int, name: str, data: bytes, purpose: str = "evidence"):
            return client.post(
                f"/filings/{filing_id}/attachments",
                data={
                    "csrf_token": self.token(),
                    "purpose": purpose,
                    "file": (io.BytesIO(data), name),
                },
                content_type="multipart/form-data",
            )

        def submitted(self, data: dict | None = None, files=(("证明.pdf", PDF),)) -> int:
            """A closure claim filled, with its files, and submitted."""
            filing_id = self.new()
            token = self.token()
            client.post(
                f"/filings/{filing_id}/draft", data={"csrf_token": token} | (data or CLOSURE)
            )
            for name, content in files:
                assert self.upload(filing_id, name, content).status_code == 303
            summary = client.get(f"/filings/{filing_id}/confirm").get_data(as_text=True)
            version = re.search(r'name="version" value="(\d+)"', summary).group(1)
            response = client.post(
                f"/filings/{filing_id}/confirm", data={"csrf_token": token, "version": version}
            )
            assert response.status_code == 303
            return filing_id

        def withdrawn(self, **kw) -> int:
            filing_id = self.submitted(**kw)
            detail = client.get(f"/filings/{filing_id}").get_data(as_text=True)
            version = re.search(r'name="version" value="(\d+)"', detail).group(1)
            response = client.post(
                f"/filings/{filing_id}/withdraw",
                data={"csrf_token": self.token(), "version": version, "remark": "数据有误"},
            )
            assert response.status_code == 303
            return filing_id

    return Pages()
