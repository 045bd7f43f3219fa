"""The views' storage: tables beside the events (SQLite file or PostgreSQL schema), and position.

A library ``TrackingRecorder``: view rows and the tracking row are written in one transaction.
The store carries the views' cipher (``projections.crypto``): writers seal text columns through
``ViewBatch``; readers open them with ``query(..., sealed=table)`` or ``open_rows``.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from eventsourcing.persistence import IntegrityError, Tracking, TrackingRecorder
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

from projections.crypto import ViewCipher
from projections.schema import (
    FORMAT_TABLE,
    SEALED,
    TRACKING_TABLE,
    VIEW_DDL,
    VIEW_FORMAT,
    VIEW_TABLES,
)

Row = dict[str, Any]
Params = Sequence[Any]

OPENED_CACHE = 100_000
"""Most decrypted values a store keeps for ``query(..., cache=True)`` (partner names)."""
_MISSING: Any = object()
BULK_CACHE_KIB = 131072
"""SQLite page cache of a rebuild's transactions, in KiB (the pages it touches, at most)."""


class ViewCursor(Protocol):
    """What view code needs of a transaction: statements with ``?`` parameters, rows as dicts."""

    def execute(self, sql: str, params: Params = ()) -> None: ...
    def executemany(self, sql: str, rows: Sequence[Params]) -> None: ...
    def fetchall(self) -> list[Row]: ...
    def fetchone(self) -> Row | None: ...


class _SQLiteCursor:
    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Params = ()) -> None:
        self._cursor.execute(sql, tuple(params))

    def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        self._cursor.executemany(sql, rows)

    def fetchall(self) -> list[Row]:
        return [dict(row) for row in self._cursor.fetchall()]

    def fetchone(self) -> Row | None:
        row = self._cursor.fetchone()
        return None if row is None else dict(row)


_VIEW_NAME = re.compile(r"\b(view_[a-z_]+)\b")


