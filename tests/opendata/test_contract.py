"""The OpenAPI document is valid, covers every route under /api/v1, and the API keeps to it.

schemathesis generates requests from the document and checks every answer against it: no 5xx, a
documented status, content type and headers, a body that matches its schema. The default suite runs
a few examples per operation; `make api-contract` (API_CONTRACT_PROFILE=full) runs at least 100.
"""

from __future__ import annotations

import os

import jsonschema
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis import GenerationMode

from portal.opendata.contract import ENDPOINTS

EXAMPLES = int(
    os.environ.get(
        "API_CONTRACT_EXAMPLES", "100" if os.environ.get("API_CONTRACT_PROFILE") == "full" else "8"
    )
)


def test_the_document_is_valid_openapi_3_1(client, api_records):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    validate(document)  # openapi-spec-validator: raises on any violation


def test_every_api_route_is_in_the_document(app, client, api_records):
    document = client.get("/api/v1/openapi.json").get_json()
    described = {
        f"/api/v1{path}" if path != "/" else "/api/v1/"
        for path, item in document["paths"].items()
        if "get" in item
    }
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("opendata.") and rule.endpoint != "opendata.docs":
            path = rule.rule
            for argument in rule.arguments:
                path = path.replace(f"<int:{argument}>", f"{{{argument}}}")
                path = path.replace(f"<{argument}>", f"{{{argument}}}")
            routes.add(path)
    assert routes == described


def test_each_example_answers_what_the_document_says(client, api_records):
    """Every example on the documentation page, validated against its operation's schema."""
    document = client.get("/api/v1/openapi.json").get_json()
    registry_root = {"components": document["components"]}
    for endpoint in ENDPOINTS:
        operation = document["paths"][endpoint.path]["get"]
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        for url in endpoint.examples:
            response = client.get(url)
            if response.status_code == 404:
                assert str(404) in operation["responses"], url
                continue
            assert response.status_code == 200, (url, response.get_data(as_text=True)[:300])
            jsonschema.validate(
                response.get_json(),
                {**schema, **registry_root},
                format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
                cls=jsonschema.Draft202012Validator,
            )


# schemathesis's own pytest loader (from_fixture) reads a private attribute that pytest 9 removed,
# so each operation is run through its Hypothesis strategy here, with the app from the fixtures.
CASES = [(e.path, GenerationMode.POSITIVE) for e in ENDPOINTS] + [
    # Negative data needs a parameter to break.
    (e.path, GenerationMode.NEGATIVE)
    for e in ENDPOINTS
    if e.takes_parameters
]


@pytest.mark.parametrize(("path", "mode"), CASES, ids=[f"{p} {m.value}" for p, m in CASES])
def test_the_api_keeps_to_its_document(app, api_records, path, mode):
    operation = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)[path]["GET"]
    calls = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        # The app and its records are made once per operation and only read: sharing them
        # between examples is the point.
        suppress_health_check=list(HealthCheck),
        derandomize=os.environ.get("API_CONTRACT_PROFILE") != "full",
        database=None,
    )
    def run(case):
        # Called through WSGI, where no HTTP client undoes a Content-Encoding: ask for none.
        response = case.call_and_validate(headers={"Accept-Encoding": "identity"})
        calls.append(response.status_code)

    run()
    assert calls and all(code < 500 for code in calls)
    # Shown with -s: how many requests each operation got (an enum-only one has few to try).
    print(f"\n{path} {mode.value}: {len(calls)} requests, statuses {sorted(set(calls))}")
