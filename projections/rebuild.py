"""Rebuild every view from the whole log: drop, recreate, replay in large batches with progress."""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterator
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

from domain.application import PartnershipRegistry
from projections.batch import Appends, Collected, Fact
from projections.crypto import ViewCipher
from projections.handlers import HANDLERS
from projections.projection import RegistryProjection
from projections.reader import LogReader, ReaderError
from projections.replay import Replay
from projections.store import ViewStore

Progress = Callable[[int, int], None]
log = logging.getLogger(__name__)
REBUILD_BATCH = 2000
"""Events read (and with a reader process, sent) at a time. The writer starts once the reader
has sent the first page and ends a page after it, so smaller pages overlap the two longer;
much smaller ones cost more per event (a key query, a statement per table per page)."""
REBUILD_COMMIT = 100_000
"""Events a rebuild writes per transaction: each commit rewrites the pages it touched (most
of every index, keyed by random ids), so few large commits write far less than many small."""


def open_registry(env: dict[str, str] | None) -> PartnershipRegistry:
    """The registry application on ``env`` (api.bootstrap.library_env gives one)."""
    return PartnershipRegistry(env)


def rebuild_all(
    env: dict[str, str] | None = None,
    progress: Progress | None = None,
    *,
    app: Any = None,
    batch_size: int = REBUILD_BATCH,
    commit_every: int = REBUILD_COMMIT,
    parallel: bool = True,
) -> int:
    """Drop and recreate every view, replay the log; returns the number of events replayed.

    Stop followers first (``registry projections run`` or the embedded one): a follower that
    kept running would find the views ahead of it and stop with an error.
    The log is read ``batch_size`` events at a time; ``progress(done, total)`` is called after
    each such batch. Writes are committed every ``commit_every`` events or so (whole batches),
    the first transaction also dropping and recreating the tables: a log of up to
    ``commit_every`` events is rebuilt all or nothing, and a crash leaves the old views.
    With ``parallel`` (and where it can: ``projections.reader``), a second process reads and
    decodes the log while this one writes.
    """
    owned = app is None
    # A replay allocates millions of short-lived objects and no cycles: the cyclic collector's
    # passes over the growing young generations were a third of the run. Back on at the end.
    collecting = gc.isenabled()
    gc.disable()
    reader: LogReader | None = None
    registry: Any = None
    try:
        if parallel and owned:  # before opening the registry (PostgreSQL's pool starts threads)
            reader = LogReader.start(PartnershipRegistry, env or {}, HANDLERS, batch_size)
            if reader is not None and not reader.ready():
                reader = None
        registry = open_registry(env) if owned else app
        store = ViewStore.for_application(registry)
        projection = RegistryProjection(store)
        if parallel and reader is None and not owned and projection.handlers is HANDLERS:
            reader = LogReader.start(type(registry), registry.env, HANDLERS, batch_size)
            if reader is not None and not reader.ready():
                reader = None
        if reader is not None and not _shared_storage(registry):
            reader.stop()
            reader = None
        replay = Replay(registry, projection.handlers)
        total = registry.recorder.max_notification_id() or 0
        pages = _read(replay, reader, batch_size, store.cipher)
        done = 0
        if progress is not None:
            progress(0, total)
        first = True
        more = True
        while more:
            with store.bulk_writing() as cursor:
                if first:
                    store.drop_tables(cursor)
                    store.create_tables(cursor)
                    first = False
                written = 0
                while written < commit_every:
                    page = next(pages, None)
                    if page is None:
                        more = False
                        break
                    position, count, items, appended = page
                    projection.write_facts(
                        cursor, items, Tracking(registry.name, position), appended
                    )
                    written += count
                    done += count
                    if progress is not None:
                        progress(done, max(total, position))
        return done
    finally:
        if reader is not None:
            reader.stop()
        if collecting:
            gc.enable()
        if owned and registry is not None:
            registry.close()


def _read(
    replay: Replay, reader: LogReader | None, batch_size: int, cipher: ViewCipher
) -> Iterator[tuple[int, int, list[tuple[Any, Fact]], Collected | None]]:
    """(last notification id, notifications, items, what the appends-only handlers gave or
    None) of each page: from the reader process while it reads (which runs those handlers),
    then (or without one) read here, from where the reader stopped."""
    position = 0
    if reader is not None:
        try:
            for last, count, data in reader.pages():
                appends = Appends(cipher)
                items = replay.decode(data, appends)
                yield last, count, items, appends.take()
                position = last
            return
        except ReaderError as error:
            log.warning(
                "rebuild: reading on in this process after notification %d (%s)", position, error
            )
    for page in replay.pages(batch_size, position):
        yield page[-1][0], len(page), replay.items(page), None


def _shared_storage(registry: Any) -> bool:
    """Whether another process opening the same settings reads the same log (not in memory)."""
    datastore = getattr(registry.factory, "datastore", None)
    if isinstance(datastore, PostgresDatastore):
        return True
    return isinstance(datastore, SQLiteDatastore) and not datastore.pool.is_sqlite_memory_mode
