"""One batch of view writes inside one transaction: state updates run in order, appends in bulk.

Rows given to ``insert``, ``insert_many`` and ``append`` are sealed here (the columns
``projections.schema.SEALED`` lists), so view code writes plain values and nothing reaches the
database in the clear; handlers that ``execute`` their own UPDATE seal values with ``seal``
and read them back with ``query(..., sealed=table)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from projections.crypto import ViewCipher, aad_prefix
from projections.schema import SEALED
from projections.store import Params, Row, ViewCursor, row_key

LATE_AFTER = timedelta(days=30)
"""An event recorded this long after its valid period ended is flagged as recorded late."""


def iso_instant(moment: datetime) -> str:
    """Fixed-width UTC text (microseconds always present), so text order is time order."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="microseconds")


_TYPE_NAMES: dict[type, tuple[str, str]] = {}


def type_names(event_class: type) -> tuple[str, str]:
    """(record type, event type) of an event class, e.g. (PartnerOrganisation, Suspended)."""
    found = _TYPE_NAMES.get(event_class)
    if found is None:
        record_type, _, event_type = event_class.__qualname__.rpartition(".")
        found = _TYPE_NAMES[event_class] = (
            record_type or event_class.__name__,
            event_type or event_class.__name__,
        )
    return found


class Fact(NamedTuple):
    """What every registry event says, flattened once per event for every view that needs it."""

    record_id: str
    version: int
    record_type: str
    event_type: str
    position: int
    actor_id: str
    actor_role: str
    reason: str
    recorded_at: str
    valid_start: str
    valid_end: str
    valid_precision: str
    recorded_late: bool

    @property
    def entry_id(self) -> str:
        return f"{self.record_id}:{self.version}"

    @classmethod
    def of(cls, event: Any, position: int) -> Fact:
        timestamp: datetime = event.timestamp
        return cls.stated(
            type(event),
            str(event.originator_id),
            int(event.originator_version),
            position,
            timestamp,
            period(getattr(event, "valid_time", None), timestamp),
            str(getattr(event, "actor_id", "")),
            str(getattr(event, "actor_role", "")),
            str(getattr(event, "reason", "") or ""),
        )

    @classmethod
    def stated(
        cls,
        event_class: type,
        record_id: str,
        version: int,
        position: int,
        timestamp: datetime,
        valid: Period,
        actor_id: str,
        actor_role: str,
        reason: str,
    ) -> Fact:
        """The fact of an event of ``event_class`` saying these (``of`` reads them off it)."""
        return recorded_fact(
            record_id,
            version,
            type_names(event_class),
            position,
            actor_id,
            actor_role,
            reason,
            iso_instant(timestamp),
            valid,
        )


def recorded_fact(
    record_id: str,
    version: int,
    names: tuple[str, str],
    position: int,
    actor_id: str,
    actor_role: str,
    reason: str,
    recorded_at: str,
    valid: Period,
) -> Fact:
    """``Fact.stated`` given the type names and the recorded time as ``iso_instant`` text."""
    fact: Fact = _new_tuple(
        Fact,
        (
            record_id,
            version,
            names[0],
            names[1],
            position,
            actor_id,
            actor_role,
            reason,
            recorded_at,
            valid[0],
            valid[1],
            valid[2],
            recorded_at[:10] > valid[3],
        ),
    )
    return fact


_new_tuple = tuple.__new__
Period = tuple[str, str, str, str]
"""An event's valid period as the views store it: first day, last day, precision, and the day
after which recording it was late (ISO dates: their text order is their time order)."""


def period(valid: Any, timestamp: datetime) -> Period:
    """The period of a ``ValidTime`` (None: events from before valid time existed happened
    when recorded)."""
    if valid is not None:
        start: date = valid.start
        end: date = valid.end
        precision = str(valid.precision)
    else:
        start = end = timestamp.date()
        precision = "day"
    return start.isoformat(), end.isoformat(), precision, (end + LATE_AFTER).isoformat()


Collected = tuple[
    list[tuple[str, list[tuple[Any, ...]]]], dict[tuple[str, str], dict[str, tuple[int, str]]]
]
"""What ``Appends.take`` hands over: sealed rows by INSERT statement, and the records to touch
(by table and id column: record id -> version and recorded time)."""


