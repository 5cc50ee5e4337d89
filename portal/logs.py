"""Logs: one line per request with its request id, as JSON for a log collector or as text.

The request id is the proxy's `X-Request-ID` when it looks like one (nginx's `$request_id`, a
UUID: letters, digits, `-`, at most 64), else a new one. It is sent back in the response header and
stamped on every log record written while the request runs, so one id finds the access line, the
warnings and the traceback of the same request. `LOG_FORMAT=json` writes JSON lines
(python-json-logger); `text` (the default) writes plain lines for a terminal.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid

from flask import Flask, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

REQUEST_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")
ACCESS = logging.getLogger("portal.access")


class RequestIdFilter(logging.Filter):
    """Stamp `request_id` on every record (empty outside a request, unless given)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = g.get("request_id", "")
        else:  # the response cache's fast path names it itself, outside Flask
            record.request_id = getattr(record, "request_id", "")
        return True


def _handler(fmt: str) -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")
        )
    handler.addFilter(RequestIdFilter())
    return handler


def init_app(app: Flask) -> None:
    fmt = app.config["LOG_FORMAT"]
    if fmt not in ("json", "text"):
        raise RuntimeError(f"LOG_FORMAT must be json or text, not {fmt!r}.")
    root = logging.getLogger("portal")
    if not any(getattr(h, "portal_handler", False) for h in root.handlers):
        handler = _handler(fmt)
        handler.portal_handler = True
        root.addHandler(handler)
        root.setLevel(app.config["LOG_LEVEL"])
    app.logger.addFilter(RequestIdFilter())

    @app.before_request
    def stamp_request():
        offered = request.headers.get("X-Request-ID", "")
        g.request_id = offered if REQUEST_ID.match(offered) else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def log_request(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        if app.config["LOG_REQUESTS"] and request.endpoint != "static":
            ACCESS.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "ms": round(
                        (time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 1
                    ),
                    "endpoint": request.endpoint or "",
                },
            )
        return response
