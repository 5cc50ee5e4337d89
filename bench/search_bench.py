"""Search benchmark: reindex time (CPU, peak RSS, disk), the search page served by one gunicorn
worker (first request, p50/p95 over 200 distinct queries, the worker's memory), segmentation
speed, query latency (with the steps that got it there), SQLite FTS5 trigram as a reference, and
relevance over the judged set.

    python -m bench.search_bench             # alone; BENCH_SEARCH_SCALE (default 22600)
    python -m bench.search_bench served|reindex DB_URL INDEX_DIR   # one measure, as JSON
    bench.run calls main(results)            # `make bench`

The corpus is `flask demo --scale N` in a scratch SQLite file (or BENCH_DATABASE_URL when bench.run
has loaded one). The judged set (bench/judged_queries.json) is over the default demo data, loaded
into its own scratch file.
"""

from __future__ import annotations

import html
import http.client
import json
import os
import platform
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCRATCH = Path(os.environ.get("BENCH_SCRATCH", "/tmp/search-bench"))

# A fixed mix: very common terms, names, codes, phrases, exclusions and field filters.
MIX = [
    "用能权",
    "有限公司",
    "交易",
    "郑州",
    "郑州市",
    "能耗指标",
    "煤炭指标",
    "节能改造",
    "确权",
    "履约",
    "两高",
    "钢铁",
    "精细化工 有限公司",
    "水泥",
    "洛阳 钢铁",
    "南阳 粮油",
    "平顶山 煤炭",
    "用能权 交易 郑州",
    '"节能改造"',
    '"用能权指标"',
    "煤炭 -郑州",
    "交易 -能耗",
    "类型:成交 郑州",
    "地区:洛阳 用能权",
    "品种:煤炭 交易",
    "年份:2023 用能权",
    "未履约",
    "挂牌中",
    "省级用能权指标",
    "第三方审核",
    "政策解读",
    "Henan",
    "2023",
]


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary(samples: list[float]) -> dict:
    return {
        "p50_ms": round(percentile(samples, 50), 2),
        "p95_ms": round(percentile(samples, 95), 2),
        "max_ms": round(max(samples), 2),
    }


def machine() -> str:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def load_demo(url: str, scale: int | None) -> None:
    """Run `flask db upgrade` and `flask demo` into a scratch database."""
    env = {**os.environ, "DATABASE_URL": url}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True)
    command = [*flask, "demo", "--if-empty"] + (["--scale", str(scale)] if scale else [])
    subprocess.run(command, cwd=ROOT, env=env, check=True)


def make_app(url: str, index_dir: Path):
    from portal import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SEARCH_INDEX_DIR": str(index_dir),
            # The benchmark measures searching, not catching up with an outbox nobody writes.
            "SEARCH_CATCH_UP": False,
            "SEARCH_REBUILD": "inline",
            # Searching is timed, not the response cache's answer to a repeated query.
            "CACHE_ENABLED": False,
        }
    )


def timed(fn, rounds: int = 1) -> list[float]:
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def bench_segmentation(texts: list[str]) -> dict:
    from portal.search.analysis import segmenter

    out = {}
    chars = sum(len(t) for t in texts)
    for name in ("jieba", "rjieba"):
        seg = segmenter(name)
        seg.tokenize(texts[0])
        start = time.perf_counter()
        for text in texts:
            seg.tokenize(text)
        seconds = time.perf_counter() - start
        out[name] = {"seconds": round(seconds, 3), "chars_per_s": int(chars / seconds)}
    out["speedup"] = round(out["jieba"]["seconds"] / out["rjieba"]["seconds"], 1)
    out["texts"] = len(texts)
    return out


