"""Followers keep the views up to date: PostgreSQL LISTEN/NOTIFY, or polling beside SQLite.

Both wait for the views to include a position, so a mutation can return read-your-writes.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Protocol, Self

from eventsourcing.persistence import (
    ApplicationRecorder,
    ListenNotifySubscription,
    Subscription,
    Tracking,
)
from eventsourcing.postgres import PostgresApplicationRecorder

from projections.projection import Item, RegistryProjection
from projections.store import ViewStore


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
    """

    def __init__(
        self,
        app: Any,
        store: ViewStore | None = None,
        *,
        batch_size: int = 500,
        poll_interval: float = 0.25,
    ) -> None:
        self.app = app
        self.store = store or ViewStore.for_application(app)
        self.store.create_table()
        self.projection = RegistryProjection(self.store)
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._progress = threading.Condition()
        self._position = self.store.max_tracking_id(app.name) or 0
        self._error: BaseException | None = None
        self._queue: queue.Queue[Item] = queue.Queue(maxsize=batch_size * 4)
        self._subscription: Subscription[Any] | None = None
        self._threads: list[threading.Thread] = []

    @property
    def position(self) -> int:
        """The last notification id every view includes (as far as this follower knows)."""
        return self._position

    def start(self) -> Self:
        if self._threads:
            return self
        recorder = self.app.recorder
        if isinstance(recorder, PostgresApplicationRecorder):
            self._subscription = recorder.subscribe(gt=self._position)
        else:
            self._subscription = PollingSubscription(
                recorder, self._position, self._wake, self.poll_interval
            )
        self._subscription.__enter__()
        self._threads = [
            threading.Thread(target=self._feed, name="views-feed", daemon=True),
            threading.Thread(target=self._project, name="views-project", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._subscription is not None:
            self._subscription.stop()
        for thread in self._threads:
            thread.join(timeout=10)
        if self._subscription is not None:
            self._subscription.__exit__(None, None, None)
            self._subscription = None
        self._threads = []
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
                    raise TimeoutError(
                        f"views include notification {self._position}, not yet {position}"
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

    def _feed(self) -> None:
        subscription = self._subscription
        assert subscription is not None
        try:
            for notification in subscription:
                item = (
                    self.app.mapper.to_domain_event(notification),
                    Tracking(self.app.name, notification.id),
                )
                while not self._stopping.is_set():
                    try:
                        self._queue.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
        except BaseException as error:
            self._fail(error)

    def _project(self) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    first = self._queue.get(timeout=0.1)
                except queue.Empty:
                    continue
                items = [first]
                while len(items) < self.batch_size:
                    try:
                        items.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                self.projection.process_batch(items)
                with self._progress:
                    self._position = items[-1][1].notification_id
                    self._progress.notify_all()
        except BaseException as error:
            self._fail(error)

    def _fail(self, error: BaseException) -> None:
        with self._progress:
            if self._error is None:
                self._error = error
            self._stopping.set()
            self._progress.notify_all()
        if self._subscription is not None:
            self._subscription.stop()


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
