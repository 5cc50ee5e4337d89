"""The share image of an announcement (title, date, site name), drawn on the server with Pillow.

Social networks and chat apps show it beside a shared link (og:image). Each image is drawn once
per version of the announcement and kept in SHARE_IMAGE_DIR; the URL carries a version, so an
edited title gets a new image and caches never show the old one. Drawing needs a CJK font
(SHARE_IMAGE_FONT, Noto Sans CJK on Debian); without one the page points at the site's default
image instead of showing boxes for every character.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from datetime import UTC
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask import current_app
from flask_babel import force_locale
from PIL import Image, ImageDraw, ImageFont

from portal.news.forms import CATEGORY_LABELS
from portal.urls import public_url

WIDTH, HEIGHT = 1200, 630  # the size Open Graph and Twitter's large card expect
MARGIN = 80
BRAND, BRAND_DARK, PALE = "#174a8b", "#0f3566", "#dce7f5"
# Bump when the drawing changes, so every cached image is drawn again.
DRAWING_VERSION = "1"
DEFAULT_IMAGE = "img/share-default.png"


@lru_cache(maxsize=8)
def _font(path: str, index: int, size: int):
    return ImageFont.truetype(path, size, index=index)


def fonts_available() -> bool:
    config = current_app.config
    return all(Path(config[key]).is_file() for key in ("SHARE_IMAGE_FONT", "SHARE_IMAGE_FONT_BOLD"))


def _fonts(size: int, bold: bool):
    config = current_app.config
    path = config["SHARE_IMAGE_FONT_BOLD" if bold else "SHARE_IMAGE_FONT"]
    return _font(path, int(config["SHARE_IMAGE_FONT_INDEX"]), size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    """Break `text` into lines no wider than `width`: anywhere between CJK characters, at a
    space inside Latin text."""
    lines: list[str] = []
    line = ""
    for char in text:
        trial = line + char
        if draw.textlength(trial, font=font) <= width or not line:
            line = trial
            continue
        space = line.rfind(" ")
        if char != " " and space > 0 and line[-1].isascii() and char.isascii():
            lines.append(line[:space])
            line = line[space + 1 :] + char
        else:
            lines.append(line.rstrip())
            line = char.lstrip()
    if line:
        lines.append(line)
    return lines


def _title_lines(draw, title: str) -> tuple[list[str], object]:
    """The title in the largest size that fits four lines; past that, cut with an ellipsis."""
    width = WIDTH - 2 * MARGIN
    for size in (64, 56, 48):
        font = _fonts(size, bold=True)
        lines = _wrap(draw, title, font, width)
        if len(lines) <= 4:
            return lines, font
    lines = lines[:4]
    while lines[-1] and draw.textlength(lines[-1] + "…", font=font) > width:
        lines[-1] = lines[-1][:-1]
    lines[-1] += "…"
    return lines, font


def draw_share_image(title: str, category: str, day: str) -> Image.Image:
    """Draw the 1200×630 image: the site's band, the title, the category and the date."""
    config = current_app.config
    image = Image.new("RGB", (WIDTH, HEIGHT), "#ffffff")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, 120), fill=BRAND)
    draw.rectangle((0, 120, WIDTH, 128), fill=BRAND_DARK)
    # The brand mark of the header: 豫 in a ring.
    draw.ellipse((MARGIN, 26, MARGIN + 68, 94), outline="#ffffff", width=4)
    mark = _fonts(38, bold=True)
    draw.text((MARGIN + 34, 60), "豫", font=mark, fill="#ffffff", anchor="mm")
    draw.text((MARGIN + 92, 42), config["SITE_NAME"], font=_fonts(36, bold=True), fill="#ffffff")
    draw.text((MARGIN + 92, 86), config["SITE_NAME_EN"], font=_fonts(20, bold=False), fill=PALE)

    lines, font = _title_lines(draw, title)
    line_height = int(font.size * 1.35)
    top = 128 + (HEIGHT - 128 - 110 - line_height * len(lines)) // 2
    for number, line in enumerate(lines):
        draw.text((MARGIN, top + number * line_height), line, font=font, fill="#1d2733")

    footer = _fonts(30, bold=False)
    draw.line((MARGIN, HEIGHT - 100, WIDTH - MARGIN, HEIGHT - 100), fill="#d5dbe1", width=2)
    draw.text((MARGIN, HEIGHT - 78), f"{category}  ·  {day}", font=footer, fill="#4f5b67")
    draw.text(
        (WIDTH - MARGIN, HEIGHT - 78),
        config["SITE_SPONSOR"],
        font=_fonts(24, bold=False),
        fill="#4f5b67",
        anchor="ra",
    )
    return image


def _facts(announcement) -> tuple[str, str, str]:
    """What the image shows, always in Chinese: the title is Chinese, and so is the image."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    published = announcement.published_at.replace(tzinfo=UTC).astimezone(zone).date()
    day = format_date(published, "long", locale="zh_Hans_CN")
    with force_locale("zh_Hans_CN"):
        category = str(CATEGORY_LABELS.get(announcement.category, announcement.category))
    return announcement.title, category, day


def image_version(announcement) -> str:
    """A short hash of everything drawn: a new value means a new image."""
    config = current_app.config
    drawn = "\x1f".join(
        (*_facts(announcement), config["SITE_NAME"], config["SITE_NAME_EN"], DRAWING_VERSION)
    )
    return hashlib.sha256(drawn.encode("utf-8")).hexdigest()[:16]


def share_image_url(announcement) -> str:
    """The og:image of an announcement; the site's default image when no CJK font is installed."""
    if not fonts_available():
        return public_url("static", filename=DEFAULT_IMAGE)
    return public_url(
        "sharing.announcement_image", id=announcement.id, v=image_version(announcement)[:8]
    )


def share_image_file(announcement) -> Path | None:
    """The cached PNG of an announcement, drawn now if missing; None without a CJK font."""
    if not fonts_available():
        return None
    folder = Path(current_app.config["SHARE_IMAGE_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{announcement.id}-{image_version(announcement)}.png"
    if path.is_file():
        return path
    image = draw_share_image(*_facts(announcement))
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".share-", suffix=".png")
    try:
        with os.fdopen(handle, "wb") as file:
            image.save(file, "PNG", optimize=True)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    # Older versions of this announcement's image are no longer linked from anywhere.
    for old in folder.glob(f"{announcement.id}-*.png"):
        if old != path:
            old.unlink(missing_ok=True)
    return path