class Appends:
    """Rows of append-only tables and the records to touch, gathered for a batch and written at
    its end. Neither depends on the order handlers give them in: a rebuild's reader process
    gathers those of the handlers that do nothing else (``EventHandlers.on(appends_only=True)``)
    and the writer adds them to its batch (``absorb``).
    """

    def __init__(self, cipher: ViewCipher) -> None:
        self.cipher = cipher
        self._appends: dict[str, tuple[_RowPlan, list[tuple[Any, ...]]]] = {}
        """Rows to append by statement, sealed when taken (a column at a time)."""
        self._sealed_appends: dict[str, list[tuple[Any, ...]]] = {}
        """Rows absorbed from elsewhere, sealed there, by statement."""
        self._touches: dict[tuple[str, str], dict[str, tuple[int, str]]] = {}

    def append(self, table: str, row: dict[str, Any]) -> None:
        self.append_values(table, tuple(row), tuple(row.values()))

    def append_values(self, table: str, columns: tuple[str, ...], values: tuple[Any, ...]) -> None:
        """``append`` of a row given as its columns and values (for rows written per event)."""
        plan = _ROW_PLANS.get((table, columns)) or _row_plan(table, columns)
        found = self._appends.get(plan.sql)
        if found is None:
            self._appends[plan.sql] = (plan, [values])
        else:
            found[1].append(values)

    def touch(self, table: str, id_column: str, fact: Fact) -> None:
        """Move a state row's ``version`` and ``updated_at`` to this event's, at the end.

        One UPDATE per row and batch instead of one per event; it never moves a row back, so a
        handler that set a later version meanwhile (e.g. a status change) keeps it.
        """
        touched = self._touches.setdefault((table, id_column), {})
        found = touched.get(fact.record_id)
        if found is None or found[0] < fact.version:
            touched[fact.record_id] = (fact.version, fact.recorded_at)

    def take(self) -> Collected:
        """Everything gathered, rows sealed; and start again empty."""
        rows = [
            (plan.sql, self._sealed_rows(plan, values)) for plan, values in self._appends.values()
        ]
        rows.extend(self._sealed_appends.items())
        touches = self._touches
        self._appends, self._sealed_appends, self._touches = {}, {}, {}
        return rows, touches

    def absorb(self, collected: Collected) -> None:
        """Add what another ``Appends`` took (for the same events' batch)."""
        rows, touches = collected
        for sql, sealed in rows:
            self._sealed_appends.setdefault(sql, []).extend(sealed)
        for key, touched in touches.items():
            here = self._touches.setdefault(key, {})
            for record_id, (version, at) in touched.items():
                found = here.get(record_id)
                if found is None or found[0] < version:
                    here[record_id] = (version, at)

    def _sealed_rows(self, plan: _RowPlan, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """``rows`` with their sealed columns sealed, a column at a time (``seal_many``)."""
        if not plan.sealed:
            return rows
        ids = plan.ids
        if len(ids) == 1:
            first = ids[0]
            row_ids = [str(row[first]) for row in rows]
        else:
            row_ids = ["\x1f".join([str(row[i]) for i in ids]) for row in rows]
        if len(plan.sealed) == 1:
            index, prefix = plan.sealed[0]
            sealed = self.cipher.seal_many(prefix, row_ids, [row[index] for row in rows])
            return [
                (*row[:index], value, *row[index + 1 :])
                for row, value in zip(rows, sealed, strict=True)
            ]
        columns = [list(row) for row in rows]
        for index, prefix in plan.sealed:
            sealed = self.cipher.seal_many(prefix, row_ids, [row[index] for row in rows])
            for row, value in zip(columns, sealed, strict=True):
                row[index] = value
        return [tuple(row) for row in columns]


class ViewBatch(Appends):
    """Writes for one batch of events, all in the caller's transaction.

    Statements run in the order given (later statements and ``query`` may depend on earlier
    ones); consecutive ``insert`` calls of the same statement run as one ``executemany``, before
    whatever comes next. ``append`` collects rows of append-only tables and writes each table
    with one ``executemany`` at ``flush``; ``touch`` updates records' versions there too.
    """

    def __init__(self, cursor: ViewCursor, cipher: ViewCipher) -> None:
        super().__init__(cipher)
        self._cursor = cursor
        self.memo: dict[tuple[str, str], Any] = {}
        """Values handlers learnt in this batch (e.g. partner names), to spare a query."""
        self._inserting = ""
        self._inserts: list[Params] = []

    def _insert_now(self) -> None:
        """Run the inserts held back (before any other statement)."""
        if self._inserts:
            if len(self._inserts) == 1:
                self._cursor.execute(self._inserting, self._inserts[0])
            else:
                self._cursor.executemany(self._inserting, self._inserts)
            self._inserts = []

    def execute(self, sql: str, params: Params = ()) -> None:
        self._insert_now()
        self._cursor.execute(sql, params)

    def query(self, sql: str, params: Params = (), *, sealed: str | None = None) -> list[Row]:
        """Rows of a statement in this transaction; ``sealed``: open that table's columns."""
        self._insert_now()
        self._cursor.execute(sql, params)
        rows = self._cursor.fetchall()
        if sealed is not None and rows:
            ids, columns = SEALED[sealed]
            for row in rows:
                row_id = row_key(ids, row)
                for column in columns:
                    if column in row:
                        row[column] = self.cipher.open(sealed, column, row_id, row[column])
        return rows

    def seal(self, table: str, column: str, row_id: str, value: str | None) -> bytes | None:
        """The stored form of one value (for handlers' own UPDATE statements)."""
        return self.cipher.seal(table, column, row_id, value)

    def _values(self, table: str, row: dict[str, Any]) -> tuple[Any, ...]:
        return self._row(table, row)[1]

    def _row(self, table: str, row: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
        """The INSERT statement for ``row``'s columns, and its values with sealed ones sealed."""
        columns = tuple(row)
        plan = _ROW_PLANS.get((table, columns)) or _row_plan(table, columns)
        return plan.sql, self._sealed(plan, tuple(row.values()))

    def _sealed(self, plan: _RowPlan, values: tuple[Any, ...]) -> tuple[Any, ...]:
        if not plan.sealed:
            return values
        ids = plan.ids
        if len(ids) == 1:
            row_id = str(values[ids[0]])
        else:
            row_id = "\x1f".join([str(values[i]) for i in ids])
        sealed = list(values)
        seal = self.cipher.seal_bound
        for index, prefix in plan.sealed:
            sealed[index] = seal(prefix, row_id, sealed[index])
        return tuple(sealed)

    def insert(self, table: str, row: dict[str, Any]) -> None:
        """Insert before the next statement (for state tables that later statements update)."""
        sql, values = self._row(table, row)
        if sql != self._inserting:
            self._insert_now()
            self._inserting = sql
        self._inserts.append(values)

    def insert_many(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        self._insert_now()
        if rows:
            sealed = [self._row(table, row) for row in rows]
            self._cursor.executemany(sealed[0][0], [values for _, values in sealed])

    def insert_tuples(
        self, table: str, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        """Insert rows given as tuples (tables without sealed columns, e.g. the blind index)."""
        if table in SEALED:
            raise ValueError(f"{table} has sealed columns: insert rows as dicts")
        self._insert_now()
        if rows:
            self._cursor.executemany(self._insert(table, columns), rows)

    def flush(self) -> None:
        self._insert_now()
        rows, touches = self.take()
        for sql, sealed in rows:
            self._cursor.executemany(sql, sealed)
        for (table, id_column), touched in touches.items():
            self._cursor.executemany(
                f"UPDATE {table} SET version = ?, updated_at = ? "  # noqa: S608
                f"WHERE {id_column} = ? AND version < ?",
                [(v, at, record_id, v) for record_id, (v, at) in touched.items()],
            )

    def _insert(self, table: str, columns: tuple[str, ...]) -> str:
        plan = _ROW_PLANS.get((table, columns))
        return (plan or _row_plan(table, columns)).sql


class _RowPlan(NamedTuple):
    sql: str
    ids: tuple[int, ...]
    """Positions of the columns naming the row (its sealed values' associated data)."""
    sealed: tuple[tuple[int, bytes], ...]
    """Positions of the sealed columns, and the prefix of their associated data."""


_ROW_PLANS: dict[tuple[str, tuple[str, ...]], _RowPlan] = {}


def _row_plan(table: str, columns: tuple[str, ...]) -> _RowPlan:
    marks = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
    ids: tuple[int, ...] = ()
    sealed: tuple[tuple[int, bytes], ...] = ()
    spec = SEALED.get(table)
    if spec is not None:
        names, sealed_columns = spec
        missing = [name for name in names if name not in columns]
        if missing:
            raise KeyError(missing[0])
        ids = tuple(columns.index(name) for name in names)
        sealed = tuple(
            (i, aad_prefix(table, c)) for i, c in enumerate(columns) if c in sealed_columns
        )
    plan = _ROW_PLANS[table, columns] = _RowPlan(sql, ids, sealed)
    return plan
