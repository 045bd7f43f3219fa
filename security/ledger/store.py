"""Ledger tables on the application's own database (SQLite or PostgreSQL), reached through the
library's datastore, so the ledger needs only the library env: no keys, no domain Application.
"""

# SQL here is built with f-strings only to insert table and schema names, which come from
# configuration, never from a request; every value is a bound parameter (hence the S608 noqa).

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, InfrastructureFactory, OperationalError
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import Environment

from security.ledger.leaf import Leaf
from security.ledger.merkle import NodeId
from security.ledger.scan import SQLITE_COUNT_EVENTS, SQLITE_LEAF_EVENTS, LeafEventRow
from security.ledger.scan import canonical_stream_id as canonical_stream_id  # re-exported

DEFAULT_APPLICATION_NAME = "PartnershipRegistry"


class LedgerStoreError(Exception):
    """The ledger tables could not be read or written as expected."""


EventRow = tuple[int, str, int, str, bytes]  # notification id, stream id, version, topic, state


class Cursor(Protocol):
    def execute(self, query: Any, params: Any = ...) -> Any: ...
    def executemany(self, query: Any, params_seq: Any) -> Any: ...
    def fetchall(self) -> Any: ...
    def fetchone(self) -> Any: ...


@dataclass(frozen=True)
class StoredLeaf:
    """One row of registry_ledger_leaves."""

    position: int
    notification_id: int
    leaf: Leaf
    leaf_hash: bytes


@dataclass(frozen=True)
class StoredCheckpoint:
    """One row of registry_ledger_checkpoints."""

    tree_size: int
    root_hash: bytes
    note: str
    created_at_us: int


# Column types differ per backend; the layout is the same. Each column is commented once, here.
_TABLES = """
CREATE TABLE IF NOT EXISTS {leaves} (
  position {bigint} PRIMARY KEY,        -- dense 0..n-1 leaf index in the Merkle tree, commit order
  notification_id {bigint} NOT NULL UNIQUE, -- the library's notification id of the stored event
  stream_id TEXT NOT NULL,              -- originator (aggregate) id, canonical UUID text
  version {bigint} NOT NULL,            -- originator version of the event
  topic TEXT NOT NULL,                  -- event type (module:Class), names no personal data
  recorded_at {bigint},                 -- envelope header recorded time, us since epoch
  key_id {blob},                        -- envelope header data key id, 16 bytes (NULL: none)
  payload_sha256 {blob} NOT NULL,       -- SHA-256 of the stored payload bytes (ciphertext)
  prev_stream_leaf_hash {blob},         -- leaf hash of this stream's previous leaf (NULL: first)
  leaf_hash {blob} NOT NULL             -- SHA-256(0x00 || canonical leaf encoding)
);
CREATE INDEX IF NOT EXISTS {leaves_stream_index} ON {leaves} (stream_id, position);
CREATE TABLE IF NOT EXISTS {nodes} (
  level INTEGER NOT NULL,               -- height of the perfect subtree (0: a leaf hash)
  idx {bigint} NOT NULL,                -- subtree covers leaves [idx * 2^level, (idx+1) * 2^level)
  hash {blob} NOT NULL,                 -- RFC 9162 hash of that perfect subtree
  PRIMARY KEY (level, idx)
);
CREATE TABLE IF NOT EXISTS {state} (
  id INTEGER PRIMARY KEY,               -- always 1: one integration state per ledger
  tree_size {bigint} NOT NULL,          -- leaves integrated so far
  last_notification_id {bigint} NOT NULL -- highest notification id integrated; gaps below are final
);
CREATE TABLE IF NOT EXISTS {checkpoints} (
  tree_size {bigint} PRIMARY KEY,       -- number of leaves the checkpoint commits to
  root_hash {blob} NOT NULL,            -- RFC 9162 tree head at that size
  note TEXT NOT NULL,                   -- the signed note text, exactly as exported
  created_at {bigint} NOT NULL          -- when it was signed, us since epoch
)
"""


