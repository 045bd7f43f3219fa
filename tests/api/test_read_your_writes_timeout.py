"""A change recorded while the views lag says so: UNAVAILABLE, recorded, its log position."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import build_registry
from projections.follower import TrackingWaiter
from projections.store import ViewStore
from security.tokens import TokenIssuer, TokenVerifier
from tests.backends import Backend

ISSUER = "partnership-registry"
REGISTER = """mutation { registerPartner(name: "Lagging Views Forum", kind: "network",
  scope: "local") { id name } }"""


def test_a_recorded_change_the_views_have_not_caught_up_with_is_reported_as_recorded(
    backend: Backend, tmp_path: Path
) -> None:
    settings = backend.settings(
        signing_key_file=tmp_path / "signing.pem", read_your_writes_timeout=0.3
    )
    issuer = TokenIssuer.from_key_file(tmp_path / "signing.pem", ISSUER, ISSUER)
    registry = build_registry(settings)
    store = ViewStore.for_application(registry)
    store.create_table()
    # Worker mode with no worker running: nothing will project the new event.
    waiter = TrackingWaiter(store, registry.name)
    app = create_app(settings, TokenVerifier(issuer.jwks(), ISSUER, ISSUER), registry, waiter)
    try:
        with TestClient(app) as client:
            before = registry.max_position()
            response = client.post(
                "/graphql",
                json={"query": REGISTER},
                headers={"Authorization": f"Bearer {issuer.issue('recorder')}"},
            )
            body = response.json()
            error = body["errors"][0]
            assert error["extensions"]["code"] == "UNAVAILABLE"
            assert error["extensions"]["recorded"] is True
            assert error["extensions"]["position"] == registry.max_position() > before
            assert "do not repeat the change" in error["message"]
            assert "0.3 s" in error["message"]
    finally:
        registry.close()
