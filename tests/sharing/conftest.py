from __future__ import annotations

import re
from datetime import date
from urllib.parse import unquote

import pytest
import zxingcpp
from PIL import Image

from portal.extensions import db
from tests import factories as f


@pytest.fixture
def records(app):
    """One announcement, listing, trade, public unit and published compliance year."""
    with app.app_context():
        zz = f.enterprise("示例郑州豫能化工有限公司", "410100", "chemical")
        hb = f.enterprise("示例鹤壁新材建材有限公司", "410600", "building")
        listing = f.listing(zz, number="YNQ-GP-2025-000001", starts_on=date(2025, 1, 5))
        f.trade(hb, zz, listing, number="YNQ-CJ-2025-000001", trade_date=date(2025, 1, 20))
        f.period(2024)
        f.compliance(zz, 2024, "on_time")
        notice = f.announcement(
            title="关于2025年度用能权有偿使用和交易试点扩围的通知",
            summary="扩大试点范围，增加洛阳、安阳两市。",
        )
        db.session.commit()
        return {"announcement": notice.id, "uscc": zz.uscc}


def _svg_modules(svg: str) -> tuple[int, set[tuple[int, int]]]:
    """The dark modules of a segno SVG: its path is `M x y` then `h n` (draw) and `m dx dy`."""
    size = int(float(re.search(r"width='?\"?(\d+)", svg).group(1)))
    scale = float(re.search(r"scale\(([\d.]+)\)", svg).group(1))
    path = re.search(r"class=.qrline.[^>]*?d=.([^'\"]+)", svg).group(1)
    dark, x, y = set(), 0.0, 0.0
    for command, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?:\s+(-?[\d.]+))?", path):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:
            for column in range(int(x), int(x + float(a))):
                dark.add((column, int(y)))
            x += float(a)
    return int(size / scale), dark


@pytest.fixture
def decode_qr():
    """Read a QR code with zxing-cpp, from an SVG document or data URI (rasterised here) or a PNG
    image."""

    def decode(source) -> str:
        if isinstance(source, bytes):
            source = source.decode()
        if isinstance(source, str):
            if source.startswith("data:"):
                assert source.startswith("data:image/svg+xml")
                source = unquote(source.split(",", 1)[1])
            modules, dark = _svg_modules(source)
            image = Image.new("L", (modules, modules), 255)
            for point in dark:
                image.putpixel(point, 0)
            source = image.resize((modules * 8, modules * 8), Image.NEAREST)
        found = zxingcpp.read_barcodes(source)
        assert found, "no QR code found"
        return found[0].text

    return decode
