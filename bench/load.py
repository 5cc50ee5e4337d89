"""`make load`: many simultaneous anonymous users against gunicorn over loopback, with wrk.

For each database in LOAD_DATABASES: load `flask demo --scale LOAD_SCALE` into a scratch database
(bench/run.py's prepare_database: a SQLite file in bench/.data/, or the PostgreSQL database at
LOAD_PG_URL, created if missing), build its search index, serve it with gunicorn and the
deployment's settings (deploy/gunicorn.conf.py, through bench/cache_bench.py's helpers), then let
wrk (bench/load.lua) keep LOAD_USERS connections busy for LOAD_SECONDS with a mix of public pages:
home, filtered lists, compliance lists, detail pages and profiles of real records, search, the
statistics, news, feeds and a little of the JSON API. No think time: each user sends its next
request as soon as the last one is answered. (wrk's delay() would open the connection first and
pause before sending: against gunicorn's sync workers without nginx in front, each pause holds a
worker, so the figures would measure that, not the pages.)

The rate limits stay on but are raised (API_RATE_LIMIT), and 429 answers are counted apart from
errors. Errors are 5xx answers and socket errors (connect, read, write, timeout after
LOAD_TIMEOUT). Goal: 0 errors and p95 ≤ 300 ms.

Results: bench/load-results.json and bench/load-results.md; the app's and gunicorn's log of each
run in bench/.data/load-<database>-<scale>.log (JSON lines: server time per endpoint, tracebacks).

Settings (environment): LOAD_USERS (200), LOAD_SECONDS (60), LOAD_SCALE (100000),
LOAD_DATABASES (sqlite,postgresql), LOAD_PG_URL (postgresql+psycopg://postgres@127.0.0.1:5432/
bench_load, bench_load_<scale> for another scale), LOAD_THREADS (wrk threads, 2), LOAD_TIMEOUT
(10s), LOAD_WARMUP (seconds of warm-up at 10 users before the measured run, 5),
LOAD_API_RATE_LIMIT (the API's budget during the run, "1000000 per minute"; the default's
"120 per minute" shows the 429 count at work), LOAD_REDIS_URL (redis://127.0.0.1:6379: the rate
limits and the response cache shared by the workers, as in production; empty: each worker's own),
GUNICORN_WORKERS (the deployment's default: cores + 1).
"""

from __future__ import annotations

import json
import os
import random
import re
import runpy
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import redis

