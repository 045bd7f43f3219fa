"""The key store in the events' SQLite file: its own connection, WAL, secure_delete, checkpoints."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from security.keys.store import KeyStore, KeyStoreError, Run

BUSY_TIMEOUT_MS = 10_000
CHECKPOINT_ATTEMPTS = 50


class SQLiteKeyStore(KeyStore):
    """Keys in table ``registry_keys`` of the same SQLite file as the events (or in memory).

    ``secure_delete`` makes SQLite zero the bytes of overwritten rows, and a TRUNCATE checkpoint
    after each destruction or rotation removes the WAL frames that still hold the old rows.
    """

    def __init__(self, master: bytes, path: str | None, cache_size: int = 4096) -> None:
        super().__init__(master, cache_size)
        self.path = path
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            path or ":memory:",
            isolation_level=None,
            check_same_thread=False,
            timeout=BUSY_TIMEOUT_MS / 1000,
        )
        self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._conn.execute("PRAGMA secure_delete = ON")
        if path:
            self._conn.execute("PRAGMA journal_mode = WAL")
        self._create_tables(blob="BLOB", time="TEXT")

    def _table(self, name: str) -> str:
        return name

    @contextmanager
    def _transaction(self, write: bool = False) -> Iterator[Run]:
        def run(sql: str, params: tuple[Any, ...]) -> tuple[list[tuple[Any, ...]], int]:
            cursor = self._conn.execute(sql, params)
            return cursor.fetchall(), cursor.rowcount

        with self._lock:
            if not write:
                yield run
                return
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield run
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _scrub(self) -> None:
        if not self.path:
            return
        # A TRUNCATE checkpoint copies every frame into the file and empties the WAL; it
        # reports busy while another connection still reads an older snapshot, so retry.
        with self._lock:
            for _ in range(CHECKPOINT_ATTEMPTS):
                busy, _, _ = self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                if not busy:
                    return
                time.sleep(0.1)
        raise KeyStoreError(
            f"{self.path}: could not checkpoint the WAL after overwriting a key (readers busy); "
            "run the operation again"
        )

    def _time_param(self, value: datetime) -> Any:
        return value.isoformat()

    def _time_value(self, value: Any) -> datetime:
        return datetime.fromisoformat(value) if isinstance(value, str) else value

    def connection_closer(self) -> Callable[[], None]:
        return self._conn.close

    def close(self) -> None:
        with self._lock:
            self._conn.close()
