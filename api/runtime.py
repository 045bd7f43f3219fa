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
from security.ledger.checkpoint import key_id, parse_public_key
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


LEDGER_KEYS_REQUIRED = (
    "REGISTRY_LEDGER_VERIFIER_KEY or REGISTRY_LEDGER_SIGNING_KEY (or _FILE) is required "
    "when REGISTRY_ENV=production"
)


def _signing_key_configured(settings: Settings) -> bool:
    return settings.ledger_signing_key is not None or settings.ledger_signing_key_file is not None


def configured_verifier_key(settings: Settings) -> str | None:
    """REGISTRY_LEDGER_VERIFIER_KEY, checked: a signed-note Ed25519 verifier key
    (``<origin>+<key id>+<base64 key>``, as ``registry checkpoint`` prints it) for this
    ledger's origin; None when not set."""
    text = (settings.ledger_verifier_key or "").strip()
    if not text:
        return None
    setting = "REGISTRY_LEDGER_VERIFIER_KEY"
    try:
        name, raw = parse_public_key(text)
    except CheckpointError as error:
        raise ConfigurationError(f"{setting}: {error}") from error
    if name is None:
        raise ConfigurationError(
            f"{setting}: expected the verifier key as `registry checkpoint` prints it "
            "(<origin>+<key id>+<key>), not a bare public key"
        )
    if text.split("+")[1] != key_id(name, raw).hex():
        raise ConfigurationError(f"{setting}: its key id does not match its key")
    if name != settings.ledger_origin:
        raise ConfigurationError(
            f"{setting}: the key is for origin {name!r}, the ledger's origin "
            f"(REGISTRY_LEDGER_ORIGIN) is {settings.ledger_origin!r}"
        )
    return text


def check_ledger_keys(settings: Settings) -> None:
    """What an API process needs to vouch for checkpoints: in production, the verifier key or
    the signing key; a configured verifier key must be well formed (one-line error otherwise)."""
    verifier = configured_verifier_key(settings)
    if settings.env == "production" and verifier is None and not _signing_key_configured(settings):
        raise ConfigurationError(LEDGER_KEYS_REQUIRED)


def ledger_signer(settings: Settings) -> CheckpointSigner:
    """The key that signs ledger checkpoints (a development key in var/ outside production).

    When REGISTRY_LEDGER_VERIFIER_KEY is set too, it must be this key's verifier key."""
    environ = {"REGISTRY_ENV": settings.env, "REGISTRY_LEDGER_ORIGIN": settings.ledger_origin}
    if settings.ledger_signing_key is not None:
        environ["REGISTRY_LEDGER_SIGNING_KEY"] = settings.ledger_signing_key.get_secret_value()
    if settings.ledger_signing_key_file is not None:
        environ["REGISTRY_LEDGER_SIGNING_KEY_FILE"] = str(settings.ledger_signing_key_file)
    verifier = configured_verifier_key(settings)
    try:
        signer = load_signer(environ)
    except CheckpointError as error:
        raise ConfigurationError(str(error)) from error
    if verifier is not None and signer.verifier_key() != verifier:
        raise ConfigurationError(
            "REGISTRY_LEDGER_VERIFIER_KEY: not the verifier key of the ledger signing key "
            "(REGISTRY_LEDGER_SIGNING_KEY or _FILE)"
        )
    return signer


def audit_ledger(settings: Settings) -> AuditLedger:
    """The ledger on the configured store (reads stored bytes; holds no data keys).

    With REGISTRY_LEDGER_VERIFIER_KEY set and no signing key configured, the private key is
    not loaded at all: the ledger serves checkpoints and proofs (what the API does) but signs
    nothing. Otherwise the signer is loaded (``registry checkpoint`` signs with it)."""
    check_ledger_keys(settings)
    verifier = configured_verifier_key(settings)
    signer = None
    if verifier is None or _signing_key_configured(settings):
        signer = ledger_signer(settings)
    return AuditLedger(storage_env(settings.database_url), signer)


def ledger_verifier_key(settings: Settings, ledger: AuditLedger) -> str | None:
    """The verifier key served with checkpoints and proofs: REGISTRY_LEDGER_VERIFIER_KEY when
    set, else the verifier key of the ledger's signer (None when it has none)."""
    verifier = configured_verifier_key(settings)
    if verifier is not None:
        return verifier
    return None if ledger.signer is None else ledger.signer.verifier_key()


def ledger_keeper(settings: Settings) -> LedgerKeeper:
    """The thread that keeps the ledger current in the process that follows the log."""
    return LedgerKeeper(
        storage_env(settings.database_url),
        ledger_signer(settings),
        interval=settings.ledger_interval,
    )


def build_http_app(settings: Settings) -> FastAPI:
    """The HTTP app on a freshly built registry (used by `registry serve`).

    In production, development secrets and missing ledger keys are refused before the
    registry is built (before storage is opened)."""
    from api.app import create_app
    from api.hardening import check_production_secrets

    # Refuse bad secrets before anything opens storage (one-line ConfigurationError).
    check_production_secrets(settings)
    check_ledger_keys(settings)
    verifier = token_verifier(settings)
    return create_app(settings, verifier, build_registry(settings))
