"""The library's SQLite persistence, with connections that keep their prepared statements.

``eventsourcing.sqlite`` (9.5.6) opens every connection with ``cached_statements=True``, which
``sqlite3`` reads as a cache of one statement: any statement other than the last one run on a
connection is parsed and planned again, 15-45 us each on this project's machines, more than
most statements then take to run. A rebuild or a follower runs a dozen statements in turn
(one row into a table, an update of another, ...), and so did every command's insert, select
and tracking statements. This factory is the library's in every respect but that cache
(``STATEMENT_CACHE`` statements a connection). Selected with the library's
``PERSISTENCE_MODULE`` (``api.bootstrap.storage_env`` sets it to ``SQLiteFactory``'s topic).
"""

from __future__ import annotations

import sqlite3

from eventsourcing.persistence import InterfaceError
from eventsourcing.sqlite import (
    SQLITE3_DEFAULT_LOCK_TIMEOUT,
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteDatastore,
)
from eventsourcing.sqlite import SQLiteFactory as LibrarySQLiteFactory
from eventsourcing.utils import Environment, EnvType

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


class SQLiteFactory(LibrarySQLiteFactory):
    """The library's ``SQLiteFactory`` with a ``StatementCachingDatastore``."""

    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)
        library = self.datastore
        self.datastore = StatementCachingDatastore(library)
        library.close()


Factory = SQLiteFactory
