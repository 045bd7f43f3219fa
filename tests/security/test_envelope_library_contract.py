"""The eventsourcing library's own application test cases, run with our envelope on both backends.

(InfrastructureFactoryTestCase is not run: it checks the factory's defaults with the library's
AESCipher and a plain Mapper, which our environment deliberately replaces.)
"""

from __future__ import annotations

import gc
import os
import tempfile
from contextlib import ExitStack
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.application import Application
from eventsourcing.tests.application import ApplicationTestCase, ExampleApplicationTestCase

from security.envelope import EnvelopeMapper
from tests.backends import Backend, postgres_backend, sqlite_backend


class EnvelopeEnvironment:
    """Points os.environ (which every Application reads) at a fresh backend with our envelope."""

    backend_name = "sqlite"

    def setUp(self) -> None:
        self._stack = ExitStack()
        if self.backend_name == "sqlite":
            folder = Path(self._stack.enter_context(tempfile.TemporaryDirectory()))
            backend: Backend = self._stack.enter_context(sqlite_backend(folder))
        else:
            backend = self._stack.enter_context(postgres_backend())
        self._saved = dict(os.environ)
        os.environ.update(backend.env())
        os.environ.pop("IS_SNAPSHOTTING_ENABLED", None)  # the library's tests decide that
        super().setUp()  # type: ignore[misc]

    def tearDown(self) -> None:
        super().tearDown()  # type: ignore[misc]
        os.environ.clear()
        os.environ.update(self._saved)
        gc.collect()  # the library's tests do not close their applications: free the pools
        self._stack.close()


class TestExampleApplicationOnSQLite(EnvelopeEnvironment, ExampleApplicationTestCase):
    expected_factory_topic = "api.sqlite_factory:SQLiteFactory"

    def test_the_envelope_mapper_is_in_use(self) -> None:
        assert isinstance(Application[UUID]().mapper, EnvelopeMapper)


class TestApplicationOnSQLite(EnvelopeEnvironment, ApplicationTestCase):
    pass


@pytest.mark.postgres
class TestExampleApplicationOnPostgres(EnvelopeEnvironment, ExampleApplicationTestCase):
    backend_name = "postgres"
    expected_factory_topic = "api.postgres_recorder:PostgresFactory"


@pytest.mark.postgres
class TestApplicationOnPostgres(EnvelopeEnvironment, ApplicationTestCase):
    backend_name = "postgres"


del ApplicationTestCase, ExampleApplicationTestCase
