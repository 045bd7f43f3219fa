"""Fixtures shared by the whole suite: the backend every storage test runs on, once per backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backends import Backend, postgres_backend, sqlite_backend


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """A fresh, empty store: an SQLite file, or a new PostgreSQL schema dropped afterwards."""
    if request.param == "sqlite":
        with sqlite_backend(tmp_path) as found:
            yield found
    else:
        with postgres_backend() as found:
            yield found
