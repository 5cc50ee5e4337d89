"""Error pages in the visitor's language; never a bare 500 or a stack trace.

Under a path prefix that a feature registers with `answer_with_problems()` (the JSON API), every
error is an RFC 9457 problem document (application/problem+json) instead of a page: unknown paths
and wrong methods too, which no blueprint's own handler would see.
"""

from __future__ import annotations

import math
import time
from urllib.parse import quote

from flask import Flask, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from portal.extensions import db, limiter
from portal.i18n import gettext as _

PROBLEM_MEDIA_TYPE = "application/problem+json"
# Retry-After when the limiter cannot say when its window ends (it always can with its storages).
DEFAULT_RETRY_AFTER = 60


def titles():
    return {
        400: _("请求有误"),
        403: _("没有访问权限"),
        404: _("页面不存在"),
        405: _("不支持的请求方式"),
        409: _("操作冲突"),
        413: _("文件太大"),
        429: _("请求过于频繁"),
        500: _("服务器出错了"),
    }


def _generic_details():
    """What a program reading the API is told when the view gave no message of its own."""
    return {
        400: _("请求参数有误。"),
        404: _("没有这个地址或记录。接口列表见 /api/v1/openapi.json。"),
        405: _("此地址不接受这种请求方式。"),
        429: _("请求过于频繁，请按 Retry-After 头给出的秒数等待后再试。"),
        500: _("服务器出错了，请稍后再试。"),
    }


def answer_with_problems(app: Flask, prefix: str) -> None:
    """Answer every error under `prefix` (e.g. "/api/") with a problem document, not a page."""
    prefixes = app.extensions.setdefault("problem_json_prefixes", [])
    if prefix not in prefixes:
        prefixes.append(prefix)


def wants_problem() -> bool:
    # "/api" itself belongs to "/api/" too.
    path = request.path if request.path.endswith("/") else request.path + "/"
    return path.startswith(tuple(current_app.extensions.get("problem_json_prefixes", ())))


def problem(code: int, detail: str | None = None, headers: dict | None = None, **members):
    """An RFC 9457 problem document. `type` is about:blank, so `title` is the status's name (here
    in the visitor's language); `members` are extension members such as `invalid_params`."""
    body = {
        "type": "about:blank",
        "title": titles().get(code, _("出错了")),
        "status": code,
        "detail": str(detail) if detail else _generic_details().get(code, _("出错了")),
        # A URI reference: the path as it travels, percent-encoded.
        "instance": quote(request.path.encode("utf-8", "surrogatepass"), safe="/"),
        **members,
    }
    response = jsonify(body)
    response.status_code = code
    response.mimetype = PROBLEM_MEDIA_TYPE
    # An error says something about this moment, not about the resource: no cache keeps it.
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(headers or {})
    return response


def retry_after_seconds() -> int:
    """Seconds until the rate-limit window that refused this request ends (at least 1)."""
    current = limiter.current_limit
    if current is None:
        return DEFAULT_RETRY_AFTER
    return max(1, math.ceil(current.reset_at - time.time()))


def _page(code: int, detail: str | None = None):
    if wants_problem():
        return problem(code, detail), code
    title = titles().get(code, _("出错了"))
    template = "errors/_message.html" if request.htmx else "errors/error.html"
    return render_template(template, code=code, title=title, detail=detail), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _page(400, _("页面已过期或缺少安全令牌（CSRF），请刷新页面后重试。"))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        # Werkzeug's own English descriptions are not shown; our views pass Chinese ones.
        detail = (
            error.description
            if getattr(error, "_portal_detail", False) or _is_ours(error)
            else None
        )
        if error.code == 429:
            # RFC 6585: say when to come back, on the page and in the API alike.
            response, code = _page(error.code, None)
            return response, code, {"Retry-After": str(retry_after_seconds())}
        response, code = _page(error.code, detail)
        if error.code == 405:
            return response, code, {"Allow": ", ".join(error.valid_methods or [])}
        return response, code

    @app.errorhandler(Exception)
    def server_error(error: Exception):
        db.session.rollback()
        app.logger.exception("Unhandled error on %s", request.path)
        return _page(500)

    @app.errorhandler(StaleDataError)
    @app.errorhandler(DBAPIError)
    def write_conflict(error: Exception):
        """Another writer won (wherever it surfaced: flush, commit, view or service): a 409."""
        if not is_write_conflict(error):
            return server_error(error)
        # Nothing of this request was kept: the visitor reloads the page and decides again.
        db.session.rollback()
        app.logger.info("Write conflict on %s: %s", request.path, type(error).__name__)
        return _page(
            409, _("其他人刚刚同时修改了这些数据，您的操作没有保存。请刷新页面查看最新内容后再试。")
        )


# PostgreSQL: serialization_failure and deadlock_detected; the transaction was rolled back.
CONFLICT_SQLSTATES = frozenset({"40001", "40P01"})


def is_write_conflict(error: BaseException) -> bool:
    """Whether a concurrent writer won: the optimistic lock (version_id_col) saw another version,
    PostgreSQL aborted a serialization failure or a deadlock, or SQLite's write lock stayed busy."""
    if isinstance(error, StaleDataError):
        return True
    if not isinstance(error, DBAPIError):
        return False
    original = error.orig
    if getattr(original, "sqlstate", None) in CONFLICT_SQLSTATES:
        return True
    # SQLite: another writer held the database past busy_timeout, or this transaction's snapshot
    # became stale (WAL); both say "database is locked".
    return isinstance(error, OperationalError) and "is locked" in str(original)


def _is_ours(error: HTTPException) -> bool:
    """True when a view gave its own description (Werkzeug's defaults are English boilerplate)."""
    return error.description is not None and error.description != type(error).description
