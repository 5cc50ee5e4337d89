"""Where a page's CPU time goes: time a few pages uncached, then profile them.

    BENCH_DATABASE_URL=sqlite:///bench/.data/bench-100000.db python -m bench.profile_render [URL ...]

For each URL (default: a filtered list, a compliance list, a detail page, a profile, the home page
and a search) it prints the median CPU time of a request through the whole Flask stack, then the
functions that take the most time of all of them together (cProfile, sorted by own time). The app
is the benchmarks' (no response cache, no rate limit, no access log), so the figures are of
answering a request, not of serving a cached copy.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import statistics
import sys
import time

from bench.run import DATA, bench_app

DEFAULT_URLS = [
    "/trades?variety=coal&sort=-amount",
    "/listings?division=410100&sort=-price",
    "/compliance/2024?status=non_compliant",
    "/news/",
    "/",
]


def cpu_per_request(client, url: str, rounds: int) -> float:
    for _ in range(5):
        client.get(url).get_data()
    times = []
    for _ in range(rounds):
        started = time.process_time()
        client.get(url).get_data()
        times.append((time.process_time() - started) * 1000)
    return statistics.median(times)


def main(argv: list[str]) -> None:
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{DATA / 'bench-100000.db'}"
    rounds = int(os.environ.get("BENCH_ROUNDS", "40"))
    urls = argv or DEFAULT_URLS
    app = bench_app(url)
    client = app.test_client()
    language = os.environ.get("BENCH_LANGUAGE")
    if language:
        client.set_cookie("lang", language)
    for page in urls:
        status = client.get(page).status_code
        print(f"{cpu_per_request(client, page, rounds):7.2f} ms CPU  {status}  {page}")
    profile = cProfile.Profile()
    profile.enable()
    for page in urls:
        for _ in range(rounds // 4 or 1):
            client.get(page).get_data()
    profile.disable()
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats(os.environ.get("BENCH_SORT", "tottime")).print_stats(
        int(os.environ.get("BENCH_TOP", "35"))
    )
    print(out.getvalue())


if __name__ == "__main__":
    main(sys.argv[1:])
