"""The FastAPI application: health, the caller's identity, and (as it lands) GraphQL and exports."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from api.deps import CurrentActor
from api.settings import Settings
from security.tokens import TokenVerifier


def create_app(settings: Settings, verifier: TokenVerifier, registry: Any = None) -> FastAPI:
    """Build the HTTP app around an already-wired registry runtime."""
    app = FastAPI(
        title="Partnership registry",
        docs_url="/docs" if settings.is_development else None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.is_development else None,
    )
    app.state.settings = settings
    app.state.token_verifier = verifier
    app.state.registry = registry

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/me")
    def me(actor: CurrentActor) -> dict[str, str | None]:
        """The caller's identity, role and (for partners) organisation."""
        return {
            "subject": actor.subject_id,
            "role": actor.role,
            "organisation": actor.organisation_id,
        }

    return app
