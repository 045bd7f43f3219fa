"""A second process reads, decrypts and decodes the log a page ahead of a rebuild's writer.

Reading a page (select, AES-GCM open, JSON decode, facts: ``Replay``) costs about as much CPU
as writing it (handlers, sealing, SQL), so on two cores a rebuild runs both at once: a forked
child opens its own application on the same storage, runs the handlers that only append rows
and touch records (every event's history row, sealed; ``EventHandlers.on(appends_only=True)``)
and sends each page's (event, fact) items, with those rows, through a pipe (``Replay.encode``);
the parent runs the other handlers and writes it all. Part of the events to decode are sent
decrypted only, for the parent to decode, as much as keeps both processes busy
(``HANDOFF_*``). A page the child fails on (or a child that dies) is read again by the parent,
which so raises the same error a rebuild without the child would.

The child is forked (it inherits the imported code and the handlers, and starts in a few
milliseconds), so only from a process with no other thread: a thread holding a lock at the
fork would leave that lock held forever in the child. The parent waits until the child has
opened its application and found the views' key (``ready``) before it opens its own or
writes: opening one creates what is missing (PostgreSQL refuses the same DDL from two
sessions at once: "tuple concurrently updated") and may write (the key store's tables).
"""

from __future__ import annotations

import array
import contextlib
import multiprocessing
import struct
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from multiprocessing.connection import Connection
from typing import Any

from projections.batch import Appends
from projections.crypto import ViewCipher
from projections.handlers import EventHandlers
from projections.replay import Replay

HANDOFF_START = 0.0
HANDOFF_STEP = 0.1
HANDOFF_BLOCKED = 0.2
"""How much of the reader's work it leaves to the writer, from 0 to 2: up to 1, that share of the
events to decode (sent decrypted); from 1 to 2, all of those and that share of the events'
appends-only handlers as well (their facts are sent, the writer runs them: what a log of
follow-ups is mostly made of). It starts at HANDOFF_START (the writer begins by dropping and
recreating the views) and moves by HANDOFF_STEP after each page: up when the writer has read
every page sent so far (it is on the last or waits for the next), down when one is still
unread (it is the slower). Where the pipe's fill is unknown: down when sending blocked longer
than HANDOFF_BLOCKED of the time reading the page took, up otherwise. Each process ends up
with about half the work."""
SMALL_PAGE = 8
"""The first page, and the pages of the last two pages' worth of the log, are this many times
smaller: the writer starts on the first sooner, and has less left alone after the last."""
READY_TIMEOUT = 30.0
"""Seconds the child may take to open its application (it waits for locks like any writer)."""

_READY, _PAGE, _DONE, _FAILED = b"R", b"P", b"D", b"F"
_HEAD = struct.Struct(">qq")  # the page's last notification id, its number of notifications


PIPE_BYTES = 1 << 20
"""Pipe capacity asked for (Linux; the default is 64 KiB): about three pages of items, so the
reader reads on while the writer drops and recreates the views or commits a transaction."""


def _unread(connection: Connection) -> int | None:
    """Bytes sent through the pipe and not read yet; None where the system does not say."""
    try:
        import fcntl  # POSIX only, like fork
        import termios

        found = array.array("i", [0])
        fcntl.ioctl(connection.fileno(), termios.FIONREAD, found, True)
    except (ImportError, OSError, AttributeError):
        return None
    return found[0]


def _widen(connection: Connection) -> None:
    """Ask for a pipe of ``PIPE_BYTES`` (or the system's maximum): best effort."""
    if sys.platform != "linux":
        return
    import fcntl  # POSIX only, like fork

    set_size = getattr(fcntl, "F_SETPIPE_SZ", 1031)  # named from Python 3.10 on
    try:
        with open("/proc/sys/fs/pipe-max-size") as limit:
            allowed = int(limit.read())
    except (OSError, ValueError):
        allowed = PIPE_BYTES
    with contextlib.suppress(OSError):
        fcntl.fcntl(connection.fileno(), set_size, min(PIPE_BYTES, allowed))


