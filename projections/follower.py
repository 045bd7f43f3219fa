"""Followers keep the views up to date: PostgreSQL LISTEN/NOTIFY, or polling beside SQLite.

Both wait for the views to include a position, so a mutation can return read-your-writes.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Protocol, Self

import psycopg
from eventsourcing.persistence import (
    ApplicationRecorder,
    ListenNotifySubscription,
    Subscription,
    Tracking,
)
from eventsourcing.persistence import IntegrityError as PersistenceIntegrityError
from eventsourcing.persistence import InterfaceError as PersistenceInterfaceError
from eventsourcing.persistence import OperationalError as PersistenceOperationalError
from eventsourcing.postgres import PostgresApplicationRecorder

from projections.projection import Item, RegistryProjection
from projections.store import ViewStore

log = logging.getLogger(__name__)


class WaitsForViews(Protocol):
    """What the API needs for read-your-writes: block until the views include ``position``."""

    def wait_until_projected(self, position: int | None, timeout: float = 10.0) -> None: ...


class PollingSubscription(ListenNotifySubscription[ApplicationRecorder]):
    """The library's subscription for recorders that cannot LISTEN (SQLite).

    Pulls every ``interval`` seconds, and at once when ``wake`` is set (by a waiter in this
    process, or by whoever saved new events).
    """

    def __init__(
        self,
        recorder: ApplicationRecorder,
        gt: int | None,
        wake: threading.Event,
        interval: float = 0.25,
    ) -> None:
        super().__init__(recorder=recorder, gt=gt)
        self._wake = wake
        self._interval = interval
        self._ticker = threading.Thread(target=self._tick, name="views-poll", daemon=True)
        self._ticker.start()

    def _tick(self) -> None:
        while not self._has_been_stopped:
            self._wake.wait(self._interval)
            self._wake.clear()
            self._has_been_notified.set()

    def stop(self) -> None:
        super().stop()
        self._wake.set()

    def __exit__(self, *args: object, **kwargs: Any) -> None:
        try:
            super().__exit__(*args, **kwargs)
        finally:
            self._ticker.join()


class ViewFollower:
    """Follows an application's log and projects it in batches (one transaction per batch).

    Embedded mode (SQLite): start it inside the server process. PostgreSQL mode: run it in
    the worker process (``run_forever``); API processes wait with ``TrackingWaiter``.

    A storage outage (PostgreSQL restarting, SQLite locked, disk full) ends the current
    session: the follower backs off, then subscribes again from the position the views
    committed, so nothing is skipped or applied twice. Any other error stops it for good and
    is raised to waiters.
    """

    def __init__(
        self,
        app: Any,
        store: ViewStore | None = None,
        *,
        batch_size: int = 500,
        poll_interval: float = 0.25,
        max_backoff: float = 5.0,
    ) -> None:
        self.app = app
        self.store = store or ViewStore.for_application(app)
        self.store.create_table()
        self.projection = RegistryProjection(self.store)
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.max_backoff = max_backoff
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._progress = threading.Condition()
        self._position = self.store.max_tracking_id(app.name) or 0
        self._error: BaseException | None = None
        self.last_outage: BaseException | None = None
        self._supervisor: threading.Thread | None = None
        self._session: _Session | None = None

    @property
    def position(self) -> int:
        """The last notification id every view includes (as far as this follower knows)."""
        return self._position

    def start(self) -> Self:
        if self._supervisor is None:
            self._supervisor = threading.Thread(
                target=self._supervise, name="views-follower", daemon=True
            )
            self._supervisor.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        session = self._session
        if session is not None:
            session.end()
        if self._supervisor is not None:
            self._supervisor.join(timeout=15)
            self._supervisor = None
        with self._progress:
            self._progress.notify_all()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def wake(self) -> None:
        """Look for new events now (call after saving in this process; SQLite mode)."""
        self._wake.set()

    def wait_until_projected(self, position: int | None, timeout: float = 10.0) -> None:
        """Return once every view includes ``position``; TimeoutError or the follower's error."""
        if position is None:
            return
        deadline = time.monotonic() + timeout
        with self._progress:
            while self._position < position:
                if self._error is not None:
                    raise self._error
                if self._stopping.is_set():
                    raise RuntimeError("the views' follower has stopped")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    outage = f" (storage outage: {self.last_outage})" if self.last_outage else ""
                    raise TimeoutError(
                        f"views include notification {self._position}, not yet {position}{outage}"
                    )
                self._wake.set()
                self._progress.wait(min(remaining, 0.5))

    def run_forever(self) -> None:
        """Block until stopped (or failed); re-raise the follower's error."""
        self.start()
        while not self._stopping.wait(0.5):
            pass
        if self._error is not None:
            raise self._error

    def _supervise(self) -> None:
        backoff = 0.25
        while not self._stopping.is_set():
            session = _Session(self)
            self._session = session
            error = session.run()
            self._session = None
            if error is None:
                return
            if isinstance(error, PersistenceIntegrityError) and not is_storage_outage(error):
                # Another process (a rebuild, `registry export`) committed this position
                # first: subscribe again from what the views now hold.
                log.warning("views follower: position taken by another writer; resuming")
            elif is_storage_outage(error):
                if self.last_outage is None:
                    log.warning("views follower: storage unavailable, will retry: %s", error)
                self.last_outage = error
            else:
                self._fail(error)
                return
            if session.projected_any:
                backoff = 0.25
            self._stopping.wait(backoff)
            backoff = min(backoff * 2, self.max_backoff)

    def _advance(self, position: int) -> None:
        with self._progress:
            self._position = position
            self.last_outage = None
            self._progress.notify_all()

    def _fail(self, error: BaseException) -> None:
        log.error("views follower stopped: %r", error)
        with self._progress:
            if self._error is None:
                self._error = error
            self._stopping.set()
            self._progress.notify_all()


