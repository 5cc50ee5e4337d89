"""Announcements: 通知公告, 政策文件, 新闻动态, 公示公告; feeds and embeds."""

from flask import Blueprint

bp = Blueprint("news", __name__, url_prefix="/news")

from portal.news import views  # noqa: E402,F401
