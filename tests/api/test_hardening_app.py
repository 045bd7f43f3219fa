"""Hardening as mounted in the registry's own app (REGISTRY_ENV=production), over HTTP."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.hardening import RequestIds
from api.runtime import build_http_app, build_registry
from api.settings import DEV_MASTER_KEY_FILE, ConfigurationError
from api.views import RegistryReader
from projections.follower import ViewFollower
from security.tokens import TokenIssuer, TokenVerifier
from tests.api.conftest import ISSUER
from tests.backends import Backend


def hardened(app: FastAPI) -> bool:
    return any(cast(object, m.cls) is RequestIds for m in app.user_middleware)


@pytest.fixture
def production(backend: Backend, tmp_path: Path) -> Iterator[tuple[TestClient, TokenIssuer]]:
    settings = backend.settings(
        env="production",
        signing_key_file=tmp_path / "signing.pem",
        auth_failure_limit=3,
        ledger_signing_key=base64.b64encode(secrets.token_bytes(32)).decode(),
    )
    issuer = TokenIssuer.from_key_file(tmp_path / "signing.pem", ISSUER, ISSUER)
    registry = build_registry(settings)
    follower = ViewFollower(registry, poll_interval=0.05)
    app = create_app(settings, TokenVerifier(issuer.jwks(), ISSUER, ISSUER), registry, follower)
    assert hardened(app)
    try:
        with TestClient(app) as client:
            yield client, issuer
    finally:
        registry.close()


def bearer(issuer: TokenIssuer, role: str = "human_rights_officer") -> dict[str, str]:
    return {"Authorization": f"Bearer {issuer.issue(role, 'ops-1')}"}


def test_the_app_refuses_introspection_and_suggestions_in_production(
    production: tuple[TestClient, TokenIssuer],
) -> None:
    client, issuer = production
    introspection = client.post(
        "/graphql", json={"query": "{ __schema { types { name } } }"}, headers=bearer(issuer)
    ).json()
    assert introspection.get("data") is None
    misspelt = client.post(
        "/graphql", json={"query": "{ partnerz { totalCount } }"}, headers=bearer(issuer)
    ).json()
    assert misspelt["errors"]
    assert not any("Did you mean" in e["message"] for e in misspelt["errors"])


def test_the_app_serves_no_graphiql_in_production(
    production: tuple[TestClient, TokenIssuer],
) -> None:
    client, issuer = production
    page = client.get("/graphql", headers={"Accept": "text/html", **bearer(issuer)})
    assert "graphiql" not in page.text.lower()


def test_the_app_limits_query_depth(production: tuple[TestClient, TokenIssuer]) -> None:
    client, issuer = production
    nested = "partner { id }"
    for _ in range(12):
        nested = f"partner {{ decisions {{ {nested} }} }}"
    query = f'{{ decision(id: "x") {{ {nested} }} }}'
    body = client.post("/graphql", json={"query": query}, headers=bearer(issuer)).json()
    assert body.get("data") is None
    assert any("depth" in e["message"] for e in body["errors"])


def test_the_app_sends_security_headers_and_request_ids(
    production: tuple[TestClient, TokenIssuer],
) -> None:
    client, issuer = production
    response = client.post("/graphql", json={"query": "{ me { role } }"}, headers=bearer(issuer))
    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert len(response.headers["x-request-id"]) == 16


def test_the_app_throttles_repeated_authentication_failures(
    production: tuple[TestClient, TokenIssuer],
) -> None:
    client, _ = production
    forged = {"Authorization": "Bearer forged"}
    for _ in range(3):
        assert (
            client.post("/graphql", json={"query": "{ me { role } }"}, headers=forged).status_code
            == 401
        )
    throttled = client.post("/graphql", json={"query": "{ me { role } }"}, headers=forged)
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) >= 1


def test_the_app_refuses_oversized_bodies(production: tuple[TestClient, TokenIssuer]) -> None:
    client, issuer = production
    body = {"query": "{ me { role } }", "variables": {"pad": "x" * 2_000_000}}
    assert client.post("/graphql", json=body, headers=bearer(issuer)).status_code == 413


def test_internal_errors_are_masked_with_the_request_id_of_the_response(
    production: tuple[TestClient, TokenIssuer], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, issuer = production

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(RegistryReader, "risk_register", broken)
    response = client.post(
        "/graphql", json={"query": "{ riskRegister { name } }"}, headers=bearer(issuer)
    )
    assert response.status_code == 200
    (error,) = response.json()["errors"]
    assert "hunter2" not in response.text
    assert error["extensions"]["code"] == "INTERNAL"
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    assert response.headers["x-request-id"] in error["message"]


def test_production_refuses_the_development_master_key_before_serving(
    backend: Backend, tmp_path: Path
) -> None:
    settings = backend.settings(
        env="production",
        signing_key_file=tmp_path / "signing.pem",
        master_key=None,
        master_key_file=DEV_MASTER_KEY_FILE,
        ledger_signing_key=base64.b64encode(secrets.token_bytes(32)).decode(),
    )
    TokenIssuer.from_key_file(tmp_path / "signing.pem", ISSUER, ISSUER)
    with pytest.raises(ConfigurationError) as refused:
        build_http_app(settings)  # what `registry serve` runs before uvicorn
    assert "REGISTRY_MASTER_KEY_FILE" in str(refused.value)
    assert "\n" not in str(refused.value)


def test_production_refuses_the_development_signing_key(backend: Backend, tmp_path: Path) -> None:
    settings = backend.settings(
        env="production",
        signing_key_file=Path("var/dev-signing-key.pem"),
        ledger_signing_key=base64.b64encode(secrets.token_bytes(32)).decode(),
    )
    registry = build_registry(settings)
    issuer = TokenIssuer.from_key_file(tmp_path / "other.pem", ISSUER, ISSUER)
    try:
        with pytest.raises(ConfigurationError, match="REGISTRY_SIGNING_KEY_FILE"):
            create_app(settings, TokenVerifier(issuer.jwks(), ISSUER, ISSUER), registry)
    finally:
        registry.close()