class _Session:
    """One subscription from the committed position, fed and projected by two threads."""

    def __init__(self, follower: ViewFollower) -> None:
        self.follower = follower
        self.queue: queue.Queue[Item] = queue.Queue(maxsize=follower.batch_size * 4)
        self.ended = threading.Event()
        self.errors: list[BaseException] = []
        self.subscription: Subscription[Any] | None = None
        self.projected_any = False

    def end(self) -> None:
        self.ended.set()
        if self.subscription is not None:
            self.subscription.stop()

    def run(self) -> BaseException | None:
        follower = self.follower
        try:
            position = follower.store.max_tracking_id(follower.app.name) or 0
            follower._advance(max(position, follower.position))
            recorder = follower.app.recorder
            if isinstance(recorder, PostgresApplicationRecorder):
                self.subscription = recorder.subscribe(gt=position)
            else:
                self.subscription = PollingSubscription(
                    recorder, position, follower._wake, follower.poll_interval
                )
            self.subscription.__enter__()
        except Exception as error:
            return error
        threads = [
            threading.Thread(target=self._feed, name="views-feed", daemon=True),
            threading.Thread(target=self._project, name="views-project", daemon=True),
        ]
        for thread in threads:
            thread.start()
        while not (self.ended.is_set() or follower._stopping.is_set()):
            self.ended.wait(0.2)
        self.end()
        for thread in threads:
            thread.join(timeout=10)
        with contextlib.suppress(Exception):
            self.subscription.__exit__(None, None, None)
        return self.errors[0] if self.errors else None

    def _failed(self, error: BaseException) -> None:
        self.errors.append(error)
        self.end()

    def _feed(self) -> None:
        subscription = self.subscription
        assert subscription is not None
        app = self.follower.app
        try:
            for notification in subscription:
                item = (
                    app.mapper.to_domain_event(notification),
                    Tracking(app.name, notification.id),
                )
                while not self.ended.is_set():
                    try:
                        self.queue.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if self.ended.is_set():
                    return
        except BaseException as error:
            if not self.ended.is_set():
                self._failed(error)

    def _project(self) -> None:
        follower = self.follower
        try:
            while not self.ended.is_set():
                try:
                    first = self.queue.get(timeout=0.1)
                except queue.Empty:
                    continue
                items = [first]
                while len(items) < follower.batch_size:
                    try:
                        items.append(self.queue.get_nowait())
                    except queue.Empty:
                        break
                follower.projection.process_batch(items)
                self.projected_any = True
                follower._advance(items[-1][1].notification_id)
        except BaseException as error:
            self._failed(error)


_OUTAGE_TYPES: tuple[type[BaseException], ...] = (
    PersistenceOperationalError,
    PersistenceInterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    sqlite3.OperationalError,
    ConnectionError,
    TimeoutError,
)


def is_storage_outage(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) says storage is unreachable, locked or full."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, _OUTAGE_TYPES):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


class TrackingWaiter:
    """Read-your-writes where the follower runs in another process: polls the tracking row."""

    def __init__(self, store: ViewStore, application_name: str) -> None:
        self.store = store
        self.application_name = application_name

    def wait_until_projected(self, position: int | None, timeout: float = 10.0) -> None:
        if position is None:
            return
        deadline = time.monotonic() + timeout
        interval = 0.002
        while True:
            if (self.store.max_tracking_id(self.application_name) or 0) >= position:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"views do not include notification {position} yet")
            time.sleep(min(interval, remaining))
            interval = min(interval * 2, 0.05)


def project_pending(app: Any, projection: RegistryProjection, batch_size: int = 5000) -> int:
    """Project every event after the views' position now, in batches; the number projected."""
    recorder: ApplicationRecorder = app.recorder
    position = projection.view.max_tracking_id(app.name) or 0
    count = 0
    while True:
        notifications: Sequence[Any] = recorder.select_notifications(
            start=position, limit=batch_size, inclusive_of_start=False
        )
        if not notifications:
            return count
        projection.process_batch(
            [(app.mapper.to_domain_event(n), Tracking(app.name, n.id)) for n in notifications]
        )
        position = notifications[-1].id
        count += len(notifications)
