"""The key store: a data key per stream and a key per person, wrapped by the master key, cached.

Backends (SQLite, PostgreSQL) supply the connection and a few SQL details; everything else is here.
"""
# ruff: noqa: S608 - table names come from _table() (constants or quoted identifiers); every
# value is a bound parameter.

from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar
from uuid import UUID, uuid4

from security.keys.master import (
    MasterKeyError,
    master_key_id,
    new_secret,
    unwrap,
    wrap,
    wrapping_aad,
)

STREAM = "stream"
PERSON = "person"
EXPORT_FORMAT = "registry-keys/1"
KEY_VERSION = 1  # keys are re-wrapped on rotation, never re-keyed, so every key is version 1
PREFETCH_CHUNK = 500

_K = TypeVar("_K")
_V = TypeVar("_V")

Row = tuple[Any, ...]
Run = Callable[[str, tuple[Any, ...]], tuple[list[Row], int]]

# One line per column, shared by both backends; {blob} and {time} are the backend's types.
KEYS_TABLE_DDL = """
CREATE TABLE IF NOT EXISTS {keys} (
    key_id TEXT PRIMARY KEY,          -- UUID of the key, written into each envelope header
    purpose TEXT NOT NULL,            -- 'stream' (one aggregate's data key) or 'person'
    subject TEXT NOT NULL,            -- the stream id or person id the key belongs to
    version INTEGER NOT NULL,         -- key version, written into each envelope header
    wrapped {blob},                   -- AES-256-GCM(master key, key) || tag; NULL once destroyed
    nonce {blob} NOT NULL,            -- the nonce used to wrap the key
    master_key_id TEXT NOT NULL,      -- which master key wrapped it (see master_key_id())
    created_at {time} NOT NULL,       -- when the key was created
    destroyed_at {time},              -- when the key was destroyed (crypto-shredding), else NULL
    destroyed_reason TEXT,            -- why it was destroyed, as given by the administrator
    UNIQUE (purpose, subject)         -- one current key per stream or person
)
"""
ERASURES_TABLE_DDL = """
CREATE TABLE IF NOT EXISTS {erasures} (
    id INTEGER PRIMARY KEY CHECK (id = 1),  -- a single row
    destroyed_count BIGINT NOT NULL         -- keys destroyed so far; readers watch it change
)
"""
COLUMNS = (
    "key_id, purpose, subject, version, wrapped, nonce, master_key_id, "
    "created_at, destroyed_at, destroyed_reason"
)


class KeyStoreError(Exception):
    """The key store cannot do what was asked; the message says why."""


@dataclass(frozen=True)
class KeyRecord:
    """One row of ``registry_keys``: a key as stored, wrapped (or destroyed)."""

    key_id: UUID
    purpose: str
    subject: str
    version: int
    wrapped: bytes | None
    nonce: bytes
    master_key_id: str
    created_at: datetime
    destroyed_at: datetime | None
    destroyed_reason: str | None

    @property
    def aad(self) -> bytes:
        return wrapping_aad(self.key_id, self.purpose, self.subject, self.version)


@dataclass(frozen=True)
class DataKey:
    """An unwrapped key; ``secret`` is None once the key has been destroyed."""

    key_id: UUID
    version: int
    purpose: str
    subject: str
    secret: bytes | None

    @property
    def destroyed(self) -> bool:
        return self.secret is None


@dataclass(frozen=True)
class ImportReport:
    """What ``import_keys`` did: rows added, and rows already present (left untouched)."""

    imported: int
    skipped: int


