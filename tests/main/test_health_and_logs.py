"""Health and readiness endpoints; request ids and structured access logs (portal/health.py,
portal/logs.py)."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy.exc import OperationalError

from portal.extensions import db
from portal.logs import RequestIdFilter, _handler


def test_healthz_answers_without_a_cookie(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_checks_the_database_and_the_search_index(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "search": "ok"}


def test_readyz_is_503_and_names_the_part_when_the_database_fails(client, monkeypatch):
    def broken(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("down"))

    monkeypatch.setattr(db.session, "execute", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["database"] == "unavailable" and response.json["status"] == "unavailable"


def test_a_request_id_is_sent_back_and_a_good_one_from_the_proxy_is_kept(client):
    fresh = client.get("/healthz").headers["X-Request-ID"]
    assert len(fresh) == 32
    kept = client.get("/healthz", headers={"X-Request-ID": "nginx-0123456789abcdef"})
    assert kept.headers["X-Request-ID"] == "nginx-0123456789abcdef"
    forged = client.get("/healthz", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert forged.headers["X-Request-ID"] != "<script>alert(1)</script>"
    assert len(forged.headers["X-Request-ID"]) == 32


@pytest.fixture
def logging_app(app_config):
    from portal import create_app

    app_config["LOG_REQUESTS"] = True
    return create_app(app_config)


def test_each_request_writes_one_access_line_with_its_request_id(logging_app, caplog):
    with caplog.at_level(logging.INFO, logger="portal.access"):
        response = logging_app.test_client().get(
            "/healthz", headers={"X-Request-ID": "req-abcdef012345"}
        )
    lines = [r for r in caplog.records if r.name == "portal.access"]
    assert len(lines) == 1
    assert lines[0].status == 200 and lines[0].path == "/healthz"
    assert lines[0].request_id == "req-abcdef012345" == response.headers["X-Request-ID"]


def test_json_lines_carry_the_fields_a_collector_needs(logging_app):
    record = logging.LogRecord("portal.access", logging.INFO, __file__, 1, "GET %s", ("/",), None)
    record.status = 200
    handler = _handler("json")
    with logging_app.test_request_context("/"):
        from flask import g

        g.request_id = "req-00000000"
        RequestIdFilter().filter(record)
        line = json.loads(handler.format(record))
    assert line["message"] == "GET /" and line["level"] == "INFO"
    assert line["request_id"] == "req-00000000" and line["status"] == 200


def test_an_unknown_log_format_stops_startup(app_config):
    from portal import create_app

    app_config["LOG_FORMAT"] = "xml"
    with pytest.raises(RuntimeError, match="LOG_FORMAT"):
        create_app(app_config)
