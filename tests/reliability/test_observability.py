"""Operability endpoints: liveness, readiness against the views' lag, metrics, JSON logs."""

from __future__ import annotations

import json
import logging

import pytest

from api.observability import configure_logging, graphql_operation
from domain.actors import Actor, acting_as
from tests.api.conftest import Api

REGISTER = """mutation($n: String!) { registerPartner(name: $n, kind: "local CSO", scope: "local")
  { id } }"""
RECORDER = Actor("test-recorder", "recorder")


def test_readyz_is_ready_when_the_views_include_the_log(api: Api) -> None:
    api.data(REGISTER, {"n": "Bangui Women's Forum"}, role="recorder")
    response = api.client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert body["lag"] == 0
    assert body["log_position"] == body["views_position"] >= 1


def test_readyz_is_unavailable_when_the_views_lag_beyond_the_setting(api: Api) -> None:
    api.follower.stop()  # nobody projects any more
    with acting_as(RECORDER):
        for index in range(3):
            api.registry.register_partner(f"Partner {index}", "local CSO", "local")
    api.client.app.state.settings.ready_max_lag = 2  # type: ignore[attr-defined]
    response = api.client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "lagging"
    assert response.json()["lag"] == 3


def test_healthz_answers_while_readyz_reports_storage_down(api: Api) -> None:
    def broken() -> int:
        raise OSError("disk gone")

    api.registry.max_position = broken  # type: ignore[method-assign]
    assert api.client.get("/healthz").status_code == 200
    response = api.client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "reason": "storage did not answer"}


def test_metrics_count_latency_by_operation_errors_by_code_lag_and_ledger(api: Api) -> None:
    api.data(REGISTER, {"n": "Juba Youth Network"}, role="recorder")
    api.error('query { partner(id: "nonsense") { id } }')
    text = api.client.get("/metrics").text
    assert (
        'registry_request_duration_seconds_count{operation="mutation registerPartner"} 1.0' in text
    )
    assert (
        'registry_http_responses_total{operation="mutation registerPartner",status="200"} 1.0'
        in text
    )
    assert "registry_graphql_errors_total{code=" in text
    assert "registry_projection_lag_events 0.0" in text
    assert "registry_log_position 1.0" in text
    assert "registry_ledger_tree_size" in text
    assert "registry_conflicts_retried_total 0.0" in text


def test_conflicts_retried_counts_each_rerun_of_a_commuting_command(api: Api) -> None:
    with acting_as(RECORDER):
        partner = api.registry.register_partner("Goma Peace Network", "local CSO", "local").id
    failures = iter([True, True])
    real_save = api.registry._save

    def conflicting_save(*aggregates, **kw):  # type: ignore[no-untyped-def]
        from domain.errors import Conflict

        if next(failures, False):
            raise Conflict("simulated concurrent write")
        return real_save(*aggregates, **kw)

    api.registry._save = conflicting_save  # type: ignore[method-assign]
    with acting_as(RECORDER):
        api.registry.add_contact_person(partner, "A. Person")
    text = api.client.get("/metrics").text
    assert "registry_conflicts_retried_total 2.0" in text


def test_every_log_line_is_json_with_the_request_id(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(api.client.app.state.settings)  # type: ignore[attr-defined]
    response = api.client.post(
        "/graphql",
        json={"query": "{ partners { edges { node { id } } } }"},
        headers={"X-Request-ID": "req-abc-123", "Authorization": f"Bearer {api.token('recorder')}"},
    )
    assert response.status_code == 200
    logging.getLogger("some.library").warning("outside any request")
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]
    assert all("request_id" in r for r in records)
    request_lines = [r for r in records if r.get("event") == "request"]
    assert request_lines[-1]["request_id"] == "req-abc-123"
    assert request_lines[-1]["operation"] == "query partners"
    assert records[-1]["request_id"] is None


def test_operation_labels_stay_bounded_for_unknown_or_garbage_bodies() -> None:
    operations = {"query": frozenset({"partners"}), "mutation": frozenset({"registerPartner"})}
    assert graphql_operation(b"not json", operations) == "graphql unknown"
    assert graphql_operation(b'{"query": "{ hacker1 }"}', operations) == "query unknown"
    assert graphql_operation(b'{"query": "mutation X { registerPartner }"}', operations) == (
        "mutation registerPartner"
    )
