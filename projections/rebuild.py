"""Rebuild every view from the whole log: drop, recreate, replay in large batches with progress."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

from eventsourcing.persistence import Tracking

from domain.application import PartnershipRegistry
from projections.projection import RegistryProjection
from projections.replay import Replay
from projections.store import ViewStore

Progress = Callable[[int, int], None]
REBUILD_BATCH = 5000
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
) -> int:
    """Drop and recreate every view, replay the log; returns the number of events replayed.

    Stop followers first (``registry projections run`` or the embedded one): a follower that
    kept running would find the views ahead of it and stop with an error.
    The log is read ``batch_size`` events at a time; ``progress(done, total)`` is called after
    each such batch. Writes are committed every ``commit_every`` events or so (whole batches),
    the first transaction also dropping and recreating the tables: a log of up to
    ``commit_every`` events is rebuilt all or nothing, and a crash leaves the old views.
    """
    owned = app is None
    registry = open_registry(env) if app is None else app
    # A replay allocates millions of short-lived objects and no cycles: the cyclic collector's
    # passes over the growing young generations were a third of the run. Back on at the end.
    collecting = gc.isenabled()
    gc.disable()
    try:
        store = ViewStore.for_application(registry)
        projection = RegistryProjection(store)
        replay = Replay(registry, projection.handlers)
        total = registry.recorder.max_notification_id() or 0
        pages = replay.pages(batch_size)
        done = 0
        if progress is not None:
            progress(0, total)
        first = True
        more = True
        while more:
            with store.writing() as cursor:
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
                    position = page[-1][0]
                    projection.write_facts(
                        cursor, replay.items(page), Tracking(registry.name, position)
                    )
                    written += len(page)
                    done += len(page)
                    if progress is not None:
                        progress(done, max(total, position))
        return done
    finally:
        if collecting:
            gc.enable()
        if owned:
            registry.close()
