"""Link headers, X-Total-Count, cursors past the counted pages, and a `next` that never leads past
the end, capped or not."""

from __future__ import annotations

import re

import pytest

from portal import web

LINK = re.compile(r'<([^>]+)>; rel="([a-z]+)"')


def links(response) -> dict[str, str]:
    return {rel: url for url, rel in LINK.findall(response.headers["Link"])}


def walk(client, url: str, direction: str = "next") -> list[str]:
    """Follow `next` (or `previous`) links to the end; the numbers in the order met."""
    numbers, seen = [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, (url, response.get_data(as_text=True))
        body = response.get_json()
        numbers += [row["number"] for row in body["results"]]
        assert body["results"], f"{url} is an empty page"
        url = body[direction]
        seen += 1
        assert seen < 100
    return numbers


def test_headers_state_the_total_and_the_neighbours(client, many_listings):
    response = client.get("/api/v1/listings?per_page=20&page=2")
    assert response.headers["X-Total-Count"] == "45"
    assert response.headers["X-Total-Count-Capped"] == "false"
    rels = links(response)
    assert set(rels) == {"first", "prev", "next", "last"}
    assert "page=3" in rels["next"] and "page=3" in rels["last"]
    assert "&page=" not in rels["prev"] and "&page=" not in rels["first"]
    last = client.get(rels["last"])
    assert last.get_json()["next"] is None and "next" not in links(last)
    assert len(last.get_json()["results"]) == 5


def test_a_page_that_ends_exactly_at_the_end_has_no_next(client, many_listings):
    body = client.get("/api/v1/listings?per_page=15&page=3").get_json()
    assert len(body["results"]) == 15 and body["next"] is None


def test_past_the_cap_pages_go_on_by_cursor_and_stop_at_the_end(client, many_listings, monkeypatch):
    monkeypatch.setattr(web, "COUNT_CAP", 30)
    first = client.get("/api/v1/listings?per_page=15")
    assert first.headers["X-Total-Count"] == "30"
    assert first.headers["X-Total-Count-Capped"] == "true"
    assert "last" not in links(first)  # the end is not known
    second = client.get(first.get_json()["next"]).get_json()
    assert second["page"] == 2 and "after=" in second["next"]  # numbers stop at the count
    third = client.get(second["next"])
    body = third.get_json()
    assert body["page"] is None and len(body["results"]) == 15
    assert body["next"] is None  # 45 rows: the third page is the last, not a link to an empty one
    assert client.get("/api/v1/listings?per_page=15&page=3").status_code == 404
    everything = walk(client, "/api/v1/listings?per_page=15")
    assert len(everything) == len(set(everything)) == 45


@pytest.mark.parametrize(
    "sort", ["-date", "date", "-price", "price", "-quantity"], ids=lambda s: f"sort={s}"
)
def test_cursors_visit_every_row_once_in_the_order_of_the_pages(
    client, many_listings, monkeypatch, sort
):
    monkeypatch.setattr(web, "COUNT_CAP", 10)  # cursors from the third page of 5 on
    by_pages = [
        row["number"]
        for page in (1, 2, 3, 4, 5, 6, 7, 8, 9)
        for row in client.get(f"/api/v1/listings?sort={sort}&per_page=5&page={page}")
        .get_json()
        .get("results", [])
    ]
    monkeypatch.setattr(web, "COUNT_CAP", 10_000)
    exact = [
        row["number"]
        for row in client.get(f"/api/v1/listings?sort={sort}&per_page=100").get_json()["results"]
    ]
    monkeypatch.setattr(web, "COUNT_CAP", 10)
    forward = walk(client, f"/api/v1/listings?sort={sort}&per_page=5")
    assert forward == exact
    assert by_pages == exact[:10]  # numbered pages stop at the count; the rest are 404s
    # And back again from the last page, by `previous` links.
    url = f"/api/v1/listings?sort={sort}&per_page=5"
    while (body := client.get(url).get_json())["next"]:
        url = body["next"]
    backward = walk(client, body["previous"], "previous")
    assert backward == [n for chunk in _chunks(exact[:-5], 5)[::-1] for n in chunk]


def _chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def test_a_made_up_cursor_is_a_problem_not_a_500(client, many_listings):
    for bad in ("x", "eyJub3QiOiJhIGN1cnNvciJ9", "WyJhYmNkZWZnaCIsWzFdXQ", "A" * 700):
        response = client.get(f"/api/v1/listings?after={bad}")
        assert response.status_code == 404, bad
        assert response.mimetype == "application/problem+json"
    assert client.get("/api/v1/listings?before=%00").status_code == 400  # NUL: refused first


def test_a_cursor_is_refused_by_another_sort(client, many_listings, monkeypatch):
    monkeypatch.setattr(web, "COUNT_CAP", 5)
    body = client.get("/api/v1/listings?per_page=5").get_json()
    cursor = re.search(r"after=([^&]+)", body["next"]).group(1)
    assert client.get(f"/api/v1/listings?after={cursor}").status_code == 200
    other = client.get(f"/api/v1/listings?sort=price&after={cursor}")
    assert other.status_code == 404
    assert "翻页位置" in other.get_json()["detail"]
