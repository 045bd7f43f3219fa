"""The key store in the events' PostgreSQL database and schema, scrubbed with VACUUM FULL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from security.keys.store import KeyStore, KeyStoreError, Run


class PostgresKeyStore(KeyStore):
    """Keys in ``registry_keys`` of the events' schema, over one connection guarded by a lock.

    One connection is enough: unwrapped keys are cached, so the store is queried once per new
    key and once per event holding personal data. PostgreSQL never overwrites a row in place,
    so after destroying or re-wrapping keys ``VACUUM FULL`` rewrites the table into a new file
    and the old file, holding the old wrapped bytes, is removed.

    When the server restarts, the connection breaks: the statement running then fails (the
    caller sees a storage error), and the next use opens a new connection, so the store
    recovers without a restart of the process.
    """

    def __init__(
        self, master: bytes, conninfo: dict[str, Any], schema: str = "", cache_size: int = 4096
    ) -> None:
        super().__init__(master, cache_size)
        self.schema = schema
        self._lock = threading.RLock()
        self._conninfo = conninfo
        # One slot, so the finalizer closes whichever connection is current.
        self._slot: list[psycopg.Connection[tuple[Any, ...]]] = [self._connect()]
        self._closed = False
        if schema:
            self._conn.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
            )
        try:
            self._create_tables(blob="BYTEA", time="TIMESTAMPTZ")
        except psycopg.errors.UniqueViolation:  # another process created them at the same time
            self._create_tables(blob="BYTEA", time="TIMESTAMPTZ")

    def _connect(self) -> psycopg.Connection[tuple[Any, ...]]:
        return psycopg.connect(autocommit=True, **self._conninfo)

    @property
    def _conn(self) -> psycopg.Connection[tuple[Any, ...]]:
        connection = self._slot[0]
        if self._closed:
            raise KeyStoreError("the key store was closed")
        if connection.closed or connection.broken:
            connection = self._slot[0] = self._connect()
        return connection

    def _table(self, name: str) -> str:
        if not self.schema:
            return name
        return sql.Identifier(self.schema, name).as_string(self._conn)

    @contextmanager
    def _transaction(self, write: bool = False) -> Iterator[Run]:
        with self._lock:
            connection = self._conn  # one connection for the whole transaction

            def run(statement: str, params: tuple[Any, ...]) -> tuple[list[tuple[Any, ...]], int]:
                cursor = connection.execute(statement.replace("?", "%s").encode(), params)
                rows = cursor.fetchall() if cursor.description is not None else []
                return rows, max(cursor.rowcount, 0)

            if not write:
                yield run
                return
            with connection.transaction():
                yield run

    def _scrub(self) -> None:
        with self._lock:
            self._conn.execute(f"VACUUM FULL {self._table('registry_keys')}".encode())

    def _time_param(self, value: datetime) -> Any:
        return value

    def _time_value(self, value: Any) -> datetime:
        return value if isinstance(value, datetime) else datetime.fromisoformat(value)

    def connection_closer(self) -> Callable[[], None]:
        slot = self._slot
        return lambda: slot[0].close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._slot[0].close()
