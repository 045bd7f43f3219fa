"""Read accountability: an in-memory buffer of reads, flushed by a background thread as events.

``record`` only appends to a deque (no I/O, no lock held across a write); a thread saves the
buffer every ``interval`` seconds, or sooner once ``batch_size`` reads wait, and at shutdown.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Any, Self

from domain.access_log import AccessLog, Read
from domain.actors import SYSTEM, Actor, acting_as

_log = logging.getLogger(__name__)

ACCESS_LOG_ACTOR = Actor(subject_id="registry-access-log", role=SYSTEM)
"""Who writes access-log events; each read entry names the reader."""


def _now() -> datetime:
    return datetime.now(tz=UTC)


class AccessRecorder:
    """Buffers reads of partners' records and saves them as ``AccessLog`` events in batches.

    Why one stream per (process, UTC day) and one event per flush: a single writer per stream
    never conflicts with another API process, a flush costs one insert whatever the read rate,
    and the number of streams (hence data keys) stays at one per process per day. The stream
    is kept in memory and never reloaded.
    """

    def __init__(
        self,
        registry: Any,
        *,
        interval: float = 1.0,
        batch_size: int = 1000,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.registry = registry
        self.interval = interval
        self.batch_size = batch_size
        self._clock = clock
        self._buffer: deque[Read] = deque()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._flush_lock = threading.Lock()
        self._logs: dict[date, AccessLog] = {}
        self._thread: threading.Thread | None = None
        self._in_flight = 0
        self.last_position: int | None = None
        """Notification id of the last saved access-log event (for read-your-writes)."""

    def record(self, actor: Actor, partner_ids: Iterable[object], operation: str) -> None:
        """Note that ``actor`` read these partners' records through ``operation``; never waits on I/O."""
        read_at = self._clock().astimezone(UTC).isoformat(timespec="microseconds")
        for partner_id in dict.fromkeys(str(p) for p in partner_ids):
            # deque.append is atomic: no lock, so readers never queue behind a flush.
            self._buffer.append(Read(read_at, actor.subject_id, actor.role, operation, partner_id))
        if len(self._buffer) >= self.batch_size:
            self._wake.set()

    @property
    def pending(self) -> int:
        """Reads noted but not yet saved (buffered or being saved)."""
        return len(self._buffer) + self._in_flight

    def flush(self) -> int | None:
        """Save every buffered read now; returns the log position reached (None if nothing)."""
        with self._flush_lock:
            # Count them in flight before taking them, so ``pending`` never reads 0 too early.
            self._in_flight = count = len(self._buffer)
            reads = [self._buffer.popleft() for _ in range(count)]
            if not reads:
                return None
            try:
                position = self._save(reads)
                self.last_position = position
            except BaseException:
                # Keep the reads for the next attempt, in their order, ahead of newer ones.
                self._buffer.extendleft(reversed(reads))
                raise
            finally:
                self._in_flight = 0
            return position

    def _save(self, reads: list[Read]) -> int:
        by_day: dict[date, list[Read]] = {}
        for read in reads:
            by_day.setdefault(date.fromisoformat(read.read_at[:10]), []).append(read)
        logs = []
        with acting_as(ACCESS_LOG_ACTOR):
            for day, day_reads in by_day.items():
                log = self._logs.get(day) or AccessLog.open(day)
                log.record_reads(day_reads)
                logs.append((day, log))
        try:
            recordings = self.registry.save(*(log for _, log in logs))
        except BaseException:
            # The in-memory streams are ahead of storage now: start fresh ones next time.
            for day, _ in logs:
                self._logs.pop(day, None)
            raise
        self._logs.update(logs)
        newest = max(self._logs)  # earlier days get no more reads: let their streams go
        self._logs = {newest: self._logs[newest]}
        return max(int(r.notification.id) for r in recordings)

    # Background flushing.

    def start(self) -> Self:
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="access-log-flush", daemon=True)
            self._thread.start()
            atexit.register(self.stop)
        return self

    def stop(self) -> None:
        """Stop the thread and save what is still buffered."""
        thread, self._thread = self._thread, None
        if thread is not None:
            atexit.unregister(self.stop)
            self._stopping.set()
            self._wake.set()
            thread.join()
        try:
            self.flush()
        except Exception:
            _log.exception("access log: %d reads could not be saved at shutdown", self.pending)
            raise

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # keep the reads buffered and try again next tick
                _log.exception("access log: flush failed; %d reads kept for retry", self.pending)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