from bench.cache_bench import free_port, serve, stop
from bench.run import (
    DATA,
    MARKET_LISTS,
    STATISTICS_URLS,
    machine,
    percentile,
    prepare_database,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCRIPT = HERE / "load.lua"
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/"
GOAL_P95_MS = 300
# The API's budget per client address for the run: every wrk connection comes from 127.0.0.1.
RAISED_API_LIMIT = "1000000 per minute"

# Share of the requests per kind of page, in percent.
MIX = {
    "home": 10,
    "lists": 20,
    "compliance": 8,
    "details": 20,
    "profiles": 10,
    "search": 10,
    "statistics": 6,
    "news": 8,
    "feeds": 4,
    "api": 4,
}

LIST_PATHS = MARKET_LISTS
COMPLIANCE_FILTERS = [
    "",
    "?status=non_compliant",
    "?division=410400&variety=energy",
    "?industry=steel&sort=-shortfall",
    "?page=4",
]
SEARCH_WORDS = ["钢铁", "水泥", "能耗指标", "郑州 煤炭", "洛阳 化工", "履约", "挂牌", "电力"]
FEED_PATHS = ["/news/feed.atom", "/listings/feed.atom", "/trades/feed.atom"]
API_PATHS = [
    "/api/v1/listings?per_page=20",
    "/api/v1/trades?variety=coal",
    "/api/v1/statistics",
]


def settings() -> dict:
    scale = int(os.environ.get("LOAD_SCALE", "100000"))
    default_pg = DEFAULT_PG + ("bench_load" if scale == 100000 else f"bench_load_{scale}")
    return {
        "users": int(os.environ.get("LOAD_USERS", "200")),
        "seconds": int(os.environ.get("LOAD_SECONDS", "60")),
        "scale": scale,
        "databases": [
            name.strip()
            for name in os.environ.get("LOAD_DATABASES", "sqlite,postgresql").split(",")
            if name.strip()
        ],
        "pg_url": os.environ.get("LOAD_PG_URL", default_pg),
        "wrk_threads": int(os.environ.get("LOAD_THREADS", "2")),
        "timeout": os.environ.get("LOAD_TIMEOUT", "10s"),
        "warmup_seconds": int(os.environ.get("LOAD_WARMUP", "5")),
        "api_rate_limit": os.environ.get("LOAD_API_RATE_LIMIT", RAISED_API_LIMIT),
        "redis": os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379"),
    }


def shared_state(redis_url: str) -> dict:
    """The settings of several workers in production: rate limits and the response cache in one
    Redis (databases 14 and 15, emptied first, so the run starts cold and leaves nothing behind
    in the others); {} when the Redis does not answer (each worker then keeps its own)."""
    if not redis_url:
        return {}
    try:
        for db_number in (14, 15):
            redis.Redis.from_url(f"{redis_url}/{db_number}", socket_timeout=2).flushdb()
    except Exception as error:  # noqa: BLE001 - any failure means: run without it, and say so
        print(f"Redis at {redis_url} not used ({error}): each worker keeps its own cache")
        return {}
    return {"RATELIMIT_STORAGE_URI": f"{redis_url}/14", "CACHE_REDIS_URL": f"{redis_url}/15"}


# ---- the URL mix -------------------------------------------------------------------------------


def url_mix(records: dict, size: int = 20000, seed: int = 7) -> list[str]:
    """`size` paths drawn by MIX's shares from the pools built out of `records` (listing and trade
    numbers, public USCCs, enterprise names, published compliance years, announcement ids).

    A kind whose pool is empty (no published period, no announcement) gives its share to the
    others. The same records and seed give the same list.
    """
    years = records.get("years", [])
    pools = {
        "home": ["/"],
        "lists": LIST_PATHS,
        "compliance": [f"/compliance/{y}{f}" for y in years for f in COMPLIANCE_FILTERS],
        "details": [f"/listings/{quote(n)}" for n in records.get("listings", [])]
        + [f"/trades/{quote(n)}" for n in records.get("trades", [])],
        "profiles": [f"/enterprises/{quote(u)}" for u in records.get("usccs", [])],
        "search": [f"/search?q={quote(w)}" for w in SEARCH_WORDS + records.get("names", [])],
        "statistics": STATISTICS_URLS,
        "news": ["/news/"] + [f"/news/{i}" for i in records.get("announcements", [])],
        "feeds": FEED_PATHS,
        "api": API_PATHS,
    }
    kinds = [kind for kind in MIX if pools[kind]]
    weights = [MIX[kind] for kind in kinds]
    rng = random.Random(seed)
    return [rng.choice(pools[kind]) for kind in rng.choices(kinds, weights, k=size)]


# Each MIX kind by how its paths begin (or end, for feeds), first match wins; the rest are lists.
KIND_OF_PATH = (
    (lambda p: p == "/", "home"),
    (lambda p: p.startswith("/api/"), "api"),
    (lambda p: p.endswith(".atom"), "feeds"),
    (lambda p: p.startswith("/search"), "search"),
    (lambda p: p.startswith("/statistics"), "statistics"),
    (lambda p: p.startswith("/news/"), "news"),
    (lambda p: p.startswith("/compliance/"), "compliance"),
    (lambda p: p.startswith("/enterprises/"), "profiles"),
    (lambda p: re.match(r"^/(listings|trades)/[^/?]+$", p) is not None, "details"),
)


def path_kind(path: str) -> str:
    """The MIX kind a path of url_mix() belongs to."""
    return next((kind for matches, kind in KIND_OF_PATH if matches(path)), "lists")


def sample_records(url: str, index_dir: Path, count: int = 5000) -> dict:
    """Real record keys from the database, for the detail pages, profiles and searches: up to
    `count` of each kind, spread over the table, so that most detail pages are not in the response
    cache yet when they are asked for (a visitor rarely opens the page the last one opened)."""
    from sqlalchemy import func, select

    from bench.run import bench_app
    from portal.compliance.models import CompliancePeriod
    from portal.disclosure.models import Listing, Trade
    from portal.enterprises.models import Enterprise
    from portal.extensions import db
    from portal.news.models import Announcement
    from portal.news.services import public_announcements

    app = bench_app(url, SEARCH_INDEX_DIR=str(index_dir))
    rng = random.Random(11)
    with app.app_context():

        def sample(column, *where) -> list:
            # Spread over the whole table: every n-th key, not only the first ones.
            total = db.session.scalar(select(func.count()).select_from(column.table).where(*where))
            step = max(1, (total or 0) // count)
            stmt = select(column).where(*where).order_by(column.table.c.id)
            return db.session.scalars(stmt).all()[::step][:count]

        names = sample(Enterprise.name, Enterprise.is_public.is_(True))
        announcements = db.session.scalars(
            public_announcements()
            .with_only_columns(Announcement.id)
            .order_by(Announcement.id.desc())
            .limit(200)
        ).all()
        return {
            "listings": sample(Listing.number),
            "trades": sample(Trade.number),
            "usccs": sample(Enterprise.uscc, Enterprise.is_public.is_(True)),
            "names": rng.sample(names, min(1000, len(names))),
            "years": db.session.scalars(
                select(CompliancePeriod.year).where(CompliancePeriod.published_at.is_not(None))
            ).all(),
            "announcements": list(announcements),
            "enterprises": db.session.scalar(select(func.count(Enterprise.id))),
        }


# ---- the databases -----------------------------------------------------------------------------


def ensure_pg_database(url: str) -> str | None:
    """Create the database of `url` if it is missing. None when the server answers; else why not."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    server = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            exists = conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
            )
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
                print(f"created PostgreSQL database {target.database}")
    except Exception as error:  # noqa: BLE001 — any failure to reach the server skips PostgreSQL
        return f"{type(error).__name__}: {str(error).strip().splitlines()[0]}"
    finally:
        server.dispose()
    return None


def prepared(scale: int, url: str | None) -> str:
    """prepare_database() for a SQLite file (url None) or for the database at `url`."""
    saved = os.environ.pop("BENCH_DATABASE_URL", None)
    try:
        if url:
            os.environ["BENCH_DATABASE_URL"] = url
        return prepare_database(scale)
    finally:
        os.environ.pop("BENCH_DATABASE_URL", None)
        if saved is not None:
            os.environ["BENCH_DATABASE_URL"] = saved


def ensure_index(url: str, index_dir: Path) -> None:
    """The search index of this database (its own folder), built once by `flask reindex`."""
    if (index_dir / "CURRENT").exists():
        return
    started = time.perf_counter()
    env = {**os.environ, "DATABASE_URL": url, "SEARCH_INDEX_DIR": str(index_dir)}
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "reindex"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    print(f"search index built in {time.perf_counter() - started:.1f} s")


# ---- wrk and its output ------------------------------------------------------------------------


def parse_wrk(output: str) -> dict:
    """The figures of the "LOAD-RESULT {json}" line bench/load.lua's done() prints, in ms."""
    for line in output.splitlines():
        if line.startswith("LOAD-RESULT "):
            raw = json.loads(line.removeprefix("LOAD-RESULT "))
            break
    else:
        raise ValueError("wrk printed no LOAD-RESULT line:\n" + output[-2000:])
    seconds = raw["duration_us"] / 1e6
    socket_errors = raw["socket_errors"]
    latency = {f"{name}_ms": round(value / 1000, 1) for name, value in raw["latency_us"].items()}
    statuses = {
        name.removeprefix("status_"): raw[name]
        for name in ("status_2xx", "status_3xx", "status_429", "status_4xx", "status_5xx")
    }
    statuses["other"] = raw["status_other"]
    return {
        "requests": raw["requests"],
        "seconds": round(seconds, 1),
        "rps": round(raw["requests"] / seconds, 1) if seconds else 0.0,
        "megabytes": round(raw["bytes"] / 1e6, 1),
        "latency": latency,
        "statuses": statuses,
        "socket_errors": socket_errors,
        # What a visitor sees as a failure; 429 (rate limited) and other 4xx are reported apart.
        "errors": statuses["5xx"] + statuses["other"] + sum(socket_errors.values()),
        "cache": {"hit": raw["cache_hit"], "miss": raw["cache_miss"]},
    }


def run_wrk(
    port: int, urls_file: Path, users: int, seconds: int, threads: int, timeout: str
) -> dict:
    command = [
        "wrk",
        "--threads",
        str(max(1, min(threads, users))),
        "--connections",
        str(users),
        "--duration",
        f"{seconds}s",
        "--timeout",
        timeout,
        "--latency",
        "--script",
        str(SCRIPT),
        f"http://127.0.0.1:{port}",
        "--",
        str(urls_file),
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + 120
    )
    return parse_wrk(done.stdout)


# ---- the server's log --------------------------------------------------------------------------


def read_server_log(text: str) -> dict:
    """From the run's log (the app's JSON lines and gunicorn's own): server ms and statuses per
    endpoint, error lines, and gunicorn's worker timeouts and restarts."""
    by_endpoint: dict[str, list[float]] = {}
    statuses: dict[str, dict[str, int]] = {}
    errors: list[str] = []
    worker_timeouts = 0
    for line in text.splitlines():
        if "WORKER TIMEOUT" in line:
            worker_timeouts += 1
        if not line.startswith("{"):
            if "[ERROR]" in line or "[CRITICAL]" in line:
                errors.append(line[:300])
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("level") in ("ERROR", "CRITICAL"):
            errors.append(str(record.get("message", ""))[:300])
        if record.get("logger") != "portal.access" or "ms" not in record:
            continue
        endpoint = record.get("endpoint") or "-"
        by_endpoint.setdefault(endpoint, []).append(float(record["ms"]))
        counted = statuses.setdefault(endpoint, {})
        status = str(record.get("status"))
        counted[status] = counted.get(status, 0) + 1
    endpoints = {
        name: {
            "requests": len(times),
            "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(percentile(times, 95), 1),
            "statuses": statuses[name],
        }
        for name, times in sorted(by_endpoint.items(), key=lambda item: -len(item[1]))
    }
    return {
        "server_ms_by_endpoint": endpoints,
        "error_lines": len(errors),
        "first_errors": errors[:5],
        "worker_timeouts": worker_timeouts,
    }


# ---- one database ------------------------------------------------------------------------------


def gunicorn_settings(env: dict) -> dict:
    """Workers, threads and worker class the deployment's file gives with this environment."""
    saved = os.environ.get("GUNICORN_WORKERS")
    try:
        if "GUNICORN_WORKERS" in env:
            os.environ["GUNICORN_WORKERS"] = env["GUNICORN_WORKERS"]
        conf = runpy.run_path(str(GUNICORN_CONF))
    finally:
        if saved is None:
            os.environ.pop("GUNICORN_WORKERS", None)
        else:
            os.environ["GUNICORN_WORKERS"] = saved
    return {
        "config": "deploy/gunicorn.conf.py",
        "workers": conf["workers"],
        "threads": conf.get("threads", 1),
        "worker_class": conf.get("worker_class", "sync"),
        "keepalive": conf["keepalive"],
        "timeout": conf["timeout"],
    }


def worker_pids(master_pid: int) -> list[int]:
    try:
        done = subprocess.run(
            ["ps", "--ppid", str(master_pid), "-o", "pid="], capture_output=True, text=True
        )
    except OSError:
        return []
    return [int(pid) for pid in done.stdout.split()]


def stat_cpu_ticks(stat: str) -> int:
    """User plus system CPU time, in clock ticks, from the text of /proc/<pid>/stat."""
    # The command name, in parentheses, may hold spaces: count the fields after its ")".
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime and stime, fields 14 and 15 of proc(5)


def workers_cpu_seconds(master_pid: int) -> dict[int, float]:
    """CPU seconds each gunicorn worker has used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = {}
    for pid in worker_pids(master_pid):
        try:
            used[pid] = stat_cpu_ticks(Path(f"/proc/{pid}/stat").read_text()) / ticks
        except (OSError, ValueError, IndexError):
            continue
    return used


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def run_database(name: str, url: str, config: dict) -> dict:
    scale = config["scale"]
    index_dir = DATA / f"load-index-{name}-{scale}"
    records = sample_records(url, index_dir)
    if records["enterprises"] != scale:
        # prepare_database loads with --if-empty: this database kept a load of another scale.
        return {
            "skipped": f"the database holds {records['enterprises']} enterprises, not {scale}: "
            "empty it or choose another (LOAD_PG_URL)"
        }
    ensure_index(url, index_dir)
    urls = url_mix(records)
    urls_file = DATA / f"load-urls-{name}-{scale}.txt"
    urls_file.write_text("\n".join(urls) + "\n", encoding="utf-8")
    log_file = DATA / f"load-{name}-{scale}.log"
    log_file.unlink(missing_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SEARCH_INDEX_DIR": str(index_dir),
        "API_RATE_LIMIT": config["api_rate_limit"],
        **shared_state(config["redis"]),
        "LOG_FORMAT": "json",
        "PYTHONPATH": str(ROOT),
        # gunicorn's own log and the workers' stderr (the app's log) into one file.
        "GUNICORN_CMD_ARGS": f"--error-logfile {log_file} --capture-output",
    }
    gunicorn = gunicorn_settings(env)
    kinds: dict[str, int] = {}
    for path in urls:
        kinds[path_kind(path)] = kinds.get(path_kind(path), 0) + 1
    out: dict = {
        "database": url.split("://")[0],
        "enterprises": records["enterprises"],
        "gunicorn": gunicorn,
        "mix_percent": {k: round(100 * n / len(urls), 1) for k, n in kinds.items()},
        "shared_redis": "CACHE_REDIS_URL" in env,
        "distinct_paths": len(set(urls)),
    }
    port = free_port()
    process = serve("wsgi:app", env, port)
    try:
        # serve() returns when one worker answers; the others may still be booting.
        deadline = time.time() + 60
        while len(worker_pids(process.pid)) < gunicorn["workers"] and time.time() < deadline:
            time.sleep(0.5)
        if config["warmup_seconds"] > 0:
            run_wrk(port, urls_file, 10, config["warmup_seconds"], 1, config["timeout"])
        out["gunicorn"]["worker_processes_seen"] = len(worker_pids(process.pid))
        # Only the measured run's lines are read back from the log.
        log_offset = log_file.stat().st_size if log_file.exists() else 0
        out["load_average_before"] = load_average()
        cpu_before = workers_cpu_seconds(process.pid)
        print(
            f"{name}: {config['users']} users for {config['seconds']} s "
            f"(load average {out['load_average_before'][0]})",
            flush=True,
        )
        out.update(
            run_wrk(
                port,
                urls_file,
                config["users"],
                config["seconds"],
                config["wrk_threads"],
                config["timeout"],
            )
        )
        out["load_average_after"] = load_average()
        cpu_after = workers_cpu_seconds(process.pid)
        # The app's CPU per request, whatever else the machine runs (without the database
        # server's: PostgreSQL's backends are other processes). A worker recycled during the
        # run (max_requests) takes its CPU with it, so this can only be too low.
        used = sum(cpu_after[pid] - cpu_before.get(pid, 0.0) for pid in cpu_after)
        out["app_cpu_ms_per_request"] = round(1000 * used / max(out["requests"], 1), 2)
        out["gunicorn"]["workers_replaced"] = len(set(cpu_before) - set(cpu_after))
    finally:
        stop(process)
    with log_file.open("rb") as log:
        log.seek(log_offset)
        out["server_log"] = read_server_log(log.read().decode("utf-8", errors="replace"))
    out["goal"] = {
        "errors": 0,
        "p95_ms": GOAL_P95_MS,
        "met": out["errors"] == 0 and out["latency"]["p95_ms"] <= GOAL_P95_MS,
    }
    return out


# ---- results -----------------------------------------------------------------------------------


def results_markdown(results: dict) -> str:
    config = results["settings"]
    lines = [
        f"# Load test ({results['when']})",
        "",
        f"Machine: {results['machine']['cpu']}, {results['machine']['cores']} cores. "
        f"{config['users']} simultaneous users (wrk, {config['wrk_threads']} threads, no think "
        f"time) for {config['seconds']} s over loopback; `flask demo --scale {config['scale']}`; "
        f"timeout {config['timeout']}. Goal: 0 errors, p95 ≤ {GOAL_P95_MS} ms.",
        "",
    ]
    runs = results["runs"]
    measured = {name: run for name, run in runs.items() if "requests" in run}
    if measured:
        lines += [
            "| | " + " | ".join(measured) + " |",
            "| --- | " + " | ".join("---" for _ in measured) + " |",
        ]

        def row(label: str, value) -> None:
            lines.append(
                f"| {label} | " + " | ".join(str(value(r)) for r in measured.values()) + " |"
            )

        row(
            "gunicorn",
            lambda r: "{workers} × {worker_class}, {threads} thread".format(**r["gunicorn"]),
        )
        row("requests", lambda r: r["requests"])
        row("requests/s", lambda r: r["rps"])
        for pct in ("p50", "p90", "p95", "p99", "max"):
            row(f"{pct} ms", lambda r, pct=pct: r["latency"][f"{pct}_ms"])
        row("2xx / 3xx", lambda r: f"{r['statuses']['2xx']} / {r['statuses']['3xx']}")
        row("429 (rate limited)", lambda r: r["statuses"]["429"])
        row("other 4xx", lambda r: r["statuses"]["4xx"])
        row("5xx", lambda r: r["statuses"]["5xx"])
        row(
            "socket errors (connect/read/write/timeout)",
            lambda r: "/".join(
                str(r["socket_errors"][k]) for k in ("connect", "read", "write", "timeout")
            ),
        )
        row("**errors**", lambda r: f"**{r['errors']}**")
        row("app CPU ms per request (workers)", lambda r: r["app_cpu_ms_per_request"])
        row("cache hits / misses", lambda r: f"{r['cache']['hit']} / {r['cache']['miss']}")
        row(
            "load average before → after (1 min)",
            lambda r: f"{r['load_average_before'][0]} → {r['load_average_after'][0]}",
        )
        row("goal met", lambda r: "yes" if r["goal"]["met"] else "no")
        lines.append("")
        for name, run in measured.items():
            lines += [
                f"## {name}: server time per endpoint (the app's access log)",
                "",
                "| endpoint | requests | p50 ms | p95 ms | statuses |",
                "| --- | --- | --- | --- | --- |",
            ]
            for endpoint, figures in run["server_log"]["server_ms_by_endpoint"].items():
                lines.append(
                    f"| {endpoint} | {figures['requests']} | {figures['p50_ms']} | "
                    f"{figures['p95_ms']} | {figures['statuses']} |"
                )
            if run["server_log"]["error_lines"]:
                lines += ["", f"Error lines in the log: {run['server_log']['error_lines']}"]
                lines += [f"- `{line}`" for line in run["server_log"]["first_errors"]]
            lines.append("")
    for name, run in runs.items():
        if "skipped" in run:
            lines += [f"{name}: skipped — {run['skipped']}", ""]
    return "\n".join(lines) + "\n"


def write_results(results: dict) -> None:
    (HERE / "load-results.json").write_text(
        json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    (HERE / "load-results.md").write_text(results_markdown(results), encoding="utf-8")


def main() -> int:
    if shutil.which("wrk") is None:
        print("wrk is not installed: `make load-deps` (Debian: apt-get install wrk)")
        return 1
    config = settings()
    results: dict = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": machine(),
        "settings": {k: v for k, v in config.items() if k != "pg_url"},
        "runs": {},
    }
    DATA.mkdir(exist_ok=True)
    for name in config["databases"]:
        if name == "sqlite":
            url = prepared(config["scale"], None)
        elif name == "postgresql":
            problem = ensure_pg_database(config["pg_url"])
            if problem:
                print(f"PostgreSQL skipped: {config['pg_url']} is unreachable ({problem})")
                results["runs"][name] = {"skipped": f"unreachable: {problem}"}
                continue
            url = prepared(config["scale"], config["pg_url"])
        else:
            print(f"unknown database {name!r} in LOAD_DATABASES (sqlite, postgresql)")
            return 2
        run = run_database(name, url, config)
        results["runs"][name] = run
        write_results(results)
        if "skipped" in run:
            print(f"{name} skipped: {run['skipped']}")
            continue
        print(json.dumps({k: run[k] for k in ("requests", "rps", "latency", "statuses", "errors")}))
    write_results(results)
    print(f"results written to {HERE / 'load-results.md'} and load-results.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
