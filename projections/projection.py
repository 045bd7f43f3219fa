"""The registry's projection: applies decrypted events to every view, one transaction a batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

import projections.views  # noqa: F401  (registers the views' handlers)
from projections.batch import Collected, Fact, ViewBatch
from projections.handlers import HANDLERS, EventHandlers
from projections.store import ViewCursor, ViewStore

Item = tuple[Any, Tracking]


class RegistryProjection(Projection[ViewStore]):
    """Every view of the registry; a library ``Projection`` whose view is the ``ViewStore``."""

    name = "registry_views"

    def __init__(self, view: ViewStore, handlers: EventHandlers = HANDLERS) -> None:
        super().__init__(view)
        self.handlers = handlers

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        """The library's one-event entry point (used by its ``ProjectionRunner``)."""
        self.process_batch([(domain_event, tracking)])

    def process_batch(self, items: Sequence[Item]) -> None:
        """Apply events in log order, then record the last position: one transaction."""
        if items:
            with self.view.writing() as cursor:
                self.write_batch(cursor, items)

    def write_batch(self, cursor: ViewCursor, items: Sequence[Item]) -> None:
        """The batch's writes in the caller's transaction (which commits or rolls back)."""
        self.write_facts(
            cursor,
            [(event, Fact.of(event, tracking.notification_id)) for event, tracking in items],
            items[-1][1],
        )

    def write_facts(
        self,
        cursor: ViewCursor,
        items: Sequence[tuple[Any, Fact]],
        last: Tracking,
        appended: Collected | None = None,
    ) -> None:
        """Apply (event, fact) pairs in log order, then record ``last`` as the position.

        ``appended``: what the appends-only handlers gave for these events, gathered already
        (a rebuild's reader process and ``Replay.decode``): only the other handlers run here.
        """
        batch = ViewBatch(cursor, self.view.cipher)
        if appended is None:
            handlers = self.handlers.for_class
        else:
            batch.absorb(appended)
            handlers = self.handlers.others
        for event, fact in items:
            for handler in handlers(type(event)):
                handler(batch, event, fact)
        batch.flush()
        self.view.record_position(cursor, last)