class _LRU(Generic[_K, _V]):
    """A small thread-safe LRU map for unwrapped keys."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[_K, _V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: _K) -> _V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: _K, value: _V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def discard(self, key: _K) -> None:
        with self._lock:
            self._items.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class KeyStore(ABC):
    """Get-or-create, destroy, rotate, export and import the keys in ``registry_keys``.

    Stream keys are cached by id without expiry (they are never destroyed). Person keys are
    cached too, but the cache is dropped whenever the erasure counter (one row, bumped in the
    transaction that destroys a key) differs from the value last seen: ``notice_erasures``
    reads it, and the envelope calls it once per event that holds personal data.
    """

    def __init__(self, master: bytes, cache_size: int = 4096) -> None:
        self._master = master
        self._streams: _LRU[UUID, DataKey] = _LRU(cache_size)
        self._streams_by_subject: _LRU[str, UUID] = _LRU(cache_size)
        self._persons: _LRU[UUID, DataKey] = _LRU(cache_size)
        self._persons_by_subject: _LRU[UUID, UUID] = _LRU(cache_size)
        self._seen_erasures: int | None = None
        self._erasure_lock = threading.Lock()

    # -- backend -------------------------------------------------------------------------------

    @abstractmethod
    def _transaction(self, write: bool = False) -> AbstractContextManager[Run]:
        """A context manager yielding a ``Run`` callable inside one transaction."""

    @abstractmethod
    def _table(self, name: str) -> str:
        """The (qualified) name of one of the key store's tables."""

    @abstractmethod
    def _scrub(self) -> None:
        """Remove old copies of overwritten rows from the storage files (after commit)."""

    @abstractmethod
    def _time_param(self, value: datetime) -> Any: ...

    @abstractmethod
    def _time_value(self, value: Any) -> datetime: ...

    @abstractmethod
    def close(self) -> None:
        """Close the connection."""

    @abstractmethod
    def connection_closer(self) -> Callable[[], None]:
        """Closes this store's connection without holding the store (for a finalizer)."""

    # -- public API ----------------------------------------------------------------------------

    @property
    def master_key_id(self) -> str:
        return master_key_id(self._master)

    def data_key_for_stream(self, stream_id: UUID | str) -> DataKey:
        """The data key of one aggregate stream, created on first use (safe across processes)."""
        subject = str(stream_id)
        key_id = self._streams_by_subject.get(subject)
        if key_id is not None:
            cached = self._streams.get(key_id)
            if cached is not None:
                return cached
        key = self._unwrapped(self._get_or_create(STREAM, subject))
        self._streams.put(key.key_id, key)
        self._streams_by_subject.put(subject, key.key_id)
        return key

    def person_key(self, person_id: UUID) -> DataKey:
        """The key of one person, created on first use; ``destroyed`` once erased."""
        key_id = self._persons_by_subject.get(person_id)
        if key_id is not None:
            cached = self._persons.get(key_id)
            if cached is not None:
                return cached
        key = self._unwrapped(self._get_or_create(PERSON, str(person_id)))
        self._remember_person(person_id, key)
        return key

    def key_by_id(self, key_id: UUID) -> DataKey | None:
        """Any key by its id (as read from an envelope or a sealed value); None if unknown."""
        cached = self._streams.get(key_id) or self._persons.get(key_id)
        if cached is not None:
            return cached
        record = self._select_one("key_id = ?", (str(key_id),))
        if record is None:
            return None
        key = self._unwrapped(record)
        if key.purpose == STREAM:
            self._streams.put(key_id, key)
        else:
            self._remember_person(UUID(key.subject), key)
        return key

    def prefetch_stream_keys(self, key_ids: Iterable[UUID]) -> None:
        """Cache the stream keys among ``key_ids`` with a query per 500 rather than one each
        (for readers of many streams at once, such as a rebuild); unknown ids are left out."""
        wanted = [key_id for key_id in dict.fromkeys(key_ids) if self._streams.get(key_id) is None]
        for at in range(0, len(wanted), PREFETCH_CHUNK):
            chunk = wanted[at : at + PREFETCH_CHUNK]
            marks = ", ".join("?" for _ in chunk)
            with self._transaction() as run:
                rows, _ = run(
                    f"SELECT {COLUMNS} FROM {self._table('registry_keys')} "
                    f"WHERE purpose = ? AND key_id IN ({marks})",
                    (STREAM, *(str(key_id) for key_id in chunk)),
                )
            for row in rows:
                key = self._unwrapped(self._record(row))
                self._streams.put(key.key_id, key)

    def notice_erasures(self) -> None:
        """Forget cached person keys if any key was destroyed (by any process) since last look."""
        with self._transaction() as run:
            rows, _ = run(f"SELECT destroyed_count FROM {self._table('registry_key_erasures')}", ())
        count = int(rows[0][0]) if rows else 0
        with self._erasure_lock:
            if count != self._seen_erasures:
                self._persons.clear()
                self._persons_by_subject.clear()
                self._seen_erasures = count

    def destroy_person_key(self, person_id: UUID, reason: str) -> bool:
        """Crypto-shred a person's key: overwrite it, record when and why, scrub old copies.

        Returns False when the person had no key or it was already destroyed. Creates a
        destroyed key when the person had none, so that no key is created for them later.
        """
        if not reason.strip():
            raise KeyStoreError("a reason is required to destroy a person's key")
        self._get_or_create(PERSON, str(person_id))
        keys = self._table("registry_keys")
        with self._transaction(write=True) as run:
            _, changed = run(
                f"UPDATE {keys} SET wrapped = NULL, destroyed_at = ?, destroyed_reason = ? "
                "WHERE purpose = ? AND subject = ? AND destroyed_at IS NULL",
                (self._time_param(datetime.now(UTC)), reason, PERSON, str(person_id)),
            )
            if changed:
                run(
                    f"UPDATE {self._table('registry_key_erasures')} "
                    "SET destroyed_count = destroyed_count + 1 WHERE id = 1",
                    (),
                )
        key_id = self._persons_by_subject.get(person_id)
        if key_id is not None:
            self._persons.discard(key_id)
        self._persons_by_subject.discard(person_id)
        self._scrub()
        return bool(changed)

    def rotate(self, old_master: bytes, new_master: bytes) -> int:
        """Re-wrap every live key from the old master key to the new one; events are untouched.

        Keys already under the new master are skipped, so an interrupted rotation can be rerun.
        Returns how many keys were re-wrapped.
        """
        old_id, new_id = master_key_id(old_master), master_key_id(new_master)
        keys = self._table("registry_keys")
        count = 0
        with self._transaction(write=True) as run:
            rows, _ = run(f"SELECT {COLUMNS} FROM {keys} WHERE master_key_id <> ?", (new_id,))
            for record in map(self._record, rows):
                if record.master_key_id != old_id:
                    raise MasterKeyError(
                        f"key {record.key_id} is wrapped under master key {record.master_key_id}, "
                        f"not the old key {old_id} given for rotation"
                    )
                if record.wrapped is None:
                    run(
                        f"UPDATE {keys} SET master_key_id = ? WHERE key_id = ?",
                        (new_id, str(record.key_id)),
                    )
                    continue
                secret = unwrap(old_master, record.nonce, record.wrapped, record.aad)
                nonce, wrapped = wrap(new_master, secret, record.aad)
                run(
                    f"UPDATE {keys} SET wrapped = ?, nonce = ?, master_key_id = ? WHERE key_id = ?",
                    (wrapped, nonce, new_id, str(record.key_id)),
                )
                count += 1
        if self._master == old_master:
            self._master = new_master
        self._scrub()
        return count

    def export_keys(self, path: Path) -> int:
        """Write every key, still wrapped, to a JSON file for backup; returns how many."""
        records = self._select_all()
        document = {
            "format": EXPORT_FORMAT,
            "master_key_id": self.master_key_id,
            "keys": [_record_to_json(record) for record in records],
        }
        path.write_text(json.dumps(document, indent=1) + "\n")
        path.chmod(0o600)
        return len(records)

    def import_keys(self, path: Path) -> ImportReport:
        """Add the keys of an export file that are not here yet; never revives a destroyed key."""
        document = json.loads(path.read_text())
        if document.get("format") != EXPORT_FORMAT:
            raise KeyStoreError(f"{path}: not a registry key export (format {EXPORT_FORMAT})")
        records = [_record_from_json(item) for item in document["keys"]]
        foreign = {r.master_key_id for r in records} - {self.master_key_id}
        if foreign:
            raise MasterKeyError(
                f"{path}: keys are wrapped under master key {', '.join(sorted(foreign))}, "
                f"but REGISTRY_MASTER_KEY is {self.master_key_id}"
            )
        imported = 0
        with self._transaction(write=True) as run:
            for record in records:
                imported += self._insert(run, record)
        return ImportReport(imported=imported, skipped=len(records) - imported)

    def all_records(self) -> list[KeyRecord]:
        """Every row, wrapped, for inspection and tests."""
        return self._select_all()

    # -- internals -----------------------------------------------------------------------------

    def _create_tables(self, blob: str, time: str) -> None:
        keys, erasures = self._table("registry_keys"), self._table("registry_key_erasures")
        with self._transaction(write=True) as run:
            run(KEYS_TABLE_DDL.format(keys=keys, blob=blob, time=time), ())
            run(ERASURES_TABLE_DDL.format(erasures=erasures), ())
            run(
                f"INSERT INTO {erasures} (id, destroyed_count) VALUES (1, 0) "
                "ON CONFLICT DO NOTHING",
                (),
            )

    def _remember_person(self, person_id: UUID, key: DataKey) -> None:
        self._persons.put(key.key_id, key)
        self._persons_by_subject.put(person_id, key.key_id)

    def _get_or_create(self, purpose: str, subject: str) -> KeyRecord:
        # INSERT .. ON CONFLICT DO NOTHING, then SELECT: whoever inserted first wins, everywhere.
        existing = self._select_one("purpose = ? AND subject = ?", (purpose, subject))
        if existing is not None:
            return existing
        key_id = uuid4()
        aad = wrapping_aad(key_id, purpose, subject, KEY_VERSION)
        nonce, wrapped = wrap(self._master, new_secret(), aad)
        candidate = KeyRecord(
            key_id,
            purpose,
            subject,
            KEY_VERSION,
            wrapped,
            nonce,
            self.master_key_id,
            datetime.now(UTC),
            None,
            None,
        )
        with self._transaction(write=True) as run:
            self._insert(run, candidate)
        found = self._select_one("purpose = ? AND subject = ?", (purpose, subject))
        if found is None:  # pragma: no cover - the row was just inserted or already there
            raise KeyStoreError(f"no {purpose} key for {subject} after creating one")
        return found

    def _insert(self, run: Run, record: KeyRecord) -> int:
        _, inserted = run(
            f"INSERT INTO {self._table('registry_keys')} ({COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (
                str(record.key_id),
                record.purpose,
                record.subject,
                record.version,
                record.wrapped,
                record.nonce,
                record.master_key_id,
                self._time_param(record.created_at),
                None if record.destroyed_at is None else self._time_param(record.destroyed_at),
                record.destroyed_reason,
            ),
        )
        return inserted

    def _select_one(self, where: str, params: tuple[Any, ...]) -> KeyRecord | None:
        with self._transaction() as run:
            rows, _ = run(
                f"SELECT {COLUMNS} FROM {self._table('registry_keys')} WHERE {where}", params
            )
        return self._record(rows[0]) if rows else None

    def _select_all(self) -> list[KeyRecord]:
        with self._transaction() as run:
            rows, _ = run(
                f"SELECT {COLUMNS} FROM {self._table('registry_keys')} ORDER BY created_at, key_id",
                (),
            )
        return [self._record(row) for row in rows]

    def _record(self, row: Row) -> KeyRecord:
        return KeyRecord(
            key_id=UUID(row[0]),
            purpose=row[1],
            subject=row[2],
            version=int(row[3]),
            wrapped=None if row[4] is None else bytes(row[4]),
            nonce=bytes(row[5]),
            master_key_id=row[6],
            created_at=self._time_value(row[7]),
            destroyed_at=None if row[8] is None else self._time_value(row[8]),
            destroyed_reason=row[9],
        )

    def _unwrapped(self, record: KeyRecord) -> DataKey:
        if record.wrapped is None:
            return DataKey(record.key_id, record.version, record.purpose, record.subject, None)
        if record.master_key_id != self.master_key_id:
            raise MasterKeyError(
                f"key {record.key_id} is wrapped under master key {record.master_key_id}, but "
                f"REGISTRY_MASTER_KEY is {self.master_key_id} (rotate, or use the right key)"
            )
        secret = unwrap(self._master, record.nonce, record.wrapped, record.aad)
        return DataKey(record.key_id, record.version, record.purpose, record.subject, secret)


def _record_to_json(record: KeyRecord) -> dict[str, Any]:
    return {
        "key_id": str(record.key_id),
        "purpose": record.purpose,
        "subject": record.subject,
        "version": record.version,
        "wrapped": None if record.wrapped is None else record.wrapped.hex(),
        "nonce": record.nonce.hex(),
        "master_key_id": record.master_key_id,
        "created_at": record.created_at.isoformat(),
        "destroyed_at": None if record.destroyed_at is None else record.destroyed_at.isoformat(),
        "destroyed_reason": record.destroyed_reason,
    }


def _record_from_json(item: dict[str, Any]) -> KeyRecord:
    return KeyRecord(
        key_id=UUID(item["key_id"]),
        purpose=item["purpose"],
        subject=item["subject"],
        version=int(item["version"]),
        wrapped=None if item["wrapped"] is None else bytes.fromhex(item["wrapped"]),
        nonce=bytes.fromhex(item["nonce"]),
        master_key_id=item["master_key_id"],
        created_at=datetime.fromisoformat(item["created_at"]),
        destroyed_at=None
        if item["destroyed_at"] is None
        else datetime.fromisoformat(item["destroyed_at"]),
        destroyed_reason=item["destroyed_reason"],
    )
