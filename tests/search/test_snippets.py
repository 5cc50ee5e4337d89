"""Result lines: structured records get a summary from their stored facts, in the visitor's
language; English reference names are searchable but never shown in the Chinese line."""

from __future__ import annotations

import re

import pytest

from portal.extensions import db
from portal.search import reindex_all
from tests import factories


def hits_html(client, q, **args):
    html = client.get("/search", query_string={"q": q, **args}).get_data(as_text=True)
    return re.findall(r'<li class="hit hit-\w+">.*?</li>', html, flags=re.S)


@pytest.fixture
def records(app, make):
    with app.test_request_context():
        make.enterprise(name="示例郑州节能科技有限公司", uscc="91410100MA9FXXXX0A")
        make.listing(seller_name="示例郑州钢铁有限公司", number="GP-2024-00088")
        make.announcement(title="关于郑州用能权交易的通知", body_md="郑州市**用能权**交易规则。")
        reindex_all(progress=lambda _m: None)
    return app


def test_listing_line_is_a_formatted_summary_without_english_names(client, records):
    (hit,) = hits_html(client, "郑州", type="listing")
    snippet = re.search(r'<p class="snippet">(.*?)</p>', hit, flags=re.S).group(1)
    assert "能耗指标" in snippet and "<mark>郑州</mark>市" in snippet
    assert "100 吨标准煤" in snippet and "¥80.00/吨标准煤" in snippet and "挂牌中" in snippet
    assert "Zhengzhou" not in hit and "indicator" not in hit
    # The description is why it matched on 节能: it is shown, marked.
    (hit,) = hits_html(client, "节能技术改造 钢铁", type="listing")
    assert "<mark>节能技术改造</mark>" in hit and "excerpt" in hit


def test_english_names_still_find_records(client, records):
    found = hits_html(client, "Zhengzhou")
    kinds = {re.search(r"hit-(\w+)", h).group(1) for h in found}
    assert {"listing", "enterprise"} <= kinds
    assert not any("Zhengzhou" in h for h in found)


def test_english_visitor_gets_english_names_and_formats(client, records):
    client.set_cookie("lang", "en")
    (hit,) = hits_html(client, "Zhengzhou", type="listing")
    assert "<mark>Zhengzhou</mark>" in hit and "100 tce" in hit


def test_announcement_keeps_its_text_snippet(client, records):
    (hit,) = hits_html(client, "规则", type="announcement")
    assert "<mark>规则</mark>" in hit and "用能权" in hit


def test_compliance_records_appear_on_their_pages(app, client, make):
    """A period's year (facet) differs from the year its list was published (date order)."""
    with app.test_request_context():
        unit = make.enterprise(name="示例许昌履约测试有限公司", uscc="91411000MA9COMP00X")
        factories.period(2024)
        factories.compliance(unit, 2024, shortfall=None)
        db.session.commit()
        reindex_all(progress=lambda _m: None)
    (hit,) = hits_html(client, "许昌履约测试", type="compliance")
    assert (
        "按期<mark>履约</mark>" in hit
        and "持有指标 5,000 吨标准煤" in hit
        and "实际用能量 4,800" in hit
    )


def _reference_highlight(text, terms):
    """Marks by brute force: a longer term first; a hit that overlaps a marked one is skipped."""
    from portal.search.analysis import fold

    folded, marked = fold(text), []
    for term in sorted({fold(t) for t in terms if t}, key=len, reverse=True):
        for start in range(len(folded) - len(term) + 1):
            end = start + len(term)
            if folded[start:end] == term and not any(s < end and start < e for s, e in marked):
                marked.append((start, end))
    return sorted(marked)


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("用能权交易用能权用能", ["用能", "用能权"]),
        ("ＡＢＣ公司abc公司 公司公司", ["abc", "公司", "司公"]),
        ("<b>郑州</b> & 郑州郑州", ["郑州", "州郑", "<b>"]),
        ("", ["用能"]),
        ("没有命中", ["郑州"]),
    ],
)
def test_highlight_marks_what_a_brute_force_search_marks(text, terms):
    from portal.search.engine import highlight

    html = str(highlight(text, terms))
    marked = re.findall(r"<mark>(.*?)</mark>", html)
    expected = _reference_highlight(text, terms)
    # Adjacent hits are joined into one <mark>.
    joined = []
    for start, end in expected:
        if joined and joined[-1][1] == start:
            joined[-1] = (joined[-1][0], end)
        else:
            joined.append((start, end))
    from markupsafe import escape

    assert marked == [str(escape(text[s:e])) for s, e in joined]
    assert "<b>" not in html
