"""The eventsourcing library's own tracking-recorder test case, run against our ViewStore.

ViewStore subclasses the library's TrackingRecorder (the views' position is its tracking
record), so it must keep that contract on both backends: no repeated or backward position,
max_tracking_id per upstream application, wait() with timeout and interrupt.
"""

from __future__ import annotations

import tempfile
from contextlib import ExitStack
from pathlib import Path

import pytest
from eventsourcing.persistence import TrackingRecorder
from eventsourcing.tests.persistence import TrackingRecorderTestCase

from api.runtime import build_registry
from domain.application import PartnershipRegistry
from projections.store import ViewStore
from tests.backends import Backend, postgres_backend, sqlite_backend


class ViewStoreOnBackend(TrackingRecorderTestCase):
    """Each test gets a fresh store and a registry whose connection pool the views share."""

    backend_name = "sqlite"

    def setUp(self) -> None:
        self._stack = ExitStack()
        backend: Backend
        if self.backend_name == "sqlite":
            folder = Path(self._stack.enter_context(tempfile.TemporaryDirectory()))
            backend = self._stack.enter_context(sqlite_backend(folder))
        else:
            backend = self._stack.enter_context(postgres_backend())
        self.registry: PartnershipRegistry = build_registry(backend.settings())
        self._stack.callback(self.registry.close)
        super().setUp()

    def tearDown(self) -> None:
        super().tearDown()
        self._stack.close()

    def create_recorder(self) -> TrackingRecorder:
        store = ViewStore.for_application(self.registry)
        store.create_table()
        return store


class TestViewStoreOnSQLite(ViewStoreOnBackend):
    pass


@pytest.mark.postgres
class TestViewStoreOnPostgres(ViewStoreOnBackend):
    backend_name = "postgres"


del TrackingRecorderTestCase, ViewStoreOnBackend
