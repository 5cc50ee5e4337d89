"""The OpenAPI 3.1 document, built from the contract (contract.ENDPOINTS and the records).

Built per request: the choices of the filters (divisions, varieties…) and the titles are read in
the request's language, and the server URL is the host the client asked.
"""

from __future__ import annotations

from flask import current_app, url_for

from portal.errors import PROBLEM_MEDIA_TYPE
from portal.i18n import gettext as _
from portal.opendata.contract import ENDPOINTS, Endpoint, Record

# The API's version: docs/api.md keeps its changelog. v1 stays compatible from 1.1.0 on.
API_VERSION = "1.3.0"


def _problem_schema() -> dict:
    return {
        "type": "object",
        "description": _("RFC 9457 问题详情：所有错误都用这一种格式"),
        "required": ["type", "title", "status", "detail", "instance"],
        "properties": {
            "type": {"type": "string", "format": "uri", "description": "about:blank"},
            "title": {"type": "string", "description": _("状态的名称（随请求语言）")},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string", "description": _("这一次错误的说明")},
            "instance": {"type": "string", "format": "uri-reference"},
            "invalid_params": {
                "type": "array",
                "description": _("有误的查询参数及原因（仅 400）"),
                "items": {
                    "type": "object",
                    "required": ["name", "reason"],
                    "properties": {"name": {"type": "string"}, "reason": {"type": "string"}},
                },
            },
        },
    }


def _page_schema(record: Record) -> dict:
    return {
        "type": "object",
        "description": _("一页%(name)s", name=record.name),
        "required": [
            "count",
            "count_is_lower_bound",
            "page",
            "per_page",
            "next",
            "previous",
            "results",
        ],
        "additionalProperties": False,
        "properties": {
            "count": {
                "type": "integer",
                "minimum": 0,
                "description": _("符合条件的条数，最多数到 10,000"),
            },
            "count_is_lower_bound": {
                "type": "boolean",
                "description": _("true：实际条数超过 count（计数在 10,000 处封顶）"),
            },
            "page": {
                "type": ["integer", "null"],
                "minimum": 1,
                "description": _("页码；null：这一页由游标取得"),
            },
            "per_page": {"type": "integer", "minimum": 1},
            "next": {
                "type": ["string", "null"],
                "format": "uri",
                "description": _("下一页；null：已是最后一页"),
            },
            "previous": {
                "type": ["string", "null"],
                "format": "uri",
                "description": _("上一页；null：已是第一页"),
            },
            "results": {"type": "array", "items": {"$ref": f"#/components/schemas/{record.name}"}},
        },
    }


def _headers() -> dict:
    integer = {"type": "integer", "minimum": 0}
    return {
        "ETag": {
            "description": _("响应内容的实体标签；带 If-None-Match 再次请求，未变化时得到 304"),
            "required": True,
            "schema": {"type": "string"},
        },
        "Last-Modified": {
            "description": _("单条记录的最后修改时间（有记录时）"),
            "schema": {"type": "string"},
        },
        "Cache-Control": {"required": True, "schema": {"type": "string"}},
        "Link": {
            "description": _("RFC 8288 链接：first、prev、next，以及计数未封顶时的 last"),
            "required": True,
            "schema": {"type": "string"},
        },
        "X-Total-Count": {
            "description": _("符合条件的条数，最多数到 10,000"),
            "required": True,
            "schema": integer,
        },
        "X-Total-Count-Capped": {
            "description": _("true：实际条数超过 X-Total-Count"),
            "required": True,
            "schema": {"type": "string", "enum": ["true", "false"]},
        },
        "X-RateLimit-Limit": {"description": _("本窗口内允许的请求数"), "schema": integer},
        "X-RateLimit-Remaining": {"description": _("本窗口内剩余的请求数"), "schema": integer},
        "X-RateLimit-Reset": {"description": _("本窗口结束的 Unix 时间"), "schema": integer},
        "Retry-After": {
            "description": _("多少秒后可以再试"),
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        },
    }


