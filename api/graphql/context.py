"""Per-request context: the caller, their reader, per-request DataLoaders, and command running."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from functools import cached_property
from typing import Any

from fastapi import Request
from strawberry.fastapi import BaseContext
from strawberry.types import Info as StrawberryInfo

from api.deps import current_actor
from api.graphql.cursors import CursorSigner
from api.graphql.errors import ViewsBehindError
from api.graphql.loaders import Loaders
from api.views import RegistryReader
from domain.actors import Actor, acting_as
from domain.application import PartnershipRegistry, Recorded
from projections.follower import TrackingWaiter, WaitsForViews
from projections.store import ViewStore
from security.ledger import AuditLedger

READ_YOUR_WRITES_TIMEOUT = 10.0  # default when the app's settings do not say


class RegistryContext(BaseContext):
    """What every resolver gets: ``reader`` for reads, ``record`` for commands."""

    def __init__(
        self,
        actor: Actor,
        reader: RegistryReader,
        registry: PartnershipRegistry,
        waiter: WaitsForViews,
        cursors: CursorSigner,
        read_your_writes_timeout: float = READ_YOUR_WRITES_TIMEOUT,
    ) -> None:
        super().__init__()
        self.actor = actor
        self.reader = reader
        self.registry = registry
        self.waiter = waiter
        self.cursors = cursors
        self.read_your_writes_timeout = read_your_writes_timeout

    @cached_property
    def loaders(self) -> Loaders:
        return Loaders(self.reader)

    async def record(self, operation: str, command: Callable[[], Recorded]) -> Recorded:
        """Run a command as the caller; return once the views include its events."""
        self.reader.check(operation)

        def run() -> Recorded:
            with acting_as(self.actor):
                recorded = command()
            try:
                self.waiter.wait_until_projected(recorded.position, self.read_your_writes_timeout)
            except TimeoutError as error:
                raise ViewsBehindError(recorded.position, self.read_your_writes_timeout) from error
            return recorded

        return await asyncio.to_thread(run)


Info = StrawberryInfo[RegistryContext, None]


def view_store(state: Any) -> ViewStore:
    """The views beside the registry's events (made once per app)."""
    store = getattr(state, "view_store", None)
    if store is None:
        found = getattr(getattr(state, "views", None), "store", None)
        store = found if isinstance(found, ViewStore) else ViewStore.for_application(state.registry)
        state.view_store = store
    return store


def views_waiter(state: Any) -> WaitsForViews:
    """The embedded follower when the app runs one; else poll the tracking row (worker mode)."""
    waiter = getattr(state, "views", None) or getattr(state, "views_waiter", None)
    if waiter is None:
        waiter = TrackingWaiter(view_store(state), state.registry.name)
        state.views_waiter = waiter
    return waiter


def cursor_signer(state: Any) -> CursorSigner:
    signer = getattr(state, "cursor_signer", None)
    if signer is None:
        signer = CursorSigner(state.settings.master_key_bytes())
        state.cursor_signer = signer
    return signer


_LEDGER_LOCK = threading.Lock()


def audit_ledger_of(state: Any) -> Callable[[], AuditLedger]:
    """The app's one ``AuditLedger`` (read-only here: proofs and checkpoints), opened on first
    use with ``api.runtime.audit_ledger`` and closed by the app's lifespan."""

    def opened() -> AuditLedger:
        ledger: AuditLedger | None = getattr(state, "audit_ledger", None)
        if ledger is None:
            with _LEDGER_LOCK:
                ledger = getattr(state, "audit_ledger", None)
                if ledger is None:
                    from api.runtime import audit_ledger

                    ledger = audit_ledger(state.settings)
                    state.audit_ledger = ledger
        return ledger

    return opened


def verifier_key_of(state: Any, ledger: Callable[[], AuditLedger]) -> Callable[[], str | None]:
    """The ledger's verifier key: REGISTRY_LEDGER_VERIFIER_KEY, else its signer's key."""

    def key() -> str | None:
        from api.runtime import ledger_verifier_key

        return ledger_verifier_key(state.settings, ledger())

    return key


def reader_for(request: Request, actor: Actor) -> RegistryReader:
    """The caller's reader (the exports use it too): reads are noted in the access log."""
    state = request.app.state
    ledger = audit_ledger_of(state)
    return RegistryReader(
        actor,
        view_store(state),
        state.registry,
        recorder=getattr(state, "access_recorder", None),
        ledger=ledger,
        verifier_key=verifier_key_of(state, ledger),
    )


async def get_context(request: Request) -> RegistryContext:
    """FastAPI dependency: 401 without a valid token, else the caller's context.

    Async so FastAPI calls it on the event loop: checking the token's signature and building
    the context touch no storage (the reader reads later, in a worker thread), and a sync
    dependency would cost every GraphQL request a hop through the threadpool."""
    return build_context(request)


def build_context(request: Request) -> RegistryContext:
    """The caller's context (401 without a valid token); see ``get_context``."""
    actor = current_actor(request, request.app.state.token_verifier)
    state = request.app.state
    settings = getattr(state, "settings", None)
    return RegistryContext(
        actor,
        reader_for(request, actor),
        state.registry,
        views_waiter(state),
        cursor_signer(state),
        getattr(settings, "read_your_writes_timeout", READ_YOUR_WRITES_TIMEOUT),
    )
