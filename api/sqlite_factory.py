"""The library's SQLite persistence, with connections that keep their prepared statements.

``eventsourcing.sqlite`` (9.5.6) opens every connection with ``cached_statements=True``, which
``sqlite3`` reads as a cache of one statement: any statement other than the last one run on a
connection is parsed and planned again, 15-45 us each on this project's machines, more than
most statements then take to run. A rebuild or a follower runs a dozen statements in turn
(one row into a table, an update of another, ...), and so did every command's insert, select
and tracking statements. This factory is the library's in every respect but that cache
(``STATEMENT_CACHE`` statements a connection), and but for linking the snapshots' recorder to
the application recorder ``SQLiteEventRecorder``, which records a command's snapshots in the
transaction of its events (one commit, one fsync, instead of two). Selected with the
library's ``PERSISTENCE_MODULE`` and ``APPLICATION_RECORDER_TOPIC`` (``api.bootstrap.
storage_env`` sets both).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import (
    InterfaceError,
    ProgrammingError,
    StoredEvent,
)
from eventsourcing.sqlite import (
    SQLITE3_DEFAULT_LOCK_TIMEOUT,
    SQLiteAggregateRecorder,
    SQLiteApplicationRecorder,
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteDatastore,
)
from eventsourcing.sqlite import SQLiteFactory as LibrarySQLiteFactory
from eventsourcing.utils import Environment, EnvType

from api.snapshot_links import LinksSnapshots

STATEMENT_CACHE = 256
"""Prepared statements kept per connection (``sqlite3``'s own default is 128): the registry
runs fewer distinct statements than this on one connection, but for lists of ids of many
lengths (``IN (?, ?, ...)``)."""


class StatementCachingPool(SQLiteConnectionPool):
    """``SQLiteConnectionPool`` whose connections cache ``STATEMENT_CACHE`` statements."""

    def _create_connection(self) -> SQLiteConnection:
        # The library's SQLiteConnectionPool._create_connection (9.5.6) but for the cache size.
        try:
            c = sqlite3.connect(
                database=self.db_name,
                uri=True,
                check_same_thread=False,
                isolation_level=None,  # autocommit: the library's transactions BEGIN themselves
                cached_statements=STATEMENT_CACHE,
                timeout=self.lock_timeout or SQLITE3_DEFAULT_LOCK_TIMEOUT,
            )
        except (sqlite3.Error, TypeError) as e:
            raise InterfaceError(e) from e
        if not self.is_sqlite_memory_mode and not self.is_journal_mode_wal:
            cursor = c.cursor()
            cursor.execute("PRAGMA journal_mode;")
            if cursor.fetchone()[0].lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL;")
                self.journal_mode_was_changed_to_wal = True
            self.is_journal_mode_wal = True
        c.row_factory = sqlite3.Row
        return SQLiteConnection(sqlite_conn=c, max_age=self.max_age)


class StatementCachingDatastore(SQLiteDatastore):
    """``SQLiteDatastore`` over a ``StatementCachingPool`` (same settings otherwise)."""

    def __init__(self, library: SQLiteDatastore) -> None:
        """The datastore ``library`` would be; ``library`` has opened no connection yet."""
        pool = library.pool
        self.pool = StatementCachingPool(
            db_name=pool.db_name,
            lock_timeout=pool.lock_timeout,
            pool_size=pool.pool_size,
            max_overflow=pool.max_overflow,
            pool_timeout=pool.pool_timeout,
            max_age=pool.max_age,
            pre_ping=pool.pre_ping,
        )
        self.single_row_tracking = library.single_row_tracking
        self.originator_id_type = library.originator_id_type


class SQLiteEventRecorder(SQLiteApplicationRecorder):
    """The library's application recorder that also records snapshots with the events.

    ``insert_events(events, snapshots=[...])`` writes the snapshots, through the snapshots'
    own recorder (``snapshots_recorder``, on the same datastore), in the events' transaction:
    both or neither. ``PartnershipRegistry`` asks for it when ``records_snapshots`` is true.
    """

    snapshots_recorder: SQLiteAggregateRecorder | None = None

    @property
    def records_snapshots(self) -> bool:
        return self.snapshots_recorder is not None

    def insert_events(
        self,
        stored_events: Sequence[StoredEvent],
        *,
        snapshots: Sequence[StoredEvent] = (),
        **kwargs: Any,
    ) -> Sequence[int] | None:
        if not snapshots:
            return super().insert_events(stored_events, **kwargs)
        recorder = self.snapshots_recorder
        if recorder is None:
            raise ProgrammingError("no snapshots recorder: snapshots would be lost")
        with self.datastore.transaction(commit=True) as cursor:
            found = self._insert_events(cursor, stored_events, **kwargs)
            recorder._insert_events(cursor, snapshots)
        return found


class SQLiteFactory(LinksSnapshots, LibrarySQLiteFactory):
    """The library's ``SQLiteFactory`` with a ``StatementCachingDatastore``, and an application
    recorder told of the snapshots' recorder (``SQLiteEventRecorder``)."""

    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)
        library = self.datastore
        self.datastore = StatementCachingDatastore(library)
        library.close()


Factory = SQLiteFactory
