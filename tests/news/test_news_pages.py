"""The announcement list and detail pages, with and without htmx."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from portal.news.services import utcnow

HX = {"HX-Request": "true"}


def test_list_is_a_full_page_with_feeds_and_vary(client, make_announcement):
    make_announcement(title="关于征集用能权交易第三方审核机构的通知")
    response = client.get("/news/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" in html and 'id="results"' in html
    assert "关于征集用能权交易第三方审核机构的通知" in html
    assert 'rel="alternate" type="application/atom+xml"' in html
    assert 'rel="alternate" type="application/rss+xml"' in html
    assert "HX-Request" in response.headers["Vary"]
    assert 'aria-current="page">通知公告</span>' in html  # breadcrumbs
    # optional filters are not marked required, and no attribute renders as "None"
    assert "required" not in html.split('class="filters"')[1].split("</form>")[0]
    assert '="None"' not in html


def test_htmx_gets_only_the_results_fragment(client, make_announcement):
    make_announcement(title="片段里的公告")
    response = client.get("/news/?category=notice", headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and "site-footer" not in html
    assert "片段里的公告" in html
    assert 'hx-get="/news/' in html and 'hx-push-url="true"' in html
    assert "HX-Request" in response.headers["Vary"]


def test_category_tab_filters_and_is_marked_current(client, make_announcement):
    make_announcement(title="一条政策文件", category="policy")
    make_announcement(title="一条新闻", category="news")
    html = client.get("/news/?category=policy").get_data(as_text=True)
    assert "一条政策文件" in html and "一条新闻" not in html
    assert re.search(r'category=policy"[^>]*aria-current="page">政策文件</a>', html)
    assert "<h1>政策文件</h1>" in html


def test_division_and_open_filters(client, make_announcement):
    now = utcnow()
    make_announcement(
        title="郑州公示",
        category="publicity",
        division_code="410100",
        publicity_starts_at=now - timedelta(days=1),
        publicity_ends_at=now + timedelta(days=3),
    )
    make_announcement(title="洛阳通知", division_code="410300")
    html = client.get("/news/?division=410100").get_data(as_text=True)
    assert "郑州公示" in html and "洛阳通知" not in html
    html = client.get("/news/?open=y").get_data(as_text=True)
    assert "郑州公示" in html and "洛阳通知" not in html
    assert "公示中" in html


def test_unknown_category_is_400_with_message_next_to_the_field(client):
    response = client.get("/news/?category=gossip")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "<html" in html  # still a full page
    assert re.search(r'id="category-error"[^>]*>没有这个栏目', html)
    assert 'aria-describedby="category-error"' in html


def test_bad_date_is_400_with_chinese_message(client):
    response = client.get("/news/?from=2024-13-45")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'id="from-error"[^>]*>日期格式应为', html)


def test_from_after_to_is_400(client):
    response = client.get("/news/?from=2024-05-02&to=2024-05-01")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'id="to-error"[^>]*>结束日期不能早于开始日期', html)


def test_filter_error_over_htmx_is_the_fragment_with_the_message(client):
    response = client.get("/news/?division=999999", headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "<html" not in html
    assert "没有这个地区" in html


def test_page_out_of_range_is_a_chinese_404(client, make_announcement):
    make_announcement()
    response = client.get("/news/?page=3")
    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)
    assert client.get("/news/?page=abc").status_code == 400


def test_pagination_links_keep_filters(app, client, make_announcement):
    app.config["PAGE_SIZE"] = 2
    for n in range(5):
        make_announcement(title=f"公告{n}", published_at=utcnow() - timedelta(hours=n + 1))
    html = client.get("/news/?category=notice&page=2").get_data(as_text=True)
    assert "公告2" in html and "公告3" in html and "公告0" not in html
    assert 'href="/news/?category=notice&amp;page=3"' in html


def test_count_stops_at_the_cap_and_cursors_reach_every_announcement(
    app, client, make_announcement, monkeypatch
):
    """The list counts to the cap as every public list does; past the counted pages the
    "next" links carry a cursor, and following them reaches each announcement once."""
    from portal import web

    monkeypatch.setattr(web, "COUNT_CAP", 3)
    app.config["PAGE_SIZE"] = 2
    for n in range(7):
        make_announcement(title=f"公告{n}号", published_at=utcnow() - timedelta(hours=n + 1))
    html = client.get("/news/").get_data(as_text=True)
    assert "超过 3 条" in html
    seen, url = [], "/news/"
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += re.findall(r">公告(\d)号</a>", html)
        found = re.search(r'href="([^"]+)"[^>]*rel="next"', html)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert seen == [str(n) for n in range(7)]


def test_empty_filtered_list_says_why_and_offers_to_clear(client, make_announcement):
    make_announcement(title="通知", category="notice")
    html = client.get("/news/?category=policy&from=2020-01-01&to=2020-01-31").get_data(as_text=True)
    assert "没有符合当前筛选条件的公告" in html
    assert "清除全部筛选条件" in html and 'href="/news/"' in html


def test_empty_list_without_filters_says_nothing_is_published(client, make_announcement):
    make_announcement(status="draft")
    html = client.get("/news/").get_data(as_text=True)
    assert "目前还没有发布任何公告" in html


def test_detail_shows_source_local_date_and_sanitized_body(client, make_announcement):
    announcement_id = make_announcement(
        title="关于用能权交易的公告",
        source="河南省发展和改革委员会",
        published_at=datetime(2024, 3, 1, 16, 30),  # 2024-03-02 00:30 in Shanghai
        body_md="**重要**\n\n<script>alert('x')</script>\n\n[链接](javascript:alert(1))",
    )
    response = client.get(f"/news/{announcement_id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "河南省发展和改革委员会" in html
    assert "2024-03-02 00:30" in html
    assert "<strong>重要</strong>" in html
    assert "<script>alert" not in html and "javascript:alert" not in html
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_detail_re_renders_markdown_when_html_is_missing(client, make_announcement):
    announcement_id = make_announcement(
        body_md="## 小标题\n\n<img src=x onerror=alert(1)>正文", body_html=""
    )
    html = client.get(f"/news/{announcement_id}").get_data(as_text=True)
    assert "<h2>小标题</h2>" in html
    assert "onerror" not in html


def test_unpublished_announcements_are_404(client, make_announcement):
    for kwargs in (
        {"status": "draft"},
        {"status": "withdrawn"},
        {"status": "scheduled", "published_at": utcnow() + timedelta(days=1)},
        {"published_at": utcnow() + timedelta(days=1)},
    ):
        announcement_id = make_announcement(**kwargs)
        response = client.get(f"/news/{announcement_id}")
        assert response.status_code == 404, kwargs
        assert "该公告不存在" in response.get_data(as_text=True)
    assert client.get("/news/999999").status_code == 404


def _with_objection_endpoint(app):
    """The publicity feature provides the objection form; the link must point at it."""
    assert "publicity.new_objection" in app.view_functions


def _objection_href(app, announcement_id: int) -> str:
    with app.test_request_context():
        from flask import url_for

        return url_for("publicity.new_objection", announcement_id=announcement_id)


def test_open_publicity_shows_time_left_and_objection_link(app, client, make_announcement):
    _with_objection_endpoint(app)
    now = utcnow()
    announcement_id = make_announcement(
        category="publicity",
        publicity_starts_at=now - timedelta(days=1),
        publicity_ends_at=now + timedelta(days=3, hours=5, minutes=30),
    )
    html = client.get(f"/news/{announcement_id}").get_data(as_text=True)
    assert "公示期剩余 3 天 5 小时" in html
    assert f'href="{_objection_href(app, announcement_id)}"' in html
    assert "对公示内容提出异议" in html


def test_ended_publicity_says_so_and_offers_no_objection(app, client, make_announcement):
    _with_objection_endpoint(app)
    now = utcnow()
    announcement_id = make_announcement(
        category="publicity",
        publicity_starts_at=now - timedelta(days=8),
        publicity_ends_at=now - timedelta(days=1),
    )
    html = client.get(f"/news/{announcement_id}").get_data(as_text=True)
    assert "公示期已结束" in html
    assert "对公示内容提出异议" not in html


def test_corrections_show_dates_reasons_and_changes(client, make_announcement):
    published = datetime(2024, 4, 1, 2, 0)
    announcement_id = make_announcement(
        title="履约名单（更正）",
        published_at=published,
        updated_at=published + timedelta(days=1),
        body_md="甲公司：未履约",
        revisions=[
            {
                "title": "履约名单",
                "body_md": "甲公司：按期履约",
                "reason": "数据核实有误",
                "replaced_at": published + timedelta(days=1),
            }
        ],
    )
    html = client.get(f"/news/{announcement_id}").get_data(as_text=True)
    assert "更新于" in html and "2024-04-02 10:00" in html
    assert "数据核实有误" in html
    assert "第 1 版：2024-04-01 10:00 发布，2024-04-02 10:00 更正" in html
    assert "<del>履约名单</del>" in html
    assert "甲公司：按期履约</del>" in html and "甲公司：未履约</ins>" in html


def test_share_box_has_permalink_and_iframe_snippet(client, make_announcement):
    announcement_id = make_announcement()
    html = client.get(f"/news/{announcement_id}").get_data(as_text=True)
    assert f'value="http://localhost/news/{announcement_id}"' in html
    assert f"&lt;iframe src=&#34;http://localhost/news/{announcement_id}/embed&#34;" in html
    assert "<iframe" not in html


def test_embed_is_frameable_and_has_no_site_navigation(client, make_announcement):
    announcement_id = make_announcement(title="可嵌入的公告")
    response = client.get(f"/news/{announcement_id}/embed")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in response.headers
    assert "可嵌入的公告" in html and "site-nav" not in html and "<script" not in html
    assert f'href="http://localhost/news/{announcement_id}"' in html


def test_embed_of_a_draft_is_404(client, make_announcement):
    assert client.get(f"/news/{make_announcement(status='draft')}/embed").status_code == 404


def test_pages_render_in_english_too(client, make_announcement, stored_file):
    announcement_id = make_announcement(
        category="publicity",
        publicity_ends_at=utcnow() + timedelta(days=2),
        attachments=[stored_file(b"x" * 2048, "名单.pdf", "application/pdf")],
    )
    client.set_cookie("lang", "en")
    for path in ("/news/", f"/news/{announcement_id}", f"/news/{announcement_id}/embed"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert '<html lang="en"' in response.get_data(as_text=True)
    assert "2 kB" in client.get(f"/news/{announcement_id}").get_data(as_text=True)


def test_dates_at_the_ends_of_the_calendar_filter_without_an_error(client, make_announcement):
    make_announcement(title="日历两端")
    for query in ("from=0001-01-01", "to=9999-12-31", "from=0001-01-01&to=0001-01-01"):
        assert client.get(f"/news/?{query}").status_code == 200, query
    assert "日历两端" in client.get("/news/?from=0001-01-01").get_data(as_text=True)
