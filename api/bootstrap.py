"""The one place that wires the registry: settings -> library environment -> application."""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from api.settings import ConfigurationError, Settings


def library_env(settings: Settings) -> dict[str, str]:
    """The eventsourcing environment for these settings: backend, envelope mapper and cipher."""
    env = storage_env(settings.database_url)
    env.update(
        {
            "MAPPER_TOPIC": "security.envelope:EnvelopeMapper",
            "CIPHER_TOPIC": "security.envelope:EnvelopeCipher",
            "REGISTRY_MASTER_KEY": base64.b64encode(settings.master_key_bytes()).decode(),
            "IS_SNAPSHOTTING_ENABLED": "y",
            "REGISTRY_SNAPSHOT_INTERVAL": str(settings.snapshot_interval),
            "REGISTRY_REVIEW_PERIOD_DAYS": str(settings.review_period_days),
        }
    )
    return env


def storage_env(database_url: str) -> dict[str, str]:
    """Translate REGISTRY_DATABASE_URL into the library's persistence settings.

    PostgreSQL URLs may carry ``?schema=NAME`` (tables in that schema), ``pool_size`` and
    ``max_overflow`` (connections per process, default 5 and 10 more under load).
    """
    parsed = urlparse(database_url)
    if parsed.scheme == "sqlite":
        # sqlite:///relative/path or sqlite:////absolute/path
        raw = (
            unquote(database_url[len("sqlite:///") :])
            if database_url.startswith("sqlite:///")
            else ""
        )
        if not raw:
            raise ConfigurationError(
                f"REGISTRY_DATABASE_URL: {database_url!r} names no file (use sqlite:///path/to/file.db)"
            )
        path = Path(raw)
        path.parent.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "api.sqlite_factory:SQLiteFactory",
            "APPLICATION_RECORDER_TOPIC": "api.sqlite_factory:SQLiteEventRecorder",
            "SQLITE_DBNAME": str(path),
            "SQLITE_LOCK_TIMEOUT": "10",
        }
    if parsed.scheme in ("postgresql", "postgres"):
        query = parse_qs(parsed.query)
        env = {
            "PERSISTENCE_MODULE": "api.postgres_recorder:PostgresFactory",
            "APPLICATION_RECORDER_TOPIC": "api.postgres_recorder:PostgresEventRecorder",
            "POSTGRES_DBNAME": parsed.path.lstrip("/") or "postgres",
            "POSTGRES_HOST": parsed.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parsed.port or 5432),
            "POSTGRES_USER": unquote(parsed.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parsed.password or ""),
            "POSTGRES_CONNECT_TIMEOUT": "5",
            "POSTGRES_POOL_SIZE": query.get("pool_size", ["5"])[0],
            "POSTGRES_MAX_OVERFLOW": query.get("max_overflow", ["10"])[0],
        }
        if "schema" in query:
            env["POSTGRES_SCHEMA"] = query["schema"][0]
        return env
    raise ConfigurationError(
        f"REGISTRY_DATABASE_URL: unsupported scheme {parsed.scheme!r} (use sqlite:/// or postgresql://)"
    )