def bench_queries(app, rounds: int) -> dict:
    from whoosh import sorting

    from portal.search import engine
    from portal.search.services import divisions_by_code, get_store, search

    ix = get_store(app).open_index()
    schema = ix.schema
    divisions = divisions_by_code()
    out: dict[str, dict] = {}

    # 1. Stock Whoosh: BM25 top 20 with facet counts from groupedby.
    facets = {name: sorting.FieldFacet(name) for name in engine.FACETS}
    # Phrases are left out of 1 and 2: the index keeps no positions (our engine checks phrases
    # against the stored text), so Whoosh cannot run them.
    with ix.searcher() as searcher:
        samples = []
        for q in MIX:
            parsed = engine.parse(q, schema, divisions)
            if parsed.query is None or '"' in q:
                continue
            samples += timed(
                lambda p=parsed: [
                    searcher.search(p.query, limit=20, groupedby=facets).groups(name)
                    for name in facets
                ][:1]
            )
        out["1_stock_whoosh_bm25_groupedby"] = summary(samples)

        # 2. Whoosh top 20 with early termination (block-max), no facets: the ranking alone.
        samples = []
        for q in MIX:
            parsed = engine.parse(q, schema, divisions)
            if parsed.query is None or '"' in q:
                continue
            samples += timed(
                lambda p=parsed: searcher.search(p.query, limit=20, optimize=True, terms=False)
            )
        out["2_whoosh_top20_early_termination_no_facets"] = summary(samples)

    # 3. Bitsets, cold: every term's postings read again for each query.
    engine.SETTINGS.update(result_cache=False, term_cache=False)
    engine.clear_caches()
    search("用能权", app=app)  # build the view (facets) once
    samples = []
    for q in MIX:
        samples += timed(lambda q=q: search(q, app=app))
    out["3_bitsets_no_term_cache"] = summary(samples)

    # 4. Bitsets with term bitsets cached per segment (kept while the segment lives).
    engine.SETTINGS.update(term_cache=True)
    engine.clear_caches()
    view_start = time.perf_counter()
    search("用能权", app=app)
    out["view_build_ms"] = round((time.perf_counter() - view_start) * 1000, 1)
    first = []
    for q in MIX:
        first += timed(lambda q=q: search(q, app=app))
    out["4a_bitsets_term_cache_first_pass"] = summary(first)
    samples = []
    for _ in range(rounds):
        for q in MIX:
            samples += timed(lambda q=q: search(q, app=app))
    out["4_bitsets_term_cache_warm"] = summary(samples)

    # 5. Plus the result cache keyed by index generation.
    engine.SETTINGS.update(result_cache=True)
    for q in MIX:
        search(q, app=app)
    samples = []
    for _ in range(rounds):
        for q in MIX:
            samples += timed(lambda q=q: search(q, app=app))
    out["5_plus_result_cache_warm"] = summary(samples)
    out["queries"] = len(MIX)
    return out


def bench_fts5(app, rounds: int) -> dict:
    """The same mix on SQLite FTS5 (trigram) over the same documents: top 20 + kind counts."""
    from portal.search import engine
    from portal.search.analysis import fold, query_words
    from portal.search.services import get_store

    path = SCRATCH / "fts5.db"
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE VIRTUAL TABLE doc USING fts5(kind UNINDEXED, date UNINDEXED, title, body, tokenize='trigram')"
    )
    ix = get_store(app).open_index()
    start = time.perf_counter()
    with ix.searcher() as searcher:
        rows = (
            (f.get("kind"), f.get("date"), fold(f.get("title", "")), fold(f.get("body", "")))
            for f in searcher.all_stored_fields()
        )
        conn.executemany("INSERT INTO doc VALUES (?, ?, ?, ?)", rows)
    conn.commit()
    build = time.perf_counter() - start

    def run(q: str) -> None:
        text = engine._FILTER_RE.sub(" ", fold(q)).replace('"', " ")
        words = [w for w in text.split() if not w.startswith("-")]
        terms = [t for w in words for t in query_words(w)]
        long_terms = [t for t in terms if len(t) >= 3]
        short = [t for t in terms if len(t) < 3]
        where, args = [], []
        if long_terms:
            where.append("doc MATCH ?")
            args.append(" AND ".join(f'"{t}"' for t in long_terms))
        for t in short:  # trigram MATCH needs three characters; LIKE is the documented fallback
            where.append("(title LIKE ? OR body LIKE ?)")
            args += [f"%{t}%", f"%{t}%"]
        clause = " AND ".join(where) or "1"
        order = "ORDER BY rank" if long_terms else "ORDER BY date DESC"
        conn.execute(f"SELECT rowid FROM doc WHERE {clause} {order} LIMIT 20", args).fetchall()
        conn.execute(
            f"SELECT kind, count(*) FROM doc WHERE {clause} GROUP BY kind", args
        ).fetchall()

    for q in MIX:
        run(q)
    samples = []
    for _ in range(rounds):
        for q in MIX:
            samples += timed(lambda q=q: run(q))
    conn.close()
    return {"build_seconds": round(build, 1), **summary(samples)}


