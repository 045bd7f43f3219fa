"""Ledger keys of an API process: the public verifier key (REGISTRY_LEDGER_VERIFIER_KEY) is
enough to serve checkpoints and proofs, the private signing key is then never loaded; in
production one of the two is required, and secrets are refused before storage is opened."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api import runtime
from api.runtime import audit_ledger, build_http_app, check_ledger_keys
from api.settings import DEV_MASTER_KEY_FILE, ConfigurationError, Settings
from security.ledger import CheckpointSigner, verify_proof
from security.tokens import TokenIssuer
from tests.api.conftest import ISSUER, Api, raw
from tests.api.conftest import api as api  # the HTTP fixture on each backend, shared
from tests.api.scenario import register

INCLUSION = """query($e: ID!) { inclusionProof(eventId: $e) {
  json checkpoint { note verifierKey } } }"""
ORIGIN = "partnership-registry/ledger"


def new_signing_key() -> tuple[str, str]:
    """(base64 private key as REGISTRY_LEDGER_SIGNING_KEY reads it, its verifier key)."""
    raw_key = secrets.token_bytes(32)
    signer = CheckpointSigner(Ed25519PrivateKey.from_private_bytes(raw_key), ORIGIN)
    return base64.b64encode(raw_key).decode(), signer.verifier_key()


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty folder: a development key created on the fly would show up in var/."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def production(tmp: Path, **overrides: Any) -> Settings:
    key = tmp / "prod-signing.pem"
    TokenIssuer.from_key_file(key, ISSUER, ISSUER)
    values: dict[str, Any] = {
        "env": "production",
        "database_url": f"sqlite:///{tmp / 'registry.db'}",
        "master_key": base64.b64encode(secrets.token_bytes(32)).decode(),
        "signing_key_file": key,
        "projection_mode": "worker",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def no_storage(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the registry (its storage) is built."""

    def refuse(settings: Settings) -> Any:
        raise AssertionError("storage was opened before the configuration was checked")

    monkeypatch.setattr(runtime, "build_registry", refuse)


def test_an_api_with_only_the_verifier_key_serves_it_and_never_loads_a_private_key(
    api: Api, in_tmp: Path
) -> None:
    signing_key, verifier_key = new_signing_key()
    partner = register(api, "Aweil Women Traders")
    register(api, "Aweil Elders")
    shared: Settings = api.client.app.state.settings  # type: ignore[attr-defined]
    signing = shared.model_copy(update={"ledger_signing_key": SecretStr(signing_key)})
    with audit_ledger(signing) as ledger:  # what `registry checkpoint` does elsewhere
        assert ledger.checkpoint().tree_size > 0
    api_process = production(
        in_tmp,
        database_url=shared.database_url,
        master_key=shared.master_key,
        ledger_verifier_key=verifier_key,
    )
    assert api_process.ledger_signing_key is None
    assert api_process.ledger_signing_key_file is None
    app = build_http_app(api_process)
    issuer = TokenIssuer.from_key_file(in_tmp / "prod-signing.pem", ISSUER, ISSUER)
    try:
        with TestClient(app) as client:
            assert app.state.audit_ledger is not None
            assert app.state.audit_ledger.signer is None  # no private key in this process
            for role, org in (("human_rights_officer", None), ("partner", raw(partner))):
                token = issuer.issue(role, "ops-1", org)
                response = client.post(
                    "/graphql",
                    json={"query": INCLUSION, "variables": {"e": f"{raw(partner)}:1"}},
                    headers={"Authorization": f"Bearer {token}"},
                )
                body = response.json()
                assert "errors" not in body, body
                proof = body["data"]["inclusionProof"]
                assert proof["checkpoint"]["verifierKey"] == verifier_key
                check = verify_proof(verifier_key, proof["checkpoint"]["note"], proof["json"])
                assert check.ok, check.message
    finally:
        app.state.registry.close()
    assert not (in_tmp / "var" / "ledger-signing.key").exists()


def test_production_needs_the_verifier_key_or_the_signing_key(
    in_tmp: Path, no_storage: None
) -> None:
    with pytest.raises(ConfigurationError) as refused:
        build_http_app(production(in_tmp))
    message = str(refused.value)
    assert "REGISTRY_LEDGER_VERIFIER_KEY" in message
    assert "REGISTRY_LEDGER_SIGNING_KEY" in message
    assert "\n" not in message
    signing_key, verifier_key = new_signing_key()
    check_ledger_keys(production(in_tmp, ledger_verifier_key=verifier_key))
    check_ledger_keys(production(in_tmp, ledger_signing_key=signing_key))


def test_production_secrets_are_refused_before_storage_is_opened(
    in_tmp: Path, no_storage: None
) -> None:
    DEV_MASTER_KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
    DEV_MASTER_KEY_FILE.write_text(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
    _signing_key, verifier_key = new_signing_key()
    settings = production(
        in_tmp, master_key=None, master_key_file=DEV_MASTER_KEY_FILE,
        ledger_verifier_key=verifier_key,
    )  # fmt: skip
    with pytest.raises(ConfigurationError, match="REGISTRY_MASTER_KEY_FILE"):
        build_http_app(settings)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("not a key", "base64"),
        (base64.b64encode(secrets.token_bytes(32)).decode(), "bare public key"),
        ("other/origin+00000000+" + base64.b64encode(b"\x01" + bytes(32)).decode(), "key id"),
    ],
)
def test_a_malformed_verifier_key_is_refused_naming_the_setting(
    in_tmp: Path, text: str, why: str
) -> None:
    with pytest.raises(ConfigurationError) as refused:
        check_ledger_keys(production(in_tmp, ledger_verifier_key=text))
    assert str(refused.value).startswith("REGISTRY_LEDGER_VERIFIER_KEY:")
    assert why in str(refused.value)


def test_a_verifier_key_for_another_origin_or_key_is_refused(in_tmp: Path) -> None:
    _signing_key, verifier_key = new_signing_key()
    with pytest.raises(ConfigurationError, match="REGISTRY_LEDGER_ORIGIN"):
        check_ledger_keys(production(in_tmp, ledger_verifier_key=verifier_key, ledger_origin="x"))
    other_signing_key, _other_verifier = new_signing_key()
    mismatched = production(
        in_tmp, ledger_verifier_key=verifier_key, ledger_signing_key=other_signing_key
    )
    with pytest.raises(ConfigurationError, match="not the verifier key of the ledger signing"):
        audit_ledger(mismatched)


def test_outside_production_a_verifier_key_alone_creates_no_development_signing_key(
    in_tmp: Path,
) -> None:
    _signing_key, verifier_key = new_signing_key()
    settings = production(in_tmp, env="development", ledger_verifier_key=verifier_key)
    with audit_ledger(settings) as ledger:
        assert ledger.signer is None
    assert not (in_tmp / "var" / "ledger-signing.key").exists()
    with audit_ledger(production(in_tmp, env="development")) as ledger:
        assert ledger.signer is not None  # without it, the development key as before
    assert (in_tmp / "var" / "ledger-signing.key").exists()