class Dialect:
    """What differs between SQLite and PostgreSQL for the ledger's few statements."""

    name: str
    placeholder: str
    bigint: str
    blob: str

    def __init__(self, recorder: ApplicationRecorder) -> None:
        self.recorder = recorder

    def table(self, name: str) -> str:
        return name

    def sql(self, text: str) -> str:
        return text.replace("%s", self.placeholder)

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[Cursor]:
        with self.recorder.datastore.transaction(commit=commit) as cursor:  # type: ignore[attr-defined]
            yield cursor

    def settled_notification_id(self) -> int | None:
        """Highest notification id below which no insert is still in flight."""
        raise NotImplementedError


class SQLiteDialect(Dialect):
    name = "sqlite"
    placeholder = "?"
    bigint = "INTEGER"
    blob = "BLOB"

    def settled_notification_id(self) -> int | None:
        # SQLite has one writer at a time and rowids are taken under the write lock, so every
        # committed id is final once visible and a lower id can never commit later.
        return self.recorder.max_notification_id()


class PostgresDialect(Dialect):
    name = "postgres"
    placeholder = "%s"
    bigint = "BIGINT"
    blob = "BYTEA"
    lock_timeout_ms = 5000

    def table(self, name: str) -> str:
        schema = self.recorder.datastore.schema  # type: ignore[attr-defined]
        return f'"{schema}"."{name}"'

    def settled_notification_id(self) -> int | None:
        # Notification ids come from a sequence, taken at INSERT time, and become visible at
        # COMMIT: without care a lower id can appear after a higher one was read, and rolled
        # back inserts leave gaps forever. The library's recorder takes LOCK ... IN EXCLUSIVE
        # MODE before inserting (so ids follow commit order) but not when
        # POSTGRES_ENABLE_DB_FUNCTIONS is set, and nothing stops other writers. So we take a
        # SHARE lock for an instant: it waits for every in-flight inserting transaction to
        # finish; the max id seen then is settled, and any gap below it is permanent.
        # If a writer holds its transaction open past the timeout, nothing is settled this round:
        # integrating later is safe, integrating past an unsettled id is not.
        events = self.table(self.recorder.events_table_name)  # type: ignore[attr-defined]
        try:
            with self.transaction(commit=True) as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{self.lock_timeout_ms}ms'")
                cursor.execute(f"LOCK TABLE {events} IN SHARE MODE")
                cursor.execute(f"SELECT MAX(notification_id) AS m FROM {events}")  # noqa: S608
                row = cursor.fetchone()
        except OperationalError as error:
            if _is_lock_timeout(error):
                return None
            raise
        return None if row is None else row["m"]


