"""The response cache: a filtered list page uncached and from the warm cache, against hello world.

Two measures on the same database:
- CPU time per request through the test client (no network), cache off and warm;
- requests per second over loopback, each app under gunicorn with the same settings (workers,
  timeout, keep-alive as deploy/gunicorn.conf.py sets them; GUNICORN_WORKERS, default 2), driven
  by a threaded Python client (keep-alive connections) for BENCH_CACHE_SECONDS (default 5) each:
  a hello-world Flask app, the list page with CACHE_ENABLED=0, the list page from the warm cache,
  in BENCH_CACHE_ROUNDS (default 3) interleaved rounds; each figure is the median.
The goal: warm ÷ hello ≥ 0.40. The client runs on the same machine and takes CPU from the
servers alike, so compare the ratios, not the absolute figures, across machines.

`BENCH_ONLY=cache python -m bench.run` (with a small BENCH_SCALE for a quick run), or on its own:
`python -m bench.cache_bench`.
"""

from __future__ import annotations

import http.client
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.run import prepare_database

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LIST_URL = "/trades?variety=energy"
HEADERS = {"Accept-Encoding": "gzip, deflate, br", "Accept": "text/html"}


def cpu_per_request(client, url: str, rounds: int) -> float:
    """Median CPU milliseconds of one request through the whole Flask stack."""
    for _ in range(5):
        client.get(url, headers=HEADERS)
    samples = []
    for _ in range(rounds):
        started = time.process_time()
        client.get(url, headers=HEADERS).get_data()
        samples.append((time.process_time() - started) * 1000)
    return round(statistics.median(samples), 3)


def test_client_figures(url: str, rounds: int) -> dict:
    from portal import create_app

    base = {"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False, "LOG_REQUESTS": False}
    uncached = create_app({**base, "CACHE_ENABLED": False}).test_client()
    cached = create_app({**base, "CACHE_ENABLED": True, "CACHE_REDIS_URL": ""}).test_client()
    hits = cached.get(LIST_URL, headers=HEADERS), cached.get(LIST_URL, headers=HEADERS)
    assert hits[1].headers.get("X-Cache") == "hit", hits[1].headers
    off = cpu_per_request(uncached, LIST_URL, rounds)
    warm = cpu_per_request(cached, LIST_URL, rounds)
    return {
        "url": LIST_URL,
        "cpu_ms_uncached": off,
        "cpu_ms_warm_cache": warm,
        "speedup": round(off / warm, 1) if warm else None,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(target: str, env: dict, port: int) -> subprocess.Popen:
    """gunicorn with the deployment's settings file, on a free loopback port."""
    settings = (
        "gunicorn.conf.py" if target.startswith("wsgi") else "../bench/gunicorn_hello.conf.py"
    )
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        str(ROOT / "deploy" / settings),
        "--bind",
        f"127.0.0.1:{port}",
        target,
    ]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            conn.close()
            return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"gunicorn for {target} did not start")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def load(port: int, path: str, seconds: float, threads: int) -> dict:
    """Requests per second from `threads` clients, each on one keep-alive connection (a new one
    when the server closes it)."""
    done = [0] * threads
    statuses: set[int] = set()
    stop_at = time.perf_counter() + seconds

    def worker(index: int) -> None:
        conn = None
        while time.perf_counter() < stop_at:
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", path, headers=HEADERS)
                response = conn.getresponse()
                response.read()
                statuses.add(response.status)
                done[index] += 1
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()

    # A warm-up request: the cache entry, the worker's pools.
    for _ in range(4):
        warm = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        warm.request("GET", path, headers=HEADERS)
        warm.getresponse().read()
        warm.close()
    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        "rps": round(sum(done) / elapsed, 1),
        "requests": sum(done),
        "statuses": sorted(statuses),
    }


def loopback_figures(url: str) -> dict:
    seconds = float(os.environ.get("BENCH_CACHE_SECONDS", "5"))
    threads = int(os.environ.get("BENCH_CACHE_THREADS", "8"))
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "GUNICORN_WORKERS": os.environ.get("GUNICORN_WORKERS", "2"),
        "RATELIMIT_ENABLED": "0",
        "LOG_REQUESTS": "0",
        "CACHE_REDIS_URL": os.environ.get("BENCH_CACHE_REDIS_URL", ""),
        "PYTHONPATH": str(ROOT),
    }
    runs = {
        "hello_world": ("bench.hello_app:app", {}, "/"),
        "list_uncached": ("wsgi:app", {"CACHE_ENABLED": "0"}, LIST_URL),
        "list_warm_cache": ("wsgi:app", {"CACHE_ENABLED": "1"}, LIST_URL),
    }
    rounds = int(os.environ.get("BENCH_CACHE_ROUNDS", "3"))
    out: dict = {
        "workers": env["GUNICORN_WORKERS"],
        "client_threads": threads,
        "seconds": seconds,
        "rounds": rounds,
    }
    servers = {}
    try:
        for name, (target, extra, path) in runs.items():
            port = free_port()
            servers[name] = (serve(target, {**env, **extra}, port), port, path)
        # Interleaved rounds, so that a burst of load from elsewhere on a shared machine hits
        # every app alike; each figure is the median of its rounds.
        samples: dict[str, list[dict]] = {name: [] for name in runs}
        for _ in range(rounds):
            for name, (_process, port, path) in servers.items():
                samples[name].append(load(port, path, seconds, threads))
    finally:
        for process, _port, _path in servers.values():
            stop(process)
    for name, measured in samples.items():
        rates = [m["rps"] for m in measured]
        out[name] = {
            "rps": statistics.median(rates),
            "rps_each_round": rates,
            "statuses": sorted({s for m in measured for s in m["statuses"]}),
        }
    # Each ratio is the median of the rounds' own ratios: a round's three runs are seconds apart,
    # so they share the machine's load better than three medians do.
    hello = out["hello_world"]["rps_each_round"]

    def ratio(name: str) -> float:
        rounds_ = out[name]["rps_each_round"]
        return round(statistics.median(r / h for r, h in zip(rounds_, hello, strict=True)), 3)

    out["uncached_over_hello"] = ratio("list_uncached")
    out["warm_over_hello"] = ratio("list_warm_cache")
    out["warm_over_uncached"] = round(
        out["list_warm_cache"]["rps"] / max(out["list_uncached"]["rps"], 0.1), 1
    )
    out["goal_warm_over_hello"] = 0.40
    return out


def cache_benchmark(url: str, rounds: int) -> dict:
    return {
        "test_client": test_client_figures(url, rounds),
        "loopback": loopback_figures(url),
    }


def main(results: dict, url: str) -> None:
    rounds = int(os.environ.get("BENCH_REQUESTS", "300"))
    results["cache"] = cache_benchmark(url, rounds)


if __name__ == "__main__":
    import json

    scale = int(os.environ.get("BENCH_SCALE", "2000"))
    out: dict = {}
    main(out, prepare_database(scale))
    print(json.dumps(out, ensure_ascii=False, indent=2))
