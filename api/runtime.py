"""Builds the running registry from settings: the application, its keys, token checks, the HTTP app."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI

from api.bootstrap import library_env, storage_env
from api.settings import ConfigurationError, Settings
from domain.application import PartnershipRegistry
from projections.follower import TrackingWaiter, ViewFollower
from projections.store import ViewStore
from security.envelope import EnvelopeMapper
from security.keys import KeyStore, PersonKeyShredder
from security.ledger import AuditLedger, CheckpointError, CheckpointSigner, load_signer
from security.ledger.keeper import LedgerKeeper
from security.tokens import TokenIssuer, TokenVerifier


def build_registry(settings: Settings) -> PartnershipRegistry:
    """The application on the configured backend, with envelope encryption and erasure wired."""
    registry = PartnershipRegistry(env=library_env(settings))
    registry.person_keys = PersonKeyShredder(key_store(registry))
    return registry


def key_store(registry: PartnershipRegistry) -> KeyStore:
    """The key store the registry's envelope cipher uses (same database as the events)."""
    mapper = registry.mapper
    if not isinstance(mapper, EnvelopeMapper):
        raise ConfigurationError("the registry must run with security.envelope:EnvelopeMapper")
    return mapper.envelope.keys


def token_verifier(settings: Settings) -> TokenVerifier:
    """Verify tokens with the configured JWKS file or URL, else with the local signing key."""
    jwks: dict[str, Any]
    if settings.jwks_file is not None:
        try:
            jwks = json.loads(settings.jwks_file.read_text())
        except (OSError, ValueError) as error:
            raise ConfigurationError(
                f"REGISTRY_JWKS_FILE: cannot read a JWKS from it: {error}"
            ) from error
    elif settings.jwks_url is not None:
        import jwt

        try:
            jwks = jwt.PyJWKClient(settings.jwks_url).fetch_data()
        except jwt.PyJWKClientError as error:
            raise ConfigurationError(
                f"REGISTRY_JWKS_URL: cannot fetch the JWKS: {error}"
            ) from error
    else:
        issuer = TokenIssuer.from_key_file(
            settings.signing_key_file, settings.token_issuer, settings.token_audience
        )
        jwks = issuer.jwks()
    return TokenVerifier(jwks, settings.token_issuer, settings.token_audience)


def view_waiter(settings: Settings, registry: PartnershipRegistry) -> ViewFollower | TrackingWaiter:
    """What a mutation waits on for read-your-writes.

    Embedded mode: a follower inside this process (started by the app's lifespan). Worker mode:
    `registry projections run` follows the log elsewhere; this process polls its position.
    """
    if settings.projects_in_process:
        return ViewFollower(registry)
    return TrackingWaiter(ViewStore.for_application(registry), registry.name)


def ledger_signer(settings: Settings) -> CheckpointSigner:
    """The key that signs ledger checkpoints (a development key in var/ outside production)."""
    environ = {"REGISTRY_ENV": settings.env, "REGISTRY_LEDGER_ORIGIN": settings.ledger_origin}
    if settings.ledger_signing_key is not None:
        environ["REGISTRY_LEDGER_SIGNING_KEY"] = settings.ledger_signing_key.get_secret_value()
    if settings.ledger_signing_key_file is not None:
        environ["REGISTRY_LEDGER_SIGNING_KEY_FILE"] = str(settings.ledger_signing_key_file)
    try:
        return load_signer(environ)
    except CheckpointError as error:
        raise ConfigurationError(str(error)) from error


def audit_ledger(settings: Settings) -> AuditLedger:
    """The ledger on the configured store (reads stored bytes; holds no data keys)."""
    return AuditLedger(storage_env(settings.database_url), ledger_signer(settings))


def ledger_keeper(settings: Settings) -> LedgerKeeper:
    """The thread that keeps the ledger current in the process that follows the log."""
    return LedgerKeeper(
        storage_env(settings.database_url),
        ledger_signer(settings),
        interval=settings.ledger_interval,
    )


def build_http_app(settings: Settings) -> FastAPI:
    """The HTTP app on a freshly built registry (used by `registry serve`)."""
    from api.app import create_app

    return create_app(settings, token_verifier(settings), build_registry(settings))