class LedgerStore:
    """The ledger's tables: leaves, perfect-subtree nodes, integration state, checkpoints."""

    def __init__(
        self, env: Mapping[str, str], *, application_name: str = DEFAULT_APPLICATION_NAME
    ) -> None:
        self.factory = InfrastructureFactory.construct(
            Environment(name=application_name, env=dict(env))
        )
        self.recorder = self.factory.application_recorder()
        if isinstance(self.recorder, PostgresApplicationRecorder):
            self.dialect: Dialect = PostgresDialect(self.recorder)
        elif isinstance(self.recorder, SQLiteApplicationRecorder):
            self.dialect = SQLiteDialect(self.recorder)
        else:
            raise LedgerStoreError(
                f"the ledger needs SQLite or PostgreSQL, not {type(self.recorder).__module__}"
            )
        d = self.dialect
        self.leaves = d.table("registry_ledger_leaves")
        self.nodes = d.table("registry_ledger_nodes")
        self.state = d.table("registry_ledger_state")
        self.checkpoints_table = d.table("registry_ledger_checkpoints")
        self.create_tables()

    def close(self) -> None:
        self.factory.close()

    def create_tables(self) -> None:
        d = self.dialect
        text = _TABLES.format(
            leaves=self.leaves,
            nodes=self.nodes,
            state=self.state,
            checkpoints=self.checkpoints_table,
            leaves_stream_index="registry_ledger_leaves_stream",
            bigint=d.bigint,
            blob=d.blob,
        )
        if self._tables_exist():
            # Readers such as `registry verify` then never wait for SQLite's write lock.
            return
        # Comments go first: they are for readers of this file, and may contain ";".
        bare = "\n".join(line.split("--")[0] for line in text.splitlines())
        statements = [part.strip() for part in bare.split(";")]
        with d.transaction(commit=True) as cursor:
            for statement in statements:
                if statement:
                    cursor.execute(statement)
            cursor.execute(
                d.sql(
                    f"INSERT INTO {self.state} (id, tree_size, last_notification_id) "  # noqa: S608
                    "VALUES (1, 0, 0) ON CONFLICT (id) DO NOTHING"
                )
            )

    def _tables_exist(self) -> bool:
        try:
            with self.dialect.transaction(commit=False) as cursor:
                cursor.execute(self.dialect.sql(f"SELECT 1 FROM {self.state} WHERE id = 1"))  # noqa: S608
                return bool(cursor.fetchall())
        except Exception:  # the tables are not there yet (or the schema is new)
            return False

    # Reads -----------------------------------------------------------------------------------

    def integration_state(self, cursor: Cursor | None = None) -> tuple[int, int]:
        """(tree size, last integrated notification id)."""
        query = f"SELECT tree_size, last_notification_id FROM {self.state} WHERE id = 1"  # noqa: S608
        if cursor is None:
            with self.dialect.transaction(commit=False) as own:
                own.execute(query)
                row = own.fetchone()
        else:
            cursor.execute(query)
            row = cursor.fetchone()
        if row is None:
            raise LedgerStoreError(
                "registry_ledger_state has no row: the ledger tables were altered"
            )
        return int(row["tree_size"]), int(row["last_notification_id"])

    def tree_size(self) -> int:
        return self.integration_state()[0]

    def fetch_nodes(
        self, ids: Iterable[NodeId], cursor: Cursor | None = None
    ) -> dict[NodeId, bytes]:
        wanted = sorted(set(ids))
        found: dict[NodeId, bytes] = {}
        if not wanted:
            return found
        for start in range(0, len(wanted), 200):
            chunk = wanted[start : start + 200]
            where = " OR ".join(["(level = %s AND idx = %s)"] * len(chunk))
            params: list[int] = [value for node in chunk for value in node]
            query = self.dialect.sql(f"SELECT level, idx, hash FROM {self.nodes} WHERE {where}")  # noqa: S608
            rows = self._select(query, params, cursor)
            found.update({(int(r["level"]), int(r["idx"])): bytes(r["hash"]) for r in rows})
        missing = [node for node in wanted if node not in found]
        if missing:
            raise LedgerStoreError(f"registry_ledger_nodes lacks subtree(s) {missing[:3]}")
        return found

    def last_stream_leaf_hashes(
        self, stream_ids: Sequence[str], cursor: Cursor
    ) -> dict[str, bytes]:
        """The latest leaf hash of each of these streams, for the per-stream chain."""
        found: dict[str, bytes] = {}
        for start in range(0, len(stream_ids), 500):
            chunk = list(stream_ids[start : start + 500])
            if self.dialect.name == "postgres":
                query = (
                    "SELECT DISTINCT ON (stream_id) stream_id, leaf_hash "  # noqa: S608
                    f"FROM {self.leaves} WHERE stream_id = ANY(%s) "
                    "ORDER BY stream_id, position DESC"
                )
                params: list[Any] = [chunk]
            else:
                marks = ", ".join(["?"] * len(chunk))
                query = (
                    f"SELECT l.stream_id, l.leaf_hash FROM {self.leaves} l JOIN ("  # noqa: S608
                    f"SELECT stream_id, MAX(position) AS p FROM {self.leaves} "
                    f"WHERE stream_id IN ({marks}) GROUP BY stream_id) m "
                    "ON l.position = m.p"
                )
                params = chunk
            for row in self._select(query, params, cursor):
                found[str(row["stream_id"])] = bytes(row["leaf_hash"])
        return found

    def leaf_rows(self, after_position: int, limit: int) -> list[StoredLeaf]:
        query = self.dialect.sql(
            "SELECT position, notification_id, stream_id, version, topic, recorded_at, key_id, "  # noqa: S608
            f"payload_sha256, prev_stream_leaf_hash, leaf_hash FROM {self.leaves} "
            "WHERE position > %s ORDER BY position LIMIT %s"
        )
        return [_stored_leaf(row) for row in self._select(query, [after_position, limit])]

    def find_leaf(
        self,
        *,
        notification_id: int | None = None,
        stream_id: UUID | str | None = None,
        version: int | None = None,
        position: int | None = None,
    ) -> StoredLeaf | None:
        columns = (
            "position, notification_id, stream_id, version, topic, recorded_at, key_id, "
            "payload_sha256, prev_stream_leaf_hash, leaf_hash"
        )
        params: list[object]
        if position is not None:
            where, params = "position = %s", [position]
        elif notification_id is not None:
            where, params = "notification_id = %s", [notification_id]
        elif stream_id is not None and version is not None:
            where, params = "stream_id = %s AND version = %s", [str(stream_id), version]
        else:
            raise ValueError("name an event by position, notification id, or stream id and version")
        query = self.dialect.sql(f"SELECT {columns} FROM {self.leaves} WHERE {where}")  # noqa: S608
        rows = self._select(query, params)
        return _stored_leaf(rows[0]) if rows else None

    def event_rows(self, after: int, last_id: int, limit: int) -> list[EventRow]:
        """Raw stored events (notification id, stream id text, version, topic, state) for `verify`.

        Plain SQL rather than select_notifications: it skips building UUIDs and Notification
        objects, most of the per-event cost. SQLite keeps UUID stream ids as 32 hex digits.
        """
        events = self.dialect.table(self.recorder.events_table_name)  # type: ignore[attr-defined]
        if self.dialect.name == "sqlite":
            query = (
                "SELECT rowid, originator_id, originator_version, topic, state FROM "  # noqa: S608
                f"{events} WHERE rowid > ? ORDER BY rowid LIMIT ?"
            )
        else:
            query = (
                "SELECT notification_id, originator_id::text, originator_version, topic, state "  # noqa: S608
                f"FROM {events} WHERE notification_id > %s "
                "ORDER BY notification_id LIMIT %s"
            )
        # No upper bound in SQL: with one, PostgreSQL (no statistics on the library's table)
        # sorts every row up to it for each page instead of walking the index.
        rows: list[EventRow] = self._select_tuples(query, (after, limit))
        if rows and rows[-1][0] > last_id:
            rows = [row for row in rows if row[0] <= last_id]
        return rows

    def leaf_hash_rows(self, from_position: int, limit: int) -> list[tuple[int, int, bytes]]:
        """(position, notification id, leaf hash) from `from_position` on: all `verify` needs
        while everything matches (the full row is read only to explain a mismatch)."""
        query = self.dialect.sql(
            f"SELECT position, notification_id, leaf_hash FROM {self.leaves} "  # noqa: S608
            "WHERE position >= %s ORDER BY position LIMIT %s"
        )
        return self._select_tuples(query, (from_position, limit))

    def leaf_event_rows(self, start: int, stop: int) -> list[LeafEventRow]:
        """Leaves at positions [start, stop) with their events, in position order: (notification
        id, leaf hash, prev_stream_leaf_hash, stream id, version, topic, state). `verify`'s read
        per range. Fewer rows than leaves when something is off: on SQLite a leaf whose event is
        gone is left out; on PostgreSQL the rows stop where the leaves and the events stored from
        the first leaf's event on no longer pair up (nothing at all when a leaf is missing).
        """
        events = self.dialect.table(self.recorder.events_table_name)  # type: ignore[attr-defined]
        if self.dialect.name == "sqlite":
            query = SQLITE_LEAF_EVENTS.format(leaves=self.leaves, events=events)
            rows: list[LeafEventRow] = self._select_tuples(query, (start, stop))
            return rows
        # Two reads walking the indexes: without statistics on the tables PostgreSQL plans a
        # join of the two (or an upper bound) as bitmap scans and a sort of every wide row.
        leaves = self._select_tuples(
            f"SELECT position, notification_id, leaf_hash, prev_stream_leaf_hash "  # noqa: S608
            f"FROM {self.leaves} WHERE position >= %s ORDER BY position LIMIT %s",
            (start, stop - start),
        )
        if not leaves or leaves[-1][0] != stop - 1:  # n unique positions from start: all there
            return []
        stored = self._select_tuples(
            "SELECT notification_id, originator_id::text, originator_version, topic, state "  # noqa: S608
            f"FROM {events} WHERE notification_id >= %s ORDER BY notification_id LIMIT %s",
            (leaves[0][1], len(leaves)),
        )
        rows = []
        for (_, nid, leaf_hash, prev), (event_nid, sid, version, topic, state) in zip(
            leaves, stored, strict=False
        ):
            if nid != event_nid:
                break
            rows.append((nid, leaf_hash, prev, sid, version, topic, state))
        return rows

    def count_events(self, low: int, high: int) -> int:
        """Stored events with notification ids in [low, high]."""
        events = self.dialect.table(self.recorder.events_table_name)  # type: ignore[attr-defined]
        if self.dialect.name == "sqlite":
            query = SQLITE_COUNT_EVENTS.format(events=events)
        else:
            query = (
                f"SELECT COUNT(*) FROM {events} "  # noqa: S608
                "WHERE notification_id >= %s AND notification_id <= %s"
            )
        return int(self._select_tuples(query, (low, high))[0][0])

    def last_leaf_position(self) -> int:
        """The highest leaf position stored (-1: none)."""
        query = f"SELECT MAX(position) FROM {self.leaves}"  # noqa: S608
        found = self._select_tuples(query, ())[0][0]
        return -1 if found is None else int(found)

    def sqlite_file(self) -> tuple[str, str, str] | None:
        """(database name, leaves table, events table) for another process to open the same
        SQLite file; None on PostgreSQL or for an in-memory database."""
        pool = getattr(getattr(self.recorder, "datastore", None), "pool", None)
        if self.dialect.name != "sqlite" or pool is None or pool.is_sqlite_memory_mode:
            return None
        return str(pool.db_name), self.leaves, str(self.recorder.events_table_name)  # type: ignore[attr-defined]

    def _select_tuples(self, query: str, params: Sequence[Any]) -> list[Any]:
        # Plain tuples: the library's cursors build sqlite3.Row / dicts, costly per row at scale.
        with self.dialect.transaction(commit=False) as cursor:
            inner: Any = getattr(cursor, "sqlite_cursor", cursor)
            if self.dialect.name == "sqlite":
                inner.row_factory = None
                inner.execute(query, params)
            else:
                from psycopg.rows import tuple_row

                inner.row_factory = tuple_row
                # Binary results: bytea arrives as bytes, not hex text to decode.
                inner.execute(query, params, binary=True)
            return list(inner.fetchall())

    def checkpoints(
        self, *, tree_size: int | None = None, latest: bool = False
    ) -> list[StoredCheckpoint]:
        """Kept checkpoints, oldest first; or the one at `tree_size`; or only the latest."""
        query = f"SELECT tree_size, root_hash, note, created_at FROM {self.checkpoints_table}"  # noqa: S608
        params: list[object] = []
        if tree_size is not None:
            query += self.dialect.sql(" WHERE tree_size = %s")
            params.append(tree_size)
        query += " ORDER BY tree_size DESC LIMIT 1" if latest else " ORDER BY tree_size"
        return [
            StoredCheckpoint(
                int(r["tree_size"]), bytes(r["root_hash"]), str(r["note"]), int(r["created_at"])
            )
            for r in self._select(query, params)
        ]

    def count_events_after(self, notification_id: int) -> int:
        """Stored events not integrated yet (newer than the last integrated notification id)."""
        events = self.dialect.table(self.recorder.events_table_name)  # type: ignore[attr-defined]
        column = "rowid" if self.dialect.name == "sqlite" else "notification_id"
        query = self.dialect.sql(f"SELECT COUNT(*) AS n FROM {events} WHERE {column} > %s")  # noqa: S608
        return int(self._select(query, [notification_id])[0]["n"])

    # Writes ----------------------------------------------------------------------------------

    def lock_for_append(self, cursor: Cursor) -> None:
        """Begin the batch with a write, so integrators queue here: SQLite then waits for its
        write lock instead of failing to upgrade a read snapshot, PostgreSQL locks the state row."""
        cursor.execute(f"UPDATE {self.state} SET tree_size = tree_size WHERE id = 1")  # noqa: S608

    def append(
        self,
        cursor: Cursor,
        leaves: Sequence[StoredLeaf],
        nodes: Sequence[tuple[NodeId, bytes]],
        *,
        old_size: int,
        last_notification_id: int,
    ) -> None:
        """Leaves, their new tree nodes and the integration state, in the caller's transaction."""
        d = self.dialect
        leaf_rows = [
            (
                s.position,
                s.notification_id,
                s.leaf.stream_id,
                s.leaf.version,
                s.leaf.topic,
                s.leaf.recorded_at_us,
                None if s.leaf.key_id is None else s.leaf.key_id.bytes,
                s.leaf.payload_sha256,
                s.leaf.prev_stream_leaf_hash,
                s.leaf_hash,
            )
            for s in leaves
        ]
        node_rows = [(level, idx, value) for (level, idx), value in nodes]
        columns = (
            "position, notification_id, stream_id, version, topic, "
            "recorded_at, key_id, payload_sha256, prev_stream_leaf_hash, leaf_hash"
        )
        if d.name == "postgres":
            # One statement per table: psycopg's executemany costs a round of work per row.
            cursor.execute(
                f"INSERT INTO {self.leaves} ({columns}) SELECT * FROM unnest("  # noqa: S608
                "%s::bigint[], %s::bigint[], %s::text[], %s::bigint[], %s::text[], "
                "%s::bigint[], %s::bytea[], %s::bytea[], %s::bytea[], %s::bytea[])",
                [list(column) for column in zip(*leaf_rows, strict=True)],
            )
            cursor.execute(
                f"INSERT INTO {self.nodes} (level, idx, hash) SELECT * FROM unnest("  # noqa: S608
                "%s::integer[], %s::bigint[], %s::bytea[])",
                [list(column) for column in zip(*node_rows, strict=True)],
            )
        else:
            marks = ", ".join(["?"] * 10)
            cursor.executemany(
                f"INSERT INTO {self.leaves} ({columns}) VALUES ({marks})",  # noqa: S608
                leaf_rows,
            )
            cursor.executemany(
                f"INSERT INTO {self.nodes} (level, idx, hash) VALUES (?, ?, ?)",  # noqa: S608
                node_rows,
            )
        # The WHERE makes a concurrent integrator's transaction fail instead of double-appending.
        cursor.execute(
            d.sql(
                f"UPDATE {self.state} SET tree_size = %s, last_notification_id = %s "  # noqa: S608
                "WHERE id = 1 AND tree_size = %s"
            ),
            (old_size + len(leaves), last_notification_id, old_size),
        )
        if _rowcount(cursor) != 1:
            raise LedgerStoreError("another integrator moved the ledger on; retry")

    def save_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        d = self.dialect
        with d.transaction(commit=True) as cursor:
            cursor.execute(
                d.sql(
                    f"INSERT INTO {self.checkpoints_table} "  # noqa: S608
                    "(tree_size, root_hash, note, created_at) "
                    "VALUES (%s, %s, %s, %s) ON CONFLICT (tree_size) DO NOTHING"
                ),
                (
                    checkpoint.tree_size,
                    checkpoint.root_hash,
                    checkpoint.note,
                    checkpoint.created_at_us,
                ),
            )

    def _select(self, query: str, params: Sequence[Any], cursor: Cursor | None = None) -> list[Any]:
        if cursor is not None:
            cursor.execute(query, params)
            return list(cursor.fetchall())
        with self.dialect.transaction(commit=False) as own:
            own.execute(query, params)
            return list(own.fetchall())


