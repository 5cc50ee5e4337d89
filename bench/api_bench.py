"""The JSON API at any depth: first pages, the deepest numbered page, and cursor pages deep into
each list (the keyset path), through the whole Flask stack with the rate limit on and raised.

`python -m bench.api_bench` on its own (the same BENCH_* settings as bench/run.py), or as part of
`make bench`. Target: p95 ≤ 30 ms at any depth at 100,000 records.
"""

from __future__ import annotations

import json
import os
import random

from bench.run import bench_app, prepare_database, time_requests

# Raised, not off: the limiter's work is part of every API request.
RAISED_LIMIT = "100000000 per minute"


def deep_cursors(app, statement_of, depths: list[int]) -> list[str]:
    """Cursors that start pages `depth` rows into a list, as a client walking `next` would reach."""
    from portal import keyset
    from portal.extensions import db

    out = []
    with app.test_request_context():
        statement = statement_of()
        keys = keyset.sort_keys(statement)
        ordered = keyset.ordered(statement, keys)
        for depth in depths:
            row = db.session.execute(
                ordered.with_only_columns(*(key.column for key in keys)).offset(depth).limit(1)
            ).first()
            if row is not None:
                out.append(keyset.encode_cursor(keys, tuple(row)))
    return out


def api_benchmark(url: str, rounds: int) -> dict:
    from portal.disclosure import services
    from portal.news.services import filter_announcements

    app = bench_app(url, RATELIMIT_ENABLED=True, API_RATE_LIMIT=RAISED_LIMIT)
    client = app.test_client()
    depths = [1_000, 10_000, 25_000, 50_000, 75_000, 95_000]
    lists = {
        "listings": lambda: services.listings_query({})[0],
        "trades": lambda: services.trades_query({})[0],
        "listings?sort=-price": lambda: services.listings_query({"sort": "-price"})[0],
        "trades?variety=coal": lambda: services.trades_query({"variety": "coal"})[0],
        "announcements": lambda: filter_announcements()[0],
    }
    deep = []
    for name, statement_of in lists.items():
        path, _, query = name.partition("?")
        for cursor in deep_cursors(app, statement_of, depths):
            deep.append(f"/api/v1/{path}?{query + '&' if query else ''}after={cursor}")
    random.Random(7).shuffle(deep)
    first = [
        "/api/v1/listings",
        "/api/v1/listings?variety=energy&status=open",
        "/api/v1/trades?division=410600&date_from=2022-01-01",
        "/api/v1/trades?category=new_project&method=auction",
        "/api/v1/compliance/2024?status=non_compliant&division=410100",
        "/api/v1/announcements?category=publicity",
        "/api/v1/enterprises?division=410100",
        "/api/v1/publicity",
    ]
    numbered = [
        "/api/v1/listings?page=100",
        "/api/v1/trades?page=100",
        "/api/v1/listings?per_page=500&page=20",
        "/api/v1/enterprises?page=100",
    ]
    # The compliance list sorts by the unit's name through a join, with no index to serve it (a
    # temporary B-tree over the period's rows): timed apart, it is the one list that misses the target.
    compliance = ["/api/v1/compliance/2024", "/api/v1/compliance/2024?page=50"]
    return {
        "compliance_by_name": time_requests(client, compliance, max(20, rounds // 10)),
        "first_pages": time_requests(client, first, rounds),
        "deepest_numbered_pages": time_requests(client, numbered, max(40, rounds // 3)),
        "cursor_pages_1k_to_95k_deep": time_requests(client, deep, rounds),
        "one_record": time_requests(
            client, ["/api/v1/reference", "/api/v1/compliance"], max(40, rounds // 3)
        ),
        "targets": {"api_page_p95_ms": 30},
    }


def main(results: dict | None = None) -> dict:
    scale = int(os.environ.get("BENCH_SCALE", "100000"))
    rounds = int(os.environ.get("BENCH_REQUESTS", "300"))
    url = prepare_database(scale)
    out = api_benchmark(url, rounds)
    print(json.dumps(out, ensure_ascii=False, indent=2))
    if results is not None:
        results.update(out)
    return out


if __name__ == "__main__":
    main()
