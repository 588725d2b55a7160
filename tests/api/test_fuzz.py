"""API fuzzing with schemathesis against the app's own OpenAPI schema, over real HTTP:
no input, however odd, may produce a 5xx, and responses must match the schema."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)
from tests.api.conftest import Api

from patronage.http.app import create_app
from patronage.storage.db import make_engine

schema = schemathesis.openapi.from_dict(create_app(make_engine("sqlite://")).openapi())


@schema.parametrize()
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: schemathesis.Case, api: Api) -> None:
    api.request("POST", "/members", json={"external_id": "fuzz-member"})  # once; then 409
    admin = {"Authorization": f"Bearer {api.keys['admin']}"}
    response = case.call(base_url=api.base, headers=admin)
    case.validate_response(
        response,
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )
