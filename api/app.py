"""The FastAPI application: health, the caller's identity, GraphQL and exports, on a wired registry."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from api.deps import CurrentActor
from api.hardening import (
    configure_security,
    graphql_router_options,
    hardening_extensions,
    install_http_hardening,
)
from api.settings import ConfigurationError, Settings
from projections.follower import ViewFollower
from security.access_log import AccessRecorder
from security.ledger.keeper import LedgerKeeper
from security.tokens import TokenVerifier

log = logging.getLogger(__name__)


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
    keeper when this process follows the log (embedded mode), and the access recorder that
    saves the reads of partners' records in batches.

    In production this refuses development secrets (``ConfigurationError`` naming the setting)
    before anything is served, and installs the HTTP and GraphQL hardening.
    """
    from api.runtime import audit_ledger, ledger_keeper, view_waiter

    configure_security(settings)
    if views is None:
        views = view_waiter(settings, registry)
    if ledger is None and settings.projects_in_process:
        ledger = ledger_keeper(settings)

    recorder = AccessRecorder(registry)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if isinstance(views, ViewFollower):
            views.start()
        if ledger is not None:
            ledger.start()
        recorder.start()
        try:
            yield
        finally:
            try:
                recorder.stop()  # saves what is still buffered, before the ledger's last round
            except Exception:
                log.exception("access log: reads left unsaved at shutdown")
            if ledger is not None:
                ledger.stop()
            opened = getattr(app.state, "audit_ledger", None)
            if opened is not None:
                app.state.audit_ledger = None
                opened.close()
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
    app.state.access_recorder = recorder
    app.state.audit_ledger = None
    try:  # now, before threads write: opening creates its tables (SQLite would be locked later)
        app.state.audit_ledger = audit_ledger(settings)
    except ConfigurationError as error:  # proofs unavailable; everything else is served
        log.warning("audit ledger not opened (proofs will fail until configured): %s", error)
    install_http_hardening(app, settings)

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

    from api.exports import exports_router, ledger_router
    from api.graphql.router import mount_graphql
    from api.graphql.schema import build_schema

    schema = build_schema(hardening_extensions(settings))
    mount_graphql(app, settings, schema, graphql_router_options(settings))
    app.include_router(exports_router)
    app.include_router(ledger_router)
    from api.ui import ui_router

    app.include_router(ui_router)  # timeline pages under /ui
    from api.observability import install_observability

    install_observability(app, settings, registry, views)
    return app
