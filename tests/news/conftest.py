"""Announcements made in the tests themselves, through the ORM."""

from __future__ import annotations

import hashlib

import pytest

from portal.extensions import db
from tests import factories


@pytest.fixture
def make_announcement(app):
    """Create an announcement (published an hour ago unless told otherwise); return its id."""

    def make(**fields) -> int:
        with app.app_context():
            row = factories.announcement(**fields)
            db.session.commit()
            return row.id

    return make


@pytest.fixture
def stored_file(app):
    """Write bytes into UPLOAD_DIR at <sha256[:2]>/<sha256>, as the upload store does; return the
    attachment fields."""
    from pathlib import Path

    def store(data: bytes, filename: str, content_type: str) -> dict:
        sha256 = hashlib.sha256(data).hexdigest()
        folder = Path(app.config["UPLOAD_DIR"]) / sha256[:2]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / sha256).write_bytes(data)
        return {
            "filename": filename,
            "content_type": content_type,
            "size": len(data),
            "sha256": sha256,
        }

    return store