def bench_relevance(default_url: str) -> dict:
    """Precision@5 and MRR over the judged set, on the default demo data."""
    from portal.search.services import search

    judged = json.loads((HERE / "judged_queries.json").read_text(encoding="utf-8"))["queries"]
    index_dir = SCRATCH / "index-default"
    app = make_app(default_url, index_dir)
    precisions, reciprocal = [], []
    misses = []
    with app.test_request_context():
        from portal.search import reindex_all

        reindex_all(progress=lambda _m: None, app=app)
        for item in judged:
            found = search(item["q"], app=app, per_page=10)
            hits = [found.redirect] if found.redirect else found.hits
            ranked = [
                (h.kind, h.record, html.unescape(re.sub(r"<[^>]+>", "", str(h.title))))
                for h in hits
            ]

            def matches(expect, hit):
                kind, record, title = hit
                return kind == expect["kind"] and (
                    expect.get("record") == record or expect.get("title") == title
                )

            expected = item["expect"]
            top5 = ranked[:5]
            good = sum(1 for e in expected if any(matches(e, h) for h in top5))
            precisions.append(good / min(5, len(expected)))
            rank = next(
                (i + 1 for i, h in enumerate(ranked) if any(matches(e, h) for e in expected)),
                None,
            )
            reciprocal.append(1 / rank if rank else 0.0)
            if not rank or rank > 5:
                misses.append(item["q"])
    return {
        "queries": len(judged),
        "precision_at_5": round(statistics.mean(precisions), 3),
        "mrr": round(statistics.mean(reciprocal), 3),
        "missed_top5": misses,
    }


# Words for the served mix: MIX's plus places, kinds and years, combined at random.
EXTRA = [
    "洛阳",
    "南阳",
    "新乡",
    "开封",
    "安阳",
    "许昌",
    "焦作",
    "周口",
    "信阳",
    "商丘",
    "化工",
    "电力",
]


def served_queries(count: int, seed: int = 7) -> list[str]:
    """`count` distinct search URLs: MIX's queries, pairs of words, filters, pages and orders."""
    rng = random.Random(seed)
    words = [q for q in MIX if ":" not in q and '"' not in q and "-" not in q] + EXTRA
    urls: list[str] = []
    seen: set[str] = set()
    while len(urls) < count:
        roll = rng.random()
        if roll < 0.3:
            q = rng.choice(MIX)
        elif roll < 0.7:
            q = " ".join(rng.sample(words, 2))
        else:
            q = rng.choice(words)
        args = {"q": q}
        if rng.random() < 0.25:
            args["type"] = rng.choice(["listing", "trade", "compliance", "enterprise"])
        if rng.random() < 0.15:
            args["sort"] = "date"
        if rng.random() < 0.2:
            args["page"] = str(rng.randint(2, 5))
        url = "/search?" + urllib.parse.urlencode(args)
        if url not in seen:
            seen.add(url)
            urls.append(url)
    return urls


def _get(port: int, path: str) -> tuple[int, float]:
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("GET", path, headers={"Accept": "text/html"})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status, (time.perf_counter() - start) * 1000


def _worker_memory(master: int) -> dict:
    """RSS, peak RSS, and RSS split into anonymous and file-backed pages (MB) of the gunicorn
    master's first child."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    status = Path(f"/proc/{children[0]}/status").read_text()
    names = {"VmRSS": "rss_mb", "VmHWM": "peak_rss_mb", "RssAnon": "anon_mb", "RssFile": "file_mb"}
    values = {}
    for line in status.splitlines():
        name, _, rest = line.partition(":")
        if name in names:
            values[names[name]] = round(int(rest.split()[0]) / 1024, 1)
    # file_mb: pages of the index files Whoosh maps into memory (the kernel can drop them).
    return values


def _worker_cpu_seconds(master: int) -> float:
    child = Path(f"/proc/{master}/task/{master}/children").read_text().split()[0]
    fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def bench_served(url: str, index_dir: Path, count: int = 200) -> dict:
    """One gunicorn worker with deploy/gunicorn.conf.py: the first search in the fresh worker,
    then `count` distinct search pages over loopback, and the worker's memory afterwards."""
    from bench.cache_bench import free_port, serve, stop

    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SEARCH_INDEX_DIR": str(index_dir),
        "GUNICORN_WORKERS": "1",
        "GUNICORN_MAX_REQUESTS": "0",
        "PYTHONDONTWRITEBYTECODE": "",
    }
    port = free_port()
    process = serve("wsgi:app", env, port)  # returns once /healthz answers: the worker is booted
    try:
        # Not the page the worker's warm-up asks for (that one is in the response cache).
        first_url = "/search?" + urllib.parse.urlencode({"q": "煤炭 南阳", "type": "trade"})
        status, first = _get(port, first_url)
        memory_first = _worker_memory(process.pid)
        cpu_before = _worker_cpu_seconds(process.pid)
        samples = []
        statuses: dict[int, int] = {}
        for path in served_queries(count):
            status, ms = _get(port, path)
            statuses[status] = statuses.get(status, 0) + 1
            samples.append(ms)
        # The worker's own CPU time: steadier than wall time on a shared machine.
        cpu_ms = (_worker_cpu_seconds(process.pid) - cpu_before) * 1000 / count
        return {
            "first_request_ms": round(first, 1),
            "worker_cpu_ms_per_request": round(cpu_ms, 1),
            "after_first": memory_first,
            "requests": count,
            "statuses": statuses,
            **summary(samples),
            "worker": _worker_memory(process.pid),
        }
    finally:
        stop(process)


