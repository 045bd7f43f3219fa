"""The library's PostgreSQL application recorder, sending new events as four binary arrays.

``eventsourcing.postgres`` inserts a command's events as one array of a composite type
(``unnest(%s::stored_event_uuid[])``), which psycopg writes as text: each event's fields are
escaped by regular expressions in Python, the payload as hexadecimal, and the array escapes it
all again. For an encrypted payload of 600 bytes that was ~42 us of client CPU an event (a
100-event insert took 8.9 ms; as four arrays in binary, 1.3 ms). This recorder keeps everything
else of the library's (the table, the lock that orders notification ids, NOTIFY, the ids
returned in the order given, retries, subscriptions) and replaces only the statement and its
parameters: ``unnest`` of the ids, versions, topics and payloads as four arrays, each sent in
binary by psycopg's C dumpers. It also creates the library's tables and function under an
advisory lock, so that processes starting together do not collide (``_create_table``).
Selected with the library's ``APPLICATION_RECORDER_TOPIC`` (``api.bootstrap.storage_env`` sets
it). Snapshots still go through the library's aggregate recorder, which its factory does not
let an environment replace.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import (
    ProgrammingError,
    StoredEvent,
)
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresDatastore,
)
from eventsourcing.postgres import PostgresFactory as LibraryPostgresFactory
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

from api.snapshot_links import LinksSnapshots

DDL_LOCK = int.from_bytes(
    hashlib.sha256(b"partnership-registry/ddl").digest()[:8], "big", signed=True
)
"""The transaction-scoped advisory lock held while the recorder creates what is missing."""


def _insert_as_arrays(
    datastore: PostgresDatastore, table: str, *, returning_ids: bool = False
) -> Composed:
    """INSERT of stored events given as four arrays (ids, versions, topics, payloads)."""
    statement = SQL(
        "INSERT INTO {schema}.{table} AS t (originator_id, originator_version, topic, state)"
        " SELECT originator_id, originator_version, topic, state"
        " FROM unnest(%b::{id_type}[], %b::bigint[], %b::text[], %b::bytea[])"
        " AS e (originator_id, originator_version, topic, state)"
    ).format(
        schema=Identifier(datastore.schema),
        table=Identifier(table),
        id_type=Identifier(datastore.originator_id_type),
    )
    return statement + SQL(" RETURNING notification_id") if returning_ids else statement


def _as_arrays(stored_events: Sequence[StoredEvent]) -> tuple[list[Any], ...]:
    return (
        [event.originator_id for event in stored_events],
        [event.originator_version for event in stored_events],
        [event.topic for event in stored_events],
        [bytes(event.state) for event in stored_events],
    )


class PostgresEventRecorder(PostgresApplicationRecorder):
    """``PostgresApplicationRecorder`` whose inserts send four binary arrays (same rows), and
    which records a command's snapshots in the transaction of its events when given
    ``snapshots=[...]`` (its factory, ``PostgresFactory``, tells it the snapshots' table)."""

    snapshots_recorder: PostgresAggregateRecorder | None = None

    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.insert_events_statement = _insert_as_arrays(
            datastore, self.events_table_name, returning_ids=True
        )
        self._insert_snapshots_statement: Composed | None = None

    @property
    def records_snapshots(self) -> bool:
        return self.snapshots_recorder is not None

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        """The library's hook, run first in the events' transaction: the snapshots, as arrays
        too (the library's aggregate recorder escapes a 40 KB snapshot as text: ~1.6 ms)."""
        snapshots: Sequence[StoredEvent] = kwargs.get("snapshots") or ()
        if snapshots:
            recorder = self.snapshots_recorder
            if recorder is None:
                raise ProgrammingError("no snapshots recorder: snapshots would be lost")
            if self._insert_snapshots_statement is None:
                self._insert_snapshots_statement = _insert_as_arrays(
                    self.datastore, recorder.events_table_name
                )
            curs.execute(self._insert_snapshots_statement, _as_arrays(snapshots))
        super()._insert_events(curs, stored_events, **kwargs)

    def _create_table(self, curs: Cursor[DictRow]) -> None:
        """The library's statements, one process at a time (within the transaction the library
        opens for them): every process opening the registry runs them, and PostgreSQL refuses
        the same ``CREATE OR REPLACE FUNCTION`` from two sessions at once ("tuple concurrently
        updated"): an API process, the projection worker or ``registry verify`` starting
        beside another failed at random."""
        curs.execute("SELECT pg_advisory_xact_lock(%s)", (DDL_LOCK,))
        super()._create_table(curs)

    def _insert_stored_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        **kwargs: Any,
    ) -> None:
        del kwargs
        self._lock_table(curs)
        self._notify_channel(curs)
        curs.execute(self.insert_events_statement, _as_arrays(stored_events))


class PostgresFactory(LinksSnapshots, LibraryPostgresFactory):
    """The library's ``PostgresFactory``, telling an application recorder that records
    snapshots with events (``PostgresEventRecorder``) of the snapshots' recorder."""


Factory = PostgresFactory
