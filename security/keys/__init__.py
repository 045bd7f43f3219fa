"""Envelope keys: a master key wraps one data key per stream and one key per person.

``open_key_store(env)`` opens the store beside the events of a library environment.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from eventsourcing.utils import resolve_topic

from security.keys.master import (
    MASTER_KEY_SETTING,
    MasterKeyError,
    decode_master_key,
    master_key_from_environment,
    master_key_id,
)
from security.keys.store import DataKey, ImportReport, KeyRecord, KeyStore, KeyStoreError

__all__ = [
    "MASTER_KEY_SETTING",
    "DataKey",
    "ImportReport",
    "KeyRecord",
    "KeyStore",
    "KeyStoreError",
    "MasterKeyError",
    "PersonKeyShredder",
    "decode_master_key",
    "master_key_from_environment",
    "master_key_id",
    "open_key_store",
    "release_key_store",
]

# One store (one connection, one cache) per storage location and master key in a process, so
# that every application and mapper of the process shares the cache that erasure clears.
_open_stores: weakref.WeakValueDictionary[tuple[str, str], KeyStore] = weakref.WeakValueDictionary()
_closers: dict[tuple[str, str], weakref.finalize[Any, Any]] = {}
_open_lock = threading.Lock()


def _forget_inherited_stores() -> None:
    """In a forked child: the parent's stores hold the parent's connections (a PostgreSQL
    socket, an SQLite file handle), which the child must neither use nor close; it opens its
    own on first use."""
    global _open_lock
    _open_lock = threading.Lock()
    for closer in _closers.values():
        closer.detach()
    _closers.clear()
    _open_stores.clear()


os.register_at_fork(after_in_child=_forget_inherited_stores)


def open_key_store(env: Mapping[str, str], master: bytes | None = None) -> KeyStore:
    """The key store beside the events configured by ``env`` (the library's settings).

    ``master`` defaults to REGISTRY_MASTER_KEY from ``env``. In-memory event stores (POPO,
    SQLite ``:memory:``) get an in-memory key store private to this process.
    """
    key = master if master is not None else master_key_from_environment(env)
    location = _location(env)
    with _open_lock:
        if location is not None:
            found = _open_stores.get((location, master_key_id(key)))
            # A store that has since rotated to another master key no longer answers for this one.
            if found is not None and found.master_key_id == master_key_id(key):
                return found
        store = _construct(env, key)
        if location is not None:
            _open_stores[(location, master_key_id(key))] = store
            # The finalizer must not hold the store itself, or the store would never be freed.
            _closers[(location, master_key_id(key))] = weakref.finalize(
                store, store.connection_closer()
            )
        return store


def release_key_store(env: Mapping[str, str]) -> None:
    """Close this process's key stores for the storage ``env`` names (all master keys).

    For short-lived uses such as tests; a running registry keeps its store for its lifetime.
    """
    location = _location(env)
    if location is None:
        return
    with _open_lock:
        for key, store in list(_open_stores.items()):
            if key[0] == location:
                store.close()
                del _open_stores[key]
                _closers.pop(key, None)


def _module(env: Mapping[str, str]) -> str:
    """The library's persistence module ``env`` uses: PERSISTENCE_MODULE names it, or names a
    factory class deriving from one of its factories (e.g. ``api.sqlite_factory``'s)."""
    topic = env.get("PERSISTENCE_MODULE") or "eventsourcing.popo"
    if ":" not in topic:
        return topic
    found = resolve_topic(topic)
    for klass in found.__mro__ if isinstance(found, type) else ():
        if klass.__module__.startswith("eventsourcing."):
            return str(klass.__module__)
    return topic


def _is_memory(name: str) -> bool:
    return ":memory:" in name or "mode=memory" in name


def _location(env: Mapping[str, str]) -> str | None:
    module = _module(env)
    if module.startswith("eventsourcing.sqlite"):
        name = env.get("SQLITE_DBNAME") or ""
        return None if not name or _is_memory(name) else f"sqlite:{name}"
    if module.startswith("eventsourcing.postgres"):
        return "postgres:" + "/".join(
            env.get(f"POSTGRES_{part}") or ""
            for part in ("HOST", "PORT", "DBNAME", "USER", "SCHEMA")
        )
    return None


def _construct(env: Mapping[str, str], master: bytes) -> KeyStore:
    module = _module(env)
    if module.startswith("eventsourcing.postgres"):
        from security.keys.postgres import PostgresKeyStore

        conninfo = {
            "dbname": env.get("POSTGRES_DBNAME") or "postgres",
            "host": env.get("POSTGRES_HOST") or "127.0.0.1",
            "port": env.get("POSTGRES_PORT") or "5432",
            "user": env.get("POSTGRES_USER") or "postgres",
            "password": env.get("POSTGRES_PASSWORD") or "",
            "connect_timeout": int(env.get("POSTGRES_CONNECT_TIMEOUT") or "5"),
        }
        return PostgresKeyStore(master, conninfo, env.get("POSTGRES_SCHEMA") or "")
    from security.keys.sqlite import SQLiteKeyStore

    if module.startswith("eventsourcing.sqlite"):
        name = env.get("SQLITE_DBNAME") or ""
        return SQLiteKeyStore(master, None if _is_memory(name) else name)
    if module.startswith("eventsourcing.popo"):
        return SQLiteKeyStore(master, None)
    raise KeyStoreError(f"PERSISTENCE_MODULE {module!r}: no key store for this backend")


class PersonKeyShredder:
    """The domain's ``PersonKeys`` port: destroying a person's key erases their data everywhere."""

    def __init__(self, store: KeyStore) -> None:
        self.store = store

    def destroy(self, person_id: UUID, reason: str = "personal data erased") -> None:
        self.store.destroy_person_key(person_id, reason)
