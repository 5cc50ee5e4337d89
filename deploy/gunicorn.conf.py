"""gunicorn settings for the portal: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

Every value can be changed from the environment (GUNICORN_*), so the systemd unit and a container
use the same file. See docs/operations.md.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: the portal is CPU-bound rendering and short SQL, so one per core, plus one that
# goes on serving while another builds a long export. On 2 cores under 200 users, 5 workers served
# 1,296 requests/s with p95 328 ms; 3 served 1,460/s with p95 283 ms (fewer processes competing
# for the cores with Redis and the kernel's network work). Raise it where requests wait on I/O.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() + 1))
# Threads per worker: more than 1 makes them gthread workers, which keep connections alive and go on
# serving while one thread waits (search reads are serialised per worker: portal/search/engine.py).
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# Long enough for the largest export (a full XLSX or CSV streamed to a slow client).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, so a slow leak cannot grow without bound: rarely, and each at a
# time of its own. A new worker spends seconds warming its search view (3.3-3.6 s at 444,000
# documents, under load) before it serves; at 5,000 requests +/- 500, the five workers of a busy
# server all restarted within the same 3 s, every 20 s, and the requests queued meanwhile.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "100000"))
max_requests_jitter = max_requests // 2
# The app writes its own access line with the request id (portal/logs.py); gunicorn's would repeat it.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# nginx on the same machine sets X-Forwarded-*; PROXY_COUNT=1 makes the app trust one hop.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
# Load the app once in the master, so workers fork with it (less memory, faster starts).
preload_app = True


def post_fork(server, worker):
    """Warm each new worker: open the database pool and the search index before traffic arrives,
    so the first visitor does not pay for it."""
    app = server.app.wsgi()
    with app.app_context():
        from sqlalchemy import text

        from portal.extensions import db
        from portal.search import services as search

        db.engine.dispose()  # never share the master's connections with a worker
        db.session.execute(text("SELECT 1"))
        db.session.remove()
        try:
            search.status(app)
            # The view's facet and date tables, the segmenter and the templates: without this the
            # first search in a new worker took 1.4–7 s at 444,000 documents (docs/search.md).
            server.log.info("search warm in worker %s: %s", worker.pid, search.warm(app))
        except Exception as error:  # noqa: BLE001 — /readyz reports it; the worker still serves
            server.log.warning("search index not ready in worker %s: %s", worker.pid, error)
