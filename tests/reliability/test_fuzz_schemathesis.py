"""schemathesis in GraphQL mode against the running schema: no 5xx, every error typed.

The schema is loaded by introspection from the ASGI app of the ``api`` fixture (a real backend,
the embedded view follower running) with ``schemathesis.graphql.from_asgi``; each query and
mutation field is one schemathesis operation, whose generated documents (arguments and
selection sets from the introspected types) are sent through the app with an HRO bearer token
(another role's mutations answer FORBIDDEN, which is typed). Checks: schemathesis'
``not_a_server_error`` (no 5xx, no GraphQL ``errors`` without ``data`` caused by a crash), plus
ours: each error has a typed ``extensions.code``, never INTERNAL.

Why ``not_a_server_error`` alone is not the verdict: in GraphQL mode schemathesis 4
(specs/graphql/validation.py) calls every error that carries a ``path`` (raised by a resolver)
a "GraphQL server error" unless its ``extensions.code`` is one of Apollo's client markers
(BAD_USER_INPUT, GRAPHQL_VALIDATION_FAILED, ...). The registry answers a refused command from
its resolver with its own typed codes (NOT_FOUND for a random id, VALIDATION, RULE_VIOLATION,
FORBIDDEN), which schemathesis cannot tell from a crash. So the check is run, and its failure
is accepted only when the response is below 500 and every error is typed (never INTERNAL);
a 5xx, an untyped error or a failure without GraphQL errors still fails the test.

A store seeded with the scenario story makes some generated reads find real records; the
generated ids themselves are random strings (NOT_FOUND), the id-aware fuzzing of every mutation is
test_fuzz_mutations.py.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok

from tests.api.conftest import Api
from tests.api.scenario import tell

pytestmark = pytest.mark.slow

TYPED = {"VALIDATION", "RULE_VIOLATION", "NOT_FOUND", "CONFLICT", "FORBIDDEN", "UNAVAILABLE"}
EXAMPLES = {"sqlite": 8, "postgres": 3}


def test_schemathesis_graphql_finds_no_server_error_and_no_untyped_error(api: Api) -> None:
    tell(api)
    headers = {"Authorization": f"Bearer {api.token('human_rights_officer')}"}
    schema = schemathesis.graphql.from_asgi("/graphql", api.client.app, headers=headers)
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results), [r for r in results if not isinstance(r, Ok)]
    labels = {op.label for op in operations}
    assert any(label.startswith("Mutation.") for label in labels), labels
    assert any(label.startswith("Query.") for label in labels), labels
    calls = 0

    for operation in operations:

        @settings(
            max_examples=EXAMPLES[api.backend.name],
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            nonlocal calls
            response = case.call(headers=headers)
            calls += 1
            assert response.status_code < 500, (case.body, response.text)
            errors = response.json().get("errors") or []
            for error in errors:
                assert (error.get("extensions") or {}).get("code") in TYPED, (case.body, error)
            try:
                case.validate_response(response, checks=[not_a_server_error])
            except FailureGroup:
                # schemathesis counts any error with a path (a resolver's) as a server error;
                # ours are the registry's typed answers (checked above), so only a 5xx fails.
                if not errors:
                    raise

        check()
    assert calls >= len(operations)
