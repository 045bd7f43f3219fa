"""The projection worker SIGKILLed mid-batch resumes with no duplicate and no gap.

A backlog of events is stored first; `registry projections run` is killed several times while
it projects it, then run to the end. The views must answer exactly as a rebuild from the log.
"""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import build_registry
from domain.actors import RECORDER, Actor, acting_as
from projections.rebuild import rebuild_all
from projections.store import ViewStore
from security.tokens import TokenVerifier
from tests.backends import postgres_backend
from tests.reliability.servers import ISSUER, issuer, registry_env, start_worker

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(600)]

PARTNERS = 30
CONTACTS = 20
KILLS = 4

EVERYTHING = """{ partners(first: 100) { edges { node { id name version status
  contactPersons { name } } } } }"""


def test_a_worker_killed_mid_batch_resumes_without_duplicates_or_gaps(tmp_path: Path) -> None:
    with postgres_backend() as backend:
        settings = backend.settings(projection_mode="worker", signing_key_file=tmp_path / "k.pem")
        registry = build_registry(settings)
        try:
            with acting_as(Actor("backlog-recorder", RECORDER)):
                for p in range(PARTNERS):
                    partner = registry.register_partner(f"Partner {p:03}", "local CSO", "local").id
                    for c in range(CONTACTS):
                        registry.add_contact_person(partner, f"Contact {p}-{c}")
            head = registry.max_position()
            tokens, key_file = issuer(tmp_path)
            env = registry_env(backend, key_file, REGISTRY_PROJECTION_MODE="worker")
            store = ViewStore.for_application(registry)
            rng = random.Random(7)
            kills = 0
            positions: list[int] = []
            deadline = time.monotonic() + 120
            while kills < KILLS and time.monotonic() < deadline:
                worker = start_worker(env, tmp_path / "worker.log")
                time.sleep(rng.uniform(0.8, 2.0))  # startup, then somewhere inside a batch
                worker.send_signal(signal.SIGKILL)
                worker.wait(timeout=10)
                kills += 1
                positions.append(_position(store, registry.name))
                if positions[-1] >= head:
                    break
            worker = start_worker(env, tmp_path / "worker.log")
            try:
                while _position(store, registry.name) < head:
                    assert time.monotonic() < deadline + 60, "the worker did not catch up"
                    assert worker.poll() is None, "the worker died"
                    time.sleep(0.1)
            finally:
                worker.terminate()
                worker.wait(timeout=15)
            print(f"\n[worker kill] {head} events, {kills} SIGKILLs at view positions {positions}")
            verifier = TokenVerifier(tokens.jwks(), ISSUER, ISSUER)
            token = tokens.issue("human_rights_officer", subject="kill-hro")
            with TestClient(create_app(settings, verifier, registry)) as client:
                before = _everything(client, token)
                rebuild_all(app=registry)
                after = _everything(client, token)
        finally:
            registry.close()
    partners = [edge["node"] for edge in before["partners"]["edges"]]
    assert len(partners) == PARTNERS
    for partner in partners:
        names = [c["name"] for c in partner["contactPersons"]]
        assert len(names) == len(set(names)) == CONTACTS, partner["name"]  # no duplicate, no gap
        assert partner["version"] == 1 + CONTACTS
    assert after == before


def _position(store: ViewStore, name: str) -> int:
    try:
        return store.max_tracking_id(name) or 0
    except Exception:  # the worker has not created the views yet
        return 0


def _everything(client: TestClient, token: str) -> Any:
    response = client.post(
        "/graphql", json={"query": EVERYTHING}, headers={"Authorization": f"Bearer {token}"}
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]