def _is_lock_timeout(error: BaseException) -> bool:
    # The library re-raises psycopg errors as its own; SQLSTATE 55P03 is lock_not_available.
    cause = error.__cause__
    return getattr(cause, "sqlstate", None) == "55P03"


def _rowcount(cursor: Cursor) -> int:
    # The library wraps sqlite3 cursors without exposing rowcount; psycopg's has it directly.
    inner: Any = getattr(cursor, "sqlite_cursor", cursor)
    return int(inner.rowcount)


def _stored_leaf(row: Any) -> StoredLeaf:
    key_id = row["key_id"]
    prev = row["prev_stream_leaf_hash"]
    leaf = Leaf(
        stream_id=str(row["stream_id"]),
        version=int(row["version"]),
        topic=str(row["topic"]),
        recorded_at_us=None if row["recorded_at"] is None else int(row["recorded_at"]),
        key_id=None if key_id is None else UUID(bytes=bytes(key_id)),
        payload_sha256=bytes(row["payload_sha256"]),
        prev_stream_leaf_hash=None if prev is None else bytes(prev),
    )
    return StoredLeaf(
        position=int(row["position"]),
        notification_id=int(row["notification_id"]),
        leaf=leaf,
        leaf_hash=bytes(row["leaf_hash"]),
    )
