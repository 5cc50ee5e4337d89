"""Input that no view should ever see: ids past 32 bits in the URL, and NUL anywhere in a request.

An id in a path fits a 32-bit signed integer (PostgreSQL's `integer`), so a larger one is a 404
decided by the router, before any query: SQLite refuses integers past 64 bits and PostgreSQL
refuses them past 32, and either would otherwise end as a 500. NUL can never be valid text
(PostgreSQL cannot store it in a text column), so a request that carries one in its path, query or
form is a 400 with a clear page before any view runs.
"""

from __future__ import annotations

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter

from portal.i18n import lazy_gettext as _l

# The largest id of an `integer` column (PostgreSQL) and the largest page number we read.
MAX_ID = 2**31 - 1


class BoundedIntegerConverter(IntegerConverter):
    """Werkzeug's `int` converter with a default maximum of 2**31 - 1 (`<int:id>` stays as it is)."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def _contains_nul(values) -> bool:
    return any("\x00" in key or "\x00" in str(value) for key, value in values.items(multi=True))


def refuse_nul() -> None:
    """Answer 400 when the path, the query or the form holds a NUL character."""
    if (
        "\x00" in request.path
        or _contains_nul(request.args)
        or (
            request.method in ("POST", "PUT", "PATCH")
            and (
                _contains_nul(request.form)
                or any("\x00" in (f.filename or "") for f in request.files.values())
            )
        )
    ):
        abort(400, description=_l("请求中含有不允许的控制字符（NUL），请检查输入的内容后重试。"))


def init_app(app: Flask) -> None:
    """Register the bounded `int` converter (before any blueprint adds its rules) and the NUL guard."""
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.before_request(refuse_nul)
