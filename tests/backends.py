"""Real backends for tests: an SQLite file in a temporary folder, or a fresh PostgreSQL schema."""

from __future__ import annotations

import base64
import gc
import os
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from api.bootstrap import library_env
from api.settings import Settings
from security.keys import release_key_store

POSTGRES_URL = os.environ.get(
    "REGISTRY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


@dataclass
class Backend:
    """One storage backend a test runs on, with the settings and library env to reach it."""

    name: str
    database_url: str
    master_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    sqlite_path: Path | None = None
    postgres_schema: str | None = None

    def settings(self, **overrides: object) -> Settings:
        values: dict[str, object] = {
            "env": "test",
            "database_url": self.database_url,
            "master_key": base64.b64encode(self.master_key).decode(),
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    def env(self, **overrides: object) -> dict[str, str]:
        return library_env(self.settings(**overrides))


def postgres_unavailable_reason() -> str | None:
    """None when PostgreSQL answers at POSTGRES_URL, otherwise why not."""
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        return f"PostgreSQL at {POSTGRES_URL} did not answer ({error.__class__.__name__}: {error})"
    return None


def require_postgres() -> None:
    """Skip (on a user's machine) or fail (under CI=true) when PostgreSQL is unreachable."""
    reason = postgres_unavailable_reason()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI=true requires the PostgreSQL tests to run", pytrace=False)
    pytest.skip(f"{reason}; start PostgreSQL or set REGISTRY_TEST_POSTGRES_URL to run these tests")


@contextmanager
def sqlite_backend(folder: Path) -> Iterator[Backend]:
    path = folder / "registry.db"
    yield Backend(name="sqlite", database_url=f"sqlite:///{path}", sqlite_path=path)


@contextmanager
def postgres_backend() -> Iterator[Backend]:
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    backend = Backend(
        name="postgres",
        # Small pools: a test needs few connections, and the server allows 100 in all.
        database_url=f"{POSTGRES_URL}?schema={schema}&pool_size=2&max_overflow=3",
        postgres_schema=schema,
    )
    try:
        yield backend
    finally:
        release_key_store(backend.env())
        gc.collect()
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            # Pools of applications the test left open would hold connections until they are
            # collected; the server allows 100 in all, so end the idle ones of this schema.
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND state = 'idle' AND query LIKE %s",
                (f"%{schema}%",),
            )
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
