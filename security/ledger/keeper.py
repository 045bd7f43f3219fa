"""Keeps the ledger current in a running process: integrates new events and signs checkpoints.

Runs beside the view follower: inside the server on SQLite, inside `registry projections run`
on PostgreSQL. Integration reads stored bytes only, so it needs no data keys.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from types import TracebackType
from typing import Self

from security.ledger.checkpoint import CheckpointSigner
from security.ledger.ledger import AuditLedger

log = logging.getLogger(__name__)


class LedgerKeeper:
    """A daemon thread that integrates the log into the ledger every ``interval`` seconds.

    ``wake()`` integrates at once (for instance after a save); ``stop()`` integrates one last
    time so a clean shutdown leaves the ledger and its checkpoint at the head of the log.
    """

    def __init__(
        self,
        env: Mapping[str, str],
        signer: CheckpointSigner,
        *,
        interval: float = 1.0,
        application_name: str = "PartnershipRegistry",
    ) -> None:
        self.ledger = AuditLedger(env, signer, application_name=application_name)
        self.interval = interval
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: BaseException | None = None

    def start(self) -> Self:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="ledger-keeper", daemon=True)
            self._thread.start()
        return self

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.ledger.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def integrate_now(self) -> int:
        """Integrate every settled event now; the new tree size."""
        return self.ledger.integrate()

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                self.ledger.integrate()
                self.last_error = None
            except Exception as error:  # a locked or restarting database: try again next round
                if self.last_error is None or type(error) is not type(self.last_error):
                    log.warning("ledger integration failed, will retry: %s", error)
                self.last_error = error
            if self._stopping.is_set():
                return
