"""Peak memory of the XLSX (and CSV) export of 100,000 rows: less than 200 MB above the level of
the process before the export (openpyxl write-only, rows streamed from the database).

Each measurement runs in a fresh process: ru_maxrss is the process's peak resident size, so the
peak before the export (app loaded, one small export done) and after it are read in that process.

Run alone: `python -m bench.export_bench` (BENCH_SCALE, BENCH_DATABASE_URL as in bench/run.py).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time

LIMIT_MB = 200
URLS = ["/trades/export.xlsx", "/listings/export.xlsx", "/trades/export.csv"]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure(url: str, database_url: str) -> dict:
    """In this process: the export's rows, seconds and peak memory above the level before it."""
    from bench.run import bench_app

    app = bench_app(database_url)
    client = app.test_client()
    warm = client.get(url + "?date_from=2099-01-01")  # imports, templates, one empty export
    warm.get_data()
    warm.close()
    before = _peak_mb()
    started = time.perf_counter()
    cpu = time.process_time()
    response = client.get(url)
    size = 0
    for chunk in response.response:
        size += len(chunk)
    response.close()
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu
    after = _peak_mb()
    return {
        "url": url,
        "status": response.status_code,
        "bytes": size,
        "seconds": round(seconds, 1),
        # CPU time of this process: the wall time on a shared machine depends on its neighbours.
        "cpu_seconds": round(cpu_seconds, 1),
        "peak_before_mb": round(before, 1),
        "peak_after_mb": round(after, 1),
        "increase_mb": round(after - before, 1),
        "limit_mb": LIMIT_MB,
    }


def main(results: dict, database_url: str | None = None) -> None:
    from bench.run import prepare_database

    scale = int(os.environ.get("BENCH_SCALE", "100000"))
    url = database_url or prepare_database(scale)
    rows = []
    for export in URLS:
        done = subprocess.run(
            [sys.executable, "-m", "bench.export_bench", "--one", export, url],
            check=True,
            capture_output=True,
            text=True,
        )
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(rows[-1])
    results["exports"] = rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        print(json.dumps(measure(sys.argv[2], sys.argv[3])))
    else:
        found: dict = {}
        main(found)
        print(json.dumps(found, indent=2))
