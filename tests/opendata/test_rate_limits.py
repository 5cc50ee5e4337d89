"""The API's rate limit: configurable, one budget for the whole API per address, 429 with
Retry-After as a problem document. The other API tests run with the limit raised."""

from __future__ import annotations

import pytest


@pytest.fixture
def app_config(app_config):
    app_config["API_RATE_LIMIT"] = "3 per minute"
    return app_config


def test_the_fourth_request_in_a_minute_is_a_429_with_retry_after(client, market):
    for path in ("/api/v1/listings", "/api/v1/trades", "/api/v1/reference"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Limit"] == "3"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    refused = client.get("/api/v1/listings")  # another endpoint: the same budget
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"
    assert refused.get_json()["status"] == 429
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 61  # the end of the one-minute window, rounded up
    assert "Retry-After" in refused.headers["Access-Control-Expose-Headers"]
    # The pages are not counted against the API's budget.
    assert client.get("/listings").status_code == 200


def test_another_address_has_its_own_budget(client, market):
    for _ in range(3):
        client.get("/api/v1/listings")
    assert client.get("/api/v1/listings").status_code == 429
    other = client.get("/api/v1/listings", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 200


def test_a_preflight_costs_nothing(client, market):
    for _ in range(5):
        client.options("/api/v1/listings", headers={"Origin": "https://x.example"})
    assert client.get("/api/v1/listings").status_code == 200


def test_the_limit_is_stated_in_the_document(client, market):
    document = client.get("/api/v1/openapi.json").get_json()
    assert "3 per minute" in document["info"]["description"]
    assert "Retry-After" in document["components"]["responses"]["TooManyRequests"]["headers"]
