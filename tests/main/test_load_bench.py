"""The load test's own arithmetic (bench/load.py) and its wrk script's counting (bench/load.lua)."""

import json
import os
import shutil
import socket
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import pytest

from bench import load

WRK_LINE = (
    'LOAD-RESULT {"requests": 1200, "duration_us": 10000000, "bytes": 5000000, "threads": 2, '
    '"socket_errors": {"connect": 0, "read": 1, "write": 0, "timeout": 2}, "status_errors": 40, '
    '"latency_us": {"p50": 70100, "p90": 98000, "p95": 110000, "p99": 143400, "min": 15000, '
    '"max": 574500, "mean": 71600.5, "stdev": 23800.0}, "status_2xx": 1100, "status_3xx": 57, '
    '"status_429": 30, "status_4xx": 6, "status_5xx": 4, "status_other": 0, "cache_hit": 700, '
    '"cache_miss": 400}'
)


def test_parse_wrk_reads_the_result_line_in_milliseconds():
    output = "Running 10s test @ http://127.0.0.1:5000\n  2 threads\n" + WRK_LINE + "\n"
    figures = load.parse_wrk(output)
    assert figures["requests"] == 1200
    assert figures["rps"] == 120.0
    assert figures["latency"]["p50_ms"] == 70.1
    assert figures["latency"]["p95_ms"] == 110.0
    assert figures["latency"]["max_ms"] == 574.5
    assert figures["statuses"] == {
        "2xx": 1100,
        "3xx": 57,
        "429": 30,
        "4xx": 6,
        "5xx": 4,
        "other": 0,
    }
    # Errors are 5xx and socket errors; rate-limited and other 4xx answers are not.
    assert figures["errors"] == 4 + 1 + 2
    assert figures["cache"] == {"hit": 700, "miss": 400}


def test_parse_wrk_without_a_result_line_says_so():
    with pytest.raises(ValueError, match="LOAD-RESULT"):
        load.parse_wrk("unable to connect to 127.0.0.1:5000 Connection refused\n")


RECORDS = {
    "listings": [f"YNQ-GP-2024-{n:06d}" for n in range(300)],
    "trades": [f"YNQ-JY-2024-{n:06d}" for n in range(300)],
    "usccs": [f"91410100{n:010d}" for n in range(200)],
    "names": ["郑州黄淮水泥", "洛阳 化工 有限公司"],
    "years": [2023, 2024],
    "announcements": [5, 6, 7],
}


def test_url_mix_follows_the_shares_and_classifies_back():
    urls = load.url_mix(RECORDS, size=20000)
    assert urls == load.url_mix(RECORDS, size=20000)  # same records and seed, same list
    kinds: dict[str, int] = {}
    for path in urls:
        kinds[load.path_kind(path)] = kinds.get(load.path_kind(path), 0) + 1
    assert set(kinds) == set(load.MIX)
    for kind, share in load.MIX.items():
        assert abs(100 * kinds[kind] / len(urls) - share) < 1.5, kind
    assert "/compliance/2024?status=non_compliant" in urls
    assert "/search?q=" + quote("洛阳 化工 有限公司") in urls
    assert all(path.startswith("/") and " " not in path for path in urls)


def test_url_mix_gives_an_empty_kind_s_share_to_the_others():
    urls = load.url_mix({**RECORDS, "years": []}, size=5000)
    assert not any(load.path_kind(path) == "compliance" for path in urls)
    assert len(urls) == 5000


def test_read_server_log_takes_the_access_lines_and_the_errors():
    lines = [
        "[2026-12-01 08:00:41 +0000] [25520] [INFO] Starting gunicorn 27.0.1",
        "WARNING: RATELIMIT_STORAGE_URI is memory:// under gunicorn",
        *(
            json.dumps(
                {
                    "level": "INFO",
                    "logger": "portal.access",
                    "message": "GET /x 200",
                    "status": 200,
                    "ms": ms,
                    "endpoint": "disclosure.listings",
                }
            )
            for ms in (10, 20, 30, 40, 100)
        ),
        json.dumps(
            {
                "level": "INFO",
                "logger": "portal.access",
                "message": "GET /y 500",
                "status": 500,
                "ms": 5,
                "endpoint": "search.results",
            }
        ),
        json.dumps({"level": "ERROR", "logger": "portal", "message": "Exception on /y [GET]"}),
        "[2026-12-01 08:01:00 +0000] [25520] [CRITICAL] WORKER TIMEOUT (pid:25571)",
        "not json {",
    ]
    figures = load.read_server_log("\n".join(lines))
    listings = figures["server_ms_by_endpoint"]["disclosure.listings"]
    assert listings == {"requests": 5, "p50_ms": 30.0, "p95_ms": 88.0, "statuses": {"200": 5}}
    assert figures["server_ms_by_endpoint"]["search.results"]["statuses"] == {"500": 1}
    assert list(figures["server_ms_by_endpoint"])[0] == "disclosure.listings"  # busiest first
    assert figures["worker_timeouts"] == 1
    assert figures["error_lines"] == 2
    assert figures["first_errors"][0] == "Exception on /y [GET]"


