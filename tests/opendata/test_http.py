"""HTTP around the data: one problem+json error shape under /api, conditional GETs, CORS."""

from __future__ import annotations

import pytest

from portal.disclosure import services as disclosure

PROBLEM = "application/problem+json"


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == status and body["type"] == "about:blank"
    assert body["title"] and body["detail"] and body["instance"].startswith("/api")
    assert response.headers["Cache-Control"] == "no-store"
    return body


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/nope",
        "/api/nope",
        "/api",
        "/api/v2/listings",
        "/api/v1/listings/NOPE",
        "/api/v1/compliance/1999",
        "/api/v1/compliance/-1",
        "/api/v1/announcements/2147483648",
        "/api/v1/listings?page=9",
        "/api/v1/listings/%E9%83%91%E5%B7%9E",
    ],
)
def test_not_found_is_a_problem_everywhere_under_api(client, market, path):
    body = assert_problem(client.get(path), 404)
    assert "%" in body["instance"] or body["instance"].isascii()


def test_bad_input_is_a_400_problem_that_names_the_parameter(client, market):
    body = assert_problem(client.get("/api/v1/trades?variety=oil&date_from=yesterday"), 400)
    assert {p["name"] for p in body["invalid_params"]} == {"variety", "date_from"}
    assert all(p["reason"] for p in body["invalid_params"])
    assert_problem(client.get("/api/v1/listings?page=x"), 400)
    assert_problem(client.get("/api/v1/listings?per_page=501"), 400)
    assert_problem(client.get("/api/v1/listings?per_page=0"), 400)
    assert_problem(client.get("/api/v1/listings?division=%00"), 400)


def test_an_inverted_date_range_is_an_empty_list_in_the_api(client, market):
    response = client.get("/api/v1/trades?date_from=2025-03-11&date_to=2025-03-01")
    assert response.status_code == 200 and response.get_json()["count"] == 0
    # The page says so beside the field instead.
    assert client.get("/trades?date_from=2025-03-11&date_to=2025-03-01").status_code == 400


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_other_methods_are_a_405_problem_with_allow(client, market, method):
    response = client.open("/api/v1/listings", method=method)
    assert_problem(response, 405)
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "OPTIONS"}


def test_a_server_error_is_a_500_problem(client, market, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(disclosure, "trades_query", broken)
    body = assert_problem(client.get("/api/v1/trades"), 500)
    assert "database" not in body["detail"]  # nothing of the inside leaks
    # The pages keep their HTML error page.
    assert client.get("/trades").mimetype == "text/html"


def test_the_html_pages_keep_their_html_errors(client, market):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response.mimetype == "text/html"


def test_etag_and_if_none_match_give_a_304(client, market):
    first = client.get("/api/v1/listings")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, max-age=60"
    again = client.get("/api/v1/listings", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    other = client.get("/api/v1/listings?variety=coal", headers={"If-None-Match": etag})
    assert other.status_code == 200


def test_a_record_has_last_modified_and_answers_if_modified_since(client, market):
    first = client.get("/api/v1/trades/YNQ-CJ-2025-000001")
    assert first.headers.get("Last-Modified")
    again = client.get(
        "/api/v1/trades/YNQ-CJ-2025-000001",
        headers={"If-Modified-Since": first.headers["Last-Modified"]},
    )
    assert again.status_code == 304


def test_cors_lets_any_origin_read_and_preflight(client, market):
    response = client.get("/api/v1/listings", headers={"Origin": "https://news.example.com"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    exposed = response.headers["Access-Control-Expose-Headers"]
    for name in ("ETag", "Link", "X-Total-Count", "Retry-After"):
        assert name in exposed
    assert "Access-Control-Allow-Credentials" not in response.headers
    preflight = client.options(
        "/api/v1/listings",
        headers={
            "Origin": "https://news.example.com",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "If-None-Match",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    # Errors are readable from another origin too.
    missing = client.get("/api/v1/nope", headers={"Origin": "https://news.example.com"})
    assert missing.headers["Access-Control-Allow-Origin"] == "*"
    # The pages are not opened to other origins.
    page = client.get("/listings", headers={"Origin": "https://news.example.com"})
    assert "Access-Control-Allow-Origin" not in page.headers


def test_the_api_sets_no_cookie(client, market):
    response = client.get("/api/v1/listings")
    assert "Set-Cookie" not in response.headers


def test_dates_at_the_ends_of_the_calendar_are_answered(client, api_records):
    for query in ("from=0001-01-01", "to=9999-12-31", "from=0001-01-01&to=0001-01-01"):
        api = client.get(f"/api/v1/announcements?{query}")
        assert api.status_code == 200, query
    assert client.get("/api/v1/announcements?from=0001-01-01").get_json()["count"] == 3
