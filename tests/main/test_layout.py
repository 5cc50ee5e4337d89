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
    token = csrf_token("/")
    response = client.post("/preferences/care", data={"csrf_token": token, "next": "/about"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/about")
    assert 'class="care"' in client.get("/about").get_data(as_text=True)
    client.post("/preferences/care", data={"csrf_token": token})
    assert 'class="care"' not in client.get("/about").get_data(as_text=True)


def test_language_switch_to_english(client, csrf_token):
    token = csrf_token("/")
    client.post("/preferences/language", data={"csrf_token": token, "lang": "en"})
    html = client.get("/about").get_data(as_text=True)
    assert '<html lang="en"' in html


def test_preferences_refuse_offsite_redirects(client, csrf_token):
    token = csrf_token("/")
    response = client.post(
        "/preferences/care", data={"csrf_token": token, "next": "//evil.example/"}
    )
    assert response.headers["Location"] in ("/", "http://localhost/")


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
