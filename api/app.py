"""The FastAPI application: health, the caller's identity, GraphQL and exports, on a wired registry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from api.deps import CurrentActor
from api.settings import Settings
from projections.follower import ViewFollower
from security.ledger.keeper import LedgerKeeper
from security.tokens import TokenVerifier


def create_app(
    settings: Settings,
    verifier: TokenVerifier,
    registry: Any,
    views: Any = None,
    ledger: LedgerKeeper | None = None,
) -> FastAPI:
    """Build the HTTP app around an already-wired registry.

    ``views`` is what mutations wait on for read-your-writes (``api.runtime.view_waiter``);
    an embedded ``ViewFollower`` is started and stopped with the app, and so is the ledger
    keeper when this process follows the log (embedded mode).
    """
    from api.runtime import ledger_keeper, view_waiter

    if views is None:
        views = view_waiter(settings, registry)
    if ledger is None and settings.projects_in_process:
        ledger = ledger_keeper(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if isinstance(views, ViewFollower):
            views.start()
        if ledger is not None:
            ledger.start()
        try:
            yield
        finally:
            if ledger is not None:
                ledger.stop()
            if isinstance(views, ViewFollower):
                views.stop()

    app = FastAPI(
        title="Partnership registry",
        lifespan=lifespan,
        docs_url="/docs" if settings.is_development else None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.is_development else None,
    )
    app.state.settings = settings
    app.state.token_verifier = verifier
    app.state.registry = registry
    app.state.views = views
    app.state.ledger = ledger

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

    from api.exports import exports_router
    from api.graphql.router import mount_graphql

    mount_graphql(app, settings)
    app.include_router(exports_router)
    from api.observability import install_observability

    install_observability(app, settings, registry, views)
    return app
