"""An HTTP client on a real backend: app + embedded follower, tokens minted per role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.graphql import ids
from api.runtime import build_registry
from domain.application import PartnershipRegistry
from projections.follower import ViewFollower
from security.tokens import TokenIssuer, TokenVerifier
from tests.backends import Backend

ISSUER = "partnership-registry"


@dataclass
class Api:
    """Posts GraphQL as one role or another; raises on nothing, returns the JSON body."""

    client: TestClient
    issuer: TokenIssuer
    registry: PartnershipRegistry
    follower: ViewFollower
    backend: Backend

    def token(self, role: str, org: str | None = None, subject: str | None = None) -> str:
        return self.issuer.issue(role, subject=subject or f"test-{role}", organisation_id=org)

    def gql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        role: str = "human_rights_officer",
        org: str | None = None,
        subject: str | None = None,
    ) -> dict[str, Any]:
        response = self.client.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {self.token(role, org, subject)}"},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def data(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        body = self.gql(query, variables, **kw)
        assert "errors" not in body, body["errors"]
        return body["data"]

    def error(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        body = self.gql(query, variables, **kw)
        assert body.get("errors"), body
        return body["errors"][0]


def raw(global_id: str) -> str:
    return ids.split(global_id)[1]


@pytest.fixture
def api(backend: Backend, tmp_path: Path) -> Iterator[Api]:
    settings = backend.settings(signing_key_file=tmp_path / "signing.pem")
    issuer = TokenIssuer.from_key_file(tmp_path / "signing.pem", ISSUER, ISSUER)
    verifier = TokenVerifier(issuer.jwks(), ISSUER, ISSUER)
    registry = build_registry(settings)
    follower = ViewFollower(registry, poll_interval=0.05)
    app = create_app(settings, verifier, registry, follower)
    try:
        with TestClient(app) as client:
            yield Api(client, issuer, registry, follower, backend)
    finally:
        registry.close()