def _error(text: str, headers: tuple[str, ...] = ()) -> dict:
    out = {
        "description": text,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if headers:
        out["headers"] = {h: {"$ref": f"#/components/headers/{h}"} for h in headers}
    return out


ERRORS = {
    400: "BadRequest",
    404: "NotFound",
    429: "TooManyRequests",
    500: "ServerError",
}


def _operation(endpoint: Endpoint) -> dict:
    headers = [
        "ETag",
        "Cache-Control",
        "X-RateLimit-Limit",
        "X-RateLimit-Remaining",
        "X-RateLimit-Reset",
    ]
    if endpoint.paged or endpoint.operation_id == "search_records":
        headers += ["Link", "X-Total-Count", "X-Total-Count-Capped"]
    if endpoint.path_parameters:
        headers.append("Last-Modified")
    if endpoint.raw_schema is not None:
        schema = endpoint.raw_schema
    elif endpoint.paged:
        schema = {"$ref": f"#/components/schemas/{endpoint.response.name}Page"}
    else:
        schema = {"$ref": f"#/components/schemas/{endpoint.response.name}"}
    responses = {
        "200": {
            "description": _("成功"),
            "headers": {h: {"$ref": f"#/components/headers/{h}"} for h in headers},
            "content": {"application/json": {"schema": schema}},
        }
    }
    if endpoint.conditional:
        responses["304"] = {
            "description": _(
                "未修改：If-None-Match 与 ETag 相同，或 If-Modified-Since 不早于 Last-Modified"
            ),
        }
    for code in endpoint.errors:
        responses[str(code)] = {"$ref": f"#/components/responses/{ERRORS[code]}"}
    return {
        "operationId": endpoint.operation_id,
        "summary": str(endpoint.summary),
        "description": str(endpoint.description),
        "tags": [endpoint.tag],
        "parameters": [p.openapi() for p in [*endpoint.path_parameters, *endpoint.parameters()]],
        "responses": responses,
    }


def _schemas() -> dict:
    schemas: dict = {"Problem": _problem_schema()}
    for endpoint in ENDPOINTS:
        record = endpoint.response
        if record is None:
            continue
        for found in (record, *record.nested()):
            schemas.setdefault(found.name, found.schema())
        if endpoint.paged:
            schemas.setdefault(f"{record.name}Page", _page_schema(record))
    return schemas


def openapi_document() -> dict:
    """The whole document, in the request's language."""
    limit = current_app.config["API_RATE_LIMIT"]
    paths: dict = {}
    for endpoint in ENDPOINTS:
        paths.setdefault(endpoint.path, {})["get"] = _operation(endpoint)
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": _("%(site)s 开放数据接口", site=current_app.config["SITE_NAME"]),
            "version": API_VERSION,
            "summary": _("挂牌、成交、履约、公告、公示、参与单位、市场统计和搜索，只读 JSON。"),
            "description": _(
                "只读、无需登录、不用 Cookie，允许任何来源跨域读取（CORS）。"
                "每个来源地址的请求数限额为 %(limit)s，超出时返回 429 和 Retry-After。"
                "数量是带 4 位小数的字符串，价格和金额是带 2 位小数的字符串；null 表示“未报送”或“不适用”，与零不同。"
                "列表的计数最多数到 10,000；更深的页沿 next 链接（游标）翻页。"
                "说明页：%(docs)s",
                limit=limit,
                docs=url_for("opendata.docs", _external=True),
            ),
            "license": {"name": "CC BY 4.0", "identifier": "CC-BY-4.0"},
            "contact": {"email": current_app.config["SITE_CONTACT_EMAIL"]},
        },
        "servers": [{"url": url_for("opendata.index", _external=True).rstrip("/")}],
        "tags": [
            {"name": "market", "description": _("挂牌、成交与市场统计")},
            {"name": "compliance", "description": _("履约名单")},
            {"name": "announcements", "description": _("公告与公示")},
            {"name": "enterprises", "description": _("参与单位")},
            {"name": "search", "description": _("全站搜索")},
            {"name": "meta", "description": _("文档与代码表")},
        ],
        "paths": paths,
        "components": {
            "schemas": _schemas(),
            "headers": _headers(),
            "responses": {
                "BadRequest": _error(_("参数有误：问题详情的 invalid_params 逐项说明")),
                "NotFound": _error(_("没有这条记录、这一页或这个地址")),
                "TooManyRequests": _error(_("超出请求数限额"), headers=("Retry-After",)),
                "ServerError": _error(_("服务器出错")),
            },
        },
    }
