"""Configuration: one pydantic-settings class read from REGISTRY_* environment variables."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./var/registry.db"
DEV_MASTER_KEY_FILE = Path("var/dev-master.key")


class ConfigurationError(Exception):
    """The registry cannot start with this configuration; the message names the setting."""


class Settings(BaseSettings):
    """Every setting the registry reads. Names are the environment variables, prefixed REGISTRY_."""

    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore")

    env: Literal["development", "test", "production"] = Field(
        "development", description="development enables GraphiQL and development keys"
    )
    database_url: str = Field(
        DEFAULT_DATABASE_URL, description="sqlite:///path or postgresql://..."
    )
    master_key: SecretStr | None = Field(None, description="base64 of 32 random bytes")
    master_key_file: Path | None = Field(None, description="file holding the base64 master key")
    host: str = "127.0.0.1"
    port: int = 8000
    review_period_days: int = Field(
        180, ge=1, description="how old a finalised assessment may be for a decision to rely on it"
    )
    snapshot_interval: int = Field(50, ge=1, description="events between aggregate snapshots")
    projection_mode: Literal["auto", "embedded", "worker"] = Field(
        "auto",
        description=(
            "embedded: the server process follows the log; worker: `registry projections run` "
            "does; auto: embedded on SQLite, worker on PostgreSQL"
        ),
    )
    read_your_writes_timeout: float = Field(
        10.0, gt=0, description="seconds a mutation waits for the views to include its events"
    )
    token_issuer: str = Field("partnership-registry", description="expected `iss` of bearer tokens")
    token_audience: str = Field(
        "partnership-registry", description="expected `aud` of bearer tokens"
    )
    jwks_file: Path | None = Field(
        None, description="JWKS file with the token issuer's public keys"
    )
    jwks_url: str | None = Field(
        None, description="the issuer's JWKS document URL (instead of a file)"
    )
    signing_key_file: Path = Field(
        Path("var/dev-signing-key.pem"),
        description="Ed25519 private key `registry token` signs local tokens with (embedded mode)",
    )
    # Hardening (api/hardening.py).
    ledger_signing_key: SecretStr | None = Field(
        None, description="base64 of the raw 32-byte Ed25519 key that signs ledger checkpoints"
    )
    ledger_signing_key_file: Path | None = Field(None, description="file holding that key")
    ledger_verifier_key: str | None = Field(
        None,
        description=(
            "the ledger's public verifier key (as `registry checkpoint` prints it): API processes "
            "serve it with checkpoints and proofs without holding the private signing key"
        ),
    )
    ledger_origin: str = Field(
        "partnership-registry/ledger", description="origin line of signed checkpoints"
    )
    ledger_interval: float = Field(
        1.0, gt=0, description="seconds between ledger integrations in the process that keeps it"
    )
    cors_origins: str = Field(
        "", description="comma-separated origins allowed by CORS; empty: none"
    )
    max_body_bytes: int = Field(1_000_000, ge=1024, description="largest request body accepted")
    max_query_depth: int = Field(12, ge=2, description="deepest GraphQL selection accepted")
    max_aliases: int = Field(30, ge=1, description="most aliases in one GraphQL operation")
    max_tokens: int = Field(4000, ge=100, description="most tokens in one GraphQL document")
    auth_failure_limit: int = Field(
        10, ge=1, description="failed authentications per client before it is throttled"
    )
    auth_failure_window_seconds: int = Field(
        300, ge=1, description="window over which failed authentications are counted"
    )
    # Operability (api/observability.py).
    ready_max_lag: int = Field(
        100, ge=0, description="/readyz fails when the views are more events behind the log"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="level of the JSON log lines on stderr"
    )

    @property
    def is_development(self) -> bool:
        return self.env == "development"

    @property
    def projects_in_process(self) -> bool:
        """Whether the server process itself keeps the views current."""
        if self.projection_mode == "auto":
            return self.database_url.startswith("sqlite")
        return self.projection_mode == "embedded"

    def master_key_bytes(self) -> bytes:
        """The master key, or a one-line error naming the setting when it is missing or bad."""
        if self.master_key is not None:
            return _decode_key(self.master_key.get_secret_value(), "REGISTRY_MASTER_KEY")
        if self.master_key_file is not None:
            try:
                text = self.master_key_file.read_text().strip()
            except OSError as error:
                raise ConfigurationError(
                    f"REGISTRY_MASTER_KEY_FILE: cannot read {self.master_key_file}: {error.strerror}"
                ) from error
            return _decode_key(text, "REGISTRY_MASTER_KEY_FILE")
        if self.env != "production":
            return _decode_key(
                ensure_development_key(DEV_MASTER_KEY_FILE), str(DEV_MASTER_KEY_FILE)
            )
        raise ConfigurationError(
            "REGISTRY_MASTER_KEY (or REGISTRY_MASTER_KEY_FILE) is required when REGISTRY_ENV=production"
        )


def ensure_development_key(path: Path) -> str:
    """Create a development master key file on first use; return its base64 text."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = base64.b64encode(secrets.token_bytes(32)).decode()
    path.write_text(text + "\n")
    path.chmod(0o600)
    return text


def _decode_key(text: str, setting: str) -> bytes:
    try:
        key = base64.b64decode(text, validate=True)
    except ValueError as error:
        raise ConfigurationError(f"{setting}: the master key is not valid base64") from error
    if len(key) != 32:
        raise ConfigurationError(f"{setting}: the master key must be 32 bytes, not {len(key)}")
    return key
