"""Generated requests against the app's own OpenAPI spec, as an admin: no request may make herald answer 5xx.

Every operation gets a few valid and a few invalid generated requests, derandomized so each run
sends the same ones; a campaign with messages lies behind it so generated ids sometimes hit rows.
(schemathesis's pytest fixture loader does not run on pytest 9, so operations are walked by hand.)
"""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from herald.app import Herald
from herald.server import create_app
from tests.api.conftest import materialized_campaign

MAX_EXAMPLES = 5


def test_no_generated_request_makes_herald_answer_a_server_error(
    herald: Herald, client: TestClient, admin: dict[str, str], manager: dict[str, str]
) -> None:
    materialized_campaign(client, manager)
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(herald))
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(mode))
            @settings(
                max_examples=MAX_EXAMPLES,
                derandomize=True,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def call(case: Any) -> None:
                response = case.call(headers=admin)
                if response.status_code >= 500:
                    failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text}")

            try:
                call()
            except Unsatisfiable:
                # An operation with no inputs (GET /api/v1/me) has nothing to make invalid.
                assert mode is GenerationMode.NEGATIVE, operation.label
    assert failures == []