class ReaderError(Exception):
    """The reader process stopped before the end of the log (the parent reads on itself)."""


class LogReader:
    """The child process reading ``app_class(env)``'s log, ``size`` notifications a page."""

    def __init__(self, process: Any, receiver: Connection) -> None:
        self._process = process
        self._receiver = receiver

    @classmethod
    def start(
        cls, app_class: type, env: Mapping[str, str], handlers: EventHandlers, size: int
    ) -> LogReader | None:
        """The started reader; None where it cannot run (no fork, other threads)."""
        if "fork" not in multiprocessing.get_all_start_methods():
            return None
        if threading.active_count() > 1:
            return None
        context = multiprocessing.get_context("fork")
        receiver, sender = context.Pipe(duplex=False)
        _widen(receiver)
        process = context.Process(
            target=_serve,
            args=(app_class, dict(env), handlers, size, sender),
            name="views-rebuild-reader",
            daemon=True,
        )
        process.start()
        sender.close()
        return cls(process, receiver)

    def ready(self) -> bool:
        """Wait until the child has opened its application; False (and stopped) if it fails."""
        try:
            if self._receiver.poll(READY_TIMEOUT) and self._receiver.recv_bytes() == _READY:
                return True
        except (EOFError, OSError):
            pass
        self.stop()
        return False

    def pages(self) -> Iterator[tuple[int, int, bytes]]:
        """(last notification id, notifications, encoded items) of each page, in log order.

        Raises ``ReaderError`` when the child fails or dies before the end of the log.
        """
        while True:
            try:
                message = self._receiver.recv_bytes()
            except (EOFError, OSError) as error:
                raise ReaderError(f"the reader process ended: {error!r}") from None
            kind = message[:1]
            if kind == _DONE:
                return
            if kind != _PAGE:
                raise ReaderError(message[1:].decode(errors="replace"))
            last, count = _HEAD.unpack_from(message, 1)
            yield last, count, message[1 + _HEAD.size :]

    def stop(self) -> None:
        """End the child (at once if it is still reading) and release the pipe."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join(timeout=10)
        self._receiver.close()


def _serve(
    app_class: type, env: dict[str, str], handlers: EventHandlers, size: int, sender: Connection
) -> None:
    """The child: read every page and send it, then DONE; FAILED and why on any error."""
    app = None
    try:
        app = app_class(env=env)
        replay = Replay(app, handlers)
        # The appends-only handlers run here, sealing their rows under the views' key.
        appends = Appends(ViewCipher.for_application(app))
        end = app.recorder.max_notification_id()
        sender.send_bytes(_READY)
        load = HANDOFF_START
        for page in replay.pages(size, small=max(1, size // SMALL_PAGE), end=end):
            started = time.perf_counter()
            message = _PAGE + _HEAD.pack(page[-1][0], len(page))
            # The writer's part: first the decoding of events (their decrypted payloads), then
            # the appends of events as well (their facts: what a log of follow-ups is made of).
            items = replay.items_to_send(page, min(1.0, load), appends, max(0.0, load - 1.0))
            message += replay.encode(items, appends.take())
            sending = time.perf_counter()
            unread = _unread(sender)
            sender.send_bytes(message)
            if unread is not None:
                # The writer has read every page sent (it is on the last one, or waits for
                # this one): leave it more of the decoding; a page is still unread: it is the
                # slower, keep more here (a backlog is what it is left with at the end).
                if unread == 0:
                    load = min(2.0, load + HANDOFF_STEP)
                else:
                    load = max(0.0, load - HANDOFF_STEP)
            elif time.perf_counter() - sending > HANDOFF_BLOCKED * (sending - started):
                load = max(0.0, load - HANDOFF_STEP)  # blocked sending: the writer is slower
            else:
                load = min(2.0, load + HANDOFF_STEP)
        sender.send_bytes(_DONE)
    except BaseException as error:  # the parent reads the page again and meets the error itself
        with contextlib.suppress(OSError):
            sender.send_bytes(_FAILED + repr(error).encode())
    finally:
        if app is not None:
            app.close()
        sender.close()