class _Answers(BaseHTTPRequestHandler):
    """Answers each path with the status it names: /200, /302, /404, /429, /500."""

    def do_GET(self):
        status = int(self.path.strip("/"))
        self.send_response(status)
        if status == 200:
            self.send_header("X-Cache", "hit")
        self.send_header("Content-Length", "2")
        self.send_header("Connection", "close")
        try:
            self.end_headers()
            self.wfile.write(b"ok")
        except OSError:  # wrk closes its connections when its time is up
            pass

    def log_message(self, *args):
        pass


needs_wrk = pytest.mark.skipif(
    shutil.which("wrk") is None, reason="wrk is not installed (make load-deps)"
)


def run_script(tmp_path) -> dict:
    """bench/load.lua for one second, four connections, against a server of fixed answers."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    urls = tmp_path / "urls.txt"
    urls.write_text("/200\n/302\n/404\n/429\n/500\n", encoding="utf-8")
    address = f"http://127.0.0.1:{server.server_address[1]}"
    command = ["wrk", "-t", "2", "-c", "4", "-d", "1s", "-s", str(load.SCRIPT), address]
    try:
        done = subprocess.run(
            [*command, "--", str(urls)],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
    finally:
        server.shutdown()
        server.server_close()
    return load.parse_wrk(done.stdout)


@needs_wrk
def test_the_wrk_script_counts_each_status_class(tmp_path):
    figures = run_script(tmp_path)
    statuses = figures["statuses"]
    assert figures["requests"] > 50
    assert all(statuses[name] > 0 for name in ("2xx", "3xx", "4xx", "429", "5xx"))
    assert sum(statuses.values()) == figures["requests"]
    assert figures["errors"] == statuses["5xx"] + sum(figures["socket_errors"].values())
    assert figures["cache"]["hit"] == statuses["2xx"]


def test_stat_cpu_ticks_adds_user_and_system_time():
    # A command name with a space and a parenthesis must not shift the fields.
    stat = "4242 (gunicorn: w (1)) S 4200 4200 4200 0 -1 4194560 900 0 0 0 731 129 0 0 20 0 1 0"
    assert load.stat_cpu_ticks(stat) == 731 + 129


def test_stat_cpu_ticks_of_this_process_matches_os_times():
    with open(f"/proc/{os.getpid()}/stat") as stat:
        ticks = load.stat_cpu_ticks(stat.read())
    times = os.times()
    assert abs(ticks - (times.user + times.system) * os.sysconf("SC_CLK_TCK")) <= 2


def test_results_markdown_shows_each_database_and_says_why_one_was_skipped():
    run = load.parse_wrk(WRK_LINE)
    run.update(
        gunicorn={"workers": 5, "worker_class": "sync", "threads": 1},
        app_cpu_ms_per_request=8.5,
        load_average_before=[1.7, 2.0, 2.1],
        load_average_after=[3.2, 2.4, 2.2],
        goal={"met": False},
        server_log=load.read_server_log(""),
    )
    results = {
        "when": "2026-12-01 08:26:40",
        "machine": {"cpu": "AMD EPYC", "cores": 2},
        "settings": {
            "users": 200,
            "seconds": 60,
            "scale": 100000,
            "wrk_threads": 2,
            "timeout": "10s",
        },
        "runs": {"sqlite": run, "postgresql": {"skipped": "unreachable: connection refused"}},
    }
    text = load.results_markdown(results)
    assert "| | sqlite |" in text
    assert "| p95 ms | 110.0 |" in text
    assert "| 429 (rate limited) | 30 |" in text
    assert "| **errors** | **7** |" in text
    assert "| load average before → after (1 min) | 1.7 → 3.2 |" in text
    assert "postgresql: skipped — unreachable: connection refused" in text


def test_an_unreachable_postgresql_is_reported_not_raised():
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    problem = load.ensure_pg_database(f"postgresql+psycopg://postgres@127.0.0.1:{port}/bench_x")
    assert problem and "OperationalError" in problem


def test_workers_share_redis_when_it_answers_and_keep_their_own_when_not():
    assert load.shared_state("") == {}
    assert load.shared_state("redis://127.0.0.1:1") == {}
    try:
        load.redis.Redis.from_url("redis://127.0.0.1:6379", socket_timeout=2).ping()
    except load.redis.RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    assert load.shared_state("redis://127.0.0.1:6379") == {
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/14",
        "CACHE_REDIS_URL": "redis://127.0.0.1:6379/15",
    }