class _PostgresCursor:
    """Translates the shared SQL: ``?`` to ``%s``, view tables qualified by the schema."""

    def __init__(self, cursor: Any, schema: str) -> None:
        self._cursor = cursor
        self._prefix = '"' + schema.replace('"', '""') + '".'
        self._cache: dict[str, str] = {}

    def _translate(self, sql: str) -> str:
        found = self._cache.get(sql)
        if found is None:
            found = _VIEW_NAME.sub(lambda m: self._prefix + m.group(1), sql).replace("?", "%s")
            self._cache[sql] = found
        return found

    def execute(self, sql: str, params: Params = ()) -> None:
        self._cursor.execute(self._translate(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        self._cursor.executemany(self._translate(sql), rows)

    def fetchall(self) -> list[Row]:
        return [dict(row) for row in self._cursor.fetchall()]

    def fetchone(self) -> Row | None:
        row = self._cursor.fetchone()
        return None if row is None else dict(row)


class ViewStore(TrackingRecorder):
    """Every view table plus ``view_tracking``, in the database that holds the events.

    One tracking row (per upstream application) covers all views, because every batch updates
    all of them in the same transaction: a reader that sees position N sees N in every view.
    """

    def __init__(self, datastore: SQLiteDatastore | PostgresDatastore, cipher: ViewCipher) -> None:
        self.datastore = datastore
        self.cipher = cipher
        self._opened: dict[tuple[str, str, str, bytes], str | None] = {}
        self.is_postgres = isinstance(datastore, PostgresDatastore)
        self._schema = datastore.schema if isinstance(datastore, PostgresDatastore) else ""
        self._write_lock = threading.Lock()

    @classmethod
    def for_application(cls, app: Any) -> ViewStore:
        """The store beside ``app``'s events (reuses its connection pool), under its views key."""
        datastore = getattr(app.factory, "datastore", None)
        if not isinstance(datastore, SQLiteDatastore | PostgresDatastore):
            raise TypeError(
                "views need the SQLite or PostgreSQL persistence module, "
                f"not {type(app.factory).__name__}"
            )
        return cls(datastore, ViewCipher.for_application(app))

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[ViewCursor]:
        """A transaction on the events' database; rolled back on error or when not committing."""
        if isinstance(self.datastore, PostgresDatastore):
            with self.datastore.transaction(commit=commit) as curs:
                yield _PostgresCursor(curs, self._schema)
        else:
            with self.datastore.transaction(commit=commit) as curs:
                yield _SQLiteCursor(curs.sqlite_cursor)

    @contextmanager
    def writing(self) -> Iterator[ViewCursor]:
        """A committing transaction; one writer per process at a time (SQLite allows one)."""
        with self._write_lock, self.transaction(commit=True) as cursor:
            yield cursor

    @contextmanager
    def bulk_writing(self) -> Iterator[ViewCursor]:
        """``writing`` for a rebuild's large transactions: on SQLite with a page cache of
        ``BULK_CACHE_KIB`` for its duration (the default 2 MiB spilled pages of the random-keyed
        indexes to the WAL, some many times, before the commit); the setting is restored."""
        with self.writing() as cursor:
            if self.is_postgres:
                yield cursor
                return
            cursor.execute("PRAGMA cache_size")
            found = cursor.fetchone()
            previous = int(next(iter(found.values()))) if found else -2000
            cursor.execute(f"PRAGMA cache_size = {-BULK_CACHE_KIB}")
            try:
                yield cursor
            finally:
                with contextlib.suppress(Exception):  # a broken connection: the error is above
                    cursor.execute(f"PRAGMA cache_size = {previous}")

    # Schema.

    def create_table(self) -> None:
        with self.writing() as cursor:
            self.create_tables(cursor)

    def create_tables(self, cursor: ViewCursor) -> None:
        """Create missing tables; views of another layout (e.g. plaintext) are dropped first.

        Dropping resets the position too, so followers replay the whole log into the new layout.
        """
        cursor.execute(self._ddl(VIEW_DDL[0]))
        cursor.execute(f"SELECT format FROM {FORMAT_TABLE} WHERE id = 1")  # noqa: S608
        found = cursor.fetchone()
        if found is None or int(found["format"]) != VIEW_FORMAT:
            self.drop_tables(cursor)
        for statement in VIEW_DDL:
            cursor.execute(self._ddl(statement))
        cursor.execute(
            f"INSERT INTO {FORMAT_TABLE} (id, format) VALUES (1, ?) ON CONFLICT (id) DO NOTHING",  # noqa: S608
            (VIEW_FORMAT,),
        )

    def drop_tables(self, cursor: ViewCursor) -> None:
        for table in (*VIEW_TABLES, TRACKING_TABLE, FORMAT_TABLE):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")

    def _ddl(self, statement: str) -> str:
        # Byte-order collation on both backends, so keyset pages sort the same everywhere.
        if self.is_postgres:
            return statement
        return statement.replace(' COLLATE "C"', "").replace("BYTEA", "BLOB")

    def contains(self, column: str) -> str:
        """SQL: the bytes in ``column`` contain the bytes of the (one) ``?`` parameter."""
        return f"position(? IN {column}) > 0" if self.is_postgres else f"instr({column}, ?) > 0"

    # Tracking (the library's TrackingRecorder interface).

    def insert_tracking(self, tracking: Tracking) -> None:
        with self.writing() as cursor:
            self.record_position(cursor, tracking)

    def record_position(self, cursor: ViewCursor, tracking: Tracking) -> None:
        """Advance the position in the current transaction; refuse to go back or repeat."""
        cursor.execute(
            f"INSERT INTO {TRACKING_TABLE} (application_name, notification_id) VALUES (?, ?) "  # noqa: S608
            "ON CONFLICT (application_name) DO UPDATE"
            " SET notification_id = excluded.notification_id "
            f"WHERE {TRACKING_TABLE}.notification_id < excluded.notification_id "
            "RETURNING notification_id",
            (tracking.application_name, tracking.notification_id),
        )
        if cursor.fetchone() is None:
            raise IntegrityError(
                f"views already include {tracking.application_name} "
                f"notification {tracking.notification_id}"
            )

    def max_tracking_id(self, application_name: str) -> int | None:
        with self.transaction(commit=False) as cursor:
            return self.position(cursor, application_name)

    def position(self, cursor: ViewCursor, application_name: str) -> int | None:
        cursor.execute(
            f"SELECT notification_id FROM {TRACKING_TABLE} WHERE application_name = ?",  # noqa: S608
            (application_name,),
        )
        row = cursor.fetchone()
        return None if row is None else int(row["notification_id"])

    # Reading.

    def query(
        self, sql: str, params: Params = (), *, sealed: str | None = None, cache: bool = False
    ) -> list[Row]:
        """Rows of one read-only statement (``?`` parameters, ``view_*`` table names).

        ``sealed`` names the table whose sealed columns the rows hold: they come back opened
        (the rows must include that table's id columns). Without it they stay ciphertext.
        ``cache``: remember what was opened (for values read on every page, e.g. names).
        """
        with self.transaction(commit=False) as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return rows if sealed is None else self.open_rows(sealed, rows, cache=cache)

    def open_rows(self, table: str, rows: list[Row], *, cache: bool = False) -> list[Row]:
        """Decrypt, in place, the sealed columns of ``table`` present in ``rows``.

        With ``cache``, plaintexts are kept in memory (at most ``OPENED_CACHE`` values) by
        (table, column, row id, ciphertext): a ciphertext is unique (random nonce) and changes
        whenever the value is rewritten, so a hit is the value this row holds now.
        """
        spec = SEALED.get(table)
        if spec is None or not rows:
            return rows
        ids, columns = spec
        present = [c for c in columns if c in rows[0]]
        open_value = self.cipher.open
        opened = self._opened
        for row in rows:
            row_id = row_key(ids, row)
            for column in present:
                stored = row[column]
                if not cache or stored is None:
                    row[column] = open_value(table, column, row_id, stored)
                    continue
                key = (table, column, row_id, bytes(stored))
                found = opened.get(key, _MISSING)
                if found is _MISSING:
                    if len(opened) >= OPENED_CACHE:
                        opened.clear()
                    found = opened[key] = open_value(table, column, row_id, stored)
                row[column] = found
        return rows


def row_key(ids: tuple[str, ...], row: Row) -> str:
    """The row id sealed values of a row are bound to: its id columns, joined by U+001F."""
    if len(ids) == 1:
        return str(row[ids[0]])
    return "\x1f".join(str(row[c]) for c in ids)
