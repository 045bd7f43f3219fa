"""The SQLite factory whose connections keep prepared statements keeps the library's contract.

The library's own recorder test cases run against the recorders ``api.sqlite_factory`` gives on
an SQLite file; the registry's settings select it, and the key store finds its file by it.
"""

from __future__ import annotations

import sqlite3
import tempfile
import threading
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    InfrastructureFactory,
    ProcessRecorder,
    TrackingRecorder,
)
from eventsourcing.sqlite import SQLiteDatastore
from eventsourcing.tests.persistence import (
    AggregateRecorderTestCase,
    ApplicationRecorderTestCase,
    ProcessRecorderTestCase,
    TrackingRecorderTestCase,
)
from eventsourcing.utils import Environment

from api.bootstrap import library_env, storage_env
from api.settings import Settings
from api.sqlite_factory import (
    STATEMENT_CACHE,
    SQLiteFactory,
    StatementCachingDatastore,
    StatementCachingPool,
)
from domain.application import PartnershipRegistry
from security.keys import open_key_store, release_key_store
from security.keys.sqlite import SQLiteKeyStore


class OnAnSQLiteFile:
    """A fresh SQLite file per test, and the factory ``storage_env`` selects for it."""

    def setUp(self) -> None:
        self._stack = ExitStack()
        self._threads = set(threading.enumerate())
        folder = Path(self._stack.enter_context(tempfile.TemporaryDirectory()))
        self.env = storage_env(f"sqlite:///{folder / 'registry.db'}")
        super().setUp()  # type: ignore[misc]

    def tearDown(self) -> None:
        super().tearDown()  # type: ignore[misc]
        # The library's concurrency tests leave their reader threads to stop on their own: a
        # connection closed under a reader's running statement crashes the interpreter
        # (sqlite3 in Python 3.11, whatever the statement cache), so wait for them first.
        for thread in set(threading.enumerate()) - self._threads:
            thread.join(timeout=10)
        self._stack.close()

    def factory(self) -> SQLiteFactory:
        found = InfrastructureFactory.construct(Environment(name="contract", env=self.env))
        assert type(found) is SQLiteFactory
        self._stack.callback(found.close)
        return found


class TestAggregateRecorder(OnAnSQLiteFile, AggregateRecorderTestCase):
    def create_recorder(self) -> AggregateRecorder:
        return self.factory().aggregate_recorder()


class TestApplicationRecorder(OnAnSQLiteFile, ApplicationRecorderTestCase[Any]):
    def create_recorder(self) -> ApplicationRecorder:
        return self.factory().application_recorder()


class TestTrackingRecorder(OnAnSQLiteFile, TrackingRecorderTestCase):
    def create_recorder(self) -> TrackingRecorder:
        return self.factory().tracking_recorder()


class TestProcessRecorder(OnAnSQLiteFile, ProcessRecorderTestCase):
    def create_recorder(self) -> ProcessRecorder:
        return self.factory().process_recorder()


del AggregateRecorderTestCase, ApplicationRecorderTestCase
del ProcessRecorderTestCase, TrackingRecorderTestCase


def test_the_registry_on_sqlite_runs_on_connections_that_keep_their_statements(
    tmp_path: Path,
) -> None:
    settings = Settings(env="test", database_url=f"sqlite:///{tmp_path / 'r.db'}")
    env = library_env(settings)
    registry = PartnershipRegistry(env)
    try:
        datastore = registry.factory.datastore  # type: ignore[attr-defined]
        assert isinstance(datastore, StatementCachingDatastore)
        assert isinstance(datastore, SQLiteDatastore)  # what views, ledger and tools look for
        assert isinstance(datastore.pool, StatementCachingPool)
        with datastore.transaction(commit=False) as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"
        assert isinstance(open_key_store(env), SQLiteKeyStore)
    finally:
        registry.close()
        release_key_store(env)


def test_the_settings_of_the_library_datastore_carry_over(tmp_path: Path) -> None:
    library = SQLiteDatastore(str(tmp_path / "r.db"), lock_timeout=7, pool_size=3, max_overflow=2)
    ours = StatementCachingDatastore(library)
    try:
        for name in ("db_name", "lock_timeout", "pool_size", "max_overflow", "pool_timeout"):
            assert getattr(ours.pool, name) == getattr(library.pool, name)
        assert ours.single_row_tracking == library.single_row_tracking
        assert ours.originator_id_type == library.originator_id_type
    finally:
        ours.close()
        library.close()


def preparations(datastore: SQLiteDatastore) -> int:
    """How often two statements run in turn, five times each, are prepared (compiled): the
    authorizer is consulted when a statement is compiled, not when a prepared one runs."""
    compiled: list[int] = []

    def authorizer(action: int, *_: object) -> int:
        if action == sqlite3.SQLITE_SELECT:
            compiled.append(action)
        return sqlite3.SQLITE_OK

    with datastore.transaction(commit=True) as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS kept (a INTEGER)")
        raw: sqlite3.Cursor = cursor.sqlite_cursor
        raw.connection.set_authorizer(authorizer)
        for _ in range(5):
            cursor.execute("SELECT a FROM kept")
            cursor.execute("SELECT count(*) FROM kept")
        raw.connection.set_authorizer(None)
    return len(compiled)


def test_statements_run_in_turn_are_prepared_once_each(tmp_path: Path) -> None:
    library = SQLiteDatastore(str(tmp_path / "r.db"))
    ours = StatementCachingDatastore(SQLiteDatastore(str(tmp_path / "r.db")))
    try:
        assert preparations(library) == 10  # the library's cache of one: each time again
        assert preparations(ours) == 2
        assert STATEMENT_CACHE >= 128
    finally:
        ours.close()
        library.close()
