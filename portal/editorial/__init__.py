"""Announcement authoring (公告编辑): Markdown with live preview, attachments, scheduling."""

from flask import Blueprint

bp = Blueprint("editorial", __name__, url_prefix="/admin/editorial")

from portal.editorial import views  # noqa: E402,F401
