import re


def test_home_renders_in_chinese_with_footer(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="zh-CN"' in html
    assert "网站标识码" in html and "豫ICP备" in html and "网站地图" in html
    assert "htmx-2.0.11.min.js" in html
    assert response.headers["Vary"].find("HX-Request") >= 0


def test_unknown_page_is_a_chinese_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)


def test_care_mode_toggles_and_is_remembered(client, csrf_token):
    token = csrf_token("/accounts/login")
    response = client.post("/preferences/care", data={"csrf_token": token, "next": "/about"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/about")
    assert 'class="care"' in client.get("/about").get_data(as_text=True)
    client.post("/preferences/care", data={"csrf_token": token})
    assert 'class="care"' not in client.get("/about").get_data(as_text=True)


def test_language_switch_to_english(client, csrf_token):
    token = csrf_token("/accounts/login")
    client.post("/preferences/language", data={"csrf_token": token, "lang": "en"})
    html = client.get("/about").get_data(as_text=True)
    assert '<html lang="en"' in html


def test_preferences_refuse_offsite_redirects(client, csrf_token):
    token = csrf_token("/accounts/login")
    response = client.post(
        "/preferences/care", data={"csrf_token": token, "next": "//evil.example/"}
    )
    assert response.headers["Location"] in ("/", "http://localhost/")


def test_the_header_switches_language_and_care_mode_by_links(client):
    """The preferences are links: they change only this browser's cookies, so no form and no
    session are needed, and the page they return to drops a `?lang=` that would override them."""
    html = client.get("/listings?variety=coal").get_data(as_text=True)
    english = re.search(r'<a href="(/preferences/language\?[^"]+)"[^>]*>English</a>', html)
    care = re.search(r'<a href="(/preferences/care\?[^"]+)"', html)
    assert english and care
    response = client.get(english.group(1).replace("&amp;", "&"))
    assert response.status_code == 303 and response.headers["Location"] == "/listings?variety=coal"
    assert '<html lang="en"' in client.get("/listings").get_data(as_text=True)
    client.get(care.group(1).replace("&amp;", "&"))
    assert 'class="care"' in client.get("/about").get_data(as_text=True)
    client.get("/preferences/care?on=0&next=/about")
    assert 'class="care"' not in client.get("/about").get_data(as_text=True)
    client.get("/preferences/care?on=0&next=/about")  # the same link twice changes nothing more
    assert 'class="care"' not in client.get("/about").get_data(as_text=True)
    assert client.get("/preferences/language?lang=xx&next=//evil.example/").headers["Location"] in (
        "/",
        "http://localhost/",
    )


def test_anonymous_pages_set_no_cookie(client):
    for path in ("/", "/listings", "/trades", "/news/", "/compliance", "/about"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Set-Cookie" not in response.headers, path


def test_preference_change_without_csrf_token_is_refused(client):
    response = client.post("/preferences/care", data={"next": "/"})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)


def test_header_links_each_role_to_its_own_home(client, auth):
    auth.login("province")
    html = client.get("/").get_data(as_text=True)
    assert 'href="/admin/"' in html and "我的企业" not in html
    auth.logout()
    auth.login("enterprise")
    html = client.get("/").get_data(as_text=True)
    assert "我的企业" in html and 'href="/admin/"' not in html