def _tree_bytes(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def bench_reindex_process(url: str, index_dir: Path) -> dict:
    """`flask reindex` in its own process: wall and CPU seconds, peak RSS, and the most the index
    folder held while it ran over what it holds at the end (the posting runs spilled to disk)."""
    env = {**os.environ, "DATABASE_URL": url, "SEARCH_INDEX_DIR": str(index_dir)}
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "reindex"]
    before = _tree_bytes(index_dir)
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    reaped: dict = {}
    # wait4 gives this child's own CPU time and peak RSS; the folder is sampled meanwhile.
    waiter = threading.Thread(target=lambda: reaped.update(w=os.wait4(process.pid, 0)))
    waiter.start()
    most = 0
    while waiter.is_alive():
        most = max(most, _tree_bytes(index_dir) - before)
        waiter.join(1)
    wall = time.perf_counter() - start
    _pid, status, usage = reaped["w"]
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise RuntimeError(f"flask reindex failed with {process.returncode}")
    generation = index_dir / (index_dir / "CURRENT").read_text().strip()
    final = _tree_bytes(generation)
    return {
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "index_mb": round(final / 2**20, 1),
        "most_on_disk_mb": round(most / 2**20, 1),
    }


def main(results: dict | None = None) -> dict:
    results = {} if results is None else results
    # `flask demo --scale N` makes about 4.4 public documents per unit of N (measured: N=3000 gave
    # 13,299), so N=22600 gives the corpus of about 100,000 documents.
    scale = int(os.environ.get("BENCH_SEARCH_SCALE", "22600"))
    rounds = int(os.environ.get("BENCH_SEARCH_ROUNDS", "5"))
    SCRATCH.mkdir(parents=True, exist_ok=True)
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{SCRATCH / f'bench-{scale}.db'}"
    if "BENCH_DATABASE_URL" not in os.environ:
        load_demo(url, scale)
    results["machine"] = machine()

    index_dir = SCRATCH / f"index-{scale}"
    # `flask reindex` in its own process, so its CPU time, peak RSS and disk use are its own.
    results["reindex"] = bench_reindex_process(url, index_dir)
    print("reindex:", results["reindex"])
    # One gunicorn worker: first search after boot, 200 distinct search pages, its memory.
    results["served"] = bench_served(url, index_dir)
    print("served:", results["served"])
    app = make_app(url, index_dir)
    with app.test_request_context():
        from portal.search.services import get_store

        ix = get_store(app).open_index()
        results["reindex"]["documents"] = ix.doc_count()
        with ix.searcher() as searcher:
            texts = []
            for fields in searcher.all_stored_fields():
                texts.append(f"{fields.get('title', '')} {fields.get('body', '')}")
                if len(texts) >= 20000:
                    break
        results["segmentation"] = bench_segmentation(texts)
        print("segmentation:", results["segmentation"])

        results["latency"] = bench_queries(app, rounds)
        for step, figures in results["latency"].items():
            print(f"latency {step}: {figures}")
        results["fts5_trigram"] = bench_fts5(app, rounds)
        ours = results["latency"]["5_plus_result_cache_warm"]
        nocache = results["latency"]["4_bitsets_term_cache_warm"]
        fts = results["fts5_trigram"]
        results["ratio_to_fts5"] = {
            "p50_no_result_cache": round(nocache["p50_ms"] / fts["p50_ms"], 3),
            "p95_no_result_cache": round(nocache["p95_ms"] / fts["p95_ms"], 3),
            "p50_with_result_cache": round(ours["p50_ms"] / fts["p50_ms"], 3),
        }
        print("fts5 trigram:", fts, "ratio:", results["ratio_to_fts5"])

    default_url = f"sqlite:///{SCRATCH / 'default.db'}"
    load_demo(default_url, None)
    results["relevance"] = bench_relevance(default_url)
    print("relevance:", results["relevance"])
    (SCRATCH / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1))
    return results


if __name__ == "__main__":
    # `python -m bench.search_bench served DB_URL INDEX_DIR` or `... reindex DB_URL INDEX_DIR`:
    # one measure on an existing database, printed as JSON.
    if len(sys.argv) == 4 and sys.argv[1] in ("served", "reindex"):
        measure = bench_served if sys.argv[1] == "served" else bench_reindex_process
        print(json.dumps(measure(sys.argv[2], Path(sys.argv[3])), indent=1))
    else:
        main()
